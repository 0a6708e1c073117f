"""What the outcomes report reads: each signed session as a visit of a run, kept current per client.

A *run* is a maximal chain of a client's signed sessions (amendments applied, practice-local dates) in
which each is at most RUN_GAP_DAYS after the one before. Storing each visit's run, its place in the run
and the sums of the run's immediate changes before it lets the report find every client's course with
two index probes per candidate instead of reading all sessions (``outcomes.selectors``). The rows are
derived data: ``outcomes.storage`` rewrites a client's rows whenever one of their sessions is signed or
amended, or a phase of theirs changes, in the same transaction; ``manage.py rebuild_outcomes`` rebuilds all.
"""

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from clients.models import Client
from sessions.models import Technique, TreatmentSession

# The validated instrument the report pairs before and after a course (issue 12), by its code.
REPORTED_INSTRUMENT = "mfis5"


class Visit(models.Model):
    """One signed session, as the report counts it."""

    session = models.OneToOneField(TreatmentSession, on_delete=models.CASCADE, primary_key=True, related_name="+")
    # Looked up by client through visit_run_ordinal_unique (client first), so no index of its own.
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Counted by therapist through TherapistWeek and visit_day_covering_idx, so no index of its own.
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    started_at = models.DateTimeField()
    day = models.DateField(help_text="The session's date in the practice's time zone.")
    phase = models.CharField(max_length=20, blank=True, help_text="The client's phase on that day; empty if none.")
    run = models.PositiveIntegerField(help_text="The client's run, counted from 1, oldest first.")
    ordinal = models.PositiveIntegerField(help_text="The visit's place in its run, from 1.")
    run_length = models.PositiveIntegerField(default=0, help_text="How many visits the whole run holds.")
    prev_day = models.DateField(
        null=True, blank=True, help_text="The day of the run's visit before; empty for its first."
    )
    pain_before = models.PositiveSmallIntegerField()
    pain_after = models.PositiveSmallIntegerField()
    fatigue_before = models.PositiveSmallIntegerField()
    fatigue_after = models.PositiveSmallIntegerField()
    # Sums of (after - before) over the run's visits before this one: visits i..j-1 sum to sum(j) - sum(i).
    pain_change_sum = models.IntegerField()
    fatigue_change_sum = models.IntegerField()
    # The questionnaire the report pairs with this visit (outcomes.questionnaires): the client's latest submitted
    # REPORTED_INSTRUMENT in [day - PAIRING_DAYS, day], its score after corrections. Stored, as a probe per
    # course end was a fifth of the report's time at full size; kept current when one is submitted or corrected.
    questionnaire_id = models.BigIntegerField(null=True, blank=True, help_text="The paired questionnaire's id.")
    questionnaire_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Its score after corrections."
    )

    class Meta:
        constraints = [
            # Covering on PostgreSQL: a course's first visit and follow-up are read from the index alone.
            models.UniqueConstraint(
                fields=["client", "run", "ordinal"],
                name="visit_run_ordinal_unique",
                include=[
                    "day",
                    "therapist",
                    "phase",
                    "pain_before",
                    "fatigue_before",
                    "pain_change_sum",
                    "fatigue_change_sum",
                    "questionnaire_id",
                    "questionnaire_score",
                ],
            ),
        ]
        indexes = [
            # Covering on PostgreSQL: the runs crossing the start date and the range's edge days are read from the
            # index alone (its pages are not shared with the rows' other columns).
            models.Index(
                fields=["day"],
                name="visit_day_covering_idx",
                include=["prev_day", "client", "run", "ordinal", "run_length", "therapist"],
            ),
            # Where runs begin, per client: a course starts at the client's first run start on or after the start
            # date that is long enough (one probe per client), or at the first visit on or after the start date.
            models.Index(
                fields=["client", "day"],
                name="visit_client_run_start_idx",
                condition=Q(prev_day__isnull=True),
                include=["run", "run_length"],
            ),
        ]

    def __str__(self) -> str:
        return f"visit {self.ordinal} of run {self.run} of client #{self.client_id} on {self.day}"


