"""The report's chart, drawn on the server as SVG: each course's baseline to follow-up, and the share improved.

Courses with the same baseline and follow-up share one line, drawn thicker the more clients it holds,
so the chart has at most 121 lines per measure however many clients the practice has.
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

from clients.scores import SCORE_MAX, SCORE_MIN
from outcomes.courses import classify
from outcomes.selectors import CourseRow, GroupSummary

LEFT_X, RIGHT_X = 70, 250
TOP_Y, STEP_Y = 20, 22
MAX_STROKE = 10.0
BAR_WIDTH = 240


@dataclass(frozen=True)
class Line:
    baseline: int
    follow_up: int
    clients: int
    kind: str  # "improved", "same" or "worse"
    y1: int
    y2: int
    width: float


@dataclass(frozen=True)
class Panel:
    measure: str
    lines: tuple[Line, ...]
    ticks: tuple[tuple[int, int], ...]  # (score, y)
    counts: dict[str, int]


@dataclass(frozen=True)
class Bar:
    label: str
    measure: str
    share: float
    width: float
    clients: int
    y: int


def score_y(score: int) -> int:
    return TOP_Y + (SCORE_MAX - score) * STEP_Y


def panel(measure: str, courses: Sequence[CourseRow]) -> Panel:
    # Plain attribute reads over every course (ten thousand at full size), counted once for lines and kinds.
    baselines, follow_ups = attrgetter(f"{measure}_baseline"), attrgetter(f"{measure}_follow_up")
    pairs = Counter(zip(map(baselines, courses), map(follow_ups, courses), strict=True))
    most = max(pairs.values(), default=1)
    lines = tuple(
        Line(
            baseline=b,
            follow_up=f,
            clients=count,
            kind=classify(f - b),
            y1=score_y(b),
            y2=score_y(f),
            width=round(1.5 + (MAX_STROKE - 1.5) * count / most, 1),
        )
        # Thick lines first, so thin ones stay visible on top.
        for (b, f), count in sorted(pairs.items(), key=lambda item: (-item[1], item[0]))
    )
    counts: Counter[str] = Counter()
    for line in lines:
        counts[line.kind] += line.clients
    ticks = tuple((score, score_y(score)) for score in range(SCORE_MIN, SCORE_MAX + 1, 2))
    return Panel(measure, lines, ticks, {kind: counts.get(kind, 0) for kind in ("improved", "same", "worse")})


def improved_bars(groups: Sequence[GroupSummary]) -> tuple[Bar, ...]:
    """Share improved per phase group, one bar per measure, top to bottom."""
    bars = []
    y = 10
    for group in groups:
        for summary in (group.pain, group.fatigue):
            share = summary.improved_share or 0.0
            bars.append(Bar(group.label, summary.measure, share, round(share * BAR_WIDTH, 1), summary.clients, y))
            y += 24
        y += 10
    return tuple(bars)


def bars_height(bars: Sequence[Bar]) -> int:
    return bars[-1].y + 30 if bars else 0
