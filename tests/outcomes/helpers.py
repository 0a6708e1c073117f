"""Building signed sessions on given days for the outcomes tests."""

import datetime as dt

from django.utils import timezone

from outcomes.storage import client_visits_rebuild
from tests import factories

DAY0 = dt.date(2025, 3, 3)


def on(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def visit(client, therapist, day: dt.date, pain=(6, 4), fatigue=(7, 6), *, hour: int = 10, signed=True, uses=()):
    """A session on ``day`` with (before, after) scores; signed by default."""
    fields = {"pain_before": pain[0], "fatigue_before": fatigue[0]}
    if signed:
        fields |= {"pain_after": pain[1], "fatigue_after": fatigue[1]}
    return factories.make_session(client, therapist, started_at=on(day, hour), signed=signed, uses=uses, **fields)


def weekly(client, therapist, first: dt.date, count: int, *, every: int = 7, pain=(6, 4), fatigue=(7, 6)) -> list:
    return [visit(client, therapist, first + dt.timedelta(days=every * i), pain, fatigue) for i in range(count)]


def rebuild(*clients) -> None:
    """Factories write sessions directly (no services): bring the stored visits up to date as the services do."""
    for client in clients:
        client_visits_rebuild(client.pk)


def four_courses(therapist, first: dt.date = DAY0) -> list:
    """Four clients, each with a course of 4 treatments from ``first`` (pain -1 and fatigue 0 within each):

    | client | MS type | phase at start | pain start -> follow-up | fatigue start -> follow-up |
    | 1      | rrms    | acute flare    | 8 -> 5 (better)         | 7 -> 7                     |
    | 2      | spms    | acute flare    | 4 -> 6 (worse)          | 6 -> 3 (better)            |
    | 3      | rrms    | remission      | 6 -> 6                  | 8 -> 5 (better)            |
    | 4      | ppms    | none recorded  | 5 -> 2 (better)         | 5 -> 5                     |
    """
    from clients.models import Phase

    table = [
        ("rrms", Phase.ACUTE_FLARE, (8, 5), (7, 7)),
        ("spms", Phase.ACUTE_FLARE, (4, 6), (6, 3)),
        ("rrms", Phase.REMISSION, (6, 6), (8, 5)),
        ("ppms", "", (5, 2), (5, 5)),
    ]
    clients = []
    for ms_type, phase, (pain, pain_follow_up), (fatigue, fatigue_follow_up) in table:
        client = factories.make_client(therapists=[therapist], ms_type=ms_type)
        if phase:
            factories.make_phase(client, phase, started_on=first - dt.timedelta(days=10))
        weekly(client, therapist, first, 4, pain=(pain, pain - 1), fatigue=(fatigue, fatigue))
        visit(client, therapist, first + dt.timedelta(days=28), (pain_follow_up, 0), (fatigue_follow_up, 0))
        clients.append(client)
    rebuild(*clients)
    return clients
