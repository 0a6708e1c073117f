import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from clients.body_regions import BodyRegion
from clients.models import Client, DiseasePhase
from clients.scores import SCORE_MAX, SCORE_MIN, SCORE_VALIDATORS
from practice.history import track_changes
from practice.records import ClinicalRecordDeletionError

SCORE_FIELDS = ("pain_before", "pain_after", "fatigue_before", "fatigue_after")
AFTER_SCORE_FIELDS = ("pain_after", "fatigue_after")
# Fields a signed session may be corrected in, through an amendment (its technique rows too: TECHNIQUE_USES).
AMENDABLE_FIELDS = (
    "started_at",
    "duration_minutes",
    "setting",
    "room_temperature_c",
    "pain_before",
    "pain_after",
    "fatigue_before",
    "fatigue_after",
    "subjective",
    "objective",
    "assessment",
    "plan",
    "client_summary",
)
# A session's values a report of its scores shows (trends, the FHIR bundle): when, how long, where, and the scores;
# amendments to any of them count.
REPORTED_FIELDS = (
    "started_at",
    "duration_minutes",
    "setting",
    "pain_before",
    "pain_after",
    "fatigue_before",
    "fatigue_after",
)
# What whoever logs a session writes, in the therapist's form and the admin alike (the admin may also
# move a draft to another client or therapist); the rest is its state and bookkeeping.
DRAFT_FIELDS = (*AMENDABLE_FIELDS, "safety_override_reason")
# The key of a correction of the technique rows in SessionAmendment.changes: {"from": rows, "to": rows}, each
# row {"technique": pk, "technique_name": name, "body_region": code, "pressure": code} (the signed rows stay).
TECHNIQUE_USES = "technique_uses"
# The key of the override reason a correction was saved with when the corrected plan meets a safety stop.
OVERRIDE_REASON = "safety_override_reason"
# Plausible session dates: none before the practice kept records on computers, and none ahead of the clock
# (a session is logged after it happens; the leeway covers a tablet's clock running a little fast).
EARLIEST_SESSION = dt.datetime(2000, 1, 1)
FUTURE_LEEWAY = dt.timedelta(minutes=5)
# The technique rows one session may hold: a technique per body region, with room to spare. The forms and the
# admin refuse more before building them (a forged row count would otherwise build thousands of forms).
MAX_TECHNIQUE_USES = 40


def check_session_start(started_at: dt.datetime) -> None:
    """Refuse an implausible session start, before EARLIEST_SESSION or ahead of the clock (on ``started_at``).

    One rule for every writer: ``TreatmentSession.clean`` (the forms, the admin, the services), signing, amending.
    """
    if started_at < timezone.make_aware(EARLIEST_SESSION):
        earliest = f"{EARLIEST_SESSION.day} {EARLIEST_SESSION:%b %Y}"
        message = f"A session date must be on or after {earliest}."
        raise ValidationError({"started_at": ValidationError(message, code="too_early")})
    if started_at > timezone.now() + FUTURE_LEEWAY:
        message = "A session cannot start in the future; log it after it happens."
        raise ValidationError({"started_at": ValidationError(message, code="future")})


class Guidance(models.TextChoices):
    RECOMMENDED = "recommended", "Recommended"
    CAUTION = "caution", "Use with caution"
    AVOID = "avoid", "Avoid"


class TechniqueQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Technique(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    guidance = models.CharField("MS guidance", max_length=12, choices=Guidance.choices)
    reason = models.TextField(help_text="Why this guidance applies to clients with MS, in plain words.")
    uses_heat = models.BooleanField(default=False)
    light_touch = models.BooleanField(default=False, help_text="Gentle enough for regions with reduced sensation.")
    is_active = models.BooleanField(default=True, help_text="Inactive techniques are kept for past sessions.")

    objects = TechniqueQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Setting(models.TextChoices):
    CLINIC = "clinic", "Clinic"
    HOME = "home", "Client's home"
    HOSPITAL = "hospital", "Hospital"
    HOSPICE = "hospice", "Hospice"


class Pressure(models.TextChoices):
    LIGHT = "light", "Light"
    MODERATE = "moderate", "Moderate"
    FIRM = "firm", "Firm"
    DEEP = "deep", "Deep"


class SessionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SIGNED = "signed", "Signed"


class SignedSessionLockedError(Exception):
    """A signed session is locked; corrections are amendments."""


def _score_range(field: str) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": SCORE_MIN, f"{field}__lte": SCORE_MAX})


class ScoreChanges:
    """The immediate change in pain and fatigue: after minus before, None until after-scores exist.

    Shared by the model and the read-only views of a session built from it (trends, portal).
    """

    pain_before: int
    pain_after: int | None
    fatigue_before: int
    fatigue_after: int | None

    @property
    def pain_change(self) -> int | None:
        return None if self.pain_after is None else self.pain_after - self.pain_before

    @property
    def fatigue_change(self) -> int | None:
        return None if self.fatigue_after is None else self.fatigue_after - self.fatigue_before


class TreatmentSessionQuerySet(models.QuerySet):
    def for_client(self, client):
        return self.filter(client=client)

    def signed(self):
        return self.filter(status=SessionStatus.SIGNED)

    def drafts(self):
        return self.filter(status=SessionStatus.DRAFT)

    def visible_to(self, user):
        """Sessions of the clients ``user`` may reach as staff (404 for the rest)."""
        return self.filter(client__in=Client.objects.cared_for_by(user))

    def with_phase(self):
        """Annotate each session with the client's phase on its date (``phase_on_date``), in the same query."""
        phase = DiseasePhase.objects.filter(client=models.OuterRef("client")).on_date(models.OuterRef("session_date"))
        # The session's date in the practice's time zone, as phases are recorded by day.
        return self.annotate(session_date=TruncDate("started_at")).annotate(
            phase_on_date=models.Subquery(phase.values("phase")[:1])
        )

    def saved_over_stop(self):
        """Sessions saved over a safety stop: with an override reason of their own or one a correction was saved
        with (``OVERRIDE_REASON`` in the amendment). A session counts once, even if a later correction removed
        the stop: it went ahead against one. The one definition for the admin's column and filter and the
        owner's counts; the union reads session_override_started_idx and the few amendments.
        """
        return self.filter(pk__in=_saved_over_stop_ids())

    def not_saved_over_stop(self):
        """The rest: sessions that never went ahead against a stop (the admin filter's "no")."""
        return self.exclude(pk__in=_saved_over_stop_ids())

    def with_corrections(self):
        """Prefetch each session's amendments, oldest first, in one query for the lot: ``sessions.corrections``
        reads them to show each session as corrected."""
        amendments = SessionAmendment.objects.only("session_id", "changes", "created_at").order_by("created_at", "pk")
        return self.prefetch_related(models.Prefetch("amendments", queryset=amendments))

    def delete(self):
        raise ClinicalRecordDeletionError("Treatment sessions are clinical records and are never deleted.")


def _saved_over_stop_ids():
    """The ids of ``saved_over_stop``: sessions with a reason of their own, and the corrections saved with one."""
    own = TreatmentSession.objects.exclude(safety_override_reason="").order_by().values("pk")
    corrected = (
        SessionAmendment.objects.filter(changes__has_key=OVERRIDE_REASON)
        .exclude(**{f"changes__{OVERRIDE_REASON}__to": ""})
        .order_by()
        .values("session_id")
    )
    return own.union(corrected)


class TreatmentSession(ScoreChanges, models.Model):
    # No single-column indexes on these two: session_client_started_idx and session_therapist_started_idx
    # (Meta.indexes) start with them and serve every lookup; at millions of sessions each copy costs
    # ~30 MB and a write per insert.
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="sessions", db_index=False)
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="treatment_sessions", db_index=False
    )
    started_at = models.DateTimeField(default=timezone.now)
    duration_minutes = models.PositiveSmallIntegerField(
        default=60, validators=[MinValueValidator(5), MaxValueValidator(240)]
    )
    setting = models.CharField(max_length=10, choices=Setting.choices, default=Setting.CLINIC)
    room_temperature_c = models.DecimalField(
        "room temperature (°C)",
        max_digits=3,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(5), MaxValueValidator(40)],
    )
    pain_before = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    pain_after = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE_VALIDATORS)
    fatigue_before = models.PositiveSmallIntegerField(validators=SCORE_VALIDATORS)
    fatigue_after = models.PositiveSmallIntegerField(null=True, blank=True, validators=SCORE_VALIDATORS)

    # SOAP notes: for the clinical team, never shown to the client.
    subjective = models.TextField(blank=True)
    objective = models.TextField(blank=True)
    assessment = models.TextField(blank=True)
    plan = models.TextField(blank=True)
    client_summary = models.TextField("summary for the client", blank=True)

    safety_override_reason = models.TextField(
        blank=True, help_text="Why the therapist went ahead despite a safety stop."
    )
    status = models.CharField(max_length=10, choices=SessionStatus.choices, default=SessionStatus.DRAFT)
    signed_at = models.DateTimeField(null=True, blank=True, editable=False)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    # Optimistic locking: each save of a draft bumps it, so a stale form cannot overwrite.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TreatmentSessionQuerySet.as_manager()

    # Not a column: True on the session sessions.services.session_create returns when its form was sent
    # again (a double tap, a retry), which is the session the first sending saved.
    resubmitted = False

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            models.Index(fields=["client", "started_at"], name="session_client_started_idx"),
            models.Index(fields=["therapist", "started_at"], name="session_therapist_started_idx"),
            # Covering (PostgreSQL): the admin's capped count of a date range with an unselective filter (signed, not
            # over a stop) reads index entries only. Without status and id here, PostgreSQL read the table from its
            # start until 10,001 rows matched: 4,000 blocks for a year of signed sessions, seconds when not cached.
            # SQLite builds it without the included columns.
            models.Index(fields=["started_at"], name="session_started_idx", include=["id", "status"]),
            # Small partial indexes for the owner's admin (drafts to sign, sessions saved over a safety stop):
            # a few thousand rows each at millions of sessions, where session_started_idx would be read whole.
            models.Index(
                fields=["started_at"], name="session_draft_started_idx", condition=Q(status=SessionStatus.DRAFT)
            ),
            models.Index(
                fields=["started_at"], name="session_override_started_idx", condition=~Q(safety_override_reason="")
            ),
            # The admin's setting filter: a home or hospice visit is rare among clinic sessions.
            models.Index(fields=["setting", "started_at"], name="session_setting_started_idx"),
        ]
        constraints = [
            *(
                models.CheckConstraint(name=f"session_{field}_0_to_10", condition=_score_range(field))
                for field in SCORE_FIELDS
            ),
            models.CheckConstraint(name="session_duration_positive", condition=Q(duration_minutes__gte=1)),
            models.CheckConstraint(
                name="session_signed_complete",
                condition=Q(status=SessionStatus.DRAFT)
                | Q(
                    pain_after__isnull=False,
                    fatigue_after__isnull=False,
                    signed_at__isnull=False,
                    signed_by__isnull=False,
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client} on {timezone.localtime(self.started_at):%d %b %Y %H:%M}"

    def save(self, *args, **kwargs):
        if getattr(self, "_loaded_status", None) == SessionStatus.SIGNED:
            raise SignedSessionLockedError("This session is signed; record a correction as an amendment.")
        super().save(*args, **kwargs)
        self._loaded_status: str | None = self.status

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Treatment sessions are clinical records and are never deleted.")

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any, **kwargs: Any) -> "TreatmentSession":
        instance = super().from_db(db, field_names, values, **kwargs)
        instance._loaded_status = instance.__dict__.get("status")
        return instance

    def refresh_from_db(self, *args, **kwargs):
        super().refresh_from_db(*args, **kwargs)
        self._loaded_status = self.status

    @property
    def is_signed(self) -> bool:
        return self.status == SessionStatus.SIGNED

    def clean(self) -> None:
        """Plausible dates, for every writer (the therapist's form, the admin and the services)."""
        super().clean()
        if self.started_at is not None:
            check_session_start(self.started_at)

    def missing_for_signing(self) -> list[str]:
        return [field for field in AFTER_SCORE_FIELDS if getattr(self, field) is None]


class TechniqueUse(models.Model):
    """One technique applied to one body region at one pressure during a session."""

    # Looked up by session through technique_use_unique (session first), so no index of its own.
    session = models.ForeignKey(
        TreatmentSession, on_delete=models.CASCADE, related_name="technique_uses", db_index=False
    )
    technique = models.ForeignKey(Technique, on_delete=models.PROTECT, related_name="uses")
    body_region = models.CharField(max_length=20, choices=BodyRegion.choices)
    pressure = models.CharField(max_length=10, choices=Pressure.choices, default=Pressure.LIGHT)

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(fields=["session", "technique", "body_region"], name="technique_use_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.technique} on {self.get_body_region_display().lower()} ({self.get_pressure_display().lower()})"


class SessionFormToken(models.Model):
    """The one-time token of the form a session was logged with: sent twice, the form saves one session.

    The new-session form carries a random token from the moment it is shown; ``sessions.services.session_create``
    stores it here with the session it saved, in the same transaction. The primary key makes the database refuse
    a second session from the same form, however close together the two requests arrive. A table of its own
    rather than a column of TreatmentSession: the session's change history (``practice``'s history tables) has no
    use for it, and sessions logged without a form (the admin, bulk loads) cost nothing.
    """

    token = models.UUIDField(primary_key=True, editable=False)
    session = models.OneToOneField(
        TreatmentSession, on_delete=models.CASCADE, related_name="form_token", editable=False
    )

    def __str__(self) -> str:
        return str(self.token)


class SessionAmendment(models.Model):
    """A correction to a signed session. The signed original is left as it was."""

    session = models.ForeignKey(TreatmentSession, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reason = models.TextField()
    changes = models.JSONField(default=dict, help_text='What changed, by field: {"field": {"from": old, "to": new}}.')

    class Meta:
        ordering = ["session_id", "created_at"]
        indexes = [
            # The admin's list, newest first, and its date drill-down.
            models.Index(fields=["created_at"], name="amendment_created_idx"),
            # The few corrections saved over a safety stop (TreatmentSessionQuerySet.saved_over_stop, for the
            # admin's filter and the owner's counts): read here, not by opening every amendment's JSON.
            models.Index(
                fields=["session"], name="amendment_override_idx", condition=Q(changes__has_key=OVERRIDE_REASON)
            ),
        ]

    def __str__(self) -> str:
        return f"Amendment to {self.session} by {self.author}"

    def clean(self) -> None:
        super().clean()
        if not self.reason.strip():
            raise ValidationError({"reason": "Say why the signed session is being corrected."})

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Amendments are clinical records and are never deleted.")


def apply_amendments(
    values: Mapping[str, Any], amendments_oldest_first: Iterable[Mapping[str, Any]]
) -> tuple[dict[str, Any], bool]:
    """``values`` (any of a session's AMENDABLE_FIELDS) with every correction applied, and whether one was.

    ``amendments_oldest_first`` are the amendments' ``changes``; the latest correction of a field wins.
    Amendments keep JSON values, so each is turned back into the field's own type. ``started_at`` is among
    them (a corrected date and time); TECHNIQUE_USES, when in ``values``, becomes the corrected rows as
    stored (a list of dicts, see TECHNIQUE_USES). ``sessions.corrections`` builds on this for the pages.
    """
    result = dict(values)
    corrected = False
    for changes in amendments_oldest_first:
        for name, change in changes.items():
            if name == TECHNIQUE_USES and name in result:
                result[name] = [dict(row) for row in change["to"]]
                corrected = True
            elif name in result:
                field = TreatmentSession._meta.get_field(name)
                assert isinstance(field, models.Field)  # amendable fields are the session's own columns
                result[name] = field.to_python(change["to"])
                corrected = True
    return result, corrected


track_changes(TreatmentSession)
