"""The trend summaries as pure functions of hand-built points: no database (any query here would fail).

Each expected number is worked out beside its test. Scores are "after minus before", so a negative
change means less pain or fatigue.
"""

import ast
import datetime as dt
import inspect
from itertools import count

import pytest

from clients.models import DiseasePhase, Phase
from sessions.trends import statistics
from sessions.trends.report import FEW_SESSIONS, MEANINGFUL_CHANGE, ROLLING_WINDOW, SessionPoint
from sessions.trends.statistics import (
    change_summary,
    changes_by_phase,
    changes_by_technique,
    compare_baseline,
    phase_bands,
    rolling_averages,
    sessions_per_month,
)

D = dt.date
_ids = count(1)


def point(
    day: dt.date,
    pain: tuple[int, int | None] = (5, 3),
    fatigue: tuple[int, int | None] = (6, 4),
    *,
    phase: str | None = None,
    techniques: tuple[str, ...] = (),
) -> SessionPoint:
    """A signed session at 10:00 on ``day`` with (before, after) scores."""
    return SessionPoint(
        id=next(_ids),
        started_at=dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC),
        date=day,
        pain_before=pain[0],
        pain_after=pain[1],
        fatigue_before=fatigue[0],
        fatigue_after=fatigue[1],
        phase=phase,
        duration_minutes=60,
        setting="clinic",
        techniques=techniques,
        signed=True,
        amended=False,
    )


def weekly(befores: list[tuple[int, int]]) -> list[SessionPoint]:
    """One session a week from 3 March 2025 with these (pain, fatigue) before-scores; after = before."""
    return [
        point(D(2025, 3, 3) + dt.timedelta(weeks=week), pain=(pain, pain), fatigue=(fatigue, fatigue))
        for week, (pain, fatigue) in enumerate(befores)
    ]


def test_the_statistics_module_imports_nothing_from_django():
    tree = ast.parse(inspect.getsource(statistics))
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}

    assert not {name for name in imported if name.split(".")[0] in {"django", "clients"}}
    assert {name for name in imported if name.startswith("sessions")} == {"sessions.trends.report"}


# --- rolling averages


def test_rolling_average_is_the_mean_of_the_last_four_before_scores():
    sessions = weekly([(2, 8), (4, 8), (6, 4), (8, 4), (10, 0), (3, 5)])

    rolling = rolling_averages(sessions)

    assert ROLLING_WINDOW == 4
    # Pain: (2+4+6+8)/4 = 5, (4+6+8+10)/4 = 7, (6+8+10+3)/4 = 6.75.
    # Fatigue: (8+8+4+4)/4 = 6, (8+4+4+0)/4 = 4, (4+4+0+5)/4 = 3.25.
    assert [(p.pain, p.fatigue) for p in rolling] == [(5, 6), (7, 4), (6.75, 3.25)]
    # One point per session from the fourth on, placed at that session.
    assert [p.started_at for p in rolling] == [s.started_at for s in sessions[3:]]


def test_rolling_average_needs_a_full_window():
    assert rolling_averages(weekly([(2, 8), (4, 8), (6, 4)])) == ()
    assert rolling_averages([]) == ()


def test_rolling_average_over_another_window():
    # Window 2 over pain 2, 4, 9: (2+4)/2 = 3, (4+9)/2 = 6.5; fatigue 1, 2, 2: 1.5, 2.
    rolling = rolling_averages(weekly([(2, 1), (4, 2), (9, 2)]), window=2)

    assert [(p.pain, p.fatigue) for p in rolling] == [(3, 1.5), (6.5, 2)]


# --- baseline against recent


def test_baseline_is_the_first_three_and_recent_the_last_three_before_scores():
    sessions = weekly([(6, 4), (7, 4), (8, 4), (5, 9), (3, 6), (2, 6), (4, 6)])

    comparison = compare_baseline(sessions)

    assert (comparison.size, comparison.is_full) == (3, True)
    assert comparison.baseline_sessions == tuple(s.id for s in sessions[:3])
    assert comparison.recent_sessions == tuple(s.id for s in sessions[4:])
    # Pain: baseline (6+7+8)/3 = 7, recent (3+2+4)/3 = 3, change -4: less pain, a change that matters.
    assert (comparison.pain.baseline, comparison.pain.recent) == (pytest.approx(7), pytest.approx(3))
    assert comparison.pain.change == pytest.approx(-4)
    assert comparison.pain.improved and not comparison.pain.worsened
    # Fatigue: baseline 4, recent 6 (the 9 in the middle is in neither group), change +2: worse, and it matters.
    assert (comparison.fatigue.baseline, comparison.fatigue.recent) == (4, 6)
    assert comparison.fatigue.worsened and not comparison.fatigue.improved


