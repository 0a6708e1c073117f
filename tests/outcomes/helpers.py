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
