"""The owner edits a client's phases in the admin: the rows of one submission are checked against each other."""

import datetime as dt

import pytest
from django.urls import reverse

from clients.models import Client, DiseasePhase
from tests import factories

pytestmark = pytest.mark.django_db
TODAY = dt.date.today


def client_form(client: Client, phases: list[dict]) -> dict:
    """The admin's change form for a client with no phases yet, adding ``phases`` as new inline rows."""
    data = {
        "first_name": client.first_name,
        "last_name": client.last_name,
        "ms_type": client.ms_type,
        "heat_sensitive": "on",
        "phases-TOTAL_FORMS": str(len(phases)),
        "phases-INITIAL_FORMS": "0",
        "phases-MIN_NUM_FORMS": "0",
        "phases-MAX_NUM_FORMS": "1000",
        "sessions-TOTAL_FORMS": "0",
        "sessions-INITIAL_FORMS": "0",
        "sessions-MIN_NUM_FORMS": "0",
        "sessions-MAX_NUM_FORMS": "0",
    }
    for index, row in enumerate(phases):
        for name, value in row.items():
            data[f"phases-{index}-{name}"] = value
    return data


def post(client, owner, subject: Client, phases: list[dict]):
    client.force_login(owner)
    return client.post(reverse("admin:clients_client_change", args=[subject.pk]), client_form(subject, phases))


def day(days_ago: int) -> str:
    return (TODAY() - dt.timedelta(days=days_ago)).isoformat()


def test_two_new_overlapping_rows_get_a_field_message_and_nothing_is_saved(client, owner):
    subject = factories.make_client()
    response = post(
        client,
        owner,
        subject,
        [
            {"phase": "remission", "started_on": day(100), "ended_on": day(40)},
            {"phase": "acute_flare", "started_on": day(60), "ended_on": day(30)},
        ],
    )
    assert response.status_code == 200
    errors = [
        error
        for form in response.context["inline_admin_formsets"][0].formset.forms
        for error in form.errors.get("started_on", [])
    ]
    assert any("overlaps the one starting" in error for error in errors)
    assert not DiseasePhase.objects.filter(client=subject).exists()


def test_two_new_open_ended_rows_get_a_field_message_and_nothing_is_saved(client, owner):
    subject = factories.make_client()
    response = post(
        client,
        owner,
        subject,
        [{"phase": "remission", "started_on": day(100)}, {"phase": "acute_flare", "started_on": day(10)}],
    )
    assert response.status_code == 200
    assert "Only one phase can be ongoing" in response.content.decode()
    assert not DiseasePhase.objects.filter(client=subject).exists()


def test_adjacent_new_rows_are_saved(client, owner):
    subject = factories.make_client()
    response = post(
        client,
        owner,
        subject,
        [
            {"phase": "remission", "started_on": day(100), "ended_on": day(40)},
            {"phase": "acute_flare", "started_on": day(40)},
        ],
    )
    assert response.status_code == 302
    assert list(DiseasePhase.objects.filter(client=subject).order_by("started_on").values_list("phase", flat=True)) == [
        "remission",
        "acute_flare",
    ]
