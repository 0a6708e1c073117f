"""Starting, answering (saved per item), submitting (scored, locked) and amending questionnaires; what is due."""

import datetime as dt
import importlib

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from measures import selectors
from measures.models import (
    EnteredIn,
    Instrument,
    QuestionnaireAmendment,
    QuestionnaireLockedError,
    QuestionnaireResponse,
)
from measures.schedule import DUE_EVERY_DAYS, PAIRING_DAYS, RUN_GAP_DAYS
from measures.services import questionnaire_amend, questionnaire_answer, questionnaire_start, questionnaire_submit
from practice.dates import local_midnight
from practice.records import ClinicalRecordDeletionError
from tests import factories
from tests.measures.helpers import make_instrument, mfis5, submitted

pytestmark = pytest.mark.django_db


def test_the_seeded_mfis5_has_five_items_scored_0_to_20_and_no_invented_mcid():
    instrument = mfis5()
    instrument.full_clean()
    assert instrument.item_count == 5
    assert (instrument.score_min, instrument.score_max, instrument.scoring) == (0, 20, "sum")
    assert instrument.mcid is None
    assert instrument.items[0]["text"] == "I have been less alert."
    assert [o["label"] for o in instrument.items[0]["options"]] == [
        "Never",
        "Rarely",
        "Sometimes",
        "Often",
        "Almost always",
    ]
    assert not Instrument.objects.filter(code="pdds").exists()  # left out: docs/measures.md, licence decision


def test_the_seed_migration_is_reversible(client_a):
    seed = importlib.import_module("measures.migrations.0002_seed_instruments")
    from django.apps import apps

    seed.unseed(apps, None)
    assert not Instrument.objects.filter(code="mfis5").exists()
    seed.seed(apps, None)
    assert Instrument.objects.get(code="mfis5").item_count == 5


def test_answers_are_saved_one_by_one_and_starting_again_resumes(client_a):
    instrument = make_instrument()
    response = questionnaire_start(client=client_a, instrument=instrument, entered_by=client_a.user)
    questionnaire_answer(response=response, link_id="tri3-1", value="2")
    again = questionnaire_start(client=client_a, instrument=instrument, entered_by=client_a.user)
    assert again.pk == response.pk
    assert QuestionnaireResponse.objects.get(pk=response.pk).answers == {"tri3-1": 2}
    # The therapist's hand-over is a questionnaire of its own.
    handed = questionnaire_start(
        client=client_a, instrument=instrument, entered_by=client_a.user, entered_in=EnteredIn.SESSION
    )
    assert handed.pk != response.pk


def test_a_bad_answer_is_refused_with_a_message(client_a):
    response = questionnaire_start(client=client_a, instrument=make_instrument(), entered_by=client_a.user)
    with pytest.raises(ValidationError, match="Choose one of the answers"):
        questionnaire_answer(response=response, link_id="tri3-1", value="7")
    with pytest.raises(ValidationError, match="no question"):
        questionnaire_answer(response=response, link_id="other", value="1")


def test_submit_refuses_missing_answers_and_saves_nothing(client_a):
    response = questionnaire_start(client=client_a, instrument=make_instrument(), entered_by=client_a.user)
    questionnaire_answer(response=response, link_id="tri3-1", value=1)
    with pytest.raises(ValidationError, match="2 questions not answered yet"):
        questionnaire_submit(response=response)
    assert QuestionnaireResponse.objects.get(pk=response.pk).status == "in_progress"


def test_submit_scores_and_locks(client_a):
    response = submitted(client_a, make_instrument(), [1, 2, 2], by=client_a.user)
    assert (response.status, response.score) == ("submitted", 5)
    assert response.submitted_at is not None
    with pytest.raises(QuestionnaireLockedError):
        questionnaire_answer(response=response, link_id="tri3-1", value=0)
    response.answers = {"tri3-1": 0}
    with pytest.raises(QuestionnaireLockedError):
        response.save()
    with pytest.raises(QuestionnaireLockedError):
        questionnaire_submit(response=response)


