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

from clients.body_regions import BodyRegion
from clients.models import Client
from practice import audit
from practice.models import AuditAction, AuditEvent
from practice.roles import is_owner, is_staff_member
from practice.serialization import jsonable
from sessions.corrections import CorrectedSession, CorrectedUse, corrected
from sessions.models import (
    AFTER_SCORE_FIELDS,
    AMENDABLE_FIELDS,
    DRAFT_FIELDS,
    MAX_TECHNIQUE_USES,
    OVERRIDE_REASON,
    TECHNIQUE_USES,
    Pressure,
    SessionAmendment,
    SessionFormToken,
    SessionStatus,
    Technique,
    TechniqueUse,
    TreatmentSession,
    check_session_start,
)
from sessions.safety import Finding, PlannedUse, Severity, has_stop
from sessions.screening import (
    consent_to_treatment_missing,
    override_reason_problem,
    screen_planned_session,
)
from sessions.signals import signed_sessions_changed

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
    return _consent_refusal(client, "no session can be saved")


def edit_refusal(*, session: TreatmentSession, user: User) -> str | None:
    """Why ``user`` may not edit this draft now, or None: its author and owners may, with a current consent."""
    if refusal := _archived_refusal(session.client):
        return refusal
    if not (_is_author(session, user) or is_owner(user)):
        return (
            f"Only {_author_name(session)}, who wrote this draft, can edit or sign it. You can read it here and, "
            "once it is signed, record a correction as an amendment."
        )
    # A draft begun before a new consent version, or before a consent was withdrawn, is held to the same rule.
    return _consent_refusal(session.client, "this draft cannot be edited")


def sign_refusal(*, session: TreatmentSession, user: User) -> str | None:
    """Why ``user`` may not sign this session now, or None: a note is signed by its author, and nobody else."""
    if refusal := _archived_refusal(session.client):
        return refusal
    if not _is_author(session, user):
        return f"Only {_author_name(session)}, who wrote this note, can sign it."
    return _consent_refusal(session.client, "this draft cannot be signed")


def _consent_refusal(client: Client, refused: str) -> str | None:
    """Without a current consent to treatment nothing is saved for the client: not a safety stop to override."""
    if not consent_to_treatment_missing(client):
        return None
    return (
        f"{client.full_name} has not consented to treatment (the current version): {refused} until they do. "
        "Ask them to agree in the portal, or have the owner record a paper consent; the record shows how."
    )


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
    findings: Iterable[Finding] = (),
    user: User | None = None,
) -> TreatmentSession:
    """Log a new session as a draft, with its technique rows. ``values``: any of ``DRAFT_FIELDS``.

    ``findings`` is the safety screen the caller ran on what it saves: each stop among them needs a real override
    reason in ``values`` and is recorded as a SAFETY_OVERRIDE audit event by ``user`` (default: the therapist).

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
    findings = list(findings)
    _check_override(session, findings)
    try:
        with transaction.atomic():
            session.save()
            _add_uses(session, uses)
            if form_token is not None:
                SessionFormToken.objects.create(token=form_token, session=session)
            record_overrides(session, findings, user or therapist)
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
    findings: Iterable[Finding] = (),
) -> TreatmentSession:
    """``user`` saves an edited draft, and replaces its technique rows with ``uses`` (None keeps them).

    ``findings``: the safety screen of the draft as saved, as for ``session_create``.

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
    findings = list(findings)
    _check_override(edited, findings)
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
        record_overrides(edited, findings, user)
    return _as_written(edited)


def session_sign(*, session: TreatmentSession, user: User) -> TreatmentSession:
    """Lock a draft session: its author signs it (``sign_refusal()``). After-scores must be recorded first."""
    _refuse(sign_refusal(session=session, user=user))
    if session.is_signed:
        raise ValidationError("This session is already signed.")
    try:
        # A draft saved before dates ahead of the clock were refused is not signed until it has happened.
        check_session_start(session.started_at)
    except ValidationError as error:
        raise ValidationError(
            f"{error.message_dict['started_at'][0]} Correct the date and time (edit the draft), then sign it.",
            code="future",
        ) from None
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
        if updated:
            signed_sessions_changed.send(sender=TreatmentSession, client_id=session.client_id)
    if not updated:
        raise ValidationError("Someone else changed or signed this session; reload it and try again.", code="conflict")
    session.refresh_from_db()
    return session


