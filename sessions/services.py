"""Every write of a treatment session: create, update (a draft), sign and amend.

The therapist's pages and the admin both write through these. Each is one transaction; each write of
the session row bumps ``version``, so that a form opened before it is stale and its save is refused
(``EditConflict`` for an edit, a "conflict" ValidationError for a signature). A draft's technique rows
are replaced with the rows given, in the same transaction. An amendment is a row of its own: the signed
session row never changes.

Updates and signatures are conditional ``update()`` statements that go around ``save()``: a caller that
knows who acted makes them inside ``practice.history.history_recorded_by_app()`` and then calls
``practice.models.record_history()`` (see ``sessions.views``).

Who may write what is decided here, for the therapist's pages and the admin alike (``*_refusal()`` say why
not, in words; the writes raise ``SessionWriteRefused`` with that message):

- an archived client's record is read-only until an owner restores them: no new session, edit, signature
  or amendment (``clients.models.Client.ensure_editable``);
- a draft is edited by its author, the session's therapist, or by an owner (who keeps the records in order,
  in the admin); it is signed by its author alone, owners included: nobody signs a note for someone else;
- a signed session is corrected by amendment by anyone who cares for the client (the pages fetch the session
  scoped to them: ``sessions.selectors.session_for_user``).
"""

import copy
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from clients.models import Client
from practice.roles import is_owner, is_staff_member
from practice.serialization import jsonable
from sessions.models import (
    AFTER_SCORE_FIELDS,
    AMENDABLE_FIELDS,
    DRAFT_FIELDS,
    MAX_TECHNIQUE_USES,
    SessionAmendment,
    SessionFormToken,
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


class SessionWriteRefused(ValidationError):
    """This person may not make this change now: the client is archived, or the draft is not theirs.

    They may still read the session, so pages answer with the message (and audit the refusal as denied)
    rather than a 404.
    """


def create_refusal(*, client: Client) -> str | None:
    """Why no session may be logged for ``client`` now, or None."""
    if _archived_refusal(client):
        return f"{client.full_name} is archived: no new sessions can be logged for them until an owner restores them."
    return None


def edit_refusal(*, session: TreatmentSession, user: User) -> str | None:
    """Why ``user`` may not edit this draft now, or None: its author and owners may."""
    if refusal := _archived_refusal(session.client):
        return refusal
    if _is_author(session, user) or is_owner(user):
        return None
    return (
        f"Only {_author_name(session)}, who wrote this draft, can edit or sign it. You can read it here and, "
        "once it is signed, record a correction as an amendment."
    )


def sign_refusal(*, session: TreatmentSession, user: User) -> str | None:
    """Why ``user`` may not sign this session now, or None: a note is signed by its author, and nobody else."""
    if refusal := _archived_refusal(session.client):
        return refusal
    if _is_author(session, user):
        return None
    return f"Only {_author_name(session)}, who wrote this note, can sign it."


def amend_refusal(*, session: TreatmentSession, user: User) -> str | None:
    """Why ``user`` may not amend this session now, or None: whoever cares for the client may, unless archived."""
    return _archived_refusal(session.client)


def session_create(
    *,
    client: Client,
    therapist: User,
    values: Mapping[str, Any],
    uses: Iterable[PlannedUse],
    form_token: uuid.UUID | None = None,
) -> TreatmentSession:
    """Log a new session as a draft, with its technique rows. ``values``: any of ``DRAFT_FIELDS``.

    ``form_token`` is the one-time token of the form the session was typed into. When that form was sent
    before (a double tap, a retry after a lost answer), nothing is written: the session its first sending
    saved is returned, with ``resubmitted`` set. The database decides which sending was first
    (``SessionFormToken``), so this holds for requests that arrive together, on any number of app servers.
    """
    _refuse(create_refusal(client=client))
    _check_therapist(therapist)
    uses = _checked_uses(uses)
    if form_token is not None and (saved := _saved_from_form(form_token, client, therapist)) is not None:
        return saved
    session = TreatmentSession(client=client, therapist=therapist, **_checked(values, DRAFT_FIELDS))
    _validate(session)
    try:
        with transaction.atomic():
            session.save()
            _add_uses(session, uses)
            if form_token is not None:
                SessionFormToken.objects.create(token=form_token, session=session)
    except IntegrityError:
        # Sent again while the first sending was being saved: the token's insert waited for that transaction
        # and failed once it committed (this transaction is rolled back). Return what the first one saved.
        saved = _saved_from_form(form_token, client, therapist) if form_token is not None else None
        if saved is None:
            raise
        return saved
    return session


def session_update(
    *,
    session: TreatmentSession,
    version: int,
    values: Mapping[str, Any],
    uses: Iterable[PlannedUse] | None,
    user: User,
) -> TreatmentSession:
    """``user`` saves an edited draft, and replaces its technique rows with ``uses`` (None keeps them).

    Only if it is still the draft at ``version``, the one the form was opened at; else EditConflict, and
    nothing changes. Returns the session as written. SessionWriteRefused when ``edit_refusal()`` says so.
    """
    _refuse(edit_refusal(session=session, user=user))
    values = _checked(values, UPDATABLE_FIELDS)
    if "client" in values:
        _refuse(create_refusal(client=values["client"]))
    if "therapist" in values:
        _check_therapist(values["therapist"])
    if uses is not None:
        uses = _checked_uses(uses)
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
    """Lock a draft session: its author signs it (``sign_refusal()``). After-scores must be recorded first."""
    _refuse(sign_refusal(session=session, user=user))
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
    _refuse(amend_refusal(session=session, user=author))
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
        assert isinstance(field, models.Field)  # amendable fields are the session's own columns
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


def _refuse(refusal: str | None) -> None:
    if refusal is not None:
        raise SessionWriteRefused(refusal, code="refused")


def _archived_refusal(client: Client) -> str | None:
    try:
        client.ensure_editable()
    except ValidationError as error:
        return error.messages[0]
    return None


def _is_author(session: TreatmentSession, user: User) -> bool:
    return session.therapist_id == user.pk


def _author_name(session: TreatmentSession) -> str:
    return session.therapist.get_full_name() or session.therapist.get_username()


def _check_therapist(therapist: User) -> None:
    """A session's therapist is someone who treats clients, never a portal client's or a deactivated account.

    The admin offers only active therapists (``sessions.selectors.session_therapists``); an owner may also
    log a session in their own name from the therapist's pages.
    """
    if not is_staff_member(therapist):
        message = "Choose one of the practice's active therapists."
        raise ValidationError({"therapist": ValidationError(message, code="not_a_therapist")})


def _checked_uses(uses: Iterable[PlannedUse]) -> list[PlannedUse]:
    uses = list(uses)
    if len(uses) > MAX_TECHNIQUE_USES:
        message = f"A session holds at most {MAX_TECHNIQUE_USES} technique rows."
        raise ValidationError(message, code="too_many_rows")
    return uses


def _saved_from_form(token: uuid.UUID, client: Client, therapist: User) -> TreatmentSession | None:
    """The session already saved from the form with this token, or None."""
    saved = TreatmentSession.objects.filter(form_token__token=token).order_by().first()
    if saved is None:
        return None
    if (saved.client_id, saved.therapist_id) != (client.pk, therapist.pk):
        # Tokens are random and each form has its own: only a forged request gets here.
        raise ValidationError("This form was already used. Open a new form to log the session.", code="form_used")
    saved.resubmitted = True
    return saved


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