def test_questionnaires_and_amendments_are_never_deleted(client_a, therapist):
    response = submitted(client_a, make_instrument(), [1, 1, 1], by=client_a.user)
    amendment = questionnaire_amend(response=response, author=therapist, reason="Misread", answers={"tri3-1": 2})
    for obj in (response, amendment):
        with pytest.raises(ClinicalRecordDeletionError):
            obj.delete()
    with pytest.raises(ClinicalRecordDeletionError):
        QuestionnaireResponse.objects.all().delete()
    with pytest.raises(QuestionnaireLockedError):
        amendment.reason = "Changed"
        amendment.save()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL triggers")
def test_postgresql_refuses_raw_changes_to_submitted_questionnaires(client_a, therapist):
    response = submitted(client_a, make_instrument(), [1, 1, 1], by=client_a.user)
    questionnaire_amend(response=response, author=therapist, reason="Misread", answers={"tri3-1": 2})
    for sql in (
        f"UPDATE measures_questionnaireresponse SET score = 0 WHERE id = {response.pk}",
        f"DELETE FROM measures_questionnaireresponse WHERE id = {response.pk}",
        "UPDATE measures_questionnaireamendment SET reason = 'x'",
        "DELETE FROM measures_questionnaireamendment",
    ):
        with pytest.raises(Exception, match="refused"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)


def test_a_submitted_row_must_carry_its_score():
    with pytest.raises(IntegrityError), transaction.atomic():
        user = factories.make_user()
        QuestionnaireResponse.objects.create(
            client=factories.make_client(), instrument=make_instrument(), entered_by=user, status="submitted"
        )


def test_an_amendment_records_what_changed_and_the_new_score_leaving_the_original(client_a, therapist):
    response = submitted(client_a, make_instrument(), [1, 1, 1], by=client_a.user)
    amendment = questionnaire_amend(
        response=response, author=therapist, reason="Read item 1 aloud again", answers={"tri3-1": "2", "tri3-2": 1}
    )
    assert amendment.changes == {"tri3-1": {"from": 1, "to": 2}}
    assert amendment.score == 4
    stored = QuestionnaireResponse.objects.get(pk=response.pk)
    assert (stored.score, stored.answers["tri3-1"]) == (3, 1)
    second = questionnaire_amend(response=response, author=therapist, reason="And item 3", answers={"tri3-3": 0})
    assert second.score == 3
    [score] = selectors.scores_for_client(client_a)
    assert (score.score, score.amended) == (3, True)
    assert QuestionnaireAmendment.objects.count() == 2


@pytest.mark.parametrize(
    ("reason", "answers", "message"),
    [("", {"tri3-1": 2}, "Say why"), ("Why", {"tri3-1": 1}, "Nothing to correct"), ("Why", {"tri3-1": 9}, "Choose")],
)
def test_bad_amendments_are_refused(client_a, therapist, reason, answers, message):
    response = submitted(client_a, make_instrument(), [1, 1, 1], by=client_a.user)
    with pytest.raises(ValidationError, match=message):
        questionnaire_amend(response=response, author=therapist, reason=reason, answers=answers)


def test_only_submitted_questionnaires_are_amended(client_a, therapist):
    response = questionnaire_start(client=client_a, instrument=make_instrument(), entered_by=client_a.user)
    with pytest.raises(ValidationError, match="Only a submitted"):
        questionnaire_amend(response=response, author=therapist, reason="x", answers={"tri3-1": 1})


def test_archived_clients_and_retired_instruments_start_nothing(client_a):
    retired = make_instrument(is_active=False)
    with pytest.raises(ValidationError, match="no longer offered"):
        questionnaire_start(client=client_a, instrument=retired, entered_by=client_a.user)
    client_a.archive()
    with pytest.raises(ValidationError, match="archived"):
        questionnaire_start(client=client_a, instrument=mfis5(), entered_by=client_a.user)


