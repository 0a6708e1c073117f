"""Guards that keep signed sessions and their amendments as they were signed. Connected in the app's ready().

On PostgreSQL, triggers (migration practice 0003) enforce the same rules for SQL that bypasses the ORM.
"""

from typing import Any

from django.db.models.signals import pre_delete, pre_save
from django.dispatch import Signal

from practice.records import never_delete
from sessions.models import SessionAmendment, SessionStatus, SignedSessionLockedError, TechniqueUse, TreatmentSession

# Sent with ``client_id`` by sessions.services after a session of that client is signed or amended, inside the
# same transaction: apps that keep figures derived from signed sessions (outcomes) listen without this app
# importing them.
signed_sessions_changed = Signal()


def refuse_signed_technique_delete(sender: type[TechniqueUse], instance: TechniqueUse, **kwargs: Any) -> None:
    if _session_is_signed(instance):
        raise SignedSessionLockedError("This session is signed; its techniques cannot be removed.")


def lock_signed_technique_uses(
    sender: type[TechniqueUse], instance: TechniqueUse, raw: bool = False, **kwargs: Any
) -> None:
    # Adding, changing or moving a technique row of a signed session would alter the signed note.
    # A session is signed with its techniques already in place (sessions.services.session_sign).
    if raw:
        return
    if _session_is_signed(instance) or (not instance._state.adding and _stored_session_is_signed(instance)):
        raise SignedSessionLockedError("This session is signed; record a correction as an amendment.")


def lock_amendments(
    sender: type[SessionAmendment], instance: SessionAmendment, raw: bool = False, **kwargs: Any
) -> None:
    if not raw and not instance._state.adding:
        raise SignedSessionLockedError("An amendment cannot be changed; record another amendment.")


def _session_is_signed(use: TechniqueUse) -> bool:
    # Rows loaded through session.technique_uses carry their session already: no query then.
    if TechniqueUse.session.is_cached(use):
        return use.session.status == SessionStatus.SIGNED
    return TreatmentSession.objects.filter(pk=use.session_id, status=SessionStatus.SIGNED).exists()


def _stored_session_is_signed(use: TechniqueUse) -> bool:
    """Whether the row as stored belongs to a signed session (it may be moving to another one)."""
    return TechniqueUse.objects.filter(pk=use.pk, session__status=SessionStatus.SIGNED).exists()


def connect() -> None:
    never_delete(TreatmentSession, SessionAmendment)
    pre_delete.connect(refuse_signed_technique_delete, sender=TechniqueUse, dispatch_uid="sessions_refuse_delete_use")
    pre_save.connect(lock_signed_technique_uses, sender=TechniqueUse, dispatch_uid="sessions_lock_signed_uses")
    pre_save.connect(lock_amendments, sender=SessionAmendment, dispatch_uid="sessions_lock_amendments")
