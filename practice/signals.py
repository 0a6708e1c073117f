"""Sign-in events for the audit trail, and guards that keep clinical records from being deleted or altered.

Connected in PracticeConfig.ready(). On PostgreSQL, triggers (migration practice 0003) enforce the same
rules for SQL that bypasses the ORM.
"""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import pre_delete, pre_save
from django.dispatch import receiver

from clients.models import Client, ClinicalRecordDeletionError, DiseasePhase, SelfReport
from practice import audit
from practice.middleware import start_session_clock
from practice.security import remember_two_factor_device
from sessions.models import SessionAmendment, SessionStatus, SignedSessionLockedError, TechniqueUse, TreatmentSession

CLINICAL_MODELS = (Client, DiseasePhase, SelfReport, TreatmentSession, SessionAmendment)


@receiver(user_logged_in, dispatch_uid="practice_audit_login")
def on_login(sender, request, user, **kwargs) -> None:
    if request is None:
        return
    audit.record(request, audit.LOGIN, actor=user)
    if hasattr(request, "session"):
        start_session_clock(request)
        remember_two_factor_device(request, user)


@receiver(user_logged_out, dispatch_uid="practice_audit_logout")
def on_logout(sender, request, user, **kwargs) -> None:
    if request is not None and user is not None:
        audit.record(request, audit.LOGOUT, actor=user)


@receiver(user_login_failed, dispatch_uid="practice_audit_login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # Only the name that was typed: never the password, and never a link to an account,
    # since the name may belong to nobody (or be a password typed in the wrong box).
    username = str(credentials.get("username", ""))
    # django-axes flags attempts that end on the lockout page: the one that reaches the limit and
    # any made while locked out. Those are "denied"; other wrong passwords "failed".
    locked_out = bool(getattr(request, "axes_locked_out", False))
    audit.record(
        request,
        audit.LOGIN_FAILED,
        username=username,
        outcome=audit.DENIED if locked_out else audit.FAILED,
    )


# Deletions through the ORM that do not call Model.delete() (querysets, cascades) still send pre_delete.
def refuse_clinical_delete(sender, instance, **kwargs) -> None:
    raise ClinicalRecordDeletionError(f"{sender._meta.verbose_name.capitalize()} records are never deleted.")


def refuse_signed_technique_delete(sender, instance: TechniqueUse, **kwargs) -> None:
    if _session_is_signed(instance):
        raise SignedSessionLockedError("This session is signed; its techniques cannot be removed.")


@receiver(pre_save, sender=TechniqueUse, dispatch_uid="practice_lock_signed_technique_uses")
def lock_signed_technique_uses(sender, instance: TechniqueUse, raw=False, **kwargs) -> None:
    # Changing a technique row of a signed session would alter the signed note. New rows are
    # not refused here: a signed session is created with its techniques by the demo and the tests.
    if not raw and not instance._state.adding and _session_is_signed(instance):
        raise SignedSessionLockedError("This session is signed; record a correction as an amendment.")


@receiver(pre_save, sender=SessionAmendment, dispatch_uid="practice_lock_amendments")
def lock_amendments(sender, instance: SessionAmendment, raw=False, **kwargs) -> None:
    if not raw and not instance._state.adding:
        raise SignedSessionLockedError("An amendment cannot be changed; record another amendment.")


for _model in CLINICAL_MODELS:
    pre_delete.connect(refuse_clinical_delete, sender=_model, dispatch_uid=f"practice_refuse_delete_{_model.__name__}")
pre_delete.connect(refuse_signed_technique_delete, sender=TechniqueUse, dispatch_uid="practice_refuse_delete_use")


def _session_is_signed(use: TechniqueUse) -> bool:
    # Rows loaded through session.technique_uses carry their session already: no query then.
    if TechniqueUse.session.is_cached(use):
        return use.session.status == SessionStatus.SIGNED
    return TreatmentSession.objects.filter(pk=use.session_id, status=SessionStatus.SIGNED).exists()