def test_scores_for_client_are_oldest_first_within_the_range(client_a):
    instrument = make_instrument()
    submitted(client_a, instrument, [2, 2, 2], by=client_a.user, days_ago=60)
    submitted(client_a, instrument, [1, 1, 1], by=client_a.user, days_ago=30)
    submitted(client_a, instrument, [0, 0, 1], by=client_a.user)
    scores = selectors.scores_for_client(client_a)
    assert [s.score for s in scores] == [6, 3, 1]
    assert (scores[0].score_min, scores[0].score_max, scores[0].mcid, scores[0].higher_is_worse) == (0, 6, 2, True)
    start = timezone.localdate() - dt.timedelta(days=45)
    assert [s.score for s in selectors.scores_for_client(client_a, start=start)] == [3, 1]
    end = timezone.localdate() - dt.timedelta(days=1)
    assert [s.score for s in selectors.scores_for_client(client_a, start=start, end=end)] == [3]
    newest = selectors.newest_score(client_a)
    assert newest is not None and newest.score == 1 and newest.completed_on == timezone.localdate()


def test_a_client_without_a_submitted_questionnaire_has_no_newest_score(client_a):
    questionnaire_start(client=client_a, instrument=make_instrument(), entered_by=client_a.user)  # in progress
    assert selectors.newest_score(client_a) is None


# --- who is due


def test_due_at_the_start_of_a_course_and_again_after_28_days(client_a, therapist, django_assert_num_queries):
    today = timezone.localdate()
    instrument = mfis5()
    # A new client with no session yet: the start of a course.
    assert selectors.due_for_clients([client_a.pk], today) == {client_a.pk: [instrument]}
    submitted(client_a, instrument, [1, 1, 1, 1, 1], by=client_a.user, days_ago=27)
    assert selectors.due_for_clients([client_a.pk], today) == {}
    factories.make_session(client_a, therapist)
    assert selectors.due_for_clients([client_a.pk], today + dt.timedelta(days=1)) == {client_a.pk: [instrument]}


def noon(day: dt.date) -> dt.datetime:
    # Midday: a moment whose local day no change of clocks can move.
    return local_midnight(day) + dt.timedelta(hours=12)


def due_both_ways(client, today: dt.date) -> bool:
    """Whether ``client`` is due, checking that the caseload's annotation and due_for_clients agree."""
    from clients.models import Client

    listed = client.pk in selectors.due_for_clients([client.pk], today)
    annotated = selectors.with_questionnaire_due(Client.objects.filter(pk=client.pk), today).get().questionnaire_due
    assert listed == annotated
    return listed


def test_due_at_the_start_of_a_new_course_though_answered_within_4_weeks(client_a, therapist):
    today = timezone.localdate()
    submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user, at=noon(today - dt.timedelta(days=20)))
    factories.make_session(client_a, therapist, started_at=noon(today - dt.timedelta(days=18)))
    assert not due_both_ways(client_a, today)  # no course now: the last session ended one 18 days ago
    factories.make_session(client_a, therapist, started_at=noon(today))
    # A gap of more than RUN_GAP_DAYS: today's session begins a course, and the answer 20 days ago is no baseline.
    assert due_both_ways(client_a, today)
    submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user)
    assert not due_both_ways(client_a, today)


@pytest.mark.parametrize(
    ("gap", "answered_before", "due"),
    [
        (15, 15, True),  # a new course; the answer is a day too early for its baseline
        (15, 14, False),  # a new course; answered on the first day of its baseline window
        (14, 20, False),  # a gap of 14 days continues the course, and the answer is within 4 weeks
        (None, 20, True),  # the client's very first session begins a course
        (None, 14, False),
    ],
)
def test_a_course_starts_after_a_gap_of_more_than_run_gap_days(client_a, therapist, gap, answered_before, due):
    today = timezone.localdate()
    started = today - dt.timedelta(days=3)  # the session that may begin a course, a draft
    if gap is not None:
        factories.make_session(client_a, therapist, signed=True, started_at=noon(started - dt.timedelta(days=gap)))
    factories.make_session(client_a, therapist, started_at=noon(started))
    at = local_midnight(started - dt.timedelta(days=answered_before)) + dt.timedelta(minutes=1)
    submitted(client_a, mfis5(), [2, 2, 2, 2, 2], by=client_a.user, at=at)
    assert due_both_ways(client_a, today) is due


