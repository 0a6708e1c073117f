"""A session is logged after it happens: one dated months ahead is refused on every path that writes one.

The walkthrough's 1 June 2027 entry (on 29 Nov 2026) was saved because ``TreatmentSession.clean`` then refused
a future date only when after-scores were given, so a draft (after-scores "not yet") went through the form, the
edit and the admin alike. The rule now lives in ``sessions.models.check_session_start``, for every writer; a draft
dated ahead before that fix cannot be signed until its date is corrected.
"""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client as Browser
from django.urls import reverse

from sessions.models import SessionStatus, TreatmentSession
from tests import factories
from tests.practice.world import admin_session_post
from tests.sessions.test_session_admin import admin_change_data
from tests.sessions.test_session_views import edit_url, new_url, session_data, values_of

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
TODAY = dt.datetime(2026, 11, 29, 10, 0, tzinfo=LONDON)
MONTHS_AHEAD = dt.datetime(2027, 6, 1, 10, 0, tzinfo=LONDON)
FUTURE = "A session cannot start in the future; log it after it happens."
ADD_URL = reverse("admin:treatment_sessions_treatmentsession_add")


@pytest.fixture(autouse=True)
def on_29_november_2026():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


@pytest.fixture
def owner_browser(owner) -> Browser:
    browser = Browser()
    browser.force_login(owner)
    return browser


@pytest.fixture
def draft(client_a, therapist):
    return factories.make_session(
        client_a, therapist, uses=[("swedish", "neck", "light")], started_at=TODAY - dt.timedelta(hours=2)
    )


def test_the_therapists_form_refuses_1_june_2027(maria, client_a):
    response = maria.post(new_url(client_a), session_data(("swedish", "neck", "light"), started_at="2027-06-01T10:00"))
    assert response.status_code == 200
    assert response.context["form"].errors["started_at"] == [FUTURE]
    assert FUTURE in response.content.decode()
    assert not TreatmentSession.objects.exists()


def test_the_therapists_form_accepts_this_morning(maria, client_a):
    response = maria.post(new_url(client_a), session_data(("swedish", "neck", "light"), started_at="2026-11-29T09:00"))
    assert response.status_code == 302
    assert TreatmentSession.objects.get().started_at == TODAY - dt.timedelta(hours=1)


def test_the_draft_edit_form_refuses_1_june_2027(maria, draft):
    data = values_of(maria.get(edit_url(draft))) | {"started_at": "2027-06-01T10:00"}
    response = maria.post(edit_url(draft), data)
    assert response.context["form"].errors["started_at"] == [FUTURE]
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert (stored.started_at, stored.version) == (draft.started_at, draft.version)


def test_the_admin_add_page_refuses_1_june_2027(owner_browser, therapist, client_a):
    data = admin_session_post(
        client_a, therapist, ("swedish", "neck", "light"), started_at_0="2027-06-01", started_at_1="10:00:00"
    )
    response = owner_browser.post(ADD_URL, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["started_at"] == [FUTURE]
    assert not TreatmentSession.objects.exists()


def test_the_admin_change_page_refuses_1_june_2027(owner_browser, draft):
    url = reverse("admin:treatment_sessions_treatmentsession_change", args=[draft.pk])
    response = owner_browser.post(url, admin_change_data(draft, started_at_0="2027-06-01", started_at_1="10:00:00"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["started_at"] == [FUTURE]
    assert TreatmentSession.objects.get(pk=draft.pk).started_at == draft.started_at


def test_a_draft_dated_ahead_before_the_fix_cannot_be_signed_until_corrected(maria, client_a, therapist):
    # Written as the walkthrough's was, around today's checks (no form, no service).
    ahead = factories.make_session(
        client_a, therapist, uses=[("swedish", "neck", "light")], started_at=MONTHS_AHEAD, pain_after=3, fatigue_after=3
    )
    response = maria.post(reverse("sessions:sign", args=[ahead.pk]), follow=True)
    assert f"{FUTURE} Correct the date and time (edit the draft), then sign it." in response.content.decode()
    assert TreatmentSession.objects.get(pk=ahead.pk).status == SessionStatus.DRAFT
    # Opening it to edit shows the same refusal on the date field as soon as it is saved.
    data = values_of(maria.get(edit_url(ahead)))
    assert maria.post(edit_url(ahead), data).context["form"].errors["started_at"] == [FUTURE]
    data["started_at"] = "2026-11-28T10:00"
    assert maria.post(edit_url(ahead), data).status_code == 302
    assert maria.post(reverse("sessions:sign", args=[ahead.pk])).status_code == 302
    assert TreatmentSession.objects.get(pk=ahead.pk).status == SessionStatus.SIGNED
