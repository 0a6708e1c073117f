"""The caseload lists the therapist's own unsigned drafts, oldest first, with their age: none slips through."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from tests import factories
from workspace.selectors import DRAFTS_SHOWN

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=ZoneInfo("Europe/London"))
CASELOAD = reverse("clients:caseload")


@pytest.fixture(autouse=True)
def on_29_november_2026():
    with time_machine.travel(NOW, tick=False):
        yield


def drafts_listed(html: str) -> list[tuple[str, str]]:
    """(session id, age) of each draft in "Your drafts to sign", in page order."""
    return re.findall(r'data-session="(\d+)">.*?· ([^<]+)</span>', html, re.S)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_drafts_to_sign_are_the_therapists_own_oldest_first_with_their_age(
    client, therapist, other_therapist, client_a, owner
):
    shared = factories.make_client(therapists=[therapist, other_therapist], last_name="Shared")
    today = factories.make_session(client_a, therapist, started_at=days_ago(0.1))
    three = factories.make_session(shared, therapist, started_at=days_ago(3))
    one = factories.make_session(client_a, therapist, started_at=days_ago(1))
    factories.make_session(client_a, therapist, started_at=days_ago(5), signed=True)  # signed: not listed
    factories.make_session(shared, other_therapist, started_at=days_ago(9))  # someone else's draft
    client.force_login(therapist)
    html = client.get(CASELOAD).content.decode()
    assert "Your drafts to sign" in html
    assert drafts_listed(html) == [
        (str(three.pk), "3 days old"),
        (str(one.pk), "1 day old"),
        (str(today.pk), "from today"),
    ]
    assert (
        f'href="{reverse("sessions:detail", args=[three.pk])}">{shared.full_name}, Thu 26 Nov 2026, 10:00</a>' in html
    )


def test_the_caseload_and_the_admin_give_a_draft_the_same_age(client, therapist, owner, client_a):
    # Yesterday at 23:00, seen at 10:00: a day old by the calendar, though not 24 hours ago.
    late = factories.make_session(client_a, therapist, started_at=NOW.replace(hour=23) - dt.timedelta(days=1))
    client.force_login(therapist)
    assert drafts_listed(client.get(CASELOAD).content.decode()) == [(str(late.pk), "1 day old")]
    client.force_login(owner)
    admin_list = client.get("/admin/treatment_sessions/treatmentsession/", {"to_sign": "oldest"}).content.decode()
    assert "Draft, 1 day old" in admin_list and "from today" not in admin_list


def test_without_drafts_the_caseload_shows_no_drafts_section(client, therapist, client_a):
    factories.make_session(client_a, therapist, signed=True)
    client.force_login(therapist)
    assert "Your drafts to sign" not in client.get(CASELOAD).content.decode()


def test_the_owner_sees_their_own_drafts_only(client, owner, therapist, client_a):
    factories.make_session(client_a, therapist, started_at=days_ago(2))
    client.force_login(owner)
    assert "Your drafts to sign" not in client.get(CASELOAD).content.decode()


def test_drafts_of_archived_clients_and_clients_no_longer_cared_for_are_left_out(client, therapist, client_a):
    archived = factories.make_client(therapists=[therapist])
    left = factories.make_client(therapists=[therapist])
    factories.make_session(archived, therapist, started_at=days_ago(4))
    factories.make_session(left, therapist, started_at=days_ago(4))
    kept = factories.make_session(client_a, therapist, started_at=days_ago(4))
    archived.archive()
    left.therapists.clear()
    client.force_login(therapist)
    assert drafts_listed(client.get(CASELOAD).content.decode()) == [(str(kept.pk), "4 days old")]


def test_the_oldest_drafts_are_shown_when_there_are_many(client, therapist, client_a):
    drafts = [factories.make_session(client_a, therapist, started_at=days_ago(30 - n)) for n in range(DRAFTS_SHOWN + 3)]
    client.force_login(therapist)
    html = client.get(CASELOAD).content.decode()
    assert [pk for pk, _ in drafts_listed(html)] == [str(d.pk) for d in drafts[:DRAFTS_SHOWN]]
    assert f"the {DRAFTS_SHOWN} oldest are shown, sign these first" in html


def test_the_drafts_cost_one_query_however_many(client, therapist, client_a, django_assert_num_queries):
    factories.make_session(client_a, therapist, started_at=days_ago(2))
    client.force_login(therapist)
    client.get(CASELOAD)  # the session's first request settles its own bookkeeping
    with django_assert_num_queries(CASELOAD_QUERIES):
        client.get(CASELOAD)
    for n in range(DRAFTS_SHOWN + 5):
        factories.make_session(factories.make_client(therapists=[therapist]), therapist, started_at=days_ago(n))
    with django_assert_num_queries(CASELOAD_QUERIES):
        response = client.get(CASELOAD)
    assert len(drafts_listed(response.content.decode())) == DRAFTS_SHOWN


# The web session, the user and their roles, the paginator's count, the drafts, one page of clients (with their
# phase, last session and latest "How I feel today" entries as subqueries).
CASELOAD_QUERIES = 6