def test_a_change_of_two_points_matters_and_one_and_two_thirds_does_not():
    # Pain 4,4,4 then 2,2,2: change -2. Fatigue 6,6,6 then 5,4,4: change (13/3) - 6 = -5/3.
    comparison = compare_baseline(weekly([(4, 6), (4, 6), (4, 6), (2, 5), (2, 4), (2, 4)]))

    assert MEANINGFUL_CHANGE == 2
    assert comparison.pain.change == -2
    assert comparison.pain.meaningful and comparison.pain.improved
    assert comparison.fatigue.change == pytest.approx(-5 / 3)
    assert not comparison.fatigue.meaningful
    assert not comparison.fatigue.improved and not comparison.fatigue.worsened


def test_two_points_computed_as_one_point_nine_nine_still_matters():
    # Pain 0,0,5 then 0,1,10: 11/3 - 5/3 is exactly 2, which floating point makes 1.9999999999999998.
    comparison = compare_baseline(weekly([(0, 5), (0, 5), (5, 5), (0, 5), (1, 5), (10, 5)]))

    assert comparison.pain.change < 2
    assert comparison.pain.meaningful and comparison.pain.worsened
    assert not comparison.fatigue.meaningful  # 5 against 5


@pytest.mark.parametrize(
    ("sessions", "size", "baseline", "recent"),
    [
        (2, 1, (0,), (1,)),
        (4, 2, (0, 1), (2, 3)),
        (5, 2, (0, 1), (3, 4)),  # the middle session is in neither group
        (6, 3, (0, 1, 2), (3, 4, 5)),
        (9, 3, (0, 1, 2), (6, 7, 8)),
    ],
)
def test_baseline_and_recent_never_share_a_session(sessions, size, baseline, recent):
    points = weekly([(5, 5)] * sessions)

    comparison = compare_baseline(points)

    assert comparison.size == size
    assert comparison.is_full == (size == 3)
    assert comparison.baseline_sessions == tuple(points[i].id for i in baseline)
    assert comparison.recent_sessions == tuple(points[i].id for i in recent)


def test_one_session_or_none_gives_no_comparison():
    assert compare_baseline(weekly([(5, 5)])) is None
    assert compare_baseline([]) is None


# --- mean immediate change, and the "few" flag


def test_change_summary_means_only_sessions_with_both_after_scores():
    sessions = [
        point(D(2025, 1, 6), pain=(6, 4), fatigue=(6, 5)),  # -2, -1
        point(D(2025, 1, 13), pain=(5, 4), fatigue=(7, 4)),  # -1, -3
        point(D(2025, 1, 20), pain=(7, 7), fatigue=(8, 7)),  # 0, -1
        point(D(2025, 1, 27), pain=(6, 3), fatigue=(6, 6)),  # -3, 0
        point(D(2025, 2, 3), pain=(6, None), fatigue=(6, None)),  # a draft not yet scored
    ]

    summary = change_summary("", "All sessions", sessions)

    assert (summary.key, summary.label, summary.sessions, summary.count) == ("", "All sessions", 5, 4)
    # Pain (-2-1+0-3)/4 = -1.5, fatigue (-1-3-1+0)/4 = -1.25.
    assert summary.pain_mean == pytest.approx(-1.5)
    assert summary.fatigue_mean == pytest.approx(-1.25)
    # Five sessions, but four with after-scores: still few.
    assert summary.few


def test_five_scored_sessions_are_no_longer_few():
    four = [point(D(2025, 1, 6) + dt.timedelta(weeks=week)) for week in range(4)]
    five = [*four, point(D(2025, 3, 3))]

    assert FEW_SESSIONS == 5
    assert change_summary("", "All sessions", four).few
    summary = change_summary("", "All sessions", five)
    assert not summary.few
    # Every default point changes pain 5 -> 3 and fatigue 6 -> 4.
    assert (summary.count, summary.pain_mean, summary.fatigue_mean) == (5, -2, -2)


