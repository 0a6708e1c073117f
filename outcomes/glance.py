"""The practice at a glance, on the owner's admin index: four counts and the outcomes headline.

At millions of sessions each count reads only what it counts: the sessions of one week or month along
session_started_idx, drafts along session_draft_started_idx and sessions saved over a safety stop along
session_override_started_idx and the few amendments (both partial, so a few thousand entries), and flares
from the open phases (phase_one_open_per_client). Four queries, whatever the size of the practice.

The headline is the report's own summary with its default filters. Finding the courses costs as much as the
report's summary.csv (about 200 ms at full size), so it is kept in Django's cache for the day and forgotten
when any client's stored visits are rewritten (outcomes.receivers): an index served from the cache costs no
query for it, a fresh one costs one.
"""

import datetime as dt
import time
from dataclasses import dataclass

from django.core.cache import cache
from django.utils import timezone

from clients.models import DiseasePhase, Phase
from outcomes import selectors
from outcomes.forms import default_filters
from practice.dates import local_midnight
from sessions.drafts import overdue_before
from sessions.models import TreatmentSession

# The cache holds a headline per day and generation; a rewrite of stored visits starts a new generation, so a
# headline computed from the data as it stood before (even one stored a moment after the rewrite) is never read.
HEADLINE_KEY = "outcomes:glance-headline:{generation}:{day}"
GENERATION_KEY = "outcomes:glance-headline:generation"
# The longest a headline is kept. The cache is per process unless a shared one is configured (CACHES): a rewrite
# in one process (a session signed there, or manage.py rebuild_outcomes) may leave another's stale this long at most.
HEADLINE_SECONDS = 10 * 60


@dataclass(frozen=True)
class Glance:
    clients_in_flare: int
    sessions_this_week: int
    overdue_drafts: int
    overrides_this_month: int
    week: tuple[dt.datetime, dt.datetime]  # [start, end) in the practice's time zone
    month: tuple[dt.datetime, dt.datetime]
    overdue_before: dt.datetime


@dataclass(frozen=True)
class Headline:
    """The outcomes report's first sentence with its default filters: courses finished, and how many improved."""

    start: dt.date
    end: dt.date
    treatments: int
    clients: int
    pain_improved: int
    pain_share: float | None
    fatigue_improved: int
    fatigue_share: float | None


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
    overdue = overdue_before(today)
    sessions = TreatmentSession.objects
    return Glance(
        # As the clients list's "current phase" filter counts them (the open phase), archived clients left out.
        clients_in_flare=DiseasePhase.objects.current()
        .filter(phase=Phase.ACUTE_FLARE, client__archived_at__isnull=True)
        .count(),
        sessions_this_week=sessions.filter(started_at__gte=week[0], started_at__lt=week[1]).count(),
        overdue_drafts=sessions.drafts().filter(started_at__lt=overdue).count(),
        # By the session's stored date, as the report's therapists table places them.
        overrides_this_month=sessions.saved_over_stop()
        .filter(started_at__gte=month[0], started_at__lt=month[1])
        .count(),
        week=week,
        month=month,
        overdue_before=overdue,
    )


def outcomes_headline(today: dt.date) -> Headline:
    """The report's headline with its default filters (the last 12 months to ``today``): one query to compute."""
    filters = default_filters(today)
    overall = selectors.group_summary("", "", selectors.courses(filters))
    assert filters.start is not None and filters.end is not None  # the default range has both ends
    return Headline(
        start=filters.start,
        end=filters.end,
        treatments=filters.treatments,
        clients=overall.pain.clients,
        pain_improved=overall.pain.improved,
        pain_share=overall.pain.improved_share,
        fatigue_improved=overall.fatigue.improved,
        fatigue_share=overall.fatigue.improved_share,
    )


def cached_outcomes_headline(*, now: dt.datetime | None = None) -> Headline:
    """Today's headline from the cache, computed (one query) when this generation has none for today yet."""
    today = timezone.localdate(now or timezone.now())
    key = HEADLINE_KEY.format(generation=cache.get(GENERATION_KEY, 0), day=today.isoformat())
    headline = cache.get(key)
    if headline is None:
        headline = outcomes_headline(today)
        cache.set(key, headline, HEADLINE_SECONDS)
    return headline


def forget_outcomes_headline() -> None:
    """Start a new generation: every cached headline is left unread (the stored visits changed)."""
    # A fresh value rather than an increment: it needs no existing key and never returns to an old generation.
    cache.set(GENERATION_KEY, time.time_ns(), None)
