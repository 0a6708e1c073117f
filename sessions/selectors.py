"""Reads of treatment sessions, each scoped to who asks; and whom a session may be given to.

A session is shown as corrected (its amendments applied) through ``sessions.corrections``.
"""

from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.http import HttpRequest

from practice.access import get_reachable_or_404
from practice.roles import THERAPIST
from sessions.corrections import CorrectedSession
from sessions.models import SessionAmendment, TechniqueUse, TreatmentSession


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


def session_with_corrections(session: TreatmentSession) -> tuple[CorrectedSession, list[SessionAmendment]]:
    """``session`` as corrected, and its amendments (with their authors) oldest first: two queries.

    Its technique rows come loaded with their techniques, for the page and its safety screen.
    """
    rows = TechniqueUse.objects.select_related("technique").order_by("pk")
    prefetch_related_objects([session], Prefetch("technique_uses", queryset=rows))
    amendments = list(session.amendments.select_related("author").order_by("created_at", "pk"))
    return CorrectedSession(session, [amendment.changes for amendment in amendments]), amendments
