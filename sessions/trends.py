"""A client's pain and fatigue over time, with MS phases behind them and what seems to help.

One module of plain functions, shared by the therapist's trend page, its CSV and the
client portal. Nothing here sees a request: callers pass a client and a date range.

    report = trend_report(client, start=date(2025, 1, 1), end=date(2025, 12, 31))
    chart_data(report)      # JSON-able dict for the chart (emit with json_script)
    csv_rows(report)        # rows under CSV_COLUMNS

    form, trend_range = resolve_range(request.GET, today=timezone.localdate())
    report = trend_report(client, start=trend_range.start, end=trend_range.end, signed_only=True)

Loading costs five queries whatever the number of sessions: sessions, their technique
uses, their amendments, the phases overlapping the range and the client's self-reports.

Scores are "after minus before", so a negative change means less pain or fatigue.
Signed sessions are shown with their amendments applied: the corrected values count.
SOAP notes are never read here, so nothing built from a report can leak them.
"""

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from django import forms
from django.utils import timezone

from clients.models import DiseasePhase, Phase, PhaseTimeline, SelfReport
from sessions.models import ScoreChanges, SessionAmendment, SessionStatus, Setting, TechniqueUse, TreatmentSession

# A change of 2 points on a 0-10 scale is the usual threshold for one that matters to the client.
MEANINGFUL_CHANGE = 2
# Sessions at each end of the range compared as baseline and recent.
COMPARISON_SIZE = 3
# Sessions in the trailing rolling average of the before-scores.
ROLLING_WINDOW = 4
# Groups with fewer sessions than this are flagged: a mean of two or three sessions may be chance.
FEW_SESSIONS = 5

PHASE_ORDER = (Phase.ACUTE_FLARE, Phase.SUBACUTE, Phase.REMISSION)
NO_PHASE_LABEL = "No phase recorded"
_PHASE_LABELS = dict(Phase.choices)
_SETTING_LABELS = dict(Setting.choices)

# Fields an amendment may change that the trends use; later amendments win.
_AMENDED_FIELDS = ("duration_minutes", "setting", "pain_before", "pain_after", "fatigue_before", "fatigue_after")


# --- what a report holds


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
        return phase_label(self.phase)

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
        return phase_label(self.phase)


@dataclass(frozen=True)
class PhaseBand:
    """An MS phase episode clipped to the report's period. Half-open: ``start`` inclusive, ``end`` exclusive."""

    phase: str
    start: dt.date
    end: dt.date
    ongoing: bool  # the episode has not ended (it runs past the period's end or to today)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return phase_label(self.phase)


@dataclass(frozen=True)
class RollingPoint:
    """Mean before-scores of the ROLLING_WINDOW sessions ending with the session ``session_id``."""

    session_id: int
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

    - ``start``/``end``: the range asked for, inclusive dates; None means open on that side.
    - ``period_start``/``period_end``: the days the chart spans (the range, or the data where it is open);
      None when an open range holds no data.
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

    client_id: int
    start: dt.date | None
    end: dt.date | None
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


def phase_label(phase: str | None) -> str:
    return _PHASE_LABELS.get(phase, NO_PHASE_LABEL)


# --- building a report


def trend_report(client, *, start: dt.date | None, end: dt.date | None, signed_only: bool = False) -> TrendReport:
    """Load one client's sessions, phases and self-reports in [start, end] (inclusive dates) and summarise them."""
    sessions_qs = _sessions_in_range(client, start, end, signed_only)
    rows = list(
        sessions_qs.values(
            "id",
            "started_at",
            "status",
            "duration_minutes",
            "setting",
            "pain_before",
            "pain_after",
            "fatigue_before",
            "fatigue_after",
        )
    )
    ids = sessions_qs.values("pk")
    techniques = _technique_names(ids)
    amendments = _amendments(ids)
    reports = list(
        SelfReport.objects.for_client(client)
        .between(start, end)
        .order_by("recorded_on", "pk")
        .values_list("recorded_on", "pain", "fatigue", "note")
    )

    zone = timezone.get_current_timezone()
    for row in rows:
        row["started_at"] = row["started_at"].astimezone(zone)
    days = [row["started_at"].date() for row in rows] + [r[0] for r in reports]
    period_start = start or (min(days) if days else None)
    period_end = end or (max(days) if days else None)
    phases = _phases_for(client, period_start, period_end)
    timeline = PhaseTimeline(phases)

    sessions = tuple(_session_point(row, timeline, techniques, amendments) for row in rows)
    self_reports = tuple(
        SelfReportPoint(date=day, pain=pain, fatigue=fatigue, note=note, phase=_phase_on(timeline, day))
        for day, pain, fatigue, note in reports
    )
    return TrendReport(
        client_id=client.pk,
        start=start,
        end=end,
        signed_only=signed_only,
        period_start=period_start,
        period_end=period_end,
        sessions=sessions,
        self_reports=self_reports,
        phase_bands=phase_bands(phases, period_start, period_end),
        rolling=rolling_averages(sessions),
        comparison=compare_baseline(sessions),
        overall=change_summary("", "All sessions", sessions),
        by_phase=changes_by_phase(sessions),
        by_technique=changes_by_technique(sessions),
        per_month=sessions_per_month(sessions, period_start, period_end),
    )


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _sessions_in_range(client, start, end, signed_only):
    qs = TreatmentSession.objects.for_client(client)
    if signed_only:
        qs = qs.signed()
    if start:
        qs = qs.filter(started_at__gte=_local_midnight(start))
    if end:
        qs = qs.filter(started_at__lt=_local_midnight(end + dt.timedelta(days=1)))
    return qs.order_by("started_at", "pk")