def test_a_client_who_answers_when_due_has_a_baseline_for_every_course(client_a, therapist):
    """Two courses 3 weeks apart, weekly sessions, the client answering whenever due: every course has the baseline
    the outcomes report pairs (an answer within PAIRING_DAYS before its first visit), and the 4-weekly one."""
    today = timezone.localdate()
    courses = [[-70, -63, -56, -49, -42], [-20, -13, -6, 0]]
    answered = []
    for day in (today + dt.timedelta(days=n) for course in courses for n in course):
        factories.make_session(client_a, therapist, signed=True, started_at=noon(day))
        if due_both_ways(client_a, day):
            submitted(client_a, mfis5(), [2, 2, 2, 2, 2], by=client_a.user, at=noon(day) + dt.timedelta(hours=1))
            answered.append((day - today).days)
    assert answered == [-70, -42, -20]
    for course in courses:
        assert any(course[0] - PAIRING_DAYS <= day <= course[0] for day in answered)


def test_the_schedule_is_the_outcomes_reports():
    # One definition (measures.schedule) read by the report; and the due rule's shortcut needs the days it
    # looks at for a course's start to hold one course's start at most.
    from outcomes import courses, questionnaires

    assert courses.RUN_GAP_DAYS is RUN_GAP_DAYS and questionnaires.PAIRING_DAYS is PAIRING_DAYS
    assert 0 < selectors.COURSE_START_DAYS <= RUN_GAP_DAYS + 1
    assert selectors.COURSE_START_DAYS == DUE_EVERY_DAYS - 1 - PAIRING_DAYS


def test_not_due_between_courses(client_a, therapist):
    factories.make_session(client_a, therapist, started_at=timezone.now() - dt.timedelta(days=40))
    assert selectors.due_for_clients([client_a.pk], timezone.localdate()) == {}


def test_due_costs_two_queries_however_many_clients(therapist, django_assert_num_queries):
    clients = [factories.make_client(therapists=[therapist]) for _ in range(3)]
    with django_assert_num_queries(2):
        assert len(selectors.due_for_clients([c.pk for c in clients], timezone.localdate())) == 3
    clients += [factories.make_client(therapists=[therapist]) for _ in range(20)]
    for c in clients[:10]:
        submitted(c, mfis5(), [0, 0, 0, 0, 0], by=therapist, days_ago=3)
    with django_assert_num_queries(2):
        assert len(selectors.due_for_clients([c.pk for c in clients], timezone.localdate())) == 13


def test_the_caseload_annotation_agrees_with_due_for_clients(client_a, client_b, therapist):
    from clients.models import Client

    submitted(client_b, mfis5(), [0, 0, 0, 0, 0], by=therapist, days_ago=3)
    flags = dict(selectors.with_questionnaire_due(Client.objects.all()).values_list("pk", "questionnaire_due"))
    assert flags == {client_a.pk: True, client_b.pk: False}
    assert set(selectors.due_for_clients([client_a.pk, client_b.pk], timezone.localdate())) == {client_a.pk}


def test_the_caseload_annotation_is_built_once_a_day_and_still_reads_the_instruments(client_a, therapist):
    from clients.models import Client

    today = timezone.localdate()
    flag = lambda: Client.objects.filter(pk=client_a.pk).annotate(  # noqa: E731
        due=selectors._any_instrument_due(today, timezone.get_current_timezone_name())
    )
    submitted(client_a, mfis5(), [0, 0, 0, 0, 0], by=therapist, days_ago=3)
    assert selectors._any_instrument_due(today, "UTC") is selectors._any_instrument_due(today, "UTC")
    assert not flag().get().due
    make_instrument()  # a new active instrument client_a has never answered: due, through the same expression
    assert flag().get().due
    assert selectors.with_questionnaire_due(Client.objects.filter(pk=client_a.pk), today).get().questionnaire_due
