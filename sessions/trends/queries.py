"""Loading a report: one client's sessions, phases and self-reports in a range, summarised.

Loading costs five queries whatever the number of sessions: sessions, their technique uses,
their amendments, the phases overlapping the range and the client's self-reports.

Sessions are reported as corrected (``sessions.corrections``): corrected scores, technique rows and date and time
(the range, the order, the phase and the time of day follow a corrected date).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from clients.models import Client, DiseasePhase, PhaseTimeline, SelfReport
from practice.dates import local_midnight
from sessions.models import (
    REPORTED_FIELDS,
    TECHNIQUE_USES,
    SessionAmendment,
    SessionStatus,
    TechniqueUse,
    TreatmentSession,
    apply_amendments,
)
from sessions.trends.report import SelfReportPoint, SessionPoint, TrendReport
from sessions.trends.statistics import (
    change_summary,
    changes_by_phase,
    changes_by_technique,
    compare_baseline,
    phase_bands,
    rolling_averages,
    sessions_per_month,
)

_COLUMNS = ("id", "status", *REPORTED_FIELDS)
_STARTED_AT = _COLUMNS.index("started_at")


def trend_report(
    client: Client, *, start: dt.date | None, end: dt.date | None, signed_only: bool = False
) -> TrendReport:
    """Load one client's sessions, phases and self-reports in [start, end] (inclusive dates) and summarise them.

    None for ``start`` or ``end`` leaves the range open on that side; ``signed_only`` leaves drafts out.
    """
    sessions_qs = _sessions_in_range(client, start, end, signed_only)
    # Tuples, not dicts: one pass per row, whatever the number of sessions.
    rows = list(sessions_qs.values_list(*_COLUMNS))
    ids = sessions_qs.values("pk")
    techniques = _technique_names(ids)
    amendments = _amendments(ids)
    rows = _as_corrected(rows, amendments, techniques, start, end)
    reports = list(
        SelfReport.objects.for_client(client)
        .between(start, end)
        .order_by("recorded_on", "pk")
        .values_list("recorded_on", "pain", "fatigue", "note")
    )

    period_start, period_end = _period(rows, reports, start, end)
    phases = _phases_for(client, period_start, period_end)
    return _summarised(rows, reports, phases, period_start, period_end, signed_only)


def all_time_report(
    sessions: Iterable[TreatmentSession],
    *,
    technique_uses: Mapping[int, Sequence[TechniqueUse]],
    amendments: Mapping[int, Sequence[Mapping[str, Any]]],
    self_reports: Iterable[SelfReport],
    phases: Sequence[DiseasePhase],
) -> TrendReport:
    """The all-time, signed-only report of what a caller has loaded already, with no query of its own.

    ``sessions`` are the client's signed sessions (any order); ``technique_uses`` their rows by session id, in
    the order stored (with ``technique`` loaded); ``amendments`` their ``changes`` by session id, oldest first;
    ``self_reports`` and ``phases`` all of the client's. The portal's "My data" reads each table once with it.
    """
    rows = [tuple(getattr(session, name) for name in _COLUMNS) for session in sessions]
    rows.sort(key=lambda row: (row[_STARTED_AT], row[0]))
    techniques = {
        session_id: tuple(dict.fromkeys(use.technique.name for use in uses))
        for session_id, uses in technique_uses.items()
    }
    rows = _as_corrected(rows, amendments, techniques, None, None)
    ordered = sorted(self_reports, key=lambda r: (r.recorded_on, r.pk))
    report_rows = [(r.recorded_on, r.pain, r.fatigue, r.note) for r in ordered]
    period_start, period_end = _period(rows, report_rows, None, None)
    return _summarised(rows, report_rows, phases, period_start, period_end, signed_only=True)


def _period(
    rows: Sequence[tuple[Any, ...]], reports: Sequence[tuple[Any, ...]], start: dt.date | None, end: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """The days a report spans: the range asked for, or the data's where it is open."""
    days = [row[_STARTED_AT].date() for row in rows] + [r[0] for r in reports]
    return start or (min(days) if days else None), end or (max(days) if days else None)


