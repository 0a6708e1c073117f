"""The chart's data: a report as the JSON-able dict that static/js/trends.js draws."""

import datetime as dt
from typing import Any

from clients.models import phase_label
from practice.dates import local_midnight
from sessions.trends.report import MEANINGFUL_CHANGE, PHASE_ORDER, ROLLING_WINDOW, SessionPoint, TrendReport


def _ms(moment: dt.datetime) -> int:
    return int(moment.timestamp() * 1000)


def _day_ms(day: dt.date, hour: int = 0) -> int:
    # Aware arithmetic is wall-clock time: midnight plus 12 hours is noon, on a day the clocks change too.
    return _ms(local_midnight(day) + dt.timedelta(hours=hour))


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _when(session: SessionPoint) -> str:
    # "%a %-d %b %Y, %H:%M" in English as the page, without strftime: it is most of the cost of a point.
    at = session.started_at
    return f"{_DAYS[at.weekday()]} {at.day} {_MONTHS[at.month - 1]} {at.year}, {at.hour:02}:{at.minute:02}"


def chart_data(report: TrendReport) -> dict[str, Any]:
    """Everything trends.js draws, JSON-able. Times are epoch milliseconds; labels are formatted here.

    Keys: ``range`` (x-axis min/max), ``sessions`` (one object per session with all four scores),
    ``self_reports``, ``rolling``, ``rolling_window``, ``bands`` (phase, label, x0, x1), ``baseline``
    ({"pain", "fatigue"} means or null), ``threshold`` (MEANINGFUL_CHANGE), ``phases`` (value -> label,
    for the legend and the points), ``no_phase`` (the label of a point without a phase), ``technique_names``
    (a session's ``techniques`` are positions in it).
    """
    comparison = report.comparison
    # Each technique's name once: a point refers to them by position (ten years repeat a few names 1,000 times).
    technique_names: dict[str, int] = {}
    for session in report.sessions:
        for name in session.techniques:
            technique_names.setdefault(name, len(technique_names))
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
                "phase": s.phase,  # its label is in "phases" (a missing one: "no_phase")
                "techniques": [technique_names[name] for name in s.techniques],
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
        "no_phase": phase_label(None),
        "technique_names": list(technique_names),
    }
