"""Reads of a client's own record, each scoped to who asks."""

import datetime as dt
from typing import TypeVar

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils import timezone

from clients.models import Client, ClientQuerySet, DiseasePhase, SelfReport
from practice.access import get_reachable_or_404

# A client queryset of any class (ClientQuerySet keeps its methods through the annotation).
ClientsT = TypeVar("ClientsT", bound=QuerySet[Client])


def client_for_user(request: HttpRequest, pk: int, *, clients: ClientQuerySet | None = None) -> Client:
    """The client ``pk`` if the signed-in user cares for them (owners: anyone); otherwise a 404, audited.

    ``clients`` narrows or annotates the queryset; it is scoped to the user here whatever is passed.
    """
    queryset = (clients if clients is not None else Client.objects.all()).cared_for_by(request.user)
    return get_reachable_or_404(request, queryset, object_type="client", client_field="pk", pk=pk)


def todays_self_report(client: Client) -> SelfReport | None:
    # order_by("pk"): the model's default ordering goes through the client's name, a needless join.
    return SelfReport.objects.for_client(client).filter(recorded_on=timezone.localdate()).order_by("pk").first()


def with_latest_self_reports(clients: ClientsT) -> ClientsT:
    """Annotate each client's latest "How I feel today" entry and the entry before it, in the same query.

    ``latest_report_on``, ``latest_report_pain``, ``latest_report_fatigue``, ``latest_report_note`` and
    ``previous_report_pain``, ``previous_report_fatigue`` (None without such an entry). Each is a probe of
    self_report_one_per_day (client, recorded_on) from its newest end: a page of clients costs one query,
    however long their diaries.
    """
    reports = SelfReport.objects.filter(client=OuterRef("pk")).order_by("-recorded_on")
    latest, previous = reports[:1], reports[1:2]
    return clients.annotate(
        latest_report_on=Subquery(latest.values("recorded_on")),
        latest_report_pain=Subquery(latest.values("pain")),
        latest_report_fatigue=Subquery(latest.values("fatigue")),
        latest_report_note=Subquery(latest.values("note")),
        previous_report_pain=Subquery(previous.values("pain")),
        previous_report_fatigue=Subquery(previous.values("fatigue")),
    )


def phase_on(client: Client, day: dt.date) -> str | None:
    """The client's phase on ``day`` (one query), or None when no episode covers it."""
    return DiseasePhase.objects.for_client(client).on_date(day).values_list("phase", flat=True).first()