class VisitTechnique(models.Model):
    """A technique used in a visit, once however many regions it was used on, with the visit's changes."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="techniques", db_index=False)
    technique = models.ForeignKey(Technique, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    phase = models.CharField(max_length=20, blank=True)
    # The client's MS type when the rows were written: TechniqueWeek's cells are keyed by it, and a client's old
    # contribution is taken back from these rows (outcomes.receivers rewrites them when the type changes).
    ms_type = models.CharField(max_length=10, blank=True, default="")
    pain_change = models.SmallIntegerField()
    fatigue_change = models.SmallIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["visit", "technique"], name="visit_technique_unique"),
        ]
        indexes = [models.Index(fields=["day"], name="visit_technique_day_idx")]

    def __str__(self) -> str:
        return f"technique #{self.technique_id} in session #{self.visit_id}"


# Weeks are counted from this Monday (before the earliest plausible session, sessions.models.EARLIEST_SESSION).
WEEK_ORIGIN = dt.date(1999, 12, 27)


def week_of(day: dt.date) -> int:
    return (day - WEEK_ORIGIN).days // 7


def week_start(week: int) -> dt.date:
    return WEEK_ORIGIN + dt.timedelta(days=7 * week)


class TechniqueWeek(models.Model):
    """The techniques table's sums over one week: what VisitTechnique rows hold, added up per cell.

    A whole number of weeks of the report's range is read from here (a few thousand cells for ten years);
    the days at its edges from VisitTechnique. ``outcomes.storage`` keeps the cells current by adding the
    difference a client's rewrite makes, in the same transaction.
    """

    technique = models.ForeignKey(Technique, on_delete=models.CASCADE, related_name="+", db_index=False)
    phase = models.CharField(max_length=20, blank=True)
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    ms_type = models.CharField(max_length=10, blank=True)
    week = models.IntegerField(help_text="Weeks since WEEK_ORIGIN.")
    sessions = models.IntegerField()
    pain_sum = models.IntegerField()
    pain_squares = models.IntegerField()
    fatigue_sum = models.IntegerField()
    fatigue_squares = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "technique", "phase", "therapist", "ms_type"], name="technique_week_cell_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"technique #{self.technique_id} in week {self.week}"


class TherapistWeek(models.Model):
    """Signed visits per therapist and week, for the therapists table (its edge days come from Visit)."""

    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    week = models.IntegerField(help_text="Weeks since WEEK_ORIGIN.")
    sessions = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["week", "therapist"], name="therapist_week_cell_unique")]

    def __str__(self) -> str:
        return f"therapist #{self.therapist_id} in week {self.week}"


class TechniqueClient(models.Model):
    """The weeks in which a client had a technique (in a phase, from a therapist): a string of 0 and 1.

    Character i is week ``first_week + i``. "Clients with the technique in these weeks" is then a substring
    test on at most one row per (technique, phase, therapist, client), exact, whatever the range; the edge
    days of the range come from VisitTechnique. Rewritten with the client's visits.
    """

    technique = models.ForeignKey(Technique, on_delete=models.CASCADE, related_name="+", db_index=False)
    phase = models.CharField(max_length=20, blank=True)
    therapist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Looked up by client through technique_client_unique (client first).
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+", db_index=False)
    ms_type = models.CharField(max_length=10, blank=True)
    first_week = models.IntegerField()
    last_week = models.IntegerField()
    weeks = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client", "technique", "phase", "therapist"], name="technique_client_unique"
            ),
        ]
        # Covering on PostgreSQL: keys whose first or last week lies in the range are read without their weeks.
        indexes = [
            models.Index(
                fields=["first_week"],
                name="technique_client_first_idx",
                include=["last_week", "technique", "phase", "therapist", "client", "ms_type"],
            ),
            models.Index(
                fields=["last_week"],
                name="technique_client_last_idx",
                include=["first_week", "technique", "phase", "therapist", "client", "ms_type"],
            ),
        ]

    def __str__(self) -> str:
        return f"technique #{self.technique_id} for client #{self.client_id}"
