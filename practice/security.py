"""Small security helpers shared by the audit trail, sign-in throttling and the middleware."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_otp import user_has_device

from practice.roles import is_staff_member

# Whether the signed-in person has a confirmed second factor, cached in their session at sign-in
# so that pages do not query the device tables on every request.
HAS_DEVICE_SESSION_KEY = "practice_has_2fa_device"


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, or "" when it is not a valid address.

    Behind ``TRUSTED_PROXY_COUNT`` proxies that each append to X-Forwarded-For, the address the
    outermost trusted proxy saw; entries further left are written by the client and not trusted.
    """
    raw = request.META.get("REMOTE_ADDR", "")
    proxies = settings.PRACTICE_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            raw = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        return ""


def two_factor_required(user) -> bool:
    """Owners, therapists and anyone who can open the admin must sign in with a second factor."""
    if not settings.PRACTICE_REQUIRE_2FA or not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or is_staff_member(user)


def has_two_factor_device(request: HttpRequest) -> bool:
    """Whether the signed-in person has set up a second factor (cached in the session)."""
    cached = request.session.get(HAS_DEVICE_SESSION_KEY)
    if cached is None:
        cached = remember_two_factor_device(request)
    return cached


def remember_two_factor_device(request: HttpRequest, user=None) -> bool:
    has_device = user_has_device(user if user is not None else request.user, confirmed=True)
    request.session[HAS_DEVICE_SESSION_KEY] = has_device
    return has_device


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """The page shown while a username and address pair is locked out (django-axes)."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    context = {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes}
    return render(request, "practice/locked_out.html", context, status=429)
