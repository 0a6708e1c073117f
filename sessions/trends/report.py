"""What a trend report holds: frozen values built by ``queries`` and summarised by ``statistics``."""

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from clients.models import Phase, phase_label
from sessions.models import ScoreChanges, Setting

# A change of 2 points on a 0-10 scale is the usual threshold for one that matters to the client.
MEANINGFUL_CHANGE = 2
# Sessions at each end of the range compared as baseline and recent.
COMPARISON_SIZE = 3
# Sessions in the trailing rolling average of the before-scores.
ROLLING_WINDOW = 4
# Groups with fewer sessions than this are flagged: a mean of two or three sessions may be chance.
FEW_SESSIONS = 5

# The order phases are listed in, in the summaries and the chart's legend.
PHASE_ORDER = (Phase.ACUTE_FLARE, Phase.SUBACUTE, Phase.REMISSION)

_SETTING_LABELS = dict(Setting.choices)
# clients.models.phase_label, remembered: the session table asks it once per row (520 rows for ten years).
_phase_label = lru_cache(maxsize=16)(phase_label)


@dataclass(frozen=True)
class SessionPoint(ScoreChanges):
    """One treatment session, with amendments applied. ``*_change`` is after minus before (None without after)."""

    id: int
    started_at: dt.datetime  # aware, in the practice's time zone
    date: dt.date  # started_at.date(), the day in the practice's time zone
    pain_before: int
    pain_after: int | None
    fatigue_before: int
    fatigue_after: int | None
    phase: str | None  # Phase value on that date, None when no episode covers it
    duration_minutes: int
    setting: str  # Setting value
    techniques: tuple[str, ...]  # technique names, each once, in the order first used
    signed: bool
    amended: bool

    @property
    def has_changes(self) -> bool:
        return self.pain_after is not None and self.fatigue_after is not None

    @property
    def phase_label(self) -> str:
        return _phase_label(self.phase)

    @property
    def setting_label(self) -> str:
        return _SETTING_LABELS.get(self.setting, self.setting)


@dataclass(frozen=True)
class SelfReportPoint:
    """Scores the client recorded on a day between sessions."""

    date: dt.date
    pain: int
    fatigue: int
    note: str
    phase: str | None

    @property
    def phase_label(self) -> str:
        return _phase_label(self.phase)


@dataclass(frozen=True)
class PhaseBand:
    """An MS phase episode clipped to the report's period. Half-open: ``start`` inclusive, ``end`` exclusive."""

    phase: str
    start: dt.date
    end: dt.date
    ongoing: bool  # the episode has not ended (it runs past the period's end or to today)

    @property
    def label(self) -> str:
        return _phase_label(self.phase)


@dataclass(frozen=True)
class RollingPoint:
    """Mean before-scores of the ROLLING_WINDOW sessions ending with the one that started at ``started_at``."""

    started_at: dt.datetime
    pain: float
    fatigue: float


@dataclass(frozen=True)
class ScoreComparison:
    """Baseline against recent for one score. ``change`` is recent minus baseline (negative = better)."""

    baseline: float
    recent: float

    @property
    def change(self) -> float:
        return self.recent - self.baseline

    @property
    def meaningful(self) -> bool:
        # Means of whole numbers: compare with a hair of slack so 2.0 computed as 1.9999... still counts.
        return abs(self.change) >= MEANINGFUL_CHANGE - 1e-9

    @property
    def improved(self) -> bool:
        return self.meaningful and self.change < 0

    @property
    def worsened(self) -> bool:
        return self.meaningful and self.change > 0


@dataclass(frozen=True)
class Comparison:
    """The first ``size`` sessions in range (baseline) against the last ``size`` (recent), before-scores.

    ``size`` is COMPARISON_SIZE, or fewer when the range holds under 2 x COMPARISON_SIZE sessions, so the
    two groups never share a session: 4 sessions give 2 against 2; a single session gives no comparison.
    """

    size: int
    baseline_sessions: tuple[int, ...]
    recent_sessions: tuple[int, ...]
    pain: ScoreComparison
    fatigue: ScoreComparison

    @property
    def is_full(self) -> bool:
        return self.size == COMPARISON_SIZE


@dataclass(frozen=True)
class ChangeSummary:
    """Mean immediate change (after minus before) over ``count`` sessions that have both after-scores.

    ``key`` is a phase value, a technique name, or "" for all sessions; means are None when ``count`` is 0.
    ``sessions`` counts every session in the group, with or without after-scores.
    """

    key: str
    label: str
    sessions: int
    count: int
    pain_mean: float | None
    fatigue_mean: float | None

    @property
    def few(self) -> bool:
        return self.count < FEW_SESSIONS


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class MonthCount:
    month: dt.date  # first day of the month
    sessions: int

    @property
    def label(self) -> str:
        # Formatted here, not with the date filter: ten years is 120 rows (English month names, as the page).
        return f"{_MONTH_NAMES[self.month.month - 1]} {self.month.year}"


@dataclass(frozen=True)
class TrendReport:
    """Everything the trend page, its CSV and the portal show for one client and one range.

    - ``period_start``/``period_end``: the days the chart spans (the range asked for, or the data where it
      is open); None when an open range holds no data.
    - ``sessions``: every session in range, oldest first (drafts too unless ``signed_only``).
    - ``self_reports``: the client's own scores in range, oldest first.
    - ``phase_bands``: phase episodes overlapping the period, clipped to it.
    - ``rolling``: trailing mean of pain and fatigue before-scores over ROLLING_WINDOW sessions, one point
      per session from the ROLLING_WINDOW-th on.
    - ``comparison``: baseline against recent (see Comparison), None with fewer than two sessions.
    - ``overall``: mean immediate change over all sessions; ``by_phase``: the same per phase on the session's
      date (phases without sessions left out, "no phase recorded" last); ``by_technique``: the same per
      technique, for the sessions where it was used, most used first.
    - ``per_month``: sessions in each calendar month of the period, months without sessions included.
    """

    signed_only: bool
    period_start: dt.date | None
    period_end: dt.date | None
    sessions: tuple[SessionPoint, ...]
    self_reports: tuple[SelfReportPoint, ...]
    phase_bands: tuple[PhaseBand, ...]
    rolling: tuple[RollingPoint, ...]
    comparison: Comparison | None
    overall: ChangeSummary
    by_phase: tuple[ChangeSummary, ...]
    by_technique: tuple[ChangeSummary, ...]
    per_month: tuple[MonthCount, ...]

    @property
    def is_empty(self) -> bool:
        return not self.sessions and not self.self_reports

    @property
    def session_count(self) -> int:
        return len(self.sessions)

    @property
    def meaningful_change(self) -> int:
        return MEANINGFUL_CHANGE

    @property
    def rolling_window(self) -> int:
        return ROLLING_WINDOW
