"""Reads of a client's own record, each scoped to who asks."""

import datetime as dt

from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client, ClientQuerySet, DiseasePhase, SelfReport
from practice.access import get_reachable_or_404


def client_for_user(request: HttpRequest, pk: int, *, clients: ClientQuerySet | None = None) -> Client:
    """The client ``pk`` if the signed-in user cares for them (owners: anyone); otherwise a 404, audited.

    ``clients`` narrows or annotates the queryset; it is scoped to the user here whatever is passed.
    """
    queryset = (clients if clients is not None else Client.objects.all()).cared_for_by(request.user)
    return get_reachable_or_404(request, queryset, object_type="client", client_field="pk", pk=pk)


def todays_self_report(client: Client) -> SelfReport | None:
    # order_by("pk"): the model's default ordering goes through the client's name, a needless join.
    return SelfReport.objects.for_client(client).filter(recorded_on=timezone.localdate()).order_by("pk").first()


def phase_on(client: Client, day: dt.date) -> str | None:
    """The client's phase on ``day`` (one query), or None when no episode covers it."""
    return DiseasePhase.objects.for_client(client).on_date(day).values_list("phase", flat=True).first()
