"""The client's intake and consents: the writes, and when an intake is due.

Models (clients/models.py): ``Intake`` (answers keyed by ``INTAKE_FIELDS``; locked once submitted),
``ConsentText`` (versions of a consent's wording; the newest of a kind is current), ``Consent`` and
``ConsentWithdrawal`` (written once, never changed or deleted). Reads: clients/selectors.py
(``latest_intake``, ``open_intake``, ``intake_waiting_for_review``, ``current_consent``, ``consents_needed``).

The flow: ``intake_start`` opens (or resumes) the client's one open intake; ``intake_answer`` saves each
step's answers as the client goes, so nothing is lost between visits; ``intake_submit`` locks it and it waits
for the therapist's review (``intake_review`` marks it reviewed; accepting answers into the health profile is
the review page's job, through the profile's own services). ``request_intake_update`` is a therapist asking
for a new one. ``consent_agree`` and ``consent_withdraw`` sign by typed name.

Nothing here changes the Client: the intake proposes, the therapist disposes. Views record the audit events.
"""

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.body_regions import BodyRegion
from clients.models import (
    INTAKE_FIELDS,
    MIN_DIAGNOSIS_YEAR,
    ClearanceCondition,
    Client,
    Consent,
    ConsentKind,
    ConsentText,
    ConsentWithdrawal,
    Goal,
    Intake,
    IntakeStatus,
    MSType,
)

# An intake is due again a year after the last one was submitted.
INTAKE_VALID_FOR = dt.timedelta(days=365)
# The consent a client may withdraw from the portal; consent to treatment is withdrawn by talking to the practice.
WITHDRAWABLE_IN_PORTAL = (ConsentKind.DATA_USE,)
TEXT_MAX_LENGTH = 2000
CONTACT_PART_MAX_LENGTH = 200


# When an intake is due --------------------------------------------------------------------------------------


def intake_due(client: Client, *, now: dt.datetime | None = None) -> bool:
    """Whether the client should fill in an intake: an update was requested, or none was submitted this year."""
    now = now or timezone.now()
    if Intake.objects.for_client(client).update_requested().exists():
        return True
    return not Intake.objects.for_client(client).submitted().filter(submitted_at__gt=now - INTAKE_VALID_FOR).exists()


# The intake -------------------------------------------------------------------------------------------------


def intake_start(*, client: Client) -> Intake:
    """The client's open intake, begun now if it was not yet (a new one if none is open)."""
    client.ensure_editable()
    with transaction.atomic():
        # Lock the client: two tabs starting at once must not both create an open intake.
        Client.objects.select_for_update().filter(pk=client.pk).first()
        intake = Intake.objects.for_client(client).in_progress().first()
        if intake is None:
            intake = Intake(client=client)
        if intake.started_at is None:
            intake.started_at = timezone.now()
            intake.save()
    return intake


def intake_answer(*, intake: Intake, answers: Mapping[str, Any], step: int) -> Intake:
    """Save one step's answers (merged into what is there) and that the client got past ``step``.

    Raises ValidationError, with nothing saved, for an unknown key or an answer of the wrong shape.
    """
    _ensure_open(intake)
    cleaned = clean_answers(answers)
    with transaction.atomic():
        intake.answers = _with_derived_conditions({**intake.answers, **cleaned})
        intake.step = max(intake.step, step)
        intake.save(update_fields=["answers", "step", "updated_at"])
    return intake


def intake_submit(*, intake: Intake) -> Intake:
    """Send the intake for review: from now on it is kept as it is."""
    _ensure_open(intake)
    intake.status = IntakeStatus.SUBMITTED
    intake.submitted_at = timezone.now()
    intake.save(update_fields=["status", "submitted_at", "updated_at"])
    return intake


def intake_review(*, intake: Intake, reviewed_by: User, accepted_fields: Iterable[str]) -> Intake:
    """Mark a submitted intake reviewed, naming the answers taken into the record (the review page applies them)."""
    if intake.status != IntakeStatus.SUBMITTED:
        raise ValidationError("Only an intake waiting for review can be reviewed.", code="not_submitted")
    accepted = list(dict.fromkeys(accepted_fields))
    unknown = sorted(set(accepted) - set(INTAKE_FIELDS))
    if unknown:
        raise ValidationError(f"Unknown intake answers: {', '.join(unknown)}.", code="unknown_field")
    intake.status = IntakeStatus.REVIEWED
    intake.reviewed_at = timezone.now()
    intake.reviewed_by = reviewed_by
    intake.accepted_fields = accepted
    intake.save(update_fields=["status", "reviewed_at", "reviewed_by", "accepted_fields", "updated_at"])
    return intake


def request_intake_update(*, client: Client, by: User) -> Intake:
    """A therapist asks the client for a new intake: the open one if there is one, else a new, unstarted row."""
    client.ensure_editable()
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        intake = Intake.objects.for_client(client).in_progress().first() or Intake(client=client)
        intake.requested_by = by
        intake.requested_at = timezone.now()
        intake.save()
    return intake


def _with_derived_conditions(answers: dict[str, Any]) -> dict[str, Any]:
    """Pregnancy and a recent injury or surgery are asked on their own screens; the clearance list follows them.

    So the list the therapist reviews is the one the record keeps (ClearanceCondition), whichever screen said it.
    """
    derived = {
        ClearanceCondition.PREGNANCY: ("pregnant", lambda value: value is True),
        ClearanceCondition.RECENT_INJURY_OR_SURGERY: ("recent_injury_or_surgery", bool),
    }
    if not any(key in answers for key, _rule in derived.values()):
        return answers
    conditions = list(answers.get("conditions_needing_clearance", []))
    for code, (key, applies) in derived.items():
        if key not in answers:
            continue
        conditions = [c for c in conditions if c != code]
        if applies(answers[key]):
            conditions.append(code)
    # In the list's own order, as the record's field shows them.
    return answers | {"conditions_needing_clearance": [c for c in ClearanceCondition.values if c in conditions]}


