"""The trend CSV, for the trend page's download and the portal's (docs/trends-csv.md).

``csv_rows(report)`` gives a loaded report's rows as plain values, for practice.spreadsheets to write.
``trend_csv_bytes(client, ...)`` and ``all_time_csv_bytes(...)`` write the same file, byte for byte, straight
from the rows the report's queries read (``sessions.trends.queries``): no summaries, one pass over the rows.
Both keep practice.spreadsheets' format: UTF-8 with a byte-order mark, CRLF, formula-like text neutralised.
"""

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from clients.models import Client, DiseasePhase, PhaseTimeline, SelfReport
from practice.spreadsheets import spreadsheet_safe
from sessions.models import SessionStatus
from sessions.trends.queries import (
    _COLUMNS,
    _STARTED_AT,
    _amendments,
    _as_corrected,
    _period,
    _phases_for,
    _sessions_in_range,
    _technique_names,
)
from sessions.trends.report import TrendReport

# A session row as ``all_time_csv_bytes`` takes it: these columns first, in this order (further ones are ignored).
SESSION_ROW_COLUMNS = _COLUMNS

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
    "score",
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
            "",
        ]
    for r in report.self_reports:
        yield [r.date.isoformat(), r.phase or "", *[""] * 9, "", "", "", "self_report", r.pain, r.fatigue, ""]


def trend_csv_bytes(client: Client, *, start: dt.date | None, end: dt.date | None, signed_only: bool = False) -> bytes:
    """The CSV of ``trend_report(client, start=..., end=..., signed_only=...)``, in the same five queries."""
    sessions = _sessions_in_range(client, start, end, signed_only)
    ids = sessions.values("pk")
    rows = list(sessions.values_list(*_COLUMNS))
    rows = _as_corrected(rows, _amendments(ids), _technique_names(ids), start, end)
    reports = list(
        SelfReport.objects.for_client(client)
        .between(start, end)
        .order_by("recorded_on", "pk")
        .values_list("recorded_on", "pain", "fatigue")
    )
    period_start, period_end = _period(rows, reports, start, end)
    return _written(rows, reports, _phases_for(client, period_start, period_end))


def all_time_csv_bytes(
    sessions: Iterable[Sequence[Any]],
    *,
    techniques: Mapping[int, tuple[str, ...]],
    amendments: Mapping[int, Sequence[Mapping[str, Any]]],
    self_reports: Iterable[tuple[Any, ...]],
    phases: Sequence[DiseasePhase],
) -> bytes:
    """The CSV of ``all_time_report`` (signed sessions, all time) from rows a caller has read, with no query.

    ``sessions`` are rows starting with the columns ``queries._COLUMNS`` names, in any order; ``techniques``
    the technique names by session id, each once in the order first used; ``amendments`` their ``changes``
    by session id, oldest first; ``self_reports`` (day, pain, fatigue, ...) oldest first; ``phases`` the client's.
    """
    width = len(_COLUMNS)
    rows = sorted((tuple(row[:width]) for row in sessions), key=lambda row: (row[_STARTED_AT], row[0]))
    return _written(_as_corrected(rows, amendments, techniques, None, None), list(self_reports), phases)


def _written(
    rows: Iterable[tuple[Any, ...]], reports: Iterable[tuple[Any, ...]], phases: Sequence[DiseasePhase]
) -> bytes:
    """Corrected rows (``queries._as_corrected``) and self-reports (day, pain, fatigue, ...) as the CSV file.

    The cells are what ``csv_rows`` gives; csv writes None as an empty cell. Only text can read as a formula, so
    only the text cells (phase, setting, techniques) are neutralised, each distinct value once.
    """
    timeline = PhaseTimeline(list(phases))
    safe: dict[Any, Any] = {}

    def cell(value: Any) -> Any:
        if value not in safe:
            safe[value] = spreadsheet_safe("; ".join(value) if isinstance(value, tuple) else value or "")
        return safe[value]

    def phase_on(day: dt.date) -> Any:
        episode = timeline.phase_on(day)
        return cell(episode.phase if episode else None)

    signed, draft = SessionStatus.SIGNED.value, SessionStatus.DRAFT.value
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    write = writer.writerow
    for row in rows:
        _id, status, started_at, duration, setting, pain_before, pain_after, fatigue_before, fatigue_after = row[:9]
        day = started_at.date()
        write(
            (
                day.isoformat(),
                phase_on(day),
                duration,
                cell(setting),
                cell(row[10]),
                pain_before,
                pain_after,
                None if pain_after is None else pain_after - pain_before,
                fatigue_before,
                fatigue_after,
                None if fatigue_after is None else fatigue_after - fatigue_before,
                f"{started_at.hour:02d}:{started_at.minute:02d}",
                signed if status == SessionStatus.SIGNED else draft,
                "yes" if row[9] else "no",
                "session",
                None,
                None,
                None,
            )
        )
    blank = (None,) * 12
    for day, pain, fatigue, *_rest in reports:
        write((day.isoformat(), phase_on(day), *blank, "self_report", pain, fatigue, None))
    return buffer.getvalue().encode("utf-8-sig")
