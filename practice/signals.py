"""Sign-in events for the audit trail. Connected in PracticeConfig.ready()."""

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from practice import audit
from practice.middleware import start_session_clock
from practice.security import remember_two_factor_device


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
    locked_out = bool(getattr(request, "axes_locked_out", False) or getattr(request, "practice_sign_in_wait", 0))
    audit.record(
        request,
        audit.LOGIN_FAILED,
        username=username,
        outcome=audit.DENIED if locked_out else audit.FAILED,
    )
