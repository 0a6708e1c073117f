"""Every write of a treatment session: create, update (a draft), sign and amend.

The therapist's pages and the admin both write through these. Each is one transaction; each write of
the session row bumps ``version``, so that a form opened before it is stale and its save is refused
(``EditConflict`` for an edit, a "conflict" ValidationError for a signature). A draft's technique rows
are replaced with the rows given, in the same transaction. An amendment is a row of its own: the signed
session row never changes.

Updates and signatures are conditional ``update()`` statements that go around ``save()``: a caller that
knows who acted makes them inside ``practice.history.history_recorded_by_app()`` and then calls
``practice.models.record_history()`` (see ``sessions.views``).
"""

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from clients.models import Client
from practice.serialization import jsonable
from sessions.models import (
    AFTER_SCORE_FIELDS,
    AMENDABLE_FIELDS,
    DRAFT_FIELDS,
    SessionAmendment,
    SessionStatus,
    TechniqueUse,
    TreatmentSession,
    apply_amendments,
)
from sessions.safety import PlannedUse

# What an edit of a draft may change: its fields, and (in the admin) whose session it is.
UPDATABLE_FIELDS = frozenset({"client", "therapist", *DRAFT_FIELDS})


class EditConflict(Exception):
    """The draft changed (or was signed) since the form was opened."""


def session_create(
    *, client: Client, therapist: User, values: Mapping[str, Any], uses: Iterable[PlannedUse]
) -> TreatmentSession:
    """Log a new session as a draft, with its technique rows. ``values``: any of ``DRAFT_FIELDS``."""
    session = TreatmentSession(client=client, therapist=therapist, **_checked(values, DRAFT_FIELDS))
    _validate(session)
    with transaction.atomic():
        session.save()
        _add_uses(session, uses)
    return session


def session_update(
    *, session: TreatmentSession, version: int, values: Mapping[str, Any], uses: Iterable[PlannedUse] | None
) -> TreatmentSession:
    """Save an edited draft, and replace its technique rows with ``uses`` (None keeps them as they are).

    Only if it is still the draft at ``version``, the one the form was opened at; else EditConflict, and
    nothing changes. Returns the session as written.
    """
    values = _checked(values, UPDATABLE_FIELDS)
    edited = copy.copy(session)
    for name, value in values.items():
        setattr(edited, name, value)
    _validate(edited)
    edited.version, edited.updated_at = version + 1, timezone.now()
    with transaction.atomic():
        # The version check and the write are one statement, so two saves cannot both win.
        updated = TreatmentSession.objects.filter(pk=session.pk, version=version, status=SessionStatus.DRAFT).update(
            **values, version=edited.version, updated_at=edited.updated_at
        )
        if not updated:
            raise EditConflict
        if uses is not None:
            session.technique_uses.all().delete()
            _add_uses(session, uses)
    return _as_written(edited)


def session_sign(*, session: TreatmentSession, user: User) -> TreatmentSession:
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


def session_amend(
    *, session: TreatmentSession, author: User, reason: str, changes: Mapping[str, Any]
) -> SessionAmendment:
    """Record a correction to a signed session, leaving the signed original intact.

    The signed row itself never changes (nor its version): the amendment is a row of its own.
    """
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
        if name in AFTER_SCORE_FIELDS and cleaned is None:
            raise ValidationError({name: "A signed session keeps its after-scores."})
        recorded[name] = {"from": jsonable(current[name]), "to": jsonable(cleaned)}
    amendment = SessionAmendment(session=session, author=author, reason=reason, changes=recorded)
    amendment.full_clean()
    with transaction.atomic():
        amendment.save()
    return amendment


def amended_values(session: TreatmentSession) -> dict[str, Any]:
    """The session's amendable fields as they stand after every amendment, oldest first."""
    values = {name: getattr(session, name) for name in AMENDABLE_FIELDS}
    changes = session.amendments.order_by("created_at", "pk").values_list("changes", flat=True)
    return apply_amendments(values, changes)[0]


def _checked(values: Mapping[str, Any], allowed: Iterable[str]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(allowed))
    if unknown:
        raise ValueError(f"These fields are not written this way: {', '.join(unknown)}.")
    return dict(values)


def _validate(session: TreatmentSession) -> None:
    """The model's own checks, without a query: the forms checked the people and the database the constraints."""
    session.full_clean(exclude=["client", "therapist", "signed_by"], validate_unique=False, validate_constraints=False)


def _as_written(session: TreatmentSession) -> TreatmentSession:
    """A fresh instance with the row's values, without the annotations of the one it was loaded as."""
    fields = TreatmentSession._meta.concrete_fields
    return TreatmentSession.from_db(
        session._state.db, [f.attname for f in fields], [getattr(session, f.attname) for f in fields]
    )


def _add_uses(session: TreatmentSession, uses: Iterable[PlannedUse]) -> None:
    TechniqueUse.objects.bulk_create(
        TechniqueUse(session=session, technique=use.technique, body_region=use.body_region, pressure=use.pressure)
        for use in uses
    )
