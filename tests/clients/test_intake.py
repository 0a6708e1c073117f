"""The intake's services: saved step by step, locked once submitted, due yearly or on request."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from clients.intake import (
    intake_answer,
    intake_due,
    intake_review,
    intake_start,
    intake_submit,
    request_intake_update,
)
from clients.models import Intake, IntakeStatus, RecordLockedError
from clients.selectors import intake_waiting_for_review, latest_intake, open_intake
from practice.records import ClinicalRecordDeletionError

pytestmark = pytest.mark.django_db
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers are PostgreSQL's")


def test_start_opens_one_intake_and_resumes_it(client_a):
    first = intake_start(client=client_a)
    assert first.status == IntakeStatus.IN_PROGRESS and first.started_at is not None
    assert intake_start(client=client_a) == first
    assert Intake.objects.count() == 1
    assert open_intake(client_a) == first == latest_intake(client_a)


def test_the_database_allows_one_open_intake_per_client(client_a):
    intake_start(client=client_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Intake.objects.create(client=client_a)


def test_answers_are_merged_step_by_step_and_the_step_only_grows(client_a):
    intake = intake_start(client=client_a)
    intake_answer(intake=intake, answers={"ms_type": "rrms", "diagnosis_year": 2015}, step=1)
    intake_answer(intake=intake, answers={"heat_sensitive": True, "reduced_sensation_regions": ["hand_left"]}, step=3)
    intake_answer(intake=intake, answers={"ms_type": "spms"}, step=1)
    intake.refresh_from_db()
    assert intake.answers == {
        "ms_type": "spms",
        "diagnosis_year": 2015,
        "heat_sensitive": True,
        "reduced_sensation_regions": ["hand_left"],
    }
    assert intake.step == 3


@pytest.mark.parametrize(
    "answers",
    [
        {"shoe_size": 42},
        {"ms_type": "mild"},
        {"diagnosis_year": 1800},
        {"diagnosis_year": timezone.localdate().year + 1},
        {"diagnosis_year": "2015"},
        {"heat_sensitive": "yes"},
        {"pressure_sore_regions": ["tail"]},
        {"goals": "pain"},
        {"medications": "x" * 2001},
        {"emergency_contact": {"name": "Bo", "email": "bo@example.org"}},
        {"neurologist_contact": "Dr Who"},
    ],
)
def test_malformed_answers_are_refused_with_nothing_saved(client_a, answers):
    intake = intake_start(client=client_a)
    with pytest.raises(ValidationError):
        intake_answer(intake=intake, answers=answers, step=1)
    intake.refresh_from_db()
    assert (intake.answers, intake.step) == ({}, 0)


def test_contacts_are_kept_with_every_part(client_a):
    intake = intake_start(client=client_a)
    intake_answer(intake=intake, answers={"emergency_contact": {"name": " Bo Ashby ", "phone": "0123"}}, step=5)
    assert intake.answers["emergency_contact"] == {"name": "Bo Ashby", "relationship": "", "phone": "0123"}


def test_a_submitted_intake_is_locked_and_a_new_one_is_a_new_row(client_a):
    intake = intake_start(client=client_a)
    intake_answer(intake=intake, answers={"ms_type": "rrms"}, step=1)
    intake_submit(intake=intake)
    assert intake.submitted_at is not None
    with pytest.raises(ValidationError, match="sent already"):
        intake_answer(intake=intake, answers={"ms_type": "ppms"}, step=2)
    with pytest.raises(ValidationError, match="sent already"):
        intake_submit(intake=intake)
    intake.answers = {"ms_type": "ppms"}
    with pytest.raises(RecordLockedError):
        intake.save()
    stored = Intake.objects.get(pk=intake.pk)
    stored.status = IntakeStatus.IN_PROGRESS
    with pytest.raises(RecordLockedError):
        stored.save()
    assert Intake.objects.get(pk=intake.pk).answers == {"ms_type": "rrms"}
    second = intake_start(client=client_a)
    assert second != intake and Intake.objects.count() == 2


def test_the_review_is_the_only_change_after_submission(client_a, therapist):
    intake = intake_start(client=client_a)
    intake_answer(intake=intake, answers={"ms_type": "rrms", "goals": ["pain"]}, step=1)
    with pytest.raises(ValidationError, match="waiting for review"):
        intake_review(intake=intake, reviewed_by=therapist, accepted_fields=[])
    intake_submit(intake=intake)
    assert intake_waiting_for_review([client_a.pk, 999]) == {client_a.pk}
    with pytest.raises(ValidationError, match="Unknown"):
        intake_review(intake=intake, reviewed_by=therapist, accepted_fields=["shoe_size"])
    intake_review(intake=intake, reviewed_by=therapist, accepted_fields=["ms_type", "ms_type"])
    intake.refresh_from_db()
    assert (intake.status, intake.reviewed_by, intake.accepted_fields) == ("reviewed", therapist, ["ms_type"])
    assert intake_waiting_for_review([client_a.pk]) == set()
    intake.accepted_fields = ["goals"]
    with pytest.raises(RecordLockedError):
        intake.save()


def test_intakes_are_never_deleted(client_a):
    intake = intake_start(client=client_a)
    with pytest.raises(ClinicalRecordDeletionError):
        intake.delete()
    with pytest.raises(ClinicalRecordDeletionError):
        Intake.objects.all().delete()


def test_an_intake_is_due_without_one_this_year_or_when_asked(client_a, therapist):
    assert intake_due(client_a)
    intake = intake_start(client=client_a)
    assert intake_due(client_a)  # begun, not sent
    intake_submit(intake=intake)
    assert not intake_due(client_a)
    assert intake_due(client_a, now=timezone.now() + dt.timedelta(days=366))
    requested = request_intake_update(client=client_a, by=therapist)
    assert requested != intake and requested.started_at is None
    assert (requested.requested_by, requested.status) == (therapist, IntakeStatus.IN_PROGRESS)
    assert intake_due(client_a)
    # The client's start takes up the request rather than opening another intake.
    assert intake_start(client=client_a) == requested
    assert request_intake_update(client=client_a, by=therapist) == requested


def test_an_archived_clients_intake_cannot_be_written(client_a, therapist):
    intake = intake_start(client=client_a)
    client_a.archive()
    with pytest.raises(ValidationError, match="archived"):
        intake_answer(intake=intake, answers={"ms_type": "rrms"}, step=1)
    with pytest.raises(ValidationError, match="archived"):
        request_intake_update(client=client_a, by=therapist)


@postgresql_only
def test_postgresql_keeps_a_submitted_intake_except_for_its_review(client_a, therapist):
    intake = intake_start(client=client_a)
    intake_answer(intake=intake, answers={"ms_type": "rrms"}, step=1)
    intake_submit(intake=intake)

    def raw(sql, params=()):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    for assignment in ["answers = '{}'::jsonb", "status = 'in_progress'", "step = 9", "submitted_at = now()"]:
        with pytest.raises(DatabaseError, match="kept as the client sent it"), transaction.atomic():
            raw(f"UPDATE clients_intake SET {assignment} WHERE id = %s", [intake.pk])
    with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic():
        raw("DELETE FROM clients_intake")
    intake_review(intake=intake, reviewed_by=therapist, accepted_fields=["ms_type"])
    with pytest.raises(DatabaseError, match="kept as the client sent it"), transaction.atomic():
        raw("UPDATE clients_intake SET accepted_fields = '[]'::jsonb WHERE id = %s", [intake.pk])
    assert Intake.objects.get(pk=intake.pk).status == IntakeStatus.REVIEWED
