"""Validated questionnaires in the owner's outcomes report: MFIS-5 before and after a course (issue 12).

A course is the report's (``outcomes.selectors.courses``: visit 1 .. N+1). It counts here when the client
submitted the instrument within PAIRING_DAYS days before or on visit 1 (the baseline) and within PAIRING_DAYS days
before or on the follow-up visit (the follow-up), two different questionnaires. Where several fall in a window the
one nearest the visit counts (the latest submitted on or before it); scores are after corrections.
The summary is the pain and fatigue one's: n, mean and sample SD at each end, mean change with its t-based 95%
interval (outcomes.statistics). No share "better by the MCID" is given where the instrument has none published.
"""

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from measures.models import Instrument, QuestionnaireResponse
from outcomes.selectors import CourseRow, Filters
from outcomes.statistics import Interval, mean, mean_interval, sample_sd

PAIRING_DAYS = 14
REPORTED_INSTRUMENT = "mfis5"


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


def _nearest(scores: Sequence[tuple[dt.date, int, int]], visit: dt.date) -> tuple[dt.date, int, int] | None:
    """The latest (day, id, score) in [visit - PAIRING_DAYS, visit]; ``scores`` are oldest first."""
    found = None
    for score in scores:
        if visit - dt.timedelta(days=PAIRING_DAYS) <= score[0] <= visit:
            found = score
    return found


def pair_courses(
    courses: Sequence[CourseRow], scores: dict[int, list[tuple[dt.date, int, int]]]
) -> list[QuestionnairePair]:
    """Each course's baseline and follow-up questionnaire, where it has both (pure)."""
    pairs = []
    for course in courses:
        own = scores.get(course.client_id, [])
        before = _nearest(own, course.course_start)
        after = _nearest(own, course.follow_up_on)
        if before and after and before[1] != after[1]:
            pairs.append(QuestionnairePair(course.client_id, before[2], after[2]))
    return pairs


def pre_post_summary(
    filters: Filters, courses: Sequence[CourseRow], code: str = REPORTED_INSTRUMENT
) -> QuestionnaireSummary | None:
    """The instrument's summary over the report's ``courses`` (of ``filters``); None when the instrument is not on
    record. Two queries, whatever the courses (none included)."""
    instrument = Instrument.objects.filter(code=code).first()
    if instrument is None:
        return None
    scores: dict[int, list[tuple[dt.date, int, int]]] = defaultdict(list)
    responses = QuestionnaireResponse.objects.submitted().filter(instrument=instrument)
    # Every visit of a course is inside the filters' dates (open ends read all); a day more for the time zone.
    if filters.start:
        responses = responses.filter(submitted_at__date__gte=filters.start - dt.timedelta(days=PAIRING_DAYS + 1))
    if filters.end:
        responses = responses.filter(submitted_at__date__lte=filters.end + dt.timedelta(days=1))
    rows = (
        responses.with_current_score()
        .order_by("submitted_at", "pk")
        .values_list("client_id", "pk", "submitted_at", "current_score")
    )
    # Every client's in the dates (a few a month each): other clients' are read and left, no id list is sent.
    for client_id, pk, submitted_at, score in rows:
        scores[client_id].append((timezone.localdate(submitted_at), pk, score))
    return summarise_pairs(instrument, pair_courses(courses, scores), len(courses))
