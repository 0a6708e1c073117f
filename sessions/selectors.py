"""Reads of treatment sessions, each scoped to who asks; and whom a session may be given to."""

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from practice.access import get_reachable_or_404
from practice.roles import THERAPIST
from sessions.models import TreatmentSession


def session_for_user(request: HttpRequest, pk: int) -> TreatmentSession:
    """The session ``pk`` if the signed-in user cares for its client (owners: any); otherwise a 404, audited.

    Loaded with its client, therapist and signer, and its phase on the day (``phase_on_date``): one query.
    """
    sessions = (
        TreatmentSession.objects.visible_to(request.user)
        .select_related("client", "therapist", "signed_by")
        .with_phase()
    )
    return get_reachable_or_404(request, sessions, object_type="session", client_field="client_id", pk=pk)


def session_therapists() -> QuerySet[User]:
    """The people the admin offers as a session's therapist: the practice's active therapists, by name."""
    return User.objects.filter(is_active=True, groups__name=THERAPIST).order_by("first_name", "last_name", "username")
