"""Who may open which part of the product. Object access is scoped where objects are fetched.

Role checks are the decorators below; object checks are :func:`get_reachable_or_404`, which each
app's one selector per entity (``clients.selectors.client_for_user``,
``sessions.selectors.session_for_user``) calls with a queryset already scoped to the user. Both answer
"not yours" with the same 404 as "does not exist", and both leave an ACCESS_DENIED event in the
audit trail when someone signed in is refused.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from practice import audit
from practice.roles import is_client, is_staff_member

# One message for every refusal, so that a 404 never tells "not yours" from "no such thing".
NOT_FOUND = "No such page."

ModelT = TypeVar("ModelT", bound=Model)


class SignedInRequest(HttpRequest):
    """The request a view behind clinician_required or client_required receives: someone is signed in."""

    user: User


def clinician_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Therapists and owners only. Anonymous people are sent to sign in; everyone else gets a 404.

    A 404 rather than a 403 says nothing about what exists behind the address.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_staff_member(request.user):
            _refuse_page(request)
        return view(request, *args, **kwargs)

    return wrapper


def client_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Clients with a linked record only (the portal). Anyone else gets a 404."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_client(request.user):
            _refuse_page(request)
        return view(request, *args, **kwargs)

    return wrapper


def _refuse_page(request: HttpRequest) -> None:
    # The page's name, not its address: addresses can carry whatever was typed into them.
    match = request.resolver_match
    audit.record(
        request,
        audit.ACCESS_DENIED,
        object_type="page",
        object_id=match.view_name[:64] if match else "",
        outcome=audit.DENIED,
    )
    raise Http404(NOT_FOUND)


def get_reachable_or_404(
    request: HttpRequest,
    queryset: QuerySet[ModelT],
    *,
    object_type: str,
    client_field: str | None = None,
    **lookup: Any,
) -> ModelT:
    """The object ``lookup`` finds in ``queryset``, which is already scoped to what the user may reach.

    ``client_field`` names the column that holds the object's client id ("pk" for a client itself),
    so that a refusal can be traced to the client it concerns. When nothing is found but the object
    exists outside the user's scope, the refusal is recorded (ACCESS_DENIED, outcome denied) before
    the 404. The response is the same 404 either way. A miss costs one more query, to tell the two apart.
    """
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):  # type: ignore[attr-defined]  # a concrete model's
        # ValueError/TypeError: an id that is not a number, which can exist nowhere.
        pass
    hidden = _hidden(queryset.model, lookup, client_field)
    if hidden is not None:
        object_id, client_id = hidden
        audit.record(
            request,
            audit.ACCESS_DENIED,
            object_type=object_type,
            object_id=object_id,
            client_id=client_id,
            outcome=audit.DENIED,
        )
    raise Http404(NOT_FOUND)


def _hidden(model: type[Model], lookup: dict[str, Any], client_field: str | None) -> tuple[Any, int | None] | None:
    """(id, client id) of the object ``lookup`` finds among all rows, or None when there is none."""
    fields = ["pk", client_field] if client_field else ["pk"]
    try:
        row = model._base_manager.filter(**lookup).values_list(*fields).first()
    except (ValueError, TypeError):
        return None
    if row is None:
        return None
    return row[0], (row[1] if client_field else None)
