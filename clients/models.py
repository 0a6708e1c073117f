import bisect
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clients.body_regions import BodyRegion
from clients.relapse import Answer, SinceLastRelapse, Triage
from clients.scores import SCORE_VALIDATORS
from practice.fields import ChoiceListField
from practice.history import track_changes
from practice.records import ClinicalRecordDeletionError


class MSType(models.TextChoices):
    CIS = "cis", "Clinically isolated syndrome (CIS)"
    RRMS = "rrms", "Relapsing-remitting (RRMS)"
    SPMS = "spms", "Secondary progressive (SPMS)"
    PPMS = "ppms", "Primary progressive (PPMS)"
    UNKNOWN = "unknown", "Unknown"


class ClearanceCondition(models.TextChoices):
    """Conditions for which the client's physician must clear massage first."""

    OSTEOPOROSIS = "osteoporosis", "Osteoporosis"
    ARTHRITIS = "arthritis", "Arthritis"
    EDEMA = "edema", "Edema"
    ULCERS = "ulcers", "Ulcers"
    ENLARGED_ORGAN = "enlarged_liver_spleen", "Enlarged liver or spleen"
    HEART_DISEASE = "heart_disease", "Heart disease"
    CANCER = "cancer", "Cancer"
    BLOOD_CLOTS = "blood_clots", "Blood clots"
    RECENT_INJURY_OR_SURGERY = "recent_injury_surgery", "Recent injury or surgery"
    PREGNANCY = "pregnancy", "Pregnancy"
    CURRENT_RELAPSE = "current_relapse", "Current relapse"


class Goal(models.TextChoices):
    PAIN = "pain", "Less pain"
    FATIGUE = "fatigue", "Less fatigue"
    STRESS = "stress", "Less stress"
    SPASTICITY = "spasticity", "Less spasticity"
    SLEEP = "sleep", "Better sleep"
    MOBILITY = "mobility", "Easier movement"
    CIRCULATION = "circulation", "Circulation and skin health"


# EDSS runs 0, then 1.0 to 10.0 in half steps; 0.5 is not a score on the scale.
EDSS_SCORES = [Decimal("0")] + [Decimal(n) / 2 for n in range(2, 21)]
EDSS_CHOICES = [(score, f"{score:.1f}") for score in EDSS_SCORES]

MIN_DIAGNOSIS_YEAR = 1940
# Nobody alive was born before this day; an earlier date is a typing slip (0001-01-01, 1066).
EARLIEST_BIRTH_DATE = dt.date(1900, 1, 1)
# Clinical dates (phases, clearances) before MS could be diagnosed in a living client are slips too.
EARLIEST_CLINICAL_DATE = dt.date(MIN_DIAGNOSIS_YEAR, 1, 1)


class ClientQuerySet(models.QuerySet):
    def active(self):
        return self.filter(archived_at__isnull=True)

    def archived(self):
        return self.filter(archived_at__isnull=False)

    def cared_for_by(self, user):
        """The clients ``user`` may reach as staff: owners all, therapists their own."""
        from practice.roles import is_owner

        if not user.is_authenticated:
            return self.none()
        if is_owner(user):
            return self
        return self.filter(therapists=user)

    def with_current_phase(self):
        current = DiseasePhase.objects.filter(client=models.OuterRef("pk"), ended_on__isnull=True)
        return self.annotate(current_phase=models.Subquery(current.values("phase")[:1]))

    def delete(self):
        raise ClinicalRecordDeletionError("Clients are archived, never deleted.")


