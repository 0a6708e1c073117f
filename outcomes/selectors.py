"""Reading the outcomes report from the stored visits: courses, their summaries, techniques, therapists.

The courses are one SQL statement whose cost follows the candidates it probes, not the practice's history:
a course starts where a run starts (visit_client_run_start_idx) or at the first visit on or after the start
date (visit_day_covering_idx, at most 14 days of visits), and its follow-up is found by (client, run, ordinal)
(visit_run_ordinal_unique).

Each read costs a fixed number of queries whatever the size of the practice: the courses one, the techniques
two (with the technique names), the therapists four. The page's whole count, pinned in
tests/outcomes/test_report_views.py, adds the session and the user, the audit event, the filter form's
therapist list and the questionnaires' pairing (outcomes.questionnaires).
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, NamedTuple

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from clients.models import MSType, Phase, phase_label
from outcomes.courses import MEANINGFUL_CHANGE, RUN_GAP_DAYS
from outcomes.models import week_of, week_start
from outcomes.statistics import Interval, interval_from_sums, mean, mean_interval, sample_sd, wilson_interval
from practice.dates import local_midnight
from sessions.drafts import overdue_before
from sessions.models import Technique, TreatmentSession

# Technique rows with fewer sessions than this are marked as few.
FEW_SESSIONS = 20
# Open ends of a date range, as dates every database compares.
OPEN_START, OPEN_END = dt.date(1, 1, 1), dt.date(9999, 12, 31)
MEASURES = ("pain", "fatigue")
MS_TYPE_ORDER = [value for value in MSType.values]
PHASE_ORDER = [*Phase.values, ""]


@dataclass(frozen=True)
class Filters:
    start: dt.date | None
    end: dt.date | None
    treatments: int
    ms_type: str = ""
    phase: str = ""
    therapist: int | None = None

    @property
    def first_day(self) -> dt.date:
        return self.start or OPEN_START

    @property
    def last_day(self) -> dt.date:
        return self.end or OPEN_END

    def describe(self) -> str:
        """The filters in a few characters, for the audit trail (ids and codes only)."""
        parts = [f"{self.start or '*'}..{self.end or '*'}", f"n{self.treatments}"]
        parts += [f"{key}={value}" for key, value in (("ms", self.ms_type), ("ph", self.phase)) if value]
        if self.therapist is not None:
            parts.append(f"th={self.therapist}")
        return " ".join(parts)[:64]


class CourseRow(NamedTuple):
    """One client's course. A named tuple, not a dataclass: the report builds one per client (ten thousand at
    full size), and a frozen dataclass's __init__ cost a twentieth of the page's time."""

    client_id: int
    therapist_id: int
    course_start: dt.date
    follow_up_on: dt.date
    phase_at_start: str
    ms_type: str
    pain_baseline: int
    pain_follow_up: int
    fatigue_baseline: int
    fatigue_follow_up: int
    immediate_pain_change: float
    immediate_fatigue_change: float

    @property
    def pain_change(self) -> int:
        return self.pain_follow_up - self.pain_baseline

    @property
    def fatigue_change(self) -> int:
        return self.fatigue_follow_up - self.fatigue_baseline

    def change(self, measure: str) -> int:
        return self.pain_change if measure == "pain" else self.fatigue_change

    def baseline(self, measure: str) -> int:
        return self.pain_baseline if measure == "pain" else self.fatigue_baseline

    def follow_up(self, measure: str) -> int:
        return self.pain_follow_up if measure == "pain" else self.fatigue_follow_up

    def immediate(self, measure: str) -> float:
        return self.immediate_pain_change if measure == "pain" else self.immediate_fatigue_change


@dataclass(frozen=True)
class MeasureSummary:
    measure: str
    clients: int
    baseline_mean: float | None
    baseline_sd: float | None
    follow_up_mean: float | None
    follow_up_sd: float | None
    mean_change: float | None
    change_ci: Interval | None
    improved: int
    improved_share: float | None
    improved_ci: Interval | None
    worsened: int
    worsened_share: float | None
    immediate_change: float | None


@dataclass(frozen=True)
class GroupSummary:
    key: str
    label: str
    pain: MeasureSummary
    fatigue: MeasureSummary


@dataclass(frozen=True)
class TechniqueRow:
    technique_id: int
    technique: str
    phase: str
    sessions: int
    clients: int
    pain_mean: float | None
    pain_ci: Interval | None
    fatigue_mean: float | None
    fatigue_ci: Interval | None

    @property
    def few(self) -> bool:
        return self.sessions < FEW_SESSIONS

    @property
    def phase_label(self) -> str:
        return phase_label(self.phase)


@dataclass(frozen=True)
class TherapistRow:
    therapist_id: int
    name: str
    sessions: int
    overrides: int
    overdue_drafts: int

    @property
    def override_share(self) -> float | None:
        return self.overrides / self.sessions if self.sessions else None


def summarise(measure: str, courses: Sequence[CourseRow]) -> MeasureSummary:
    """The summary of one measure over courses (pure: tests give it hand-built rows)."""
    n = len(courses)
    # Plain attribute reads: this runs for every group of the page over up to one course per client.
    baselines: list[int] = list(map(attrgetter(f"{measure}_baseline"), courses))
    follow_ups: list[int] = list(map(attrgetter(f"{measure}_follow_up"), courses))
    changes = [after - before for before, after in zip(baselines, follow_ups, strict=True)]
    improved = sum(1 for change in changes if change <= -MEANINGFUL_CHANGE)
    worsened = sum(1 for change in changes if change >= MEANINGFUL_CHANGE)
    return MeasureSummary(
        measure=measure,
        clients=n,
        baseline_mean=mean(baselines),
        baseline_sd=sample_sd(baselines),
        follow_up_mean=mean(follow_ups),
        follow_up_sd=sample_sd(follow_ups),
        mean_change=mean(changes),
        change_ci=mean_interval(changes),
        improved=improved,
        improved_share=improved / n if n else None,
        improved_ci=wilson_interval(improved, n),
        worsened=worsened,
        worsened_share=worsened / n if n else None,
        immediate_change=mean(list(map(attrgetter(f"immediate_{measure}_change"), courses))),
    )


def group_summary(key: str, label: str, courses: Sequence[CourseRow]) -> GroupSummary:
    return GroupSummary(key, label, summarise("pain", courses), summarise("fatigue", courses))


def by_phase(courses: Sequence[CourseRow]) -> list[GroupSummary]:
    groups: dict[str, list[CourseRow]] = defaultdict(list)
    for course in courses:
        groups[course.phase_at_start].append(course)
    return [group_summary(key, phase_label(key), groups[key]) for key in PHASE_ORDER if groups[key]]


def by_ms_type(courses: Sequence[CourseRow]) -> list[GroupSummary]:
    groups: dict[str, list[CourseRow]] = defaultdict(list)
    for course in courses:
        groups[course.ms_type].append(course)
    labels = dict(MSType.choices)
    return [group_summary(key, str(labels[key]), groups[key]) for key in MS_TYPE_ORDER if groups[key]]


_COURSES_SQL = """
WITH boundary AS (
    SELECT client_id, run, ordinal FROM outcomes_visit
    WHERE prev_day < %s AND day >= %s AND day < %s AND day <= %s AND run_length - ordinal >= %s
), k AS (
    SELECT client_id, run, ordinal, ordinal + CAST(%s AS INTEGER) AS follow_up FROM boundary
    UNION ALL
    SELECT client_id, run, 1, CAST(1 + %s AS INTEGER) FROM (
        SELECT c.id AS client_id, (
            SELECT r.run FROM outcomes_visit r
            WHERE r.client_id = c.id AND r.prev_day IS NULL AND r.day >= %s AND r.day <= %s AND r.run_length >= %s
            ORDER BY r.day LIMIT 1
        ) AS run
        FROM clients_client c
        WHERE NOT EXISTS (SELECT 1 FROM boundary b WHERE b.client_id = c.id){client_filter}
        {no_pushdown}
    ) firsts
    WHERE run IS NOT NULL
)
SELECT k.client_id, v.therapist_id, v.day, f.day, v.phase, c.ms_type,
       v.pain_before, f.pain_before, v.fatigue_before, f.fatigue_before,
       f.pain_change_sum - v.pain_change_sum, f.fatigue_change_sum - v.fatigue_change_sum{paired_columns}
