"""A report as CSV rows, for the trend page's download and the portal's (docs/trends-csv.md).

The rows hold plain values; practice.spreadsheets writes them (UTF-8 with a byte-order mark, formula-like
text neutralised).
"""

from collections.abc import Iterator

from sessions.models import SessionStatus
from sessions.trends.report import TrendReport

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


def _blank(value: int | None) -> int | str:
    return "" if value is None else value


def csv_rows(report: TrendReport) -> Iterator[list[object]]:
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