class Client(models.Model):
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)

    emergency_contact_name = models.CharField(max_length=200, blank=True)
    emergency_contact_relationship = models.CharField(max_length=100, blank=True)
    emergency_contact_phone = models.CharField(max_length=40, blank=True)

    physician_name = models.CharField("physician", max_length=200, blank=True)
    physician_phone = models.CharField(max_length=40, blank=True)
    neurologist_name = models.CharField("neurologist", max_length=200, blank=True)
    neurologist_phone = models.CharField(max_length=40, blank=True)

    ms_type = models.CharField("MS type", max_length=10, choices=MSType.choices, default=MSType.UNKNOWN)
    diagnosis_year = models.PositiveSmallIntegerField(
        "year of diagnosis", null=True, blank=True, validators=[MinValueValidator(MIN_DIAGNOSIS_YEAR)]
    )
    edss = models.DecimalField("EDSS", max_digits=3, decimal_places=1, null=True, blank=True, choices=EDSS_CHOICES)
    heat_sensitive = models.BooleanField(default=True)
    cold_sensitive = models.BooleanField(default=False)
    conditions_needing_clearance = ChoiceListField(item_choices=ClearanceCondition.choices)
    physician_clearance_on = models.DateField("physician cleared massage on", null=True, blank=True)
    reduced_sensation_regions = ChoiceListField("regions with reduced sensation", item_choices=BodyRegion.choices)
    pressure_sore_regions = ChoiceListField("regions with pressure sores", item_choices=BodyRegion.choices)
    goals = ChoiceListField(item_choices=Goal.choices)

    therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="caseload",
        blank=True,
        help_text="The therapists who care for this client.",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="client_profile",
        help_text="The client's own portal account, if they have one.",
    )

    archived_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ClientQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        indexes = [models.Index(fields=["last_name", "first_name"], name="client_name_idx")]
        constraints = [
            models.CheckConstraint(
                name="client_edss_valid",
                condition=Q(edss__isnull=True) | Q(edss__in=EDSS_SCORES),
            ),
            models.CheckConstraint(
                name="client_diagnosis_year_plausible",
                condition=Q(diagnosis_year__isnull=True) | Q(diagnosis_year__gte=MIN_DIAGNOSIS_YEAR),
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    # Not a column: the MS type the record had when read or last saved, so that receivers interested in a change
    # of type (outcomes) compare without a query.
    loaded_ms_type: str | None = None

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> "Client":
        instance = super().from_db(db, field_names, values, **kwargs)
        instance.loaded_ms_type = instance.__dict__.get("ms_type")
        return instance

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    def clean(self) -> None:
        super().clean()
        if self.diagnosis_year and self.diagnosis_year > timezone.localdate().year:
            raise ValidationError({"diagnosis_year": "The year of diagnosis cannot be in the future."})
        if self.date_of_birth and self.date_of_birth > timezone.localdate():
            raise ValidationError({"date_of_birth": "The date of birth cannot be in the future."})
        if self.date_of_birth and self.date_of_birth < EARLIEST_BIRTH_DATE:
            raise ValidationError(
                {"date_of_birth": f"Enter a date of birth on or after {EARLIEST_BIRTH_DATE:%d %b %Y}."}
            )
        if self.physician_clearance_on and self.physician_clearance_on > timezone.localdate():
            raise ValidationError({"physician_clearance_on": "The clearance date cannot be in the future."})
        if self.physician_clearance_on and self.physician_clearance_on < EARLIEST_CLINICAL_DATE:
            raise ValidationError(
                {"physician_clearance_on": f"Enter a clearance date on or after {EARLIEST_CLINICAL_DATE:%d %b %Y}."}
            )

    def ensure_editable(self) -> None:
        """Archived means read-only for everyone until an owner restores the client in the admin."""
        if self.is_archived:
            raise ValidationError(
                f"{self.full_name} is archived: the record is read-only until an owner restores them.",
                code="archived",
            )

    def archive(self) -> None:
        if self.archived_at is None:
            self.archived_at = timezone.now()
            self.save(update_fields=["archived_at", "updated_at"])

    def unarchive(self) -> None:
        if self.archived_at is not None:
            self.archived_at = None
            self.save(update_fields=["archived_at", "updated_at"])

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Clients are archived, never deleted.")


class Phase(models.TextChoices):
    ACUTE_FLARE = "acute_flare", "Acute flare"
    SUBACUTE = "subacute", "Subacute (recovering)"
    REMISSION = "remission", "Remission"


NO_PHASE_LABEL = "No phase recorded"


def phase_label(phase: str | None) -> str:
    """The phase's name in words; an unknown or missing code reads as no phase recorded."""
    return Phase(phase).label if phase in Phase.values else NO_PHASE_LABEL


class PhaseTimeline:
    """A client's phases, loaded once, answering "phase on date D" by bisection.

    Episodes are half-open: an episode covers ``started_on`` up to, not including,
    ``ended_on``, so one may end on the day the next begins. This is the in-memory twin of
    :meth:`DiseasePhaseQuerySet.on_date` (the same rule in SQL); tests hold the two to each other.
    """

    def __init__(self, phases: Iterable["DiseasePhase"]):
        self.phases = sorted(phases, key=lambda p: p.started_on)
        self._starts = [p.started_on for p in self.phases]

    def phase_on(self, day: dt.date) -> "DiseasePhase | None":
        index = bisect.bisect_right(self._starts, day) - 1
        if index < 0:
            return None
        phase = self.phases[index]
        if phase.ended_on is not None and day >= phase.ended_on:
            return None
        return phase


class DiseasePhaseQuerySet(models.QuerySet):
    def for_client(self, client):
        return self.filter(client=client)

    def current(self):
        return self.filter(ended_on__isnull=True)

    def on_date(self, day: "dt.date | models.Expression | models.F"):
        """The episode covering ``day`` (a date, or an outer reference in a subquery): the one rule in SQL."""
        return self.filter(Q(ended_on__isnull=True) | Q(ended_on__gt=day), started_on__lte=day)

    def overlapping(self, started_on: dt.date, ended_on: dt.date | None):
        """Episodes that share at least one day with [started_on, ended_on)."""
        overlap = Q(ended_on__isnull=True) | Q(ended_on__gt=started_on)
        if ended_on is not None:
            overlap &= Q(started_on__lt=ended_on)
        return self.filter(overlap)

    def delete(self):
        raise ClinicalRecordDeletionError("Disease phases are clinical records and are never deleted.")


class DiseasePhase(models.Model):
    # Looked up by client through phase_client_start_idx (client first), so no index of its own.
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="phases", db_index=False)
    phase = models.CharField(max_length=20, choices=Phase.choices)
    started_on = models.DateField()
    ended_on = models.DateField(
        null=True, blank=True, help_text="Leave empty while the phase lasts. The next phase may start on this day."
    )
    notes = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DiseasePhaseQuerySet.as_manager()

    class Meta:
        # By id, not "client": ordering by a foreign key would join and sort by the client's name.
        ordering = ["client_id", "started_on"]
        indexes = [
            models.Index(fields=["client", "started_on"], name="phase_client_start_idx"),
            # The admin's date drill-down and its phase filter (tests/practice/test_admin_index_plans.py).
            models.Index(fields=["started_on"], name="phase_started_idx"),
            models.Index(fields=["phase", "started_on"], name="phase_phase_started_idx"),
            # Current phases (one per client, the newest): their dates without walking every past phase.
            models.Index(fields=["started_on"], name="phase_open_started_idx", condition=Q(ended_on__isnull=True)),
        ]
        constraints = [
            models.CheckConstraint(
                name="phase_ends_after_start",
                condition=Q(ended_on__isnull=True) | Q(ended_on__gt=models.F("started_on")),
            ),
            # Two open episodes would always overlap; this holds on SQLite too.
            models.UniqueConstraint(
                fields=["client"], condition=Q(ended_on__isnull=True), name="phase_one_open_per_client"
            ),
            # PostgreSQL also gets an exclusion constraint over the date range (migration 0002).
        ]

    def __str__(self) -> str:
        end = self.ended_on.isoformat() if self.ended_on else "now"
        return f"{self.get_phase_display()} {self.started_on.isoformat()} to {end}"

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    def clean(self) -> None:
        super().clean()
        if self.started_on and self.ended_on and self.ended_on <= self.started_on:
            raise ValidationError({"ended_on": "A phase must end after the day it started."})
        if self.started_on and self.started_on > timezone.localdate():
            raise ValidationError({"started_on": "A phase cannot start in the future."})
        if self.started_on and self.started_on < EARLIEST_CLINICAL_DATE:
            raise ValidationError({"started_on": f"A phase starts on or after {EARLIEST_CLINICAL_DATE:%d %b %Y}."})
        if self.started_on and self.client_id:
            clashes = (
                DiseasePhase.objects.for_client(self.client_id)
                .overlapping(self.started_on, self.ended_on)
                .exclude(pk=self.pk)
                .order_by("started_on")
            )
            clash = clashes.first()
            if clash is not None:
                raise ValidationError(
                    f"This phase overlaps the {clash.get_phase_display().lower()} phase "
                    f"from {clash.started_on:%d %b %Y} to "
                    f"{clash.ended_on.strftime('%d %b %Y') if clash.ended_on else 'now'}. "
                    "End that phase first, or choose other dates.",
                    code="overlap",
                )

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Disease phases are clinical records and are never deleted.")


class SelfReportQuerySet(models.QuerySet):
    def for_client(self, client):
        return self.filter(client=client)

    def between(self, start: dt.date | None, end: dt.date | None):
        qs = self
        if start:
            qs = qs.filter(recorded_on__gte=start)
        if end:
            qs = qs.filter(recorded_on__lte=end)
        return qs


class SelfReport(models.Model):
    """How the client felt on a day between sessions, recorded by the client in the portal."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="self_reports")
    recorded_on = models.DateField(default=timezone.localdate)
    pain = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    fatigue = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    note = models.TextField(blank=True, max_length=2000)
    # Relapse or pseudo-relapse (clients/relapse.py): asked only when a symptom is new or worse. None: not asked.
    # Database defaults: the bulk loader (devtools) writes rows without these columns.
    new_or_worse_symptom = models.BooleanField("a symptom is new or worse", null=True, blank=True)
    lasted_over_24_hours = models.CharField(
        "it has lasted more than 24 hours", max_length=10, choices=Answer.choices, blank=True, db_default=""
    )
    days_since_last_relapse_began = models.CharField(
        "the last relapse began", max_length=10, choices=SinceLastRelapse.choices, blank=True, db_default=""
    )
    fever_or_infection = models.CharField(
        "a fever or an infection", max_length=10, choices=Answer.choices, blank=True, db_default=""
    )
    explained_by_heat = models.CharField(
        "explained by heat", max_length=10, choices=Answer.choices, blank=True, db_default=""
    )
    triage = models.CharField(max_length=30, choices=Triage.choices, blank=True, db_default="")
    # When the day's answers first read as a possible relapse: the report the therapist settles. Kept when the day's
    # entry is saved again or its answers change, so a re-save cannot raise a settled stop again nor erase one.
    relapse_reported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SelfReportQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "recorded_on"]
        constraints = [
            # At most one entry per client per day; a second entry that day updates the first.
            models.UniqueConstraint(fields=["client", "recorded_on"], name="self_report_one_per_day"),
            models.CheckConstraint(name="self_report_pain_0_to_10", condition=Q(pain__gte=0, pain__lte=10)),
            models.CheckConstraint(name="self_report_fatigue_0_to_10", condition=Q(fatigue__gte=0, fatigue__lte=10)),
            # The follow-up answers and the triage exist only for a new or worse symptom.
            models.CheckConstraint(
                name="self_report_relapse_answers_need_symptom",
                condition=Q(new_or_worse_symptom=True)
                | Q(
                    lasted_over_24_hours="",
                    days_since_last_relapse_began="",
                    fever_or_infection="",
                    explained_by_heat="",
                    triage="",
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} on {self.recorded_on:%d %b %Y}"

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Self-reports are part of the client's record and are never deleted.")


class RecordLockedError(Exception):
    """An intake once submitted, a consent text, a consent or a withdrawal is kept as it was."""


# The intake (clients/intake.py has the services, clients/selectors.py the reads) ------------------------------

# Answers the intake proposes for the health profile: keys of Intake.answers named after Client's fields.
INTAKE_PROFILE_FIELDS = (
    "ms_type",
    "diagnosis_year",
    "heat_sensitive",
    "cold_sensitive",
    "conditions_needing_clearance",
    "reduced_sensation_regions",
    "pressure_sore_regions",
    "goals",
)
# Answers only the intake holds; the therapist reads them at the review. Contacts are dicts of name and phone
# (emergency_contact also "relationship").
INTAKE_ONLY_FIELDS = (
    "new_or_worse_symptoms_30_days",
    "medications",
    "recent_injury_or_surgery",
    "pregnant",
    "neurologist_contact",
    "emergency_contact",
)
INTAKE_FIELDS = INTAKE_PROFILE_FIELDS + INTAKE_ONLY_FIELDS


class IntakeStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Waiting for review"
    REVIEWED = "reviewed", "Reviewed"


class IntakeQuerySet(models.QuerySet):
    def for_client(self, client):
        return self.filter(client=client)

    def in_progress(self):
        return self.filter(status=IntakeStatus.IN_PROGRESS)

    def submitted(self):
        """Submitted, whether reviewed yet or not."""
        return self.filter(status__in=[IntakeStatus.SUBMITTED, IntakeStatus.REVIEWED])

    def waiting_for_review(self):
        return self.filter(status=IntakeStatus.SUBMITTED)

    def update_requested(self):
        """A therapist asked for an update and the client has not sent it yet (begun or not)."""
        return self.in_progress().filter(requested_at__isnull=False)

    def delete(self):
        raise ClinicalRecordDeletionError("Intakes are part of the client's record and are never deleted.")


class Intake(models.Model):
    """What the client told us in the portal intake: health history, body map, goals, contacts.

    ``answers`` is keyed by INTAKE_FIELDS; the therapist accepts them into the record at the review, and
    nothing here changes the Client until then. While ``in_progress`` the client saves at every step
    (``step`` is how many steps are done). Once submitted the row is locked: the only change left is the
    review (status ``reviewed``, ``reviewed_at``, ``reviewed_by``, ``accepted_fields``: the answers the
    therapist took into the record). A later intake is a new row. An open row with ``requested_at`` and no
    ``started_at`` is a therapist's request for an update that the client has not begun.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="intakes", db_index=False)
    status = models.CharField(max_length=20, choices=IntakeStatus.choices, default=IntakeStatus.IN_PROGRESS)
    answers = models.JSONField(default=dict, blank=True)
    step = models.PositiveSmallIntegerField(default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_fields = models.JSONField(
        default=list, blank=True, help_text="The answers the therapist accepted into the record at the review."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IntakeQuerySet.as_manager()

    # What the review may set on a submitted intake; everything else is as the client submitted it.
    REVIEW_FIELDS = ("status", "reviewed_at", "reviewed_by", "accepted_fields", "updated_at")

    class Meta:
        ordering = ["client_id", "created_at", "pk"]
        indexes = [
            models.Index(fields=["client", "created_at"], name="intake_client_created_idx"),
            # "Intake waiting for review" on the caseload: a few rows among many.
            models.Index(fields=["client"], name="intake_waiting_idx", condition=Q(status="submitted")),
            models.Index(fields=["submitted_at"], name="intake_submitted_idx"),
            # The admin's status filter with its date drill-down.
            models.Index(fields=["status", "submitted_at"], name="intake_status_submitted_idx"),
        ]
        constraints = [
            # One intake open at a time: the client resumes it, a therapist's request reuses it.
            models.UniqueConstraint(fields=["client"], condition=Q(status="in_progress"), name="intake_one_open"),
            models.CheckConstraint(
                name="intake_submitted_has_time",
                condition=Q(status="in_progress") | Q(submitted_at__isnull=False),
            ),
            models.CheckConstraint(
                name="intake_reviewed_has_time",
                condition=~Q(status="reviewed") | Q(reviewed_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Intake of {self.client} ({self.get_status_display().lower()})"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding and self.pk is not None:
            self._refuse_change_after_submission()
        super().save(*args, **kwargs)

    def _refuse_change_after_submission(self) -> None:
        stored: dict[str, Any] | None = Intake.objects.filter(pk=self.pk).values().first()  # type: ignore[assignment]
        if stored is None or stored["status"] == IntakeStatus.IN_PROGRESS:
            return
        reviewing = stored["status"] == IntakeStatus.SUBMITTED and self.status == IntakeStatus.REVIEWED
        changed = [
            field.name
            for field in self._meta.concrete_fields
            if stored[field.attname] != getattr(self, field.attname) and field.name not in self.REVIEW_FIELDS
        ]
        if changed or not reviewing:
            raise RecordLockedError("A submitted intake is kept as the client sent it; a new intake is a new row.")

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Intakes are part of the client's record and are never deleted.")

    @property
    def is_open(self) -> bool:
        return self.status == IntakeStatus.IN_PROGRESS


# Consents (clients/intake.py: consent_agree, consent_withdraw; clients/selectors.py: current_consent) ----------


class ConsentKind(models.TextChoices):
    TREATMENT = "treatment", "Consent to treatment"
    DATA_USE = "data_use", "How the practice keeps and uses my data"


class ImmutableQuerySet(models.QuerySet):
    """Rows that are written once: no bulk update, no delete (PostgreSQL triggers refuse raw SQL too)."""

    def update(self, **kwargs):
        raise RecordLockedError(f"{self.model._meta.verbose_name_plural} are never changed.")

    def delete(self):
        raise ClinicalRecordDeletionError(f"{self.model._meta.verbose_name_plural} are never deleted.")


class ImmutableRecord(models.Model):
    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise RecordLockedError(f"A {self._meta.verbose_name} is never changed; add a new one instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError(f"A {self._meta.verbose_name} is never deleted.")


class ConsentTextQuerySet(ImmutableQuerySet):
    def of_kind(self, kind: str):
        return self.filter(kind=kind)

    def current(self, kind: str) -> "ConsentText | None":
        """The newest version of ``kind``: the one clients agree to now."""
        return self.of_kind(kind).order_by("-version").first()


class ConsentText(ImmutableRecord):
    """One version of a consent's wording. Owners add versions (never edit one); the newest is current."""

    kind = models.CharField(max_length=20, choices=ConsentKind.choices)
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ConsentTextQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="consent_text_one_per_version"),
            models.CheckConstraint(name="consent_text_version_positive", condition=Q(version__gte=1)),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}, version {self.version}"


class ConsentQuerySet(ImmutableQuerySet):
    def for_client(self, client):
        return self.filter(client=client)

    def not_withdrawn(self):
        return self.filter(withdrawal__isnull=True)


class Consent(ImmutableRecord):
    """A client's agreement to one version of a consent text, signed by typing their name. Never changed."""

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="consents", db_index=False)
    consent_text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="consents")
    typed_name = models.CharField("name typed as signature", max_length=200)
    agreed_at = models.DateTimeField(default=timezone.now)
    # Who entered it: the client's own portal account, or staff recording a consent given on paper.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ConsentQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "-agreed_at", "-pk"]
        indexes = [
            models.Index(fields=["client", "agreed_at"], name="consent_client_agreed_idx"),
            models.Index(fields=["agreed_at"], name="consent_agreed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client}: {self.consent_text} on {self.agreed_at:%d %b %Y %H:%M}"


class ConsentWithdrawal(ImmutableRecord):
    """The client withdrew a consent (from the portal: the data-use consent only). Never changed."""

    consent = models.OneToOneField(Consent, on_delete=models.PROTECT, related_name="withdrawal")
    typed_name = models.CharField("name typed as signature", max_length=200)
    withdrawn_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-withdrawn_at", "-pk"]
        indexes = [models.Index(fields=["withdrawn_at"], name="consent_withdrawn_idx")]

    def __str__(self) -> str:
        return f"Withdrawal of {self.consent}"


class RelapseDismissal(ImmutableRecord):
    """A therapist's judgement that the relapse reports so far are not a relapse, with why (clients/intake_review.py).

    A reported relapse (a possible-relapse check-in or an intake's new or worse symptoms, in the last 30 days) is
    a stop until the therapist records the phase: a phase recorded after the report, or one of these after it.
    A later report is a stop again. Written once, never changed.
    """

    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="relapse_dismissals", db_index=False)
    reason = models.TextField("why this is not a relapse", max_length=2000)
    dismissed_at = models.DateTimeField(default=timezone.now)
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["client_id", "-dismissed_at", "-pk"]
        indexes = [models.Index(fields=["client", "dismissed_at"], name="relapse_dismissal_client_idx")]

    def __str__(self) -> str:
        return f"Not a relapse: {self.client} on {self.dismissed_at:%d %b %Y}"


track_changes(Client)
track_changes(DiseasePhase)
track_changes(SelfReport)
