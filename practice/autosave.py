"""Nothing typed is lost to an idle sign-out: the session clock the page shows, and autosaved forms.

Every signed-in page carries the session's clock (``session_clock``, a context processor) for
``static/js/session_clock.js``, which warns a few minutes before the idle limit, keeps the session alive
while a form is being typed in (``refresh_idle_clock``; never past the absolute limit, which the middleware
enforces whatever happens) and posts the form's fields to the autosave endpoint as they are typed.

A form page that opts in (its view calls ``autosave_restore``) gets the fields back after the person signs in
again: at sign-in the paths of their autosaves are noted in the new session (one query), so a form page
costs no query unless it has something to restore. Autosaves hold what was typed, which may be health data:
they are the typist's own, never shown to anyone else, never in the admin, and not audited (the audit trail
holds no health data, and a save of the form is audited when it happens).
"""

import datetime as dt
import json
import time
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.forms import BaseForm, BaseFormSet
from django.forms.utils import ErrorDict
from django.http import HttpRequest, QueryDict
from django.urls import Resolver404, resolve
from django.utils import timezone

from practice.middleware import SESSION_LAST_SEEN_KEY, SESSION_STARTED_KEY
from practice.models import FormAutosave

# A session form's fields at their longest (seven notes of 10,000 characters) fit with room to spare.
MAX_BYTES = 256 * 1024
# Enough forms left half-typed for anyone; the oldest make way.
MAX_ROWS_PER_USER = 20
MAX_PATH_LENGTH = 500
# Never kept: the form's CSRF token (it changes at sign-in anyway).
SKIPPED_FIELDS = frozenset({"csrfmiddlewaretoken"})
# The paths with an autosave from before this sign-in, noted at sign-in.
SESSION_PATHS_KEY = "practice_autosave_paths"


class AutosaveRefused(ValueError):
    """The autosave cannot be kept; the message says why, and ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


TOO_BIG = "This form holds too much text to keep a copy; save it to keep it."


def max_age() -> dt.timedelta:
    return dt.timedelta(seconds=settings.PRACTICE_FORM_AUTOSAVE_MAX_AGE)


def refresh_idle_clock(request: HttpRequest) -> None:
    """Typing counts as activity: the idle limit starts again (the absolute limit does not move)."""
    request.session[SESSION_LAST_SEEN_KEY] = time.time()


def clock(request: HttpRequest) -> dict[str, int]:
    """The limits, the warning's lead, and the seconds left before each limit signs this session out."""
    now = time.time()
    last_seen = request.session.get(SESSION_LAST_SEEN_KEY, now)
    started = request.session.get(SESSION_STARTED_KEY, now)
    idle = settings.PRACTICE_SESSION_IDLE_TIMEOUT
    return {
        "idle_seconds": idle,
        "warn_seconds": min(settings.PRACTICE_SESSION_IDLE_WARNING, idle),
        "absolute_seconds": settings.PRACTICE_SESSION_ABSOLUTE_TIMEOUT,
        "idle_left": max(0, int(idle - (now - last_seen))),
        "absolute_left": max(0, int(settings.PRACTICE_SESSION_ABSOLUTE_TIMEOUT - (now - started))),
    }


def session_clock(request: HttpRequest) -> dict[str, Any]:
    """Context processor: the clock for the page's script, on signed-in pages only."""
    if SESSION_KEY not in request.session:
        return {}
    return {"session_clock": clock(request)}


def clean_path(path: str) -> str:
    """A path of this site (``/clients/1/sessions/new/``), or AutosaveRefused."""
    if not path.startswith("/") or path.startswith("//") or len(path) > MAX_PATH_LENGTH:
        raise AutosaveRefused("The form's address is not one of this site's pages.")
    try:
        resolve(path)
    except Resolver404:
        raise AutosaveRefused("The form's address is not one of this site's pages.") from None
    return path


def autosave_store(*, user: Any, path: str, data: QueryDict) -> FormAutosave:
    """Keep ``data`` (a form's fields) as ``user``'s autosave of the form at ``path``."""
    path = clean_path(path)
    fields = {name: values for name, values in data.lists() if name not in SKIPPED_FIELDS}
    if len(json.dumps(fields).encode()) > MAX_BYTES:
        raise AutosaveRefused(TOO_BIG, status=413)
    with transaction.atomic():
        saved, _ = FormAutosave.objects.update_or_create(
            user=user, path=path, defaults={"data": fields, "updated_at": timezone.now()}
        )
        kept = FormAutosave.objects.filter(user=user).order_by("-updated_at").values("pk")[:MAX_ROWS_PER_USER]
        FormAutosave.objects.filter(user=user).exclude(pk__in=list(kept.values_list("pk", flat=True))).delete()
    autosave_purge()
    return saved


def autosave_discard(*, user: Any, path: str) -> None:
    """The form at ``path`` was saved: its autosave is spent."""
    FormAutosave.objects.filter(user=user, path=path).delete()


def autosave_purge(*, now: dt.datetime | None = None) -> int:
    """Delete autosaves older than anyone could still sign in to restore them; returns how many."""
    cutoff = (now or timezone.now()) - max_age()
    deleted, _ = FormAutosave.objects.filter(updated_at__lt=cutoff).delete()
    return deleted


@receiver(user_logged_in, dispatch_uid="practice_autosave_paths")
def note_autosaves_at_sign_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is None or not hasattr(request, "session"):
        return
    fresh = FormAutosave.objects.filter(user=user, updated_at__gte=timezone.now() - max_age())
    paths = list(fresh.values_list("path", flat=True))
    if paths:
        request.session[SESSION_PATHS_KEY] = paths


def autosave_restore(request: HttpRequest) -> QueryDict | None:
    """The fields autosaved on this page before the person signed in again, with a message saying so.

    Once only: afterwards the page opens as usual (the autosave stays until the form is saved or it expires).
    """
    paths = request.session.get(SESSION_PATHS_KEY) or []
    if request.method != "GET" or request.path not in paths:
        return None
    request.session[SESSION_PATHS_KEY] = [p for p in paths if p != request.path]
    user: Any = request.user  # signed in: the form views are for signed-in people only
    saved = FormAutosave.objects.filter(
        user=user, path=request.path, updated_at__gte=timezone.now() - max_age()
    ).first()
    if saved is None:
        return None
    data = QueryDict(mutable=True)
    for name, values in saved.data.items():
        if isinstance(values, list):
            data.setlist(str(name), [str(v) for v in values])
    at = timezone.localtime(saved.updated_at)
    messages.info(request, f"We kept what you typed at {at:%H:%M}; check it and save.")
    return data


def without_errors(*forms: BaseForm | BaseFormSet) -> None:
    """Show restored fields as typed, without the errors of a half-filled form (they come with Save).

    Django validates a bound form when its errors are first read; errors set beforehand are what it shows.
    """
    for form in forms:
        held: Any = form
        if isinstance(form, BaseFormSet):
            without_errors(*form.forms)
            held._non_form_errors = form.error_class()
            held._errors = [f.errors for f in form.forms]
        else:
            held._errors = ErrorDict()