def _summarised(
    rows: Sequence[tuple[Any, ...]],
    reports: Sequence[tuple[Any, ...]],
    phases: Sequence[DiseasePhase],
    period_start: dt.date | None,
    period_end: dt.date | None,
    signed_only: bool,
) -> TrendReport:
    """The report of corrected rows (``_as_corrected``) and self-reports (day, pain, fatigue, note)."""
    timeline = PhaseTimeline(list(phases))

    sessions = tuple(_session_point(row, timeline) for row in rows)
    self_reports = tuple(
        SelfReportPoint(date=day, pain=pain, fatigue=fatigue, note=note, phase=_phase_on(timeline, day))
        for day, pain, fatigue, note in reports
    )
    return TrendReport(
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


def _sessions_in_range(
    client: Client, start: dt.date | None, end: dt.date | None, signed_only: bool
) -> QuerySet[TreatmentSession]:
    """Sessions signed in the range, and any whose date was corrected (``_as_corrected`` keeps those in range)."""
    qs = TreatmentSession.objects.for_client(client)
    if signed_only:
        qs = qs.signed()
    in_range = Q()
    if start:
        in_range &= Q(started_at__gte=local_midnight(start))
    if end:
        in_range &= Q(started_at__lt=local_midnight(end + dt.timedelta(days=1)))
    if start or end:
        moved = SessionAmendment.objects.filter(session__client=client, changes__has_key="started_at")
        qs = qs.filter(in_range | Q(pk__in=moved.values("session_id")))
    return qs.order_by("started_at", "pk")


def _as_corrected(
    rows: list[tuple[Any, ...]],
    amendments: Mapping[int, Sequence[Mapping[str, Any]]],
    techniques: Mapping[int, tuple[str, ...]],
    start: dt.date | None,
    end: dt.date | None,
) -> list[tuple[Any, ...]]:
    """Each row with its corrections applied (techniques named), in the range by its corrected day, in order.

    A row stays a tuple of ``_COLUMNS`` plus ``amended`` and ``techniques``; only an amended row is unpacked.
    """
    zone = timezone.get_current_timezone()
    result = []
    moved = False
    for row in rows:
        session_id = row[0]
        changes = amendments.get(session_id)
        names = techniques.get(session_id, ())
        amended = False
        if changes:
            values = dict(zip(REPORTED_FIELDS, row[2:], strict=True))
            values[TECHNIQUE_USES] = None
            values, amended = apply_amendments(values, changes)
            corrected_uses = values.pop(TECHNIQUE_USES)
            if corrected_uses is not None:
                names = tuple(dict.fromkeys(use["technique_name"] for use in corrected_uses))
            moved = moved or values["started_at"] != row[_STARTED_AT]
            row = (session_id, row[1], *(values[name] for name in REPORTED_FIELDS))
        started_at = row[_STARTED_AT].astimezone(zone)
        day = started_at.date()
        if (start and day < start) or (end and day > end):
            continue
        result.append((*row[:_STARTED_AT], started_at, *row[_STARTED_AT + 1 :], amended, names))
    if moved:  # a corrected date may change the order; the query's order holds otherwise
        result.sort(key=lambda row: (row[_STARTED_AT], row[0]))
    return result


def _technique_names(session_ids: QuerySet) -> dict[int, tuple[str, ...]]:
    """Technique names per session, each once, in the order first used."""
    names: dict[int, list[str]] = defaultdict(list)
    uses = TechniqueUse.objects.filter(session__in=session_ids).order_by("session_id", "pk")
    for session_id, name in uses.values_list("session_id", "technique__name"):
        if name not in names[session_id]:
            names[session_id].append(name)
    return {session_id: tuple(found) for session_id, found in names.items()}


def _amendments(session_ids: QuerySet) -> dict[int, list[dict[str, Any]]]:
    """Each session's amendments (their ``changes``), oldest first, as apply_amendments takes them."""
    amendments: dict[int, list[dict[str, Any]]] = defaultdict(list)
    rows = SessionAmendment.objects.filter(session__in=session_ids).order_by("session_id", "created_at", "pk")
    for session_id, changes in rows.values_list("session_id", "changes"):
        amendments[session_id].append(changes)
    return amendments


def _phases_for(client: Client, period_start: dt.date | None, period_end: dt.date | None) -> list[DiseasePhase]:
    if period_start is None or period_end is None:
        return []
    episodes = DiseasePhase.objects.for_client(client).overlapping(period_start, period_end + dt.timedelta(days=1))
    # Ordering by started_on alone: the default ordering by client would join the client table.
    return list(episodes.only("phase", "started_on", "ended_on").order_by("started_on"))


def _phase_on(timeline: PhaseTimeline, day: dt.date) -> str | None:
    episode = timeline.phase_on(day)
    return episode.phase if episode else None


def _session_point(row: tuple[Any, ...], timeline: PhaseTimeline) -> SessionPoint:
    session_id, status, started_at, duration, setting, pain_before, pain_after, fatigue_before, fatigue_after = row[:9]
    day = started_at.date()
    return SessionPoint(
        id=session_id,
        date=day,
        phase=_phase_on(timeline, day),
        signed=status == SessionStatus.SIGNED,
        started_at=started_at,
        duration_minutes=duration,
        setting=setting,
        pain_before=pain_before,
        pain_after=pain_after,
        fatigue_before=fatigue_before,
        fatigue_after=fatigue_after,
        amended=row[9],
        techniques=row[10],
    )
