"""During an acute flare no massage is due: the caseload and the record say "Paused: acute flare", not "Overdue"."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import Phase
from clients.services import phase_start
from tests import factories

pytestmark = pytest.mark.django_db

CASELOAD = reverse("clients:caseload")
PAUSED = '<span class="badge text-bg-secondary due-badge--paused">Paused: acute flare</span>'
OVERDUE = '<span class="badge due-badge--overdue">Overdue</span>'


def days_ago(n: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=n)


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


@pytest.fixture
def in_a_flare(therapist):
    """Last seen three weeks ago, in an acute flare since five days ago."""
    person = factories.make_client(therapists=[therapist], last_name="Flare")
    factories.make_phase(person, Phase.REMISSION, started_on=days_ago(200), ended_on=days_ago(5))
    factories.make_phase(person, Phase.ACUTE_FLARE, started_on=days_ago(5))
    factories.make_session(person, therapist, started_at=timezone.now() - dt.timedelta(days=21), signed=True)
    return person


def row_of(html: str, person) -> str:
    start = html.index(f'data-client="{person.pk}"')
    end = html.find('data-client="', start + 1)
    return html[start : end if end != -1 else len(html)]


def test_a_client_in_a_flare_is_paused_not_overdue_on_the_caseload(maria, therapist, in_a_flare, client_a):
    factories.make_session(client_a, therapist, started_at=timezone.now() - dt.timedelta(days=21), signed=True)
    html = maria.get(CASELOAD).content.decode()
    flare_row, remission_row = row_of(html, in_a_flare), row_of(html, client_a)
    assert PAUSED in flare_row
    assert "Overdue" not in flare_row and "Next due: <time" not in flare_row
    # A client in remission seen as long ago is still overdue.
    assert OVERDUE in remission_row and "Paused" not in remission_row


def test_a_client_in_a_flare_without_sessions_is_paused_too(maria, therapist):
    person = factories.make_client(therapists=[therapist])
    factories.make_phase(person, Phase.ACUTE_FLARE, started_on=days_ago(2))
    assert PAUSED in row_of(maria.get(CASELOAD).content.decode(), person)


def test_the_record_says_paused_during_the_flare(maria, in_a_flare):
    html = maria.get(reverse("clients:detail", args=[in_a_flare.pk])).content.decode()
    assert f"next due: {PAUSED}" in html
    assert OVERDUE not in html


def test_once_the_flare_gives_way_to_recovery_the_client_is_due_again(maria, therapist, in_a_flare):
    phase_start(client=in_a_flare, phase=Phase.SUBACUTE, started_on=timezone.localdate(), recorded_by=therapist)
    html = maria.get(CASELOAD).content.decode()
    assert OVERDUE in row_of(html, in_a_flare)
    assert "Paused" not in html
    record = maria.get(reverse("clients:detail", args=[in_a_flare.pk])).content.decode()
    assert OVERDUE in record and "Paused" not in record
