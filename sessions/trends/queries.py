"""Loading a report: one client's sessions, phases and self-reports in a range, summarised.

Loading costs five queries whatever the number of sessions: sessions, their technique uses,
their amendments, the phases overlapping the range and the client's self-reports.

Sessions are reported as corrected (``sessions.corrections``): corrected scores, technique rows and date and time
(the range, the order, the phase and the time of day follow a corrected date).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from clients.models import Client, DiseasePhase, PhaseTimeline, SelfReport
from practice.dates import local_midnight
from sessions.models import (
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

# The session's own values a report shows; amendments to any of them count, to other fields not.
_REPORTED_FIELDS = (
    "started_at",
    "duration_minutes",
    "setting",
    "pain_before",
    "pain_after",
    "fatigue_before",
    "fatigue_after",
)


def trend_report(
    client: Client, *, start: dt.date | None, end: dt.date | None, signed_only: bool = False
) -> TrendReport:
    """Load one client's sessions, phases and self-reports in [start, end] (inclusive dates) and summarise them.

    None for ``start`` or ``end`` leaves the range open on that side; ``signed_only`` leaves drafts out.
    """
    sessions_qs = _sessions_in_range(client, start, end, signed_only)
    rows = list(sessions_qs.values("id", "status", *_REPORTED_FIELDS))
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

    days = [row["started_at"].date() for row in rows] + [r[0] for r in reports]
    period_start = start or (min(days) if days else None)
    period_end = end or (max(days) if days else None)
    phases = _phases_for(client, period_start, period_end)
    timeline = PhaseTimeline(phases)

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
    rows: list[dict[str, Any]],
    amendments: Mapping[int, Sequence[Mapping[str, Any]]],
    techniques: Mapping[int, tuple[str, ...]],
    start: dt.date | None,
    end: dt.date | None,
) -> list[dict[str, Any]]:
    """Each row with its corrections applied (techniques named), in the range by its corrected day, in order."""
    zone = timezone.get_current_timezone()
    result = []
    for row in rows:
        values = {name: row[name] for name in _REPORTED_FIELDS}
        values[TECHNIQUE_USES] = None
        values, amended = apply_amendments(values, amendments.get(row["id"], ()))
        corrected_uses = values.pop(TECHNIQUE_USES)
        values["started_at"] = values["started_at"].astimezone(zone)
        day = values["started_at"].date()
        if (start and day < start) or (end and day > end):
            continue
        names = (
            techniques.get(row["id"], ())
            if corrected_uses is None
            else tuple(dict.fromkeys(use["technique_name"] for use in corrected_uses))
        )
        result.append({**row, **values, "amended": amended, "techniques": names})
    result.sort(key=lambda row: (row["started_at"], row["id"]))
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


def _session_point(row: Mapping[str, Any], timeline: PhaseTimeline) -> SessionPoint:
    day = row["started_at"].date()
    return SessionPoint(
        id=row["id"],
        date=day,
        phase=_phase_on(timeline, day),
        signed=row["status"] == SessionStatus.SIGNED,
        **{name: row[name] for name in (*_REPORTED_FIELDS, "amended", "techniques")},
    )