def session_amend(
    *,
    session: TreatmentSession,
    author: User,
    reason: str,
    changes: Mapping[str, Any],
    uses: Iterable[PlannedUse] | None = None,
    safety_override_reason: str | None = None,
) -> SessionAmendment:
    """Record a correction to a signed session, leaving the signed original intact.

    The signed row itself never changes (nor its version): the amendment is a row of its own. ``changes``: new
    values of AMENDABLE_FIELDS (``started_at`` too); ``uses``: the corrected technique rows, all of them (None
    keeps them as they stand). A correction of what the safety screen reads (date, rows, room temperature, pain
    before) is screened like a new plan: a stop takes a real ``safety_override_reason`` (kept in the amendment
    when it differs from the one the session stands with), recorded as SAFETY_OVERRIDE audit events by ``author``.
    """
    _refuse(amend_refusal(session=session, user=author))
    if not session.is_signed:
        raise ValidationError("Drafts are edited directly; only signed sessions are amended.")
    unknown = sorted(set(changes) - set(AMENDABLE_FIELDS))
    if unknown:
        raise ValidationError(f"These fields cannot be amended: {', '.join(unknown)}.")
    if not changes and uses is None:
        raise ValidationError("An amendment must change at least one field.")
    current = corrected(session)
    recorded: dict[str, Any] = {}
    for name, value in changes.items():
        field = TreatmentSession._meta.get_field(name)
        assert isinstance(field, models.Field)  # amendable fields are the session's own columns
        cleaned = field.clean(value, session)
        if name in AFTER_SCORE_FIELDS and cleaned is None:
            raise ValidationError({name: "A signed session keeps its after-scores."})
        if name == "started_at":
            check_session_start(cleaned)
        recorded[name] = {"from": jsonable(getattr(current, name)), "to": jsonable(cleaned)}
    planned = None if uses is None else _checked_amended_uses(uses)
    if planned is not None:
        rows = [CorrectedUse(use.technique.pk, use.technique.name, use.body_region, use.pressure) for use in planned]
        if rows != current.uses:
            recorded[TECHNIQUE_USES] = {
                "from": [u.as_stored() for u in current.uses],
                "to": [u.as_stored() for u in rows],
            }
    if not recorded:
        raise ValidationError("An amendment must change at least one field.")
    findings = _screen_amended(current, recorded, planned)
    if has_stop(findings):
        override = (safety_override_reason if safety_override_reason is not None else "").strip()
        if not override:
            message = "A safety stop applies to the corrected session. Change it, or write why it went ahead anyway."
            raise ValidationError({OVERRIDE_REASON: ValidationError(message, code="override_missing")})
        if problem := override_reason_problem(override):
            raise ValidationError({OVERRIDE_REASON: ValidationError(problem, code="override_reason")})
        if override != current.safety_override_reason:
            recorded[OVERRIDE_REASON] = {"from": current.safety_override_reason, "to": override}
    amendment = SessionAmendment(session=session, author=author, reason=reason, changes=recorded)
    amendment.full_clean()
    with transaction.atomic():
        amendment.save()
        record_overrides(session, findings, author)
        signed_sessions_changed.send(sender=TreatmentSession, client_id=session.client_id)
    return amendment


def _checked_amended_uses(uses: Iterable[PlannedUse]) -> list[PlannedUse]:
    """Corrected technique rows hold what a session's rows may hold (the form says so first, on each row)."""
    rows = _checked_uses(uses)
    if not rows:
        raise ValidationError("Keep at least one technique with the body region it was used on.", code="no_rows")
    seen = set()
    for use in rows:
        if use.body_region not in BodyRegion.values:
            raise ValidationError("Choose a body region from the list.", code="invalid_region")
        if use.pressure not in Pressure.values:
            raise ValidationError("Choose a pressure from the list.", code="invalid_pressure")
        key = (use.technique.pk, use.body_region)
        if key in seen:
            raise ValidationError(f"{use.technique.name} is listed twice on the same body region.", code="duplicate")
        seen.add(key)
    return rows


# A correction of any of these re-runs the safety screen on the session as corrected.
_SCREENED = frozenset({"started_at", TECHNIQUE_USES, "room_temperature_c", "pain_before"})


def _screen_amended(
    current: CorrectedSession, recorded: Mapping[str, Any], planned: list[PlannedUse] | None
) -> list[Finding]:
    """The safety screen of the session as it will stand, when the correction changes what the screen reads."""
    if not _SCREENED & set(recorded):
        return []
    if planned is None:
        techniques = Technique.objects.in_bulk([use.technique_id for use in current.uses])
        planned = [PlannedUse(techniques[u.technique_id], u.body_region, u.pressure) for u in current.uses]

    def value(name: str) -> Any:
        return getattr(current, name) if name not in recorded else recorded[name]["to"]

    when = recorded["started_at"]["to"] if "started_at" in recorded else current.started_at
    return screen_planned_session(
        client=current.session.client,
        when=models.DateTimeField().to_python(when),
        uses=planned,
        room_temperature_c=models.DecimalField(max_digits=3, decimal_places=1).to_python(value("room_temperature_c")),
        pain_before=value("pain_before"),
    )


def record_overrides(session: TreatmentSession, findings: Iterable[Finding], user: User) -> list[AuditEvent]:
    """Record each stop among ``findings`` that ``session`` was saved over, as its own SAFETY_OVERRIDE audit event.

    Call it inside the transaction that writes the session (create, update, an amendment that re-screens), after
    checking the reason (``sessions.screening.override_reason_problem``). The event names the finding's code as its
    ``object_type`` ("acute_flare") and the session as its ``object_id``: codes and ids only, never health text.
    """
    return [
        audit.record(
            None,
            AuditAction.SAFETY_OVERRIDE,
            object_type=finding.code,
            object_id=session.pk,
            client_id=session.client_id,
            actor=user,
        )
        for finding in findings
        if finding.severity == Severity.STOP
    ]


def amended_values(session: TreatmentSession) -> dict[str, Any]:
    """The session's amendable fields as they stand after every amendment (``sessions.corrections``)."""
    c = corrected(session)
    return {name: getattr(c, name) for name in AMENDABLE_FIELDS}


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


def _check_override(session: TreatmentSession, findings: list[Finding]) -> None:
    """Saving over a stop in ``findings`` takes a real reason (the forms say so first, on the field)."""
    if not any(finding.severity == Severity.STOP for finding in findings):
        return
    reason = session.safety_override_reason
    if not reason.strip():
        message = "A safety stop applies. Change the plan, or write why you are going ahead anyway."
        raise ValidationError({"safety_override_reason": ValidationError(message, code="override_missing")})
    if problem := override_reason_problem(reason):
        raise ValidationError({"safety_override_reason": ValidationError(problem, code="override_reason")})


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
