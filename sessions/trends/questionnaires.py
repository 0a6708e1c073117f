"""Questionnaire scores (MFIS-5 and any later instrument) on the trend pages and in the trend CSV.

``questionnaire_charts(client, start=..., end=...)`` reads the scores in one query (measures.selectors) and lays
each instrument out as a small server-drawn SVG chart: no script draws it, so the CSP stays strict and the page
works without JavaScript. The first score in the range is marked; the band around it is the instrument's
minimal clinically important difference (MCID), drawn only where one is published (never invented).

``questionnaire_csv_rows(scores)`` gives the trend CSV's rows for scores (docs/trends-csv.md), ``kind`` being the
instrument's code.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from clients.models import Client
from measures.selectors import Score, scores_for_client
from sessions.trends.export import CSV_COLUMNS

# The chart's drawing box, in SVG user units (it scales to its container with the viewBox).
WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 34, 12, 10, 26


@dataclass(frozen=True)
class ScorePoint:
    score: Score
    x: float
    y: float
    change: int  # against the first score in the range
    first: bool


@dataclass(frozen=True)
class InstrumentChart:
    """One instrument's scores in the range, with the SVG geometry the include draws."""

    code: str
    name: str
    short_name: str
    score_min: int
    score_max: int
    mcid: Decimal | None
    higher_is_worse: bool
    points: list[ScorePoint]
    band: tuple[float, float] | None  # y of the band's top and its height, MCID around the first score
    ticks: list[tuple[int, float]]  # (score, y) for the y-axis labels and grid lines
    x_labels: list[tuple[str, float]]  # (date, x) under the axis

    @property
    def first(self) -> ScorePoint:
        return self.points[0]

    @property
    def last(self) -> ScorePoint:
        return self.points[-1]

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def view_box(self) -> str:
        return f"0 0 {WIDTH} {HEIGHT}"

    @property
    def plot(self) -> dict[str, int]:
        return {"left": LEFT, "right": WIDTH - RIGHT, "width": WIDTH - LEFT - RIGHT, "bottom": HEIGHT - BOTTOM}

    @property
    def change_beyond_mcid(self) -> bool | None:
        """Whether the last score differs from the first by the MCID or more (None without a published MCID)."""
        if self.mcid is None or len(self.points) < 2:
            return None
        return abs(self.last.change) >= self.mcid


def questionnaire_charts(client: Client, *, start: dt.date | None, end: dt.date | None) -> list[InstrumentChart]:
    """A chart per instrument the client answered in [start, end], in instrument order. One query."""
    return charts_for(scores_for_client(client, start=start, end=end), start=start, end=end)


def charts_for(scores: Sequence[Score], *, start: dt.date | None, end: dt.date | None) -> list[InstrumentChart]:
    """The charts of ``scores`` (oldest first), the x-axis spanning [start, end] or the scores' own dates."""
    by_code: dict[str, list[Score]] = {}
    for score in scores:
        by_code.setdefault(score.instrument_code, []).append(score)
    return [_chart(by_code[code], start, end) for code in sorted(by_code)]


def _chart(scores: list[Score], start: dt.date | None, end: dt.date | None) -> InstrumentChart:
    head = scores[0]
    low, high = head.score_min, head.score_max
    first_day = start or scores[0].completed_on
    last_day = end or scores[-1].completed_on
    span = max((last_day - first_day).days, 0)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        if span == 0:
            return LEFT + plot_width / 2
        return LEFT + plot_width * (day - first_day).days / span

    def y(value: float) -> float:
        clamped = min(max(value, low), high)
        return TOP + plot_height * (high - clamped) / (high - low)

    baseline = head.score
    points = [
        ScorePoint(score=s, x=x(s.completed_on), y=y(s.score), change=s.score - baseline, first=i == 0)
        for i, s in enumerate(scores)
    ]
    band = None
    if head.mcid is not None:
        top, bottom = y(float(baseline + head.mcid)), y(float(baseline - head.mcid))
        band = (top, bottom - top)
    middle = (low + high) // 2
    x_labels = [(f"{first_day:%-d %b %Y}", float(LEFT))]
    if span:
        x_labels.append((f"{last_day:%-d %b %Y}", float(WIDTH - RIGHT)))
    return InstrumentChart(
        code=head.instrument_code,
        name=head.instrument_name,
        short_name=head.short_name,
        score_min=low,
        score_max=high,
        mcid=head.mcid,
        higher_is_worse=head.higher_is_worse,
        points=points,
        band=band,
        ticks=[(value, y(value)) for value in (high, middle, low)],
        x_labels=x_labels,
    )


def questionnaire_csv_rows(scores: Iterable[Score]) -> Iterator[list[object]]:
    """The trend CSV's row per score: date, ``kind`` (the instrument's code), ``amended``, ``score``; the rest empty."""
    width = len(CSV_COLUMNS)
    for score in scores:
        row: list[object] = [""] * width
        row[CSV_COLUMNS.index("date")] = score.completed_on.isoformat()
        row[CSV_COLUMNS.index("amended")] = "yes" if score.amended else "no"
        row[CSV_COLUMNS.index("kind")] = score.instrument_code
        row[CSV_COLUMNS.index("score")] = score.score
        yield row


def with_questionnaire_rows(content: bytes, scores: Sequence[Score]) -> bytes:
    """The trend CSV ``content`` with a row per score appended (same format: CRLF; codes and numbers only)."""
    if not scores:
        return content
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(questionnaire_csv_rows(scores))
    return content + buffer.getvalue().encode("utf-8")
