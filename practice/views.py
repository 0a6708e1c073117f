from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from practice.autosave import MAX_BYTES, TOO_BIG, AutosaveRefused, autosave_store, clock, refresh_idle_clock
from practice.roles import is_client, is_owner, is_therapist


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness with a database round trip, for load balancers and operators."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each person to their own home in the product."""
    user = request.user
    if is_owner(user):
        return redirect("admin:index")
    if is_therapist(user):
        return redirect("clients:caseload")
    if is_client(user):
        return redirect("portal:home")
    return render(request, "home.html")


@require_POST
@login_required
@never_cache
def session_keepalive(request: HttpRequest) -> JsonResponse:
    """ "Stay signed in", and typing in a form: the idle limit starts again (never the absolute one)."""
    refresh_idle_clock(request)
    return JsonResponse(clock(request))


@require_POST
@login_required
@never_cache
def form_autosave(request: HttpRequest) -> JsonResponse:
    """Keep the signed-in person's own copy of the form they are typing in (``practice.autosave``).

    Sent by the page's script with the form's fields and ``autosave_path``, the form's address.
    """
    if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BYTES:
        return JsonResponse({"error": TOO_BIG}, status=413)
    data = request.POST.copy()
    path = data.pop("autosave_path", [""])[-1]
    try:
        autosave_store(user=request.user, path=path, data=data)
    except AutosaveRefused as refusal:
        return JsonResponse({"error": str(refusal)}, status=refusal.status)
    # Typing counts as activity, as "Stay signed in" does.
    refresh_idle_clock(request)
    return JsonResponse({"kept": True, **clock(request)})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused for its expired security token (settings.CSRF_FAILURE_VIEW), in the product's look.

    The way back is the page the form was on (the Referer, when it is this site's): the address the form posted
    to may take POST only (signing a note, signing out), where a link would answer 405.
    """
    came_from = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(came_from, {request.get_host()}, require_https=request.is_secure())
    context = {"back_url": came_from if safe else None, "reason": reason}
    return TemplateResponse(request, "403_csrf.html", context, status=403).render()
