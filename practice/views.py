from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from practice.roles import is_owner, is_therapist


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
    if hasattr(user, "client_profile"):
        return redirect("portal:home")
    return render(request, "home.html")
