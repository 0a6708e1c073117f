"""Reads for the therapist's workspace: the caseload and one client's record.

Every per-client figure is a correlated subquery on the client queryset, so a page of the
caseload costs the same number of queries whether the practice has ten clients or ten thousand.
"""

import datetime as dt
from dataclasses import dataclass
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from clients.models import Client, ClientQuerySet, DiseasePhase, phase_label
from sessions.models import TreatmentSession
from sessions.safety import Finding
from sessions.screening import screen_planned_session

# Studies of massage in MS ran weekly sessions; the next one is due a week after the last.
SESSION_CADENCE = dt.timedelta(days=7)
CASELOAD_PAGE_SIZE = 25
RECORD_SESSIONS_PAGE_SIZE = 20

# A client queryset of any class (ClientQuerySet keeps its methods through these helpers).
ClientsT = TypeVar("ClientsT", bound=QuerySet[Client])


def with_last_session(clients: ClientsT) -> ClientsT:
    """Annotate ``last_session_at``: the latest session that has begun (drafts count: the client was seen).

    The newest row first, one row: a backward probe of session_client_started_idx per client, where
    MAX() over the client's sessions would read all of them.
    """
    begun = (
        TreatmentSession.objects.filter(client=OuterRef("pk"), started_at__lte=timezone.now())
        .order_by("-started_at")
        .values("started_at")[:1]
    )
    return clients.annotate(last_session_at=Subquery(begun))


def name_matches(clients: ClientsT, search: str) -> ClientsT:
    """Clients whose first, last or preferred name contains every word of ``search`` (any case)."""
    for word in search.split():
        clients = clients.filter(
            Q(first_name__icontains=word) | Q(last_name__icontains=word) | Q(preferred_name__icontains=word)
        )
    return clients


def caseload(user: AbstractBaseUser | AnonymousUser, *, search: str = "", archived: bool = False) -> QuerySet[Client]:
    """The clients ``user`` cares for (owners: everyone), annotated for the caseload table."""
    clients = Client.objects.cared_for_by(user)
    clients = clients if archived else clients.active()
    clients = name_matches(clients, search)
    return with_last_session(clients.with_current_phase()).order_by("last_name", "first_name", "pk")


@dataclass(frozen=True)
class CaseloadRow:
    """One client as the caseload shows them: phase, cadence and the safety findings that apply now."""

    client: Client
    phase: str | None
    last_session_at: dt.datetime | None
    next_due_on: dt.date | None
    alerts: list[Finding]

    @property
    def phase_label(self) -> str:
        return phase_label(self.phase)

    @property
    def is_overdue(self) -> bool:
        return self.next_due_on is not None and self.next_due_on < timezone.localdate()


def next_due_on(last_session_at: dt.datetime | None) -> dt.date | None:
    if last_session_at is None:
        return None
    return timezone.localdate(last_session_at) + SESSION_CADENCE


def caseload_row(client: Client) -> CaseloadRow:
    """Needs a client from :func:`caseload` (annotated with its current phase and last session)."""
    phase: str | None = client.current_phase  # type: ignore[attr-defined]  # caseload(), record_clients()
    last_session_at: dt.datetime | None = client.last_session_at  # type: ignore[attr-defined]  # likewise
    return CaseloadRow(
        client=client,
        phase=phase,
        last_session_at=last_session_at,
        next_due_on=next_due_on(last_session_at),
        alerts=screen_planned_session(client=client, when=timezone.localdate(), phase=phase),
    )


def record_clients() -> ClientQuerySet:
    """Clients annotated like caseload rows, with their portal account (archived ones too).

    Pass it to ``clients.selectors.client_for_user``, which scopes it to who asks.
    """
    return with_last_session(Client.objects.with_current_phase().select_related("user"))


def phase_history(client: Client) -> list[DiseasePhase]:
    """The client's phases, newest first."""
    return list(DiseasePhase.objects.for_client(client).order_by("-started_on"))


def record_sessions(client: Client) -> QuerySet[TreatmentSession]:
    """The client's sessions, newest first, with the phase on each session's date."""
    return (
        TreatmentSession.objects.for_client(client)
        .select_related("therapist")
        .with_phase()
        .order_by("-started_at", "-pk")
    )
