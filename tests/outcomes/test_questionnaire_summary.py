"""MFIS-5 before and after a course in the owner's outcomes report (issue 12), with hand-worked numbers."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from measures.models import QuestionnaireResponse
from measures.services import questionnaire_amend
from outcomes.questionnaires import (
    QuestionnairePair,
    pair_courses,
    pre_post_summary,
    report_courses,
    summarise_pairs,
)
from outcomes.selectors import CourseRow, Filters, courses
from tests import factories
from tests.measures.helpers import mfis5
from tests.outcomes.helpers import rebuild, visit, weekly

pytestmark = pytest.mark.django_db

FIRST = dt.date(2025, 1, 6)  # visit 1; four weekly treatments, then the follow-up on FOLLOW_UP
FOLLOW_UP = FIRST + dt.timedelta(days=28)
ALL_TIME = "?start=&end=&treatments=4"


def answered(person, day: dt.date, total: int, *, hour: int = 9, status: str = "submitted") -> QuestionnaireResponse:
    """An MFIS-5 submitted on ``day`` whose five answers (0-4 each) add up to ``total``."""
    instrument = mfis5()
    values = [min(4, max(0, total - 4 * i)) for i in range(5)]
    answers = {item["link_id"]: value for item, value in zip(instrument.items, values, strict=True)}
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
    submitted = status == "submitted"
    return QuestionnaireResponse.objects.create(
        client=person,
        instrument=instrument,
        status=status,
        started_at=moment,
        submitted_at=moment if submitted else None,
        answers=answers if submitted else {},
        score=total if submitted else None,
        entered_by=person.user or person.therapists.first(),  # in a session, where the client has no portal
    )


def course(person, therapist) -> None:
    weekly(person, therapist, FIRST, 4)
    visit(person, therapist, FOLLOW_UP)


def before(days: int) -> dt.date:
    return FIRST - dt.timedelta(days=days)


def before_follow_up(days: int) -> dt.date:
    return FOLLOW_UP - dt.timedelta(days=days)


@pytest.fixture
def practice(client_a, client_b, therapist, other_therapist):
    """Five courses. A (14 -> 10), B (12 -> 11), C (8 -> 9) are paired; D and E are not."""
    people = [client_a, client_b, *(factories.make_client(therapists=[therapist]) for _ in range(3))]
    a, b, c, d, e = people
    for person in people:
        course(person, other_therapist if person == b else therapist)
    # A: an older baseline (20) is superseded by the one nearest visit 1; an in-progress one never counts.
    answered(a, before(10), 20)
    answered(a, before(1), 14)
    answered(a, FOLLOW_UP, 10, hour=8)
    answered(a, FOLLOW_UP, 0, status="in_progress")
    # B: exactly 14 days before each visit, both ends of the window.
    answered(b, before(14), 12)
    answered(b, before_follow_up(14), 11)
    # C: on visit 1's day, and a follow-up corrected from 13 to 9 (question 3: 4 to 0; the corrected score counts).
    answered(c, FIRST, 8, hour=8)
    late = answered(c, before_follow_up(3), 13)
    questionnaire_amend(response=late, author=therapist, reason="Read back to the client", answers={"mfis5-3": 0})
    # D: a baseline, but the next one is 15 days before the follow-up: no pair.
    answered(d, before(2), 16)
    answered(d, before_follow_up(15), 6)
    # E: 15 days before visit 1 (too early), and after the follow-up (too late).
    answered(e, before(15), 10)
    answered(e, FOLLOW_UP + dt.timedelta(days=1), 5)
    rebuild(*people)
    return people


def test_the_amendment_gives_nine(practice):
    c = practice[2]
    scores = [r.current_score for r in QuestionnaireResponse.objects.filter(client=c).with_current_score()]
    assert sorted(scores) == [8, 9]


def test_pre_post_by_hand(practice):
    rows = courses(Filters(start=None, end=None, treatments=4))
    assert len(rows) == 5

    summary = pre_post_summary(rows)

    assert summary.code == "mfis5" and summary.mcid is None
    assert (summary.courses, summary.clients) == (5, 3)
    # Baselines 14, 12, 8: mean 34/3; squares of the deviations 64/9 + 4/9 + 100/9 = 56/3, over 2: SD sqrt(28/3).
    assert summary.baseline_mean == pytest.approx(34 / 3)
    assert summary.baseline_sd == pytest.approx((28 / 3) ** 0.5)
    # Follow-ups 10, 11, 9: mean 10, SD 1.
    assert summary.follow_up_mean == pytest.approx(10)
    assert summary.follow_up_sd == pytest.approx(1)
    # Changes -4, -1, +1: mean -4/3; SD sqrt(19/3) = 2.5166; t(0.975, 2) = 4.3027; half-width 4.3027 x 2.5166 / sqrt 3.
    assert summary.mean_change == pytest.approx(-4 / 3)
    half = 4.302653 * (19 / 3) ** 0.5 / 3**0.5
    assert summary.change_ci.low == pytest.approx(-4 / 3 - half, abs=1e-4)
    assert summary.change_ci.high == pytest.approx(-4 / 3 + half, abs=1e-4)
    assert summary.change_ci.low == pytest.approx(-7.585, abs=1e-3)
    assert summary.change_ci.high == pytest.approx(4.918, abs=1e-3)


def test_pairs_are_two_different_questionnaires():
    row = CourseRow(1, 1, FIRST, FIRST + dt.timedelta(days=10), "remission", "rrms", 5, 5, 5, 5, 0.0, 0.0)
    follow_up = (1, row.follow_up_on)
    one = {(1, FIRST): (7, 12), follow_up: (7, 12)}  # in both windows: the same questionnaire cannot be both ends
    assert pair_courses([row], one) == []
    two = {(1, FIRST): (7, 12), follow_up: (8, 9)}
    assert pair_courses([row], two) == [QuestionnairePair(1, 12, 9)]
    assert pair_courses([row], {follow_up: (8, 9)}) == []  # no baseline


def test_no_courses_and_a_single_pair_give_no_interval():
    instrument = mfis5()
    empty = summarise_pairs(instrument, [], 0)
    assert (empty.clients, empty.baseline_mean, empty.change_ci) == (0, None, None)
    single = summarise_pairs(instrument, [QuestionnairePair(1, 12, 9)], 1)
    assert (single.mean_change, single.baseline_sd, single.change_ci) == (-3, None, None)
    assert pre_post_summary([]).clients == 0


def test_the_owners_report_shows_the_summary(client, owner, practice):
    client.force_login(owner)

    page = client.get(reverse("outcomes:report") + ALL_TIME).content.decode()

    assert "Modified Fatigue Impact Scale" in page
    assert "3 of 5 courses had a MFIS-5" in page
    assert "MFIS-5 has no published minimal important difference" in page
    table = page[page.index('id="questionnaire-summary-table"') :]
    table = table[: table.index("</table>")]
    assert "<td>3</td>" in table
    assert "<td>11.3 (SD 3.1)</td>" in table
    assert "<td>10.0 (SD 1.0)</td>" in table
    assert "<td>−1.3 (−7.6 to +4.9)</td>" in table


def test_the_report_with_no_questionnaires(client, owner, client_a, therapist):
    course(client_a, therapist)
    rebuild(client_a)
    client.force_login(owner)

    page = client.get(reverse("outcomes:report") + ALL_TIME).content.decode()

    assert "0 of 1 course had a MFIS-5" in page
    assert "<td>— (SD —)</td>" in page


def test_a_dated_report_reads_the_window_before_its_start(practice):
    """A report starting on visit 1 still finds the baselines up to 14 days before it."""
    filters = Filters(start=FIRST, end=FOLLOW_UP, treatments=4)

    summary = pre_post_summary(courses(filters))

    assert (summary.courses, summary.clients) == (5, 3)
    assert summary.mean_change == pytest.approx(-4 / 3)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(start=None, end=None, treatments=4),
        Filters(start=FIRST, end=FOLLOW_UP, treatments=4),
        Filters(start=FIRST, end=FOLLOW_UP - dt.timedelta(days=1), treatments=4),  # no course ends in range
        Filters(start=None, end=None, treatments=4, ms_type="spms"),
    ],
    ids=["all time", "dated", "no course", "filtered"],
)
def test_the_reports_one_pass_pairs_as_the_definition_does(practice, filters):
    """report_courses (on PostgreSQL the probes ride in the courses' statement) equals courses + pre_post_summary."""
    found, summary = report_courses(filters)

    assert found == courses(filters)
    assert summary == pre_post_summary(found)


def test_the_reports_one_pass_by_hand(practice):
    found, summary = report_courses(Filters(start=None, end=None, treatments=4))

    assert len(found) == 5
    # A 14 -> 10, B 12 -> 11, C 8 -> 9 (the corrected score): D and E have no pair.
    assert (summary.courses, summary.clients) == (5, 3)
    assert summary.baseline_mean == pytest.approx(34 / 3) and summary.follow_up_mean == pytest.approx(10)
    assert summary.mean_change == pytest.approx(-4 / 3)


def test_the_reports_one_pass_without_the_instrument(practice):
    # An instrument not on record (a practice that never seeded it): the courses still come, with no summary.
    found, summary = report_courses(Filters(start=None, end=None, treatments=4), code="not-on-record")

    assert len(found) == 5 and summary is None
