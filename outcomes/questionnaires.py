"""Validated questionnaires in the owner's outcomes report: MFIS-5 before and after a course (issue 12).

A course is the report's (``outcomes.selectors.courses``: visit 1 .. N+1). It counts here when the client
submitted the instrument within PAIRING_DAYS days before or on visit 1 (the baseline) and within PAIRING_DAYS days
before or on the follow-up visit (the follow-up), two different questionnaires. Where several fall in a window the
one nearest the visit counts (the latest submitted on or before it); scores are after corrections.
The summary is the pain and fatigue one's: n, mean and sample SD at each end, mean change with its t-based 95%
interval (outcomes.statistics). No share "better by the MCID" is given where the instrument has none published.

The page reads the pairing stored with each visit (``outcomes.storage``, :func:`report_courses`).
:func:`nearest_questionnaires` reads the same rule from the questionnaires themselves: the definition the drift
test holds the stored pairing to, and the pairing of any other instrument.
"""

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from measures.models import Instrument, QuestionnaireAmendment, QuestionnaireResponse, ResponseStatus
from measures.schedule import PAIRING_DAYS
from outcomes.models import REPORTED_INSTRUMENT
from outcomes.selectors import CourseRow, Filters, course_rows, courses, courses_query
from outcomes.statistics import Interval, mean, mean_interval, sample_sd
from outcomes.storage import Window, pairing_window


@dataclass(frozen=True)
class QuestionnairePair:
    client_id: int
    baseline: int
    follow_up: int

    @property
    def change(self) -> int:
        return self.follow_up - self.baseline


@dataclass(frozen=True)
class QuestionnaireSummary:
    code: str
    name: str
    short_name: str
    score_min: int
    score_max: int
    mcid: Decimal | None
    courses: int  # courses in the report, paired or not
    clients: int  # courses with a questionnaire at both ends: the n of every figure below
    baseline_mean: float | None
    baseline_sd: float | None
    follow_up_mean: float | None
    follow_up_sd: float | None
    mean_change: float | None
    change_ci: Interval | None


def summarise_pairs(instrument: Instrument, pairs: Sequence[QuestionnairePair], courses: int) -> QuestionnaireSummary:
    """The summary of paired scores (pure: tests give it hand-built pairs)."""
    baselines = [p.baseline for p in pairs]
    follow_ups = [p.follow_up for p in pairs]
    changes = [p.change for p in pairs]
    return QuestionnaireSummary(
        code=instrument.code,
        name=instrument.name,
        short_name=instrument.short_name,
        score_min=instrument.score_min,
        score_max=instrument.score_max,
        mcid=instrument.mcid,
        courses=courses,
        clients=len(pairs),
        baseline_mean=mean(baselines),
        baseline_sd=sample_sd(baselines),
        follow_up_mean=mean(follow_ups),
        follow_up_sd=sample_sd(follow_ups),
        mean_change=mean(changes),
        change_ci=mean_interval(changes),
    )


# A visit: (client id, the visit's day). Its questionnaire: (response id, score after corrections).
Visit = tuple[int, dt.date]
Answered = tuple[int, int]
# Visits per query on SQLite: four parameters each, under its limit of 32,766 (PostgreSQL takes one JSON text).
SQLITE_VISITS_PER_QUERY = 8_000


def pair_courses(courses: Sequence[CourseRow], nearest: Mapping[Visit, Answered]) -> list[QuestionnairePair]:
    """Each course's baseline and follow-up questionnaire, where it has both, two different ones (pure).

    ``nearest`` is :func:`nearest_questionnaires` of the courses' visit 1 and follow-up visit.
    """
    pairs = []
    for course in courses:
        before = nearest.get((course.client_id, course.course_start))
        after = nearest.get((course.client_id, course.follow_up_on))
        if before and after and before[0] != after[0]:
            pairs.append(QuestionnairePair(course.client_id, before[1], after[1]))
    return pairs


def nearest_questionnaires(instrument: Instrument, visits: Iterable[Visit]) -> dict[Visit, Answered]:
    """For each visit, the latest submitted ``instrument`` of its client in [day - PAIRING_DAYS, day] (local days).

    Each visit is one backward probe of questionnaire_submitted_idx (client, instrument, submitted_at, id; the score
    rides along): it reads the questionnaires it pairs, not every one the practice holds (a million at ten years).
    One query picks them with their scores as submitted; one more reads the practice's few corrected ones
    (``with_current_score``).
    """
    chosen = _latest_in_windows(instrument, sorted(set(visits)))
    if not chosen:
        return {}
    corrected = dict(
        QuestionnaireResponse.objects.filter(
            instrument=instrument, pk__in=QuestionnaireAmendment.objects.order_by().values("response_id")
        )
        .with_current_score()
        .order_by()
        .values_list("pk", "current_score")
    )
    return {visit: (pk, corrected.get(pk, score)) for visit, (pk, score) in chosen.items()}


