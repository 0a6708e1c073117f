"""Validated questionnaires as data: the instruments, what clients answered, and corrections to it.

An instrument (its items, answer options, scoring, range, MCID, source) is a row seeded by a data migration:
adding another is a data migration, not new views. A submitted questionnaire is locked; a correction is an
amendment (who, when, why, what changed), as for signed sessions. Nothing here is ever deleted.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_save
from django.utils import timezone

from clients.models import Client
from measures import scoring
from practice.records import ClinicalRecordDeletionError, never_delete


class QuestionnaireLockedError(Exception):
    """A submitted questionnaire is never edited: corrections are amendments."""


class Scoring(models.TextChoices):
    SUM = scoring.SUM, "Sum of the item values"
    SINGLE = scoring.SINGLE, "The one item's value"


class InstrumentQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Instrument(models.Model):
    code = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=30)
    recall_period = models.CharField(max_length=100, blank=True, help_text='For example "the past 4 weeks".')
    instructions = models.TextField(blank=True, help_text="Shown above every item (the stem).")
    items = models.JSONField(help_text='[{"link_id", "text", "options": [{"value", "label"}]}]')
    scoring = models.CharField(max_length=10, choices=Scoring.choices)
    score_min = models.SmallIntegerField()
    score_max = models.SmallIntegerField()
    # Null where no minimal clinically important difference is published: none is ever invented.
    mcid = models.DecimalField("MCID", max_digits=5, decimal_places=2, null=True, blank=True)
    higher_is_worse = models.BooleanField(default=True)
    source = models.TextField(help_text="Where the wording, scoring and MCID come from (citations).")
    licence_note = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    objects = InstrumentQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(name="instrument_range_ordered", condition=Q(score_min__lt=models.F("score_max")))
        ]

    def __str__(self) -> str:
        return self.short_name

    def clean(self) -> None:
        super().clean()
        try:
            scoring.check_items(self.items, self.scoring)
        except scoring.ScoringError as error:
            raise ValidationError({"items": str(error)}) from None

    @property
    def item_count(self) -> int:
        return len(self.items)

    def score(self, answers: dict[str, Any]) -> int:
        return scoring.score(
            self.items, answers, scoring=self.scoring, score_min=self.score_min, score_max=self.score_max
        )


class ResponseStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted"


class EnteredIn(models.TextChoices):
    PORTAL = "portal", "The client's portal"
    SESSION = "session", "In a session, on the therapist's tablet"


class QuestionnaireResponseQuerySet(models.QuerySet):
    def for_client(self, client):
        return self.filter(client=client)

    def submitted(self):
        return self.filter(status=ResponseStatus.SUBMITTED)

    def in_progress(self):
        return self.filter(status=ResponseStatus.IN_PROGRESS)

    def with_current_score(self):
        """Annotate ``current_score`` (after the latest amendment, else as submitted) and ``is_amended``."""
        latest = QuestionnaireAmendment.objects.filter(response=models.OuterRef("pk")).order_by("-created_at", "-pk")
        return self.annotate(
            current_score=models.functions.Coalesce(models.Subquery(latest.values("score")[:1]), "score"),
            is_amended=models.Exists(latest),
        )

    def delete(self):
        raise ClinicalRecordDeletionError("Questionnaires are clinical records and are never deleted.")


class QuestionnaireResponse(models.Model):
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="questionnaire_responses")
    instrument = models.ForeignKey(Instrument, on_delete=models.PROTECT, related_name="responses")
    status = models.CharField(max_length=12, choices=ResponseStatus.choices, default=ResponseStatus.IN_PROGRESS)
    started_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    answers = models.JSONField(default=dict, blank=True, help_text="{link_id: value}")
    score = models.SmallIntegerField(null=True, blank=True)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    entered_in = models.CharField(max_length=10, choices=EnteredIn.choices, default=EnteredIn.PORTAL)

    objects = QuestionnaireResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            # "When did this client last submit this instrument": a backward probe per client and instrument.
            models.Index(fields=["client", "instrument", "submitted_at"], name="questionnaire_latest_idx"),
            # The owner's admin list, newest first, whole or by instrument (measures.admin).
            models.Index(fields=["started_at"], name="questionnaire_started_idx"),
            models.Index(fields=["instrument", "started_at"], name="questionnaire_instrument_idx"),
            # The outcomes report's pairing (outcomes.questionnaires): "the latest submitted in this window", one
            # probe per course end read from the index alone, newest first, ties by id, with no sort. The score
            # rides along (PostgreSQL): reading it from the rows cost the probes half their time at full size.
            models.Index(
                fields=["client", "instrument", "submitted_at", "id"],
                condition=Q(status=ResponseStatus.SUBMITTED),
                include=["score"],
                name="questionnaire_submitted_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                name="questionnaire_submitted_complete",
                condition=Q(status=ResponseStatus.IN_PROGRESS, submitted_at__isnull=True, score__isnull=True)
                | Q(status=ResponseStatus.SUBMITTED, submitted_at__isnull=False, score__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} for {self.client} ({self.get_status_display().lower()})"

    @property
    def is_submitted(self) -> bool:
        return self.status == ResponseStatus.SUBMITTED

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Questionnaires are clinical records and are never deleted.")


class QuestionnaireAmendment(models.Model):
    """A correction to a submitted questionnaire. The submitted answers are left as they were."""

    response = models.ForeignKey(QuestionnaireResponse, on_delete=models.PROTECT, related_name="amendments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    reason = models.TextField()
    changes = models.JSONField(default=dict, help_text='By item: {"link_id": {"from": old, "to": new}}.')
    score = models.SmallIntegerField(help_text="The score with this and every earlier correction applied.")

    class Meta:
        ordering = ["response_id", "created_at", "pk"]

    def __str__(self) -> str:
        return f"Amendment to {self.response} by {self.author}"

    def clean(self) -> None:
        super().clean()
        if not self.reason.strip():
            raise ValidationError({"reason": "Say why the submitted questionnaire is being corrected."})

    def delete(self, *args, **kwargs):
        raise ClinicalRecordDeletionError("Amendments are clinical records and are never deleted.")


def _lock_submitted(
    sender: type[QuestionnaireResponse], instance: QuestionnaireResponse, raw: bool = False, **kwargs: Any
) -> None:
    # The stored row decides: submitting (in progress -> submitted) is the last save a questionnaire gets.
    if raw or instance._state.adding:
        return
    if QuestionnaireResponse.objects.filter(pk=instance.pk, status=ResponseStatus.SUBMITTED).exists():
        raise QuestionnaireLockedError("This questionnaire is submitted; record a correction as an amendment.")


def _lock_amendment(
    sender: type[QuestionnaireAmendment], instance: QuestionnaireAmendment, raw: bool = False, **kwargs: Any
) -> None:
    if not raw and not instance._state.adding:
        raise QuestionnaireLockedError("An amendment cannot be changed; record another amendment.")


def connect_guards() -> None:
    """ORM guards (every database); on PostgreSQL, triggers (migration 0003) hold the same rules for raw SQL."""
    never_delete(QuestionnaireResponse, QuestionnaireAmendment)
    pre_save.connect(_lock_submitted, sender=QuestionnaireResponse, dispatch_uid="measures_lock_submitted")
    pre_save.connect(_lock_amendment, sender=QuestionnaireAmendment, dispatch_uid="measures_lock_amendment")
    # Instruments need no guard of their own: PROTECT keeps every one that has been answered (retire with is_active).


def apply_amendments(answers: dict[str, Any], amendments: list[QuestionnaireAmendment]) -> dict[str, Any]:
    """The answers with each amendment's changes applied in order."""
    current = dict(answers)
    for amendment in amendments:
        for link_id, change in amendment.changes.items():
            current[link_id] = change["to"]
    return current
