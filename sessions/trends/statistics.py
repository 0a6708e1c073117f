"""The summaries of a report: pure functions of its points, with no database access.

Each takes plain values (session points, phase episodes, dates) and returns report values, so it
can be tested on hand-built points without a database (tests/sessions/test_trend_statistics.py).
"""

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Sequence
from statistics import fmean
from typing import Protocol

from sessions.trends.report import (
    COMPARISON_SIZE,
    PHASE_ORDER,
    ROLLING_WINDOW,
    ChangeSummary,
    Comparison,
    MonthCount,
    PhaseBand,
    RollingPoint,
    ScoreComparison,
    SessionPoint,
)


class Episode(Protocol):
    """What ``phase_bands`` reads of a phase episode (a clients.models.DiseasePhase)."""

    phase: str
    started_on: dt.date
    ended_on: dt.date | None


def phase_bands(phases: Sequence[Episode], start: dt.date | None, end: dt.date | None) -> tuple[PhaseBand, ...]:
    """Episodes clipped to [start, end] (inclusive dates), as half-open bands, oldest first."""
    if start is None or end is None:
        return ()
    stop = end + dt.timedelta(days=1)
    bands = []
    for episode in sorted(phases, key=lambda p: p.started_on):
        band_start = max(episode.started_on, start)
        band_end = min(episode.ended_on or stop, stop)
        if band_start < band_end:
            ongoing = episode.ended_on is None or episode.ended_on > stop
            bands.append(PhaseBand(phase=episode.phase, start=band_start, end=band_end, ongoing=ongoing))
    return tuple(bands)


def rolling_averages(sessions: Sequence[SessionPoint], window: int = ROLLING_WINDOW) -> tuple[RollingPoint, ...]:
    """Mean before-scores of each ``window`` consecutive sessions, one point per session from the window-th on."""
    points = []
    # Running sums of whole numbers: exact, and linear in the number of sessions.
    pain = fatigue = 0
    for index, session in enumerate(sessions):
        pain += session.pain_before
        fatigue += session.fatigue_before
        if index >= window:
            pain -= sessions[index - window].pain_before
            fatigue -= sessions[index - window].fatigue_before
        if index >= window - 1:
            points.append(RollingPoint(session.started_at, pain / window, fatigue / window))
    return tuple(points)


def compare_baseline(sessions: Sequence[SessionPoint]) -> Comparison | None:
    """The first sessions' before-scores against the last ones' (see Comparison); None under two sessions."""
    size = min(COMPARISON_SIZE, len(sessions) // 2)
    if size == 0:
        return None
    baseline, recent = sessions[:size], sessions[-size:]

    def compare(field: str) -> ScoreComparison:
        return ScoreComparison(
            baseline=fmean(getattr(s, field) for s in baseline),
            recent=fmean(getattr(s, field) for s in recent),
        )

    return Comparison(
        size=size,
        baseline_sessions=tuple(s.id for s in baseline),
        recent_sessions=tuple(s.id for s in recent),
        pain=compare("pain_before"),
        fatigue=compare("fatigue_before"),
    )


def change_summary(key: str, label: str, sessions: Sequence[SessionPoint]) -> ChangeSummary:
    """Mean immediate change over the sessions that have both after-scores."""
    complete = [s for s in sessions if s.has_changes]
    # Every complete session has both changes; the checks only tell the type checker so.
    pain_changes = [s.pain_change for s in complete if s.pain_change is not None]
    fatigue_changes = [s.fatigue_change for s in complete if s.fatigue_change is not None]
    return ChangeSummary(
        key=key,
        label=label,
        sessions=len(sessions),
        count=len(complete),
        pain_mean=fmean(pain_changes) if complete else None,
        fatigue_mean=fmean(fatigue_changes) if complete else None,
    )


def changes_by_phase(sessions: Sequence[SessionPoint]) -> tuple[ChangeSummary, ...]:
    """One summary per phase on the sessions' dates, in PHASE_ORDER, then sessions without a phase."""
    groups: dict[str | None, list[SessionPoint]] = defaultdict(list)
    for session in sessions:
        groups[session.phase].append(session)
    order = [*PHASE_ORDER, None]
    return tuple(
        change_summary(phase or "", groups[phase][0].phase_label, groups[phase]) for phase in order if groups[phase]
    )


def changes_by_technique(sessions: Sequence[SessionPoint]) -> tuple[ChangeSummary, ...]:
    """One summary per technique over the sessions that used it, most used first, then by name."""
    groups: dict[str, list[SessionPoint]] = defaultdict(list)
    for session in sessions:
        for name in session.techniques:
            groups[name].append(session)
    summaries = [change_summary(name, name, used) for name, used in groups.items()]
    return tuple(sorted(summaries, key=lambda s: (-s.sessions, s.label)))


def sessions_per_month(
    sessions: Sequence[SessionPoint], start: dt.date | None, end: dt.date | None
) -> tuple[MonthCount, ...]:
    """Sessions in each calendar month from ``start``'s to ``end``'s, months without sessions included."""
    if start is None or end is None:
        return ()
    counts = Counter(s.date.replace(day=1) for s in sessions)
    month, last = start.replace(day=1), end.replace(day=1)
    months = []
    while month <= last:
        months.append(MonthCount(month=month, sessions=counts[month]))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return tuple(months)