FROM (SELECT * FROM k ORDER BY client_id {no_pushdown}) k
JOIN outcomes_visit v ON v.client_id = k.client_id AND v.run = k.run AND v.ordinal = k.ordinal
JOIN outcomes_visit f ON f.client_id = k.client_id AND f.run = k.run AND f.ordinal = k.follow_up
JOIN clients_client c ON c.id = k.client_id
WHERE f.day <= %s{filters}
ORDER BY k.client_id
"""


def courses_query(filters: Filters, *, paired: bool = False) -> tuple[str, list[Any]]:
    """The one SQL statement (and its parameters) that reads the courses (the benchmark's raw fetch too).

    ``paired``: each row ends with the stored questionnaire of visit 1 and of the follow-up (id and score after
    corrections, or nulls), for outcomes.questionnaires.

    A client's course starts at their first candidate: the first visit on or after the start date of a run
    that began before it (``boundary``: such a visit follows one before the start by at most RUN_GAP_DAYS
    days, so it lies in the range's first days), else the first run starting in the range that holds N + 1
    visits (one index probe per client, visit_client_run_start_idx). When that candidate's follow-up falls
    after the end date every later one's does too, so the first candidate decides.
    """
    first, last, n = filters.first_day, filters.last_day, filters.treatments
    boundary_end = first + dt.timedelta(days=RUN_GAP_DAYS + 1)
    params: list[Any] = [first, first, boundary_end, last, n, n, n, first, last, n + 1]
    client_filter = ""
    if filters.ms_type:
        client_filter = " AND c.ms_type = %s"
        params.append(filters.ms_type)
    params.append(last)
    clauses = []
    if filters.ms_type:
        clauses.append("c.ms_type = %s")
        params.append(filters.ms_type)
    if filters.phase:
        clauses.append("v.phase = %s")
        params.append("" if filters.phase == "none" else filters.phase)
    if filters.therapist is not None:
        clauses.append("v.therapist_id = %s")
        params.append(filters.therapist)
    sql = _COURSES_SQL.format(
        paired_columns=(
            ", v.questionnaire_id, v.questionnaire_score, f.questionnaire_id, f.questionnaire_score" if paired else ""
        ),
        client_filter=client_filter,
        filters="".join(f" AND {clause}" for clause in clauses),
        # Keeps "run IS NOT NULL" outside, so each client's probe runs once, not again for the filter; and the
        # candidates in client order, so the probes below walk visit_run_ordinal_unique in its own order.
        no_pushdown="OFFSET 0" if connection.vendor == "postgresql" else "LIMIT -1 OFFSET 0",
    )
    return sql, params


def courses(filters: Filters) -> list[CourseRow]:
    """Every client's course in the filters' range (their earliest), kept if it matches the other filters.

    A course starts at the first visit of its run on or after the start date: where a run starts inside
    the range, or the first visit after the start date of a run that began before it.
    """
    sql, params = courses_query(filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return course_rows(cursor.fetchall(), filters.treatments)


def course_rows(rows: Iterable[Sequence[Any]], n: int) -> list[CourseRow]:
    """The courses of rows that :func:`courses_query` read (further columns are ignored)."""
    # By position, in CourseRow's field order: ten thousand rows at full size, where keywords cost a tenth more.
    return [
        CourseRow(
            row[0],  # client_id
            row[1],  # therapist_id
            _date(row[2]),  # course_start
            _date(row[3]),  # follow_up_on
            row[4],  # phase_at_start
            row[5],  # ms_type
            row[6],  # pain_baseline
            row[7],  # pain_follow_up
            row[8],  # fatigue_baseline
            row[9],  # fatigue_follow_up
            row[10] / n,  # immediate_pain_change
            row[11] / n,  # immediate_fatigue_change
        )
        for row in rows
    ]


_TECHNIQUES_SQL = """
WITH edge AS (
    SELECT technique_id, phase, client_id, pain_change, fatigue_change FROM outcomes_visittechnique
    WHERE ({edges}){row_filters}
), sums AS (
    SELECT technique_id, phase, SUM(n) AS n, SUM(p) AS p, SUM(pp) AS pp, SUM(f) AS f, SUM(ff) AS ff FROM (
        SELECT technique_id, phase, sessions AS n, pain_sum AS p, pain_squares AS pp,
               fatigue_sum AS f, fatigue_squares AS ff
        FROM outcomes_techniqueweek WHERE week >= %s AND week <= %s{row_filters}
        UNION ALL
        SELECT technique_id, phase, 1, pain_change, pain_change * pain_change,
               fatigue_change, fatigue_change * fatigue_change
        FROM edge
    ) x GROUP BY technique_id, phase
), people AS (
    SELECT technique_id, phase, COUNT(DISTINCT client_id) AS clients FROM (
        SELECT technique_id, phase, client_id FROM (
            SELECT technique_id, phase, client_id FROM outcomes_techniqueclient
            WHERE first_week >= %s AND first_week <= %s{row_filters}
            UNION ALL
            SELECT technique_id, phase, client_id FROM outcomes_techniqueclient
            WHERE last_week >= %s AND last_week <= %s AND first_week < %s{row_filters}
            UNION ALL
            SELECT technique_id, phase, client_id FROM outcomes_techniqueclient
            WHERE last_week > %s AND first_week < %s{row_filters}
              AND {find}(substr(weeks, %s - first_week + 1, %s), '1') > 0
            UNION ALL
            SELECT technique_id, phase, client_id FROM edge
        ) y
    ) z GROUP BY technique_id, phase
)
SELECT s.technique_id, s.phase, s.n, p.clients, s.p, s.pp, s.f, s.ff
FROM sums s JOIN people p ON p.technique_id = s.technique_id AND p.phase = s.phase
"""


def whole_weeks(first: dt.date, last: dt.date) -> tuple[int, int, list[tuple[dt.date, dt.date]]]:
    """The whole weeks inside [first, last] (the first and last week; none when the first is after the last)
    and the days around them, as date ranges."""
    first_week = week_of(first) if first.weekday() == 0 else week_of(first) + 1
    last_week = week_of(last) if last.weekday() == 6 else week_of(last) - 1
    if first_week > last_week:
        return first_week, last_week, [(first, last)]
    edges = []
    if first.weekday() != 0:
        edges.append((first, week_start(first_week) - dt.timedelta(days=1)))
    if last.weekday() != 6:
        edges.append((week_start(last_week + 1), last))
    return first_week, last_week, edges


def techniques_query(filters: Filters) -> tuple[str, list[Any]]:
    """The SQL statement (and its parameters) that reads the techniques table.

    Whole weeks of the range come from the weekly cells (sums) and the clients' week strings (who); the few
    days at the range's edges from the technique rows themselves. A client is counted once per technique and
    phase however many of its parts (weeks, edges, therapists) they appear in: COUNT(DISTINCT).
    """
    first_week, last_week, edges = whole_weeks(filters.first_day, filters.last_day)
    clauses: list[str] = []
    filter_params: list[Any] = []
    if filters.ms_type:
        clauses.append("ms_type = %s")
        filter_params.append(filters.ms_type)
    if filters.phase:
        clauses.append("phase = %s")
        filter_params.append("" if filters.phase == "none" else filters.phase)
    if filters.therapist is not None:
        clauses.append("therapist_id = %s")
        filter_params.append(filters.therapist)
    edge_sql = " OR ".join(["(day >= %s AND day <= %s)"] * len(edges)) or "1 = 0"
    edge_params = [day for edge in edges for day in edge]
    # With no whole week, the week parts match nothing (and substr is never given a negative length).
    weeks_wanted = first_week <= last_week
    low, high = (first_week, last_week) if weeks_wanted else (1, 0)
    span = max(high - low + 1, 1)
    params: list[Any] = [*edge_params, *filter_params]
    params += [low, high, *filter_params]
    # Keys whose first week is in the range, else whose last week is, else that span it and have a week inside.
    params += [low, high, *filter_params]
    params += [low, high, low, *filter_params]
    params += [high, low, *filter_params, low, span]
    sql = _TECHNIQUES_SQL.format(
        edges=edge_sql,
        row_filters="".join(f" AND {clause}" for clause in clauses),
        find="strpos" if connection.vendor == "postgresql" else "instr",
    )
    return sql, params


def techniques(filters: Filters) -> list[TechniqueRow]:
    """Per technique and phase on the session's date: sessions, clients, mean immediate changes with 95% CIs."""
    sql, params = techniques_query(filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    names = dict(Technique.objects.values_list("pk", "name"))
    result = []
    for technique_id, phase, sessions, clients, pain, pain_sq, fatigue, fatigue_sq in rows:
        pain_mean, pain_ci = interval_from_sums(sessions, int(pain), int(pain_sq))
        fatigue_mean, fatigue_ci = interval_from_sums(sessions, int(fatigue), int(fatigue_sq))
        result.append(
            TechniqueRow(
                technique_id,
                names.get(technique_id, "?"),
                phase,
                sessions,
                clients,
                pain_mean,
                pain_ci,
                fatigue_mean,
                fatigue_ci,
            )
        )
    phase_rank = {phase: index for index, phase in enumerate(PHASE_ORDER)}
    return sorted(result, key=lambda r: (r.technique.lower(), phase_rank.get(r.phase, 99)))


def therapists(filters: Filters, *, now: dt.datetime | None = None) -> list[TherapistRow]:
    """Per therapist in the range: sessions (signed, by amended date, and drafts), sessions saved over a safety
    stop (with an override reason of their own or one a correction was saved with, each once), overdue drafts."""
    now = now or timezone.now()
    signed = signed_visits_by_therapist(filters)
    sessions = TreatmentSession.objects.order_by()
    if filters.start:
        sessions = sessions.filter(started_at__gte=local_midnight(filters.start))
    if filters.end:
        sessions = sessions.filter(started_at__lt=local_midnight(filters.end + dt.timedelta(days=1)))
    if filters.therapist is not None:
        sessions = sessions.filter(therapist_id=filters.therapist)
    drafts = {
        row["therapist_id"]: row
        for row in sessions.drafts()
        .values("therapist_id")
        .annotate(
            count=Count("pk"), overdue=Count("pk", filter=Q(started_at__lt=overdue_before(timezone.localdate(now))))
        )
    }
    # Placed by the session's stored date (a correction may have moved a signed one: see docs/outcomes-csv.md).
    overrides = dict(
        sessions.saved_over_stop()
        .values("therapist_id")
        .annotate(count=Count("pk"))
        .values_list("therapist_id", "count")
    )
    ids = set(signed) | set(drafts) | set(overrides)
    users = {user.pk: user.get_full_name() or user.username for user in User.objects.filter(pk__in=ids)}
    rows = [
        TherapistRow(
            therapist_id=pk,
            name=users.get(pk, f"#{pk}"),
            sessions=signed.get(pk, 0) + (drafts[pk]["count"] if pk in drafts else 0),
            overrides=overrides.get(pk, 0),
            overdue_drafts=drafts[pk]["overdue"] if pk in drafts else 0,
        )
        for pk in ids
    ]
    return sorted(rows, key=lambda r: (r.name.lower(), r.therapist_id))


def signed_visits_by_therapist(filters: Filters) -> dict[int, int]:
    """Signed visits per therapist in the range (by their amended date)."""
    sql, params = signed_visits_query(filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {therapist_id: int(count) for therapist_id, count in cursor.fetchall()}


def signed_visits_query(filters: Filters) -> tuple[str, list[Any]]:
    """Signed visits per therapist: whole weeks from TherapistWeek, the edge days from Visit (one statement)."""
    first_week, last_week, edges = whole_weeks(filters.first_day, filters.last_day)
    therapist = " AND therapist_id = %s" if filters.therapist is not None else ""
    mine = [filters.therapist] if filters.therapist is not None else []
    parts: list[str] = []
    params: list[Any] = []
    if first_week <= last_week:
        parts.append(
            f"SELECT therapist_id, sessions FROM outcomes_therapistweek WHERE week >= %s AND week <= %s{therapist}"
        )
        params += [first_week, last_week, *mine]
    for low, high in edges:
        parts.append(f"SELECT therapist_id, 1 AS sessions FROM outcomes_visit WHERE day >= %s AND day <= %s{therapist}")
        params += [low, high, *mine]
    sql = f"SELECT therapist_id, SUM(sessions) FROM ({' UNION ALL '.join(parts)}) x GROUP BY therapist_id"
    return sql, params


def _date(value: object) -> dt.date:
    # SQLite hands dates from raw SQL back as text.
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
