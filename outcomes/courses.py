"""The report's definitions as plain functions of a client's visits: runs, a course, its changes.

``outcomes.storage`` numbers runs with ``number_runs``; ``find_course`` is the definition read literally
(scan the visits from the start date), which the SQL in ``outcomes.selectors`` must agree with: the drift
test (tests/outcomes/test_drift.py) holds the two to each other.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

# A visit at most RUN_GAP_DAYS after the one before continues a run: one home with the questionnaire schedule.
from measures.schedule import RUN_GAP_DAYS

# A change of at least this many points (the trend pages' threshold) is an improvement or a worsening.
MEANINGFUL_CHANGE = 2
TREATMENTS_DEFAULT = 6
TREATMENTS_MIN, TREATMENTS_MAX = 4, 12


@dataclass(frozen=True)
class VisitPoint:
    """One signed session with amendments applied, as the definitions read it."""

    session_id: int
    started_at: dt.datetime
    day: dt.date
    therapist_id: int
    phase: str
    pain_before: int
    pain_after: int
    fatigue_before: int
    fatigue_after: int


@dataclass(frozen=True)
class Course:
    client_id: int
    visits: tuple[VisitPoint, ...]  # visit 1 .. N+1

    @property
    def first(self) -> VisitPoint:
        return self.visits[0]

    @property
    def follow_up(self) -> VisitPoint:
        return self.visits[-1]

    @property
    def pain_change(self) -> int:
        return self.follow_up.pain_before - self.first.pain_before

    @property
    def fatigue_change(self) -> int:
        return self.follow_up.fatigue_before - self.first.fatigue_before

    @property
    def immediate_pain_change(self) -> float:
        treatments = self.visits[:-1]
        return sum(v.pain_after - v.pain_before for v in treatments) / len(treatments)

    @property
    def immediate_fatigue_change(self) -> float:
        treatments = self.visits[:-1]
        return sum(v.fatigue_after - v.fatigue_before for v in treatments) / len(treatments)


def in_order(visits: Sequence[VisitPoint]) -> list[VisitPoint]:
    """Oldest first; sessions at the same moment in the order they were recorded."""
    return sorted(visits, key=lambda v: (v.started_at, v.session_id))


def number_runs(visits: Sequence[VisitPoint]) -> list[tuple[int, int]]:
    """(run, ordinal) of each visit of ``in_order(visits)``, both counted from 1."""
    numbers: list[tuple[int, int]] = []
    previous: VisitPoint | None = None
    run = ordinal = 0
    for visit in visits:
        if previous is None or (visit.day - previous.day).days > RUN_GAP_DAYS:
            run, ordinal = run + 1, 1
        else:
            ordinal += 1
        numbers.append((run, ordinal))
        previous = visit
    return numbers


def find_course(
    client_id: int, visits: Sequence[VisitPoint], start: dt.date, end: dt.date, treatments: int
) -> Course | None:
    """The client's course in [start, end]: the first treatments + 1 consecutive visits with no gap over 14 days."""
    chain: list[VisitPoint] = []
    for visit in in_order(visits):
        if not start <= visit.day <= end:
            continue
        if chain and (visit.day - chain[-1].day).days > RUN_GAP_DAYS:
            chain = []
        chain.append(visit)
        if len(chain) == treatments + 1:
            return Course(client_id, tuple(chain))
    return None


def classify(change: int) -> str:
    """ "improved", "worse" or "same" for a change in a 0-10 score (lower is better)."""
    if change <= -MEANINGFUL_CHANGE:
        return "improved"
    if change >= MEANINGFUL_CHANGE:
        return "worse"
    return "same"
