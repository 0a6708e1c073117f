"""Dates in a client's record are bounded by what can be real, with a message that says the bound."""

import datetime as dt

import pytest
from django.urls import reverse

from clients.models import Client
from tests import factories
from tests.practice.world import profile_post


@pytest.mark.parametrize("day", ["0001-01-01", "1899-12-31"])
def test_a_date_of_birth_before_1900_is_refused_with_the_bound(client, therapist, client_a, day):
    client.force_login(therapist)
    response = client.post(reverse("clients:edit", args=[client_a.pk]), profile_post(client_a, date_of_birth=day))
    assert response.status_code == 200
    assert response.context["form"].errors["date_of_birth"] == ["Enter a date of birth on or after 01 Jan 1900."]
    assert Client.objects.get(pk=client_a.pk).date_of_birth is None


def test_a_real_date_of_birth_is_kept(client, therapist, client_a):
    client.force_login(therapist)
    response = client.post(
        reverse("clients:edit", args=[client_a.pk]), profile_post(client_a, date_of_birth="1900-01-01")
    )
    assert response.status_code == 302
    assert Client.objects.get(pk=client_a.pk).date_of_birth == dt.date(1900, 1, 1)


def test_a_clearance_before_1940_is_refused(client, therapist, client_a):
    client.force_login(therapist)
    form = profile_post(client_a, physician_clearance_on="0001-01-01")
    response = client.post(reverse("clients:edit", args=[client_a.pk]), form)
    assert response.context["form"].errors["physician_clearance_on"] == [
        "Enter a clearance date on or after 01 Jan 1940."
    ]


def test_a_phase_starting_before_1940_is_refused(client, therapist):
    new_client = factories.make_client(therapists=[therapist])
    client.force_login(therapist)
    response = client.post(
        reverse("clients:phase_start", args=[new_client.pk]),
        {"start-phase": "subacute", "start-started_on": "0001-01-01"},
    )
    assert "A phase starts on or after 01 Jan 1940." in response.content.decode()
    assert new_client.phases.count() == 0
