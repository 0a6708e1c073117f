"""The practice at a glance, on the owner's admin index: four counts, each read through a small index.

At millions of sessions each count reads only what it counts: the sessions of one week or month along
session_started_idx, drafts along session_draft_started_idx and sessions saved over a safety stop along
session_override_started_idx (both partial, so a few thousand entries), and flares from the open phases
(phase_one_open_per_client). Four queries, whatever the size of the practice.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from clients.models import DiseasePhase, Phase
from practice.dates import local_midnight
from sessions.models import TreatmentSession

# A draft older than this (by the session's date) is overdue for signing.
DRAFT_OVERDUE_AFTER = dt.timedelta(days=7)


@dataclass(frozen=True)
class Glance:
    clients_in_flare: int
    sessions_this_week: int
    overdue_drafts: int
    overrides_this_month: int
    week: tuple[dt.datetime, dt.datetime]  # [start, end) in the practice's time zone
    month: tuple[dt.datetime, dt.datetime]
    overdue_before: dt.datetime


def week_of(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Monday 00:00 to the next Monday 00:00, local time, of the week holding ``day``."""
    monday = day - dt.timedelta(days=day.weekday())
    return local_midnight(monday), local_midnight(monday + dt.timedelta(days=7))


def month_of(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    first = day.replace(day=1)
    following = (first + dt.timedelta(days=32)).replace(day=1)
    return local_midnight(first), local_midnight(following)


def practice_glance(*, now: dt.datetime | None = None) -> Glance:
    """The four figures at the top of the owner's admin index, as of ``now`` (default: the current time)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    week, month = week_of(today), month_of(today)
    overdue_before = now - DRAFT_OVERDUE_AFTER
    sessions = TreatmentSession.objects
    return Glance(
        # As the clients list's "current phase" filter counts them (the open phase), archived clients left out.
        clients_in_flare=DiseasePhase.objects.current()
        .filter(phase=Phase.ACUTE_FLARE, client__archived_at__isnull=True)
        .count(),
        sessions_this_week=sessions.filter(started_at__gte=week[0], started_at__lt=week[1]).count(),
        overdue_drafts=sessions.drafts().filter(started_at__lt=overdue_before).count(),
        overrides_this_month=sessions.exclude(safety_override_reason="")
        .filter(started_at__gte=month[0], started_at__lt=month[1])
        .count(),
        week=week,
        month=month,
        overdue_before=overdue_before,
    )