def _latest_in_windows(instrument: Instrument, visits: Sequence[Visit]) -> dict[Visit, Answered]:
    """The latest submitted response (id, score as submitted) in each visit's window, where there is one.

    The windows are a table of (n, client, start, end) rows, each joined to a correlated probe: the ORM cannot
    join a list of rows, and a filter per visit would be a statement 10,000 ORs long. PostgreSQL builds the table
    from two arrays (one query, whatever the number of visits); SQLite from VALUES lists.
    """
    latest = (
        f"FROM {QuestionnaireResponse._meta.db_table} p "
        "WHERE p.client_id = visit.client_id AND p.instrument_id = %s AND p.status = %s "
        "AND p.submitted_at >= visit.window_start AND p.submitted_at < visit.window_end "
        "ORDER BY p.submitted_at DESC, p.id DESC LIMIT 1"
    )
    if connection.vendor == "postgresql":
        # Id and score from the index alone (it carries the score): no visit to the rows.
        probe = f"SELECT visit.n, p.id, p.score FROM visit CROSS JOIN LATERAL (SELECT p.id, p.score {latest}) p"
    else:  # SQLite has no LATERAL: the probe finds the id, the primary key the score
        probe = (
            f"SELECT visit.n, r.id, r.score FROM visit JOIN {QuestionnaireResponse._meta.db_table} r "
            f"ON r.id = (SELECT p.id {latest})"
        )
    probe_params: list[Any] = [instrument.pk, ResponseStatus.SUBMITTED.value]
    found: dict[Visit, Answered] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Two arrays, the clients and the days; PostgreSQL works out each window's local midnights itself.
            zone = timezone.get_current_timezone_name()
            table = (
                "SELECT v.n - 1, v.client_id, (v.day - %s)::timestamp AT TIME ZONE %s, "
                "(v.day + 1)::timestamp AT TIME ZONE %s "
                "FROM unnest(%s::bigint[], %s::date[]) WITH ORDINALITY AS v (client_id, day, n)"
            )
            clients, days = [client_id for client_id, _ in visits], [day for _, day in visits]
            batches: list[tuple[int, str, list[Any]]] = [(0, table, [PAIRING_DAYS, zone, zone, clients, days])]
        else:
            adapt = connection.ops.adapt_datetimefield_value
            batches = []
            windows: dict[dt.date, Window] = {}
            stored = {}
            for _, day in visits:
                if day not in stored:
                    start, end = pairing_window(day, windows)
                    stored[day] = (adapt(start), adapt(end))
            for first in range(0, len(visits), SQLITE_VISITS_PER_QUERY):
                batch = visits[first : first + SQLITE_VISITS_PER_QUERY]
                values = [(n, client_id, *stored[day]) for n, (client_id, day) in enumerate(batch)]
                table = "VALUES " + ", ".join(["(%s, %s, %s, %s)"] * len(batch))
                batches.append((first, table, [value for row in values for value in row]))
        for first, table, params in batches:
            sql = f"WITH visit (n, client_id, window_start, window_end) AS ({table}) {probe}"
            cursor.execute(sql, [*params, *probe_params])
            for n, response_id, score in cursor.fetchall():
                found[visits[first + n]] = (response_id, score)
    return found


def report_courses(
    filters: Filters, code: str = REPORTED_INSTRUMENT
) -> tuple[list[CourseRow], QuestionnaireSummary | None]:
    """The report's courses and the instrument's summary over them: ``courses(filters)`` and
    ``pre_post_summary`` of them, in one statement.

    For the reported instrument each stored visit carries its pairing (``outcomes.storage``: the same rule as
    :func:`nearest_questionnaires`, scores corrected), read with the course's two visits; another instrument is
    paired from scratch.
    """
    instrument = Instrument.objects.filter(code=code).first()
    if instrument is None or code != REPORTED_INSTRUMENT:
        found = courses(filters)
        return found, None if instrument is None else _summary(instrument, found)
    sql, params = courses_query(filters, paired=True)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    found = course_rows(rows, filters.treatments)
    nearest: dict[Visit, Answered] = {}
    for course, row in zip(found, rows, strict=True):
        before_id, before_score, after_id, after_score = row[-4:]
        if before_id is not None:
            nearest[(course.client_id, course.course_start)] = (before_id, before_score)
        if after_id is not None:
            nearest[(course.client_id, course.follow_up_on)] = (after_id, after_score)
    return found, summarise_pairs(instrument, pair_courses(found, nearest), len(found))


def pre_post_summary(courses: Sequence[CourseRow], code: str = REPORTED_INSTRUMENT) -> QuestionnaireSummary | None:
    """The instrument's summary over the report's ``courses``; None when the instrument is not on record.

    Three queries on PostgreSQL, whatever the courses (see :func:`nearest_questionnaires`).
    """
    instrument = Instrument.objects.filter(code=code).first()
    return None if instrument is None else _summary(instrument, courses)


def _summary(instrument: Instrument, courses: Sequence[CourseRow]) -> QuestionnaireSummary:
    visits = [(c.client_id, day) for c in courses for day in (c.course_start, c.follow_up_on)]
    return summarise_pairs(instrument, pair_courses(courses, nearest_questionnaires(instrument, visits)), len(courses))
