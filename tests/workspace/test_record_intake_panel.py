"""The record's intake panel: an update asked for and not yet sent, and what the client's check-in answers read as.

Issue 15: the therapist sees when an intake update is outstanding, and the check-in's symptom triage (a prompt
from the client's answers, never a diagnosis), with no extra query on the record page.
"""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.intake import intake_start, intake_submit
from clients.services import self_report_record
from tests import factories
from tests.workspace.test_intake_review import RECORD_QUERIES

pytestmark = pytest.mark.django_db

RELAPSE = factories.POSSIBLE_RELAPSE_ANSWERS
HEAT = RELAPSE | {"explained_by_heat": "yes"}
UNSURE = RELAPSE | {"fever_or_infection": "unsure"}


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


def record(maria, person) -> str:
    return maria.get(reverse("clients:detail", args=[person.pk])).content.decode()


def check_in(person, days_ago: int, answers: dict | None, symptom: bool | None = True) -> None:
    self_report_record(
        client=person,
        pain=4,
        fatigue=6,
        recorded_on=timezone.localdate() - dt.timedelta(days=days_ago),
        new_or_worse_symptom=symptom,
        relapse_answers=answers,
    )


def test_an_update_asked_for_shows_on_the_record_until_it_is_sent(maria, client_a):
    assert 'data-intake="requested"' not in record(maria, client_a)
    maria.post(reverse("clients:intake_request", args=[client_a.pk]))
    asked = client_a.intakes.get().requested_at
    assert f"Update requested on {timezone.localtime(asked):%-d %b %Y}: not sent yet." in record(maria, client_a)
    intake = intake_start(client=client_a)
    assert 'data-intake="requested"' in record(maria, client_a)  # begun in the portal, still not sent
    intake_submit(intake=intake)
    html = record(maria, client_a)
    assert 'data-intake="requested"' not in html and 'data-intake="waiting"' in html


@pytest.mark.parametrize(
    ("answers", "words"),
    [(RELAPSE, "possible relapse"), (HEAT, "likely pseudo-relapse"), (UNSURE, "unclear")],
)
def test_the_latest_check_in_triage_shows_in_words_with_its_day(maria, client_a, answers, words):
    check_in(client_a, 3, answers)
    html = record(maria, client_a)
    day = timezone.localdate() - dt.timedelta(days=3)
    assert f'data-check-in-triage="{words}"' in html
    assert f"Check-in on {day:%-d %b %Y}: a symptom new or worse; the answers read as <strong>{words}</strong>." in html
    assert "not a diagnosis" in html


def test_the_newest_classified_check_in_of_the_last_30_days_is_shown(maria, client_a):
    check_in(client_a, 31, RELAPSE)
    assert "data-check-in-triage" not in record(maria, client_a)  # older than 30 days
    check_in(client_a, 10, HEAT)
    check_in(client_a, 5, UNSURE)
    check_in(client_a, 1, None, symptom=False)  # nothing new or worse: nothing to classify
    check_in(client_a, 0, None, symptom=None)
    assert 'data-check-in-triage="unclear"' in record(maria, client_a)


def test_the_panel_costs_no_query(maria, client_a, django_assert_num_queries):
    url = reverse("clients:detail", args=[client_a.pk])
    maria.get(url)
    with django_assert_num_queries(RECORD_QUERIES):
        maria.get(url)
    maria.post(reverse("clients:intake_request", args=[client_a.pk]))
    check_in(client_a, 2, HEAT)
    with django_assert_num_queries(RECORD_QUERIES):
        html = maria.get(url).content.decode()
    assert 'data-intake="requested"' in html and "data-check-in-triage" in html
