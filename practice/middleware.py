"""Request-wide security rules: session limits, two-factor sign-in, no caching of private pages."""

import time
from collections.abc import Callable
from functools import cache
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import reverse
from django.utils.cache import patch_cache_control

from practice.security import has_two_factor_device, two_factor_required

# Unix times kept in the session; set at sign-in (practice.signals) or on the first request.
SESSION_STARTED_KEY = "practice_session_started"
SESSION_LAST_SEEN_KEY = "practice_session_last_seen"
# Writing the session on every request would cost a query per page; a minute's precision is plenty.
LAST_SEEN_RESOLUTION = 60


def start_session_clock(request: HttpRequest, now: float | None = None) -> None:
    now = time.time() if now is None else now
    request.session[SESSION_STARTED_KEY] = now
    request.session[SESSION_LAST_SEEN_KEY] = now


class SessionTimeoutMiddleware:
    """Sign people out after ``PRACTICE_SESSION_IDLE_TIMEOUT`` seconds without a request, and
    ``PRACTICE_SESSION_ABSOLUTE_TIMEOUT`` seconds after signing in, whatever they do."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The session says whether someone is signed in without loading the user.
        if SESSION_KEY in request.session:
            expired = self._check(request)
            if expired:
                logout(request)
                messages.info(request, expired)
                return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    def _check(self, request: HttpRequest) -> str:
        now = time.time()
        started = request.session.get(SESSION_STARTED_KEY)
        last_seen = request.session.get(SESSION_LAST_SEEN_KEY)
        if started is None or last_seen is None:
            start_session_clock(request, now)
            return ""
        if now - started > settings.PRACTICE_SESSION_ABSOLUTE_TIMEOUT:
            hours = settings.PRACTICE_SESSION_ABSOLUTE_TIMEOUT // 3600
            return f"You were signed out because you signed in more than {hours} hours ago. Please sign in again."
        if now - last_seen > settings.PRACTICE_SESSION_IDLE_TIMEOUT:
            minutes = settings.PRACTICE_SESSION_IDLE_TIMEOUT // 60
            return f"You were signed out after {minutes} minutes without activity. Please sign in again."
        if now - last_seen >= LAST_SEEN_RESOLUTION:
            request.session[SESSION_LAST_SEEN_KEY] = now
        return ""


@cache
def _two_factor_exempt_paths() -> tuple[str, ...]:
    return (
        reverse("login"),
        reverse("logout"),
        reverse("admin:logout"),
        reverse("healthz"),
        reverse("two_factor"),  # and the pages under it: verify, set up, recovery codes
        settings.STATIC_URL if settings.STATIC_URL.startswith("/") else f"/{settings.STATIC_URL}",
    )


class TwoFactorRequiredMiddleware:
    """Until they confirm their second factor, people who need one (staff when ``PRACTICE_REQUIRE_2FA``
    is on, and anyone who set one up) reach only the sign-in, sign-out and two-factor pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if SESSION_KEY in request.session and self._must_verify(request):
            if not request.path.startswith(_two_factor_exempt_paths()):
                target = reverse("two_factor_verify")
                return HttpResponseRedirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)

    @staticmethod
    def _must_verify(request: HttpRequest) -> bool:
        user = request.user
        if not user.is_authenticated or user.is_verified():  # type: ignore[attr-defined]  # added by OTPMiddleware
            return False
        return has_two_factor_device(request) or two_factor_required(user)


class NoStoreWhenSignedInMiddleware:
    """Pages shown to a signed-in person may carry health data: no browser or proxy may keep a copy.

    Static files never reach this middleware (WhiteNoise answers them earlier).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if SESSION_KEY in request.session:
            patch_cache_control(response, no_store=True, private=True)
        return response


class DropNulBytesFromQueryMiddleware:
    """Query parameters reach every view, filter and search without NUL bytes.

    PostgreSQL refuses a NUL byte in a text value (a 500 on any filter or search that passed one on),
    and no real name, code or search term contains one: dropping it keeps the rest of what was typed.
    Form fields (POST) keep Django's own check, which answers with a message on the field.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "%00" in request.META.get("QUERY_STRING", ""):
            cleaned = QueryDict(mutable=True)
            for key, values in request.GET.lists():
                cleaned.setlist(key.replace("\x00", ""), [value.replace("\x00", "") for value in values])
            cleaned._mutable = False
            request.GET = cleaned  # type: ignore[assignment]  # immutable again, as Django builds it
        return self.get_response(request)
