"""Writes that change a treatment session's state: sign and amend."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from practice.serialization import jsonable
from sessions.models import AMENDABLE_FIELDS, SessionAmendment, SessionStatus, TreatmentSession, apply_amendments


def session_sign(*, session: TreatmentSession, user) -> TreatmentSession:
    """Lock a draft session. After-scores must be recorded first."""
    if session.is_signed:
        raise ValidationError("This session is already signed.")
    missing = session.missing_for_signing()
    if missing:
        raise ValidationError(
            {field: "Record this score before signing." for field in missing},
        )
    now = timezone.now()
    with transaction.atomic():
        # Conditional update: a concurrent edit or sign makes this match nothing.
        updated = TreatmentSession.objects.filter(
            pk=session.pk, status=SessionStatus.DRAFT, version=session.version
        ).update(status=SessionStatus.SIGNED, signed_at=now, signed_by=user, version=session.version + 1)
    if not updated:
        raise ValidationError("Someone else changed or signed this session; reload it and try again.", code="conflict")
    session.refresh_from_db()
    return session


def session_amend(*, session: TreatmentSession, author, reason: str, changes: dict[str, Any]) -> SessionAmendment:
    """Record a correction to a signed session, leaving the signed original intact."""
    if not session.is_signed:
        raise ValidationError("Drafts are edited directly; only signed sessions are amended.")
    unknown = sorted(set(changes) - set(AMENDABLE_FIELDS))
    if unknown:
        raise ValidationError(f"These fields cannot be amended: {', '.join(unknown)}.")
    if not changes:
        raise ValidationError("An amendment must change at least one field.")
    current = amended_values(session)
    recorded = {}
    for name, value in changes.items():
        field = TreatmentSession._meta.get_field(name)
        cleaned = field.clean(value, session)
        if name in ("pain_after", "fatigue_after") and cleaned is None:
            raise ValidationError({name: "A signed session keeps its after-scores."})
        recorded[name] = {"from": jsonable(current[name]), "to": jsonable(cleaned)}
    amendment = SessionAmendment(session=session, author=author, reason=reason, changes=recorded)
    amendment.full_clean()
    amendment.save()
    return amendment


def amended_values(session: TreatmentSession) -> dict[str, Any]:
    """The session's amendable fields as they stand after every amendment, oldest first."""
    values = {name: getattr(session, name) for name in AMENDABLE_FIELDS}
    changes = session.amendments.order_by("created_at", "pk").values_list("changes", flat=True)
    return apply_amendments(values, changes)[0]
