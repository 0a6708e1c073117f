"""The intake review says "Not sure" for an explicit "I'm not sure", and "Not answered" only for no answer."""

import re

import pytest
from django.urls import reverse

from clients.intake import intake_answer, intake_start, intake_submit
from clients.intake_review import answer_text, intake_differences

pytestmark = pytest.mark.django_db


def review_page(client, therapist, person, answers: dict) -> tuple[str, list]:
    intake = intake_start(client=person)
    intake_answer(intake=intake, answers=answers, step=3)
    intake_submit(intake=intake)
    client.force_login(therapist)
    page = client.get(reverse("clients:intake_review", args=[person.pk, intake.pk])).content.decode()
    return page, intake_differences(intake, person)


def cells(page: str, field: str) -> list[str]:
    row = re.search(rf'<tr data-field="{field}".*?</tr>', page, re.S)
    assert row, field
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", row.group(0), re.S)]


def test_not_sure_is_shown_as_not_sure_and_never_offered(client, therapist, client_a):
    answers = {"heat_sensitive": None, "cold_sensitive": True, "pregnant": None, "new_or_worse_symptoms_30_days": None}
    page, rows = review_page(client, therapist, client_a, answers)
    # The record holds the default (heat-sensitive); "Not sure" is nothing to accept, not the same as the record.
    assert cells(page, "heat_sensitive") == ["Not sure", "Yes", "Nothing to accept"]
    heat = next(row for row in rows if row.field == "heat_sensitive")
    assert heat.said_nothing and not heat.offered
    also_said = re.search(r"<dl.*?</dl>", page, re.S).group(0)
    assert "Pregnant</dt><dd" in also_said and also_said.count("Not sure") == 2
    assert "Not answered" not in page


def test_a_question_not_reached_is_not_shown_and_an_empty_year_is_not_answered(client, therapist, client_a):
    page, rows = review_page(client, therapist, client_a, {"ms_type": "rrms", "diagnosis_year": None})
    assert 'data-field="heat_sensitive"' not in page and "Pregnant" not in page
    assert cells(page, "diagnosis_year")[0] == "Not answered"
    assert answer_text("pregnant", False) == "No" and answer_text("pregnant", None) == "Not sure"
