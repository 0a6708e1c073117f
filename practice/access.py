"""Who may open which part of the product. Object access is scoped where objects are fetched."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse

from practice.roles import is_staff_member


def clinician_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Therapists and owners only. Anonymous people are sent to sign in; everyone else gets a 404.

    A 404 rather than a 403 says nothing about what exists behind the address.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_member(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper


def client_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Clients with a linked record only (the portal). Anyone else gets a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if getattr(request.user, "client_profile", None) is None or is_staff_member(request.user):
            raise Http404("No such page.")
        return view(request, *args, **kwargs)

    return wrapper
