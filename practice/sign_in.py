"""Slowing down the guessing of one account's password from many addresses.

django-axes locks a username *and address* pair after five failures, so nobody can lock a therapist
out from somewhere else. Guessing spread over many addresses gets past that; so, once a username has
had ``PRACTICE_SIGN_IN_CEILING`` failed password checks in the last ``AXES_COOLOFF_TIME`` from any
addresses, its password is checked at most once per ``PRACTICE_SIGN_IN_COOLDOWN`` seconds. Attempts in
between are refused without looking at the password, say how long to wait, and are recorded as denied.
Counting goes by the name as typed (any case), so it tells nothing about which accounts exist.
"""

import datetime as dt
import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db.models import Count, Max
from django.http import HttpRequest
from django.utils import timezone

from practice.models import AuditAction, AuditEvent, AuditOutcome


def cooldown_remaining(username: str, *, now: dt.datetime | None = None) -> int:
    """Seconds before ``username``'s password may be checked again (0: now)."""
    now = now or timezone.now()
    checked = AuditEvent.objects.filter(
        actor_username__iexact=username,
        action=AuditAction.LOGIN_FAILED,
        outcome=AuditOutcome.FAILED,
        time__gte=now - settings.AXES_COOLOFF_TIME,
    ).aggregate(failures=Count("pk"), last=Max("time"))
    if checked["failures"] < settings.PRACTICE_SIGN_IN_CEILING:
        return 0
    wait = checked["last"] + dt.timedelta(seconds=settings.PRACTICE_SIGN_IN_COOLDOWN) - now
    return max(0, math.ceil(wait.total_seconds()))


class SpreadGuessingBackend:
    """Refuses, before any password is checked, a username that is cooling down (see the module).

    Only ``authenticate``: without ``get_user`` it never becomes the backend a session is tied to.
    """

    def authenticate(self, request: HttpRequest | None, username: str | None = None, **kwargs: Any) -> None:
        if not username:
            return None
        wait = cooldown_remaining(username)
        if wait:
            if request is not None:
                request.practice_sign_in_wait = wait  # type: ignore[attr-defined]
            raise PermissionDenied  # stops authenticate(); user_login_failed records a denied attempt
        return None


class SignInForm(AuthenticationForm):
    """Django's sign-in form, which says how long to wait when the account is cooling down."""

    @property
    def has_error_code_cooling_down(self) -> bool:
        return self.has_error(NON_FIELD_ERRORS, "cooling_down")

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except forms.ValidationError:
            wait = getattr(self.request, "practice_sign_in_wait", 0)
            if wait:
                raise forms.ValidationError(
                    "This account has had many wrong passwords from several places. For its safety, "
                    f"wait {wait} seconds, then sign in again.",
                    code="cooling_down",
                ) from None
            raise
