import bisect
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from clients.body_regions import BodyRegion
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
        ]

    def __str__(self) -> str:
        return f"{self.client} on {self.recorded_on:%d %b %Y}"

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Self-reports are part of the client's record and are never deleted.")


track_changes(Client)
track_changes(DiseasePhase)
track_changes(SelfReport)