def _ensure_open(intake: Intake) -> None:
    intake.client.ensure_editable()
    if intake.status != IntakeStatus.IN_PROGRESS:
        raise ValidationError("This intake has been sent already; it cannot be changed.", code="submitted")


# The shape of each answer -----------------------------------------------------------------------------------


def _choice(values: list[str]):
    def check(value: Any) -> Any:
        if value not in values:
            raise ValueError
        return value

    return check


def _choices(values: list[str]):
    def check(value: Any) -> list[str]:
        if not isinstance(value, list) or any(item not in values for item in value):
            raise ValueError
        return list(dict.fromkeys(value))

    return check


def _year(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError
    if not MIN_DIAGNOSIS_YEAR <= value <= timezone.localdate().year:
        raise ValueError
    return value


def _yes_no(value: Any) -> bool | None:
    if value is not None and not isinstance(value, bool):
        raise ValueError
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or len(value) > TEXT_MAX_LENGTH:
        raise ValueError
    return value.strip()


def _contact(parts: tuple[str, ...]):
    def check(value: Any) -> dict[str, str]:
        if not isinstance(value, dict) or set(value) - set(parts):
            raise ValueError
        if any(not isinstance(v, str) or len(v) > CONTACT_PART_MAX_LENGTH for v in value.values()):
            raise ValueError
        return {part: value.get(part, "").strip() for part in parts}

    return check


REGIONS = _choices(BodyRegion.values)
ANSWER_SHAPES = {
    "ms_type": _choice(MSType.values),
    "diagnosis_year": _year,
    "heat_sensitive": _yes_no,
    "cold_sensitive": _yes_no,
    "conditions_needing_clearance": _choices(ClearanceCondition.values),
    "reduced_sensation_regions": REGIONS,
    "pressure_sore_regions": REGIONS,
    "goals": _choices(Goal.values),
    "new_or_worse_symptoms_30_days": _yes_no,
    "medications": _text,
    "recent_injury_or_surgery": _text,
    "pregnant": _yes_no,
    "neurologist_contact": _contact(("name", "phone")),
    "emergency_contact": _contact(("name", "relationship", "phone")),
}
assert set(ANSWER_SHAPES) == set(INTAKE_FIELDS)  # noqa: S101 - a field without a shape is a programming error
# Questions answered yes, no or "I'm not sure" (stored as None): the review shows None for these as "Not sure".
YES_NO_FIELDS = frozenset(field for field, shape in ANSWER_SHAPES.items() if shape is _yes_no)


def clean_answers(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers in their stored shape; ValidationError naming any unknown key or malformed answer."""
    cleaned, errors = {}, {}
    for key, value in answers.items():
        shape = ANSWER_SHAPES.get(key)
        if shape is None:
            errors[key] = "This is not a question of the intake."
            continue
        try:
            cleaned[key] = shape(value)
        except ValueError:
            errors[key] = "This answer is not one the question offers."
    if errors:
        raise ValidationError(errors, code="invalid_answer")
    return cleaned


# Consents ---------------------------------------------------------------------------------------------------


def consent_agree(*, client: Client, kind: str, typed_name: str, recorded_by: User | None) -> Consent:
    """Agree to the current version of ``kind`` by typing one's name.

    Agreeing again to a version already agreed to (and not withdrawn) returns that consent: a double submit
    makes one record.
    """
    client.ensure_editable()
    text = ConsentText.objects.current(kind)
    if text is None:
        raise ValidationError("The practice has not written this consent yet.", code="no_text")
    name = _typed_name(typed_name)
    with transaction.atomic():
        Client.objects.select_for_update().filter(pk=client.pk).first()
        existing = Consent.objects.for_client(client).not_withdrawn().filter(consent_text=text).first()
        if existing is not None:
            return existing
        consent = Consent(client=client, consent_text=text, typed_name=name, recorded_by=recorded_by)
        consent.full_clean()
        consent.save()
    return consent


def consent_withdraw(
    *, consent: Consent, typed_name: str, recorded_by: User | None, from_portal: bool = True
) -> ConsentWithdrawal:
    """Withdraw a consent by typing one's name. From the portal only the data-use consent can be withdrawn."""
    if from_portal and consent.consent_text.kind not in WITHDRAWABLE_IN_PORTAL:
        raise ValidationError(
            "Consent to treatment is withdrawn by telling your therapist or the practice.", code="not_withdrawable"
        )
    withdrawal = ConsentWithdrawal(consent=consent, typed_name=_typed_name(typed_name), recorded_by=recorded_by)
    try:
        with transaction.atomic():
            withdrawal.save()
    except IntegrityError:
        raise ValidationError("This consent has been withdrawn already.", code="withdrawn") from None
    return withdrawal


def consent_text_add(*, kind: str, text: str, created_by: User | None) -> ConsentText:
    """A new version of a consent's wording (the admin's way in): it becomes the current one."""
    if not text.strip():
        raise ValidationError({"text": "Write the consent's text."}, code="blank")
    with transaction.atomic():
        latest = ConsentText.objects.select_for_update().of_kind(kind).order_by("-version").first()
        version = latest.version + 1 if latest else 1
        consent_text = ConsentText(kind=kind, version=version, text=text.strip(), created_by=created_by)
        consent_text.full_clean()
        consent_text.save()
    return consent_text


def _typed_name(typed_name: str) -> str:
    name = " ".join(typed_name.split())
    if len(name) < 2:
        raise ValidationError({"typed_name": "Type your full name to agree."}, code="blank_name")
    return name
