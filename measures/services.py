"""Writes to questionnaires: start (or resume), answer one item, submit (scored, then locked), amend."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from measures.models import (
    EnteredIn,
    Instrument,
    QuestionnaireAmendment,
    QuestionnaireLockedError,
    QuestionnaireResponse,
    apply_amendments,
)
from measures.scoring import ScoringError, check_answer


def questionnaire_start(
    *, client: Client, instrument: Instrument, entered_by: User, entered_in: str = EnteredIn.PORTAL
) -> QuestionnaireResponse:
    """The questionnaire in progress of this instrument, entered the same way, or a new one: stopping half-way
    and coming back resumes it."""
    client.ensure_editable()
    if not instrument.is_active:
        raise ValidationError("This questionnaire is no longer offered.", code="inactive")
    with transaction.atomic():
        # Lock the client so two taps on "Start" make one questionnaire, not two.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        existing = (
            QuestionnaireResponse.objects.for_client(client)
            .in_progress()
            .filter(instrument=instrument, entered_in=entered_in)
            .order_by("-started_at", "-pk")
            .first()
        )
        if existing is not None:
            return existing
        return QuestionnaireResponse.objects.create(
            client=client, instrument=instrument, entered_by=entered_by, entered_in=entered_in
        )


def questionnaire_answer(*, response: QuestionnaireResponse, link_id: str, value: Any) -> QuestionnaireResponse:
    """Save one answer at once, so that nothing is lost if the client stops here."""
    if response.is_submitted:
        raise QuestionnaireLockedError("This questionnaire is submitted; record a correction as an amendment.")
    try:
        number = check_answer(response.instrument.items, link_id, value)
    except ScoringError as error:
        raise ValidationError({"answer": str(error)}, code="invalid_answer") from None
    response.answers = {**response.answers, link_id: number}
    response.save(update_fields=["answers"])
    return response


def questionnaire_submit(*, response: QuestionnaireResponse) -> QuestionnaireResponse:
    """Score every answer and lock the questionnaire. Missing answers are refused with nothing saved."""
    if response.is_submitted:
        raise QuestionnaireLockedError("This questionnaire is already submitted.")
    try:
        total = response.instrument.score(response.answers)
    except ScoringError as error:
        raise ValidationError(str(error), code="incomplete") from None
    response.score = total
    response.status = "submitted"
    response.submitted_at = timezone.now()
    response.save(update_fields=["score", "status", "submitted_at"])
    return response


def questionnaire_amend(
    *, response: QuestionnaireResponse, author: User, reason: str, answers: dict[str, Any]
) -> QuestionnaireAmendment:
    """Correct answers of a submitted questionnaire: an amendment row with the new score; the original stays."""
    if not response.is_submitted:
        raise ValidationError("Only a submitted questionnaire is amended; change the answers before submitting.")
    with transaction.atomic():
        locked = QuestionnaireResponse.objects.select_for_update().select_related("instrument").get(pk=response.pk)
        earlier = list(locked.amendments.order_by("created_at", "pk"))
        current = apply_amendments(locked.answers, earlier)
        changes = {}
        try:
            for link_id, value in answers.items():
                number = check_answer(locked.instrument.items, link_id, value)
                if current.get(link_id) != number:
                    changes[link_id] = {"from": current.get(link_id), "to": number}
            new_score = locked.instrument.score({**current, **{k: c["to"] for k, c in changes.items()}})
        except ScoringError as error:
            raise ValidationError({"answers": str(error)}) from None
        if not changes:
            raise ValidationError("Nothing to correct: the answers are the same as before.", code="no_change")
        amendment = QuestionnaireAmendment(
            response=locked, author=author, reason=reason.strip(), changes=changes, score=new_score
        )
        amendment.full_clean()
        amendment.save()
    return amendment