def test_an_empty_group_has_no_means():
    summary = change_summary("", "All sessions", [])

    assert (summary.sessions, summary.count, summary.pain_mean, summary.fatigue_mean) == (0, 0, None, None)
    assert summary.few


def test_changes_by_phase_in_phase_order_with_no_phase_last():
    sessions = [
        point(D(2025, 1, 6), pain=(6, 4), fatigue=(6, 5), phase=Phase.REMISSION),  # -2, -1
        point(D(2025, 1, 13), pain=(4, 4), fatigue=(5, 3)),  # no phase: 0, -2
        point(D(2025, 1, 20), pain=(5, 4), fatigue=(7, 4), phase=Phase.REMISSION),  # -1, -3
        point(D(2025, 2, 5), pain=(7, 7), fatigue=(8, 7), phase=Phase.ACUTE_FLARE),  # 0, -1
    ]

    rows = changes_by_phase(sessions)

    # No subacute sessions, so no subacute row.
    assert [(row.key, row.label, row.sessions) for row in rows] == [
        ("acute_flare", "Acute flare", 1),
        ("remission", "Remission", 2),
        ("", "No phase recorded", 1),
    ]
    assert (rows[0].pain_mean, rows[0].fatigue_mean) == (0, -1)
    # Remission: pain (-2-1)/2 = -1.5, fatigue (-1-3)/2 = -2.
    assert (rows[1].pain_mean, rows[1].fatigue_mean) == (-1.5, -2)
    assert (rows[2].pain_mean, rows[2].fatigue_mean) == (0, -2)
    assert all(row.few for row in rows)


def test_changes_by_technique_count_a_session_once_per_technique_most_used_first():
    sessions = [
        point(D(2025, 4, 1), pain=(6, 4), fatigue=(5, 4), techniques=("Swedish massage", "Reflexology")),  # -2, -1
        point(D(2025, 4, 8), pain=(5, 5), fatigue=(6, 4), techniques=("Swedish massage",)),  # 0, -2
        point(D(2025, 4, 15), pain=(7, 4), fatigue=(5, 5), techniques=("Reflexology",)),  # -3, 0
        point(D(2025, 4, 22), pain=(6, 5), fatigue=(6, 5), techniques=("Shiatsu",)),  # -1, -1
        point(D(2025, 4, 29), pain=(6, None), fatigue=(6, None)),  # no technique recorded: in no row
    ]

    rows = changes_by_technique(sessions)

    # Two sessions each for Reflexology and Swedish massage (a tie, so by name), then Shiatsu.
    assert [(row.key, row.sessions, row.count) for row in rows] == [
        ("Reflexology", 2, 2),
        ("Swedish massage", 2, 2),
        ("Shiatsu", 1, 1),
    ]
    # Reflexology: pain (-2-3)/2 = -2.5, fatigue (-1+0)/2 = -0.5. Swedish: pain (-2+0)/2 = -1, fatigue -1.5.
    assert (rows[0].pain_mean, rows[0].fatigue_mean) == (-2.5, -0.5)
    assert (rows[1].pain_mean, rows[1].fatigue_mean) == (-1, -1.5)
    assert (rows[2].pain_mean, rows[2].fatigue_mean) == (-1, -1)
    assert all(row.few for row in rows)
    assert changes_by_technique([point(D(2025, 4, 1))]) == ()


# --- sessions per month


def test_sessions_per_month_counts_each_calendar_month_empty_ones_included():
    sessions = [point(D(2025, 1, 31)), point(D(2025, 2, 1)), point(D(2025, 2, 28)), point(D(2025, 4, 2))]

    months = sessions_per_month(sessions, D(2025, 1, 15), D(2025, 4, 10))

    assert [(m.month, m.sessions) for m in months] == [
        (D(2025, 1, 1), 1),
        (D(2025, 2, 1), 2),
        (D(2025, 3, 1), 0),
        (D(2025, 4, 1), 1),
    ]
    assert [m.label for m in months] == ["Jan 2025", "Feb 2025", "Mar 2025", "Apr 2025"]