def _technique_names(session_ids) -> dict[int, tuple[str, ...]]:
    names: dict[int, list[str]] = defaultdict(list)
    uses = TechniqueUse.objects.filter(session__in=session_ids).order_by("session_id", "pk")
    for session_id, name in uses.values_list("session_id", "technique__name"):
        if name not in names[session_id]:
            names[session_id].append(name)
    return {session_id: tuple(found) for session_id, found in names.items()}


def _amendments(session_ids) -> dict[int, dict]:
    """The amended value of each changed field per session, oldest amendment first so the latest wins."""
    amended: dict[int, dict] = defaultdict(dict)
    rows = SessionAmendment.objects.filter(session__in=session_ids).order_by("session_id", "created_at", "pk")
    for session_id, changes in rows.values_list("session_id", "changes"):
        for name, change in changes.items():
            if name in _AMENDED_FIELDS:
                amended[session_id][name] = change["to"]
    return amended


def _phases_for(client, period_start, period_end) -> list[DiseasePhase]:
    if period_start is None or period_end is None:
        return []
    episodes = DiseasePhase.objects.for_client(client).overlapping(period_start, period_end + dt.timedelta(days=1))
    # Ordering by started_on alone: the default ordering by client would join the client table.
    return list(episodes.only("phase", "started_on", "ended_on").order_by("started_on"))


def _phase_on(timeline: PhaseTimeline, day: dt.date) -> str | None:
    episode = timeline.phase_on(day)
    return episode.phase if episode else None


def _session_point(row: dict, timeline: PhaseTimeline, techniques, amendments) -> SessionPoint:
    values = {name: row[name] for name in _AMENDED_FIELDS}
    corrections = amendments.get(row["id"], {})
    values.update({name: _as_stored(name, value) for name, value in corrections.items()})
    day = row["started_at"].date()
    return SessionPoint(
        id=row["id"],
        started_at=row["started_at"],
        date=day,
        phase=_phase_on(timeline, day),
        techniques=techniques.get(row["id"], ()),
        signed=row["status"] == SessionStatus.SIGNED,
        amended=bool(corrections),
        **values,
    )


def _as_stored(name: str, value):
    # Amendments keep JSON values; numbers may have been recorded as text.
    if name == "setting" or value is None:
        return value
    return int(value)


# --- the summaries, each a pure function of the session points


def phase_bands(phases: Sequence[DiseasePhase], start: dt.date | None, end: dt.date | None) -> tuple[PhaseBand, ...]:
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
            points.append(RollingPoint(session.id, session.started_at, pain / window, fatigue / window))
    return tuple(points)