def test_sessions_per_month_across_a_new_year_and_within_one_month():
    across = sessions_per_month([point(D(2024, 12, 31)), point(D(2025, 1, 1))], D(2024, 11, 30), D(2025, 2, 1))
    within = sessions_per_month([], D(2025, 5, 3), D(2025, 5, 20))

    assert [(m.label, m.sessions) for m in across] == [
        ("Nov 2024", 0),
        ("Dec 2024", 1),
        ("Jan 2025", 1),
        ("Feb 2025", 0),
    ]
    assert [(m.month, m.sessions) for m in within] == [(D(2025, 5, 1), 0)]


def test_an_open_period_has_no_months():
    assert sessions_per_month([point(D(2025, 5, 5))], None, None) == ()
    assert sessions_per_month([point(D(2025, 5, 5))], D(2025, 5, 1), None) == ()


# --- phase bands


def episode(phase: str, started_on: dt.date, ended_on: dt.date | None = None) -> DiseasePhase:
    return DiseasePhase(phase=phase, started_on=started_on, ended_on=ended_on)  # never saved


def test_phase_bands_are_clipped_to_the_range_half_open_and_oldest_first():
    episodes = [
        episode(Phase.REMISSION, D(2025, 3, 15)),  # still going
        episode(Phase.ACUTE_FLARE, D(2025, 2, 1), D(2025, 2, 15)),
        episode(Phase.REMISSION, D(2025, 1, 1), D(2025, 2, 1)),
        episode(Phase.SUBACUTE, D(2025, 2, 15), D(2025, 3, 15)),
    ]

    bands = phase_bands(episodes, D(2025, 1, 15), D(2025, 3, 31))

    assert [(b.phase, b.start, b.end, b.ongoing) for b in bands] == [
        # Starts before the range: cut at its first day.
        (Phase.REMISSION, D(2025, 1, 15), D(2025, 2, 1), False),
        (Phase.ACUTE_FLARE, D(2025, 2, 1), D(2025, 2, 15), False),
        (Phase.SUBACUTE, D(2025, 2, 15), D(2025, 3, 15), False),
        # Open: cut at the day after the range's last day.
        (Phase.REMISSION, D(2025, 3, 15), D(2025, 4, 1), True),
    ]
    assert [b.label for b in bands] == ["Remission", "Acute flare", "Subacute (recovering)", "Remission"]


def test_episodes_outside_the_range_or_ending_on_its_first_day_are_not_bands():
    episodes = [
        episode(Phase.REMISSION, D(2024, 6, 1), D(2024, 12, 1)),  # over before the range
        episode(Phase.ACUTE_FLARE, D(2024, 12, 1), D(2025, 1, 1)),  # ends on the first day: does not cover it
        episode(Phase.SUBACUTE, D(2025, 1, 1), D(2025, 1, 11)),
        episode(Phase.REMISSION, D(2025, 2, 1)),  # starts after the range
    ]

    bands = phase_bands(episodes, D(2025, 1, 1), D(2025, 1, 31))

    assert [(b.phase, b.start, b.end, b.ongoing) for b in bands] == [
        (Phase.SUBACUTE, D(2025, 1, 1), D(2025, 1, 11), False)
    ]


def test_an_episode_ending_after_the_period_is_ongoing_one_ending_with_it_is_not():
    # The period ends 31 January, so its half-open end is 1 February.
    ends_with_the_period = phase_bands(
        [episode(Phase.SUBACUTE, D(2025, 1, 10), D(2025, 2, 1))], D(2025, 1, 1), D(2025, 1, 31)
    )
    ends_later = phase_bands([episode(Phase.SUBACUTE, D(2025, 1, 10), D(2025, 2, 20))], D(2025, 1, 1), D(2025, 1, 31))

    assert [(b.start, b.end, b.ongoing) for b in ends_with_the_period] == [(D(2025, 1, 10), D(2025, 2, 1), False)]
    assert [(b.start, b.end, b.ongoing) for b in ends_later] == [(D(2025, 1, 10), D(2025, 2, 1), True)]


def test_an_open_period_has_no_bands():
    assert phase_bands([episode(Phase.REMISSION, D(2025, 1, 1))], None, None) == ()