def compare_baseline(sessions: Sequence[SessionPoint]) -> Comparison | None:
    size = min(COMPARISON_SIZE, len(sessions) // 2)
    if size == 0:
        return None
    baseline, recent = sessions[:size], sessions[-size:]

    def compare(field: str) -> ScoreComparison:
        return ScoreComparison(
            baseline=statistics.fmean(getattr(s, field) for s in baseline),
            recent=statistics.fmean(getattr(s, field) for s in recent),
        )

    return Comparison(
        size=size,
        baseline_sessions=tuple(s.id for s in baseline),
        recent_sessions=tuple(s.id for s in recent),
        pain=compare("pain_before"),
        fatigue=compare("fatigue_before"),
    )


def change_summary(key: str, label: str, sessions: Sequence[SessionPoint]) -> ChangeSummary:
    complete = [s for s in sessions if s.has_changes]
    return ChangeSummary(
        key=key,
        label=label,
        sessions=len(sessions),
        count=len(complete),
        pain_mean=statistics.fmean(s.pain_change for s in complete) if complete else None,
        fatigue_mean=statistics.fmean(s.fatigue_change for s in complete) if complete else None,
    )


def changes_by_phase(sessions: Sequence[SessionPoint]) -> tuple[ChangeSummary, ...]:
    groups: dict[str | None, list[SessionPoint]] = defaultdict(list)
    for session in sessions:
        groups[session.phase].append(session)
    order = [*PHASE_ORDER, None]
    return tuple(change_summary(phase or "", phase_label(phase), groups[phase]) for phase in order if groups[phase])


def changes_by_technique(sessions: Sequence[SessionPoint]) -> tuple[ChangeSummary, ...]:
    groups: dict[str, list[SessionPoint]] = defaultdict(list)
    for session in sessions:
        for name in session.techniques:
            groups[name].append(session)
    summaries = [change_summary(name, name, used) for name, used in groups.items()]
    return tuple(sorted(summaries, key=lambda s: (-s.sessions, s.label)))


def sessions_per_month(
    sessions: Sequence[SessionPoint], start: dt.date | None, end: dt.date | None
) -> tuple[MonthCount, ...]:
    if start is None or end is None:
        return ()
    counts = Counter(s.date.replace(day=1) for s in sessions)
    month, last = start.replace(day=1), end.replace(day=1)
    months = []
    while month <= last:
        months.append(MonthCount(month=month, sessions=counts[month]))
        month = (month + dt.timedelta(days=32)).replace(day=1)
    return tuple(months)


# --- for the chart


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _day_ms(day: dt.date, hour: int = 0) -> int:
    return _ms(timezone.make_aware(dt.datetime.combine(day, dt.time(hour))))


def _when(session: SessionPoint) -> str:
    return f"{session.started_at:%a %-d %b %Y, %H:%M}"


def chart_data(report: TrendReport) -> dict:
    """Everything trends.js draws, JSON-able. Times are epoch milliseconds; labels are formatted here.

    Keys: ``range`` (x-axis min/max), ``sessions`` (one object per session with all four scores),
    ``self_reports``, ``rolling``, ``bands`` (phase, label, x0, x1), ``baseline`` ({"pain", "fatigue"} means
    or null), ``threshold`` (MEANINGFUL_CHANGE), ``phases`` (value -> label, for the legend).
    """
    comparison = report.comparison
    return {
        "range": {
            "min": _day_ms(report.period_start) if report.period_start else None,
            "max": _day_ms(report.period_end + dt.timedelta(days=1)) if report.period_end else None,
        },
        "sessions": [
            {
                "id": s.id,
                "x": _ms(s.started_at),
                "when": _when(s),
                "pain_before": s.pain_before,
                "pain_after": s.pain_after,
                "fatigue_before": s.fatigue_before,
                "fatigue_after": s.fatigue_after,
                "phase": s.phase,
                "phase_label": s.phase_label,
                "techniques": list(s.techniques),
                "signed": s.signed,
            }
            for s in report.sessions
        ],
        "self_reports": [
            {"x": _day_ms(r.date, hour=12), "when": f"{r.date:%a %-d %b %Y}", "pain": r.pain, "fatigue": r.fatigue}
            for r in report.self_reports
        ],
        "rolling": [
            {"x": _ms(p.started_at), "pain": round(p.pain, 2), "fatigue": round(p.fatigue, 2)} for p in report.rolling
        ],
        "rolling_window": ROLLING_WINDOW,
        "bands": [
            {"phase": b.phase, "label": b.label, "x0": _day_ms(b.start), "x1": _day_ms(b.end)}
            for b in report.phase_bands
        ],
        "baseline": (
            {"pain": round(comparison.pain.baseline, 2), "fatigue": round(comparison.fatigue.baseline, 2)}
            if comparison
            else None
        ),
        "threshold": MEANINGFUL_CHANGE,
        "phases": {phase.value: phase.label for phase in PHASE_ORDER},
    }


# --- the CSV

# Stable names, documented in docs/trends-csv.md. Add new columns at the end only.
CSV_COLUMNS = (
    "date",
    "phase",
    "duration_minutes",
    "setting",
    "techniques",
    "pain_before",
    "pain_after",
    "pain_change",
    "fatigue_before",
    "fatigue_after",
    "fatigue_change",
    "time",
    "status",
    "amended",
    "kind",
    "reported_pain",
    "reported_fatigue",
)


def _blank(value) -> object:
    return "" if value is None else value


def csv_rows(report: TrendReport) -> Iterator[list]:
    """One row per session, then one per self-report (``kind`` tells them apart), each part oldest first."""
    for s in report.sessions:
        yield [
            s.date.isoformat(),
            s.phase or "",
            s.duration_minutes,
            s.setting,
            "; ".join(s.techniques),
            s.pain_before,
            _blank(s.pain_after),
            _blank(s.pain_change),
            s.fatigue_before,
            _blank(s.fatigue_after),
            _blank(s.fatigue_change),
            f"{s.started_at:%H:%M}",
            SessionStatus.SIGNED.value if s.signed else SessionStatus.DRAFT.value,
            "yes" if s.amended else "no",
            "session",
            "",
            "",
        ]
    for r in report.self_reports:
        yield [r.date.isoformat(), r.phase or "", *[""] * 9, "", "", "", "self_report", r.pain, r.fatigue]


# --- the range control

RANGE_CHOICES = [
    ("3m", "Last 3 months"),
    ("1y", "Last year"),
    ("all", "All time"),
    ("custom", "Custom"),
]
DEFAULT_RANGE = "1y"
MIN_YEAR, MAX_YEAR = 1900, 2200


@dataclass(frozen=True)
class TrendRange:
    """The range a report covers: inclusive dates, None meaning open on that side."""

    key: str
    start: dt.date | None
    end: dt.date | None

    @property
    def label(self) -> str:
        if self.key != "custom":
            return dict(RANGE_CHOICES)[self.key]
        if self.start and self.end:
            return f"{self.start:%-d %b %Y} to {self.end:%-d %b %Y}"
        if self.start:
            return f"From {self.start:%-d %b %Y}"
        return f"Up to {self.end:%-d %b %Y}"

    def as_query(self) -> dict[str, str]:
        """GET parameters that select this range again (for the CSV link)."""
        query = {"range": self.key}
        if self.key == "custom":
            query.update(
                start=self.start.isoformat() if self.start else "", end=self.end.isoformat() if self.end else ""
            )
        return query


class TrendRangeForm(forms.Form):
    range = forms.ChoiceField(choices=RANGE_CHOICES, required=False, widget=forms.RadioSelect, label="Show")
    start = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean_start(self) -> dt.date | None:
        return _plausible(self.cleaned_data["start"])

    def clean_end(self) -> dt.date | None:
        return _plausible(self.cleaned_data["end"])

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if data.get("range") == "custom" and "start" not in self.errors and "end" not in self.errors:
            if start is None and end is None:
                self.add_error("start", "Choose a start date, an end date or both for a custom range.")
            elif start and end and start > end:
                self.add_error("end", "The end date must be on or after the start date.")
        return data


def _plausible(day: dt.date | None) -> dt.date | None:
    # Far-off years are typing slips, and date arithmetic at year 9999 would overflow.
    if day is not None and not MIN_YEAR <= day.year <= MAX_YEAR:
        raise forms.ValidationError(f"Choose a date between {MIN_YEAR} and {MAX_YEAR}.")
    return day


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _months_before(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def preset_range(key: str, today: dt.date) -> TrendRange:
    if key == "3m":
        return TrendRange(key, _months_before(today, 3), today)
    if key == "1y":
        return TrendRange(key, _years_before(today, 1), today)
    if key == "all":
        return TrendRange(key, None, None)
    raise ValueError(f"Unknown range {key!r}.")


def resolve_range(params: Mapping[str, str], *, today: dt.date) -> tuple[TrendRangeForm, TrendRange]:
    """The range asked for in GET parameters (range=3m|1y|all|custom, start, end).

    An invalid custom range leaves its errors on the returned form and falls back to DEFAULT_RANGE,
    so the page still shows something and says why.
    """
    data = {key: params.get(key, "") for key in ("range", "start", "end")}
    key = data["range"] if data["range"] in dict(RANGE_CHOICES) else DEFAULT_RANGE
    if key != "custom":
        # Dates only matter to a custom range: stale or garbled ones beside a preset are ignored.
        form = TrendRangeForm({"range": key})
        form.is_valid()
        return form, preset_range(key, today)
    form = TrendRangeForm(data)
    if not form.is_valid():
        return form, preset_range(DEFAULT_RANGE, today)
    return form, TrendRange(key, form.cleaned_data["start"], form.cleaned_data["end"])
