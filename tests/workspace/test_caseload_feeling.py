"""A client's "How I feel today" entries reach the therapist: the latest on the record, notable ones on the caseload.

Notable: a note, or pain or fatigue up 2 points or more (the change that matters, MEANINGFUL_CHANGE) against the
client's previous entry, written in the last two weeks and not before the last session.
"""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from clients.services import self_report_record
from tests import factories
from tests.workspace.test_caseload_drafts import CASELOAD_QUERIES
from tests.workspace.test_intake_review import RECORD_QUERIES

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 29, 10, 0, tzinfo=ZoneInfo("Europe/London"))
TODAY = NOW.date()
CASELOAD = reverse("clients:caseload")


@pytest.fixture(autouse=True)
def on_29_november_2026():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


def feel(person, days_ago: int, pain: int, fatigue: int, note: str = "") -> None:
    self_report_record(
        client=person, pain=pain, fatigue=fatigue, note=note, recorded_on=TODAY - dt.timedelta(days=days_ago)
    )


def caseload_row(html: str, person) -> str:
    start = html.index(f'data-client="{person.pk}"')
    end = html.find('data-client="', start + 1)
    return html[start : end if end != -1 else len(html)]


def flag(html: str, person) -> str | None:
    """The caseload's "How I feel today" flag of ``person`` in words (spaces collapsed), or None."""
    match = re.search(r'<p class="caseload-row__feeling[^>]*>(.*?)</p>', caseload_row(html, person), re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match[1]).split()) if match else None


# --- the caseload -----------------------------------------------------------------------------------------------


def test_a_rise_of_two_points_against_the_previous_entry_is_flagged(maria, client_a):
    feel(client_a, 3, pain=3, fatigue=4)
    feel(client_a, 1, pain=6, fatigue=6)
    html = maria.get(CASELOAD).content.decode()
    assert flag(html, client_a) == "How I feel today Sat 28 Nov : pain up 3 (3 → 6), fatigue up 2 (4 → 6)"
    assert 'data-feeling="rise"' in caseload_row(html, client_a)


def test_a_rise_of_one_point_a_fall_or_a_first_entry_is_not_flagged(maria, therapist, client_a):
    falls = factories.make_client(therapists=[therapist], last_name="Falls")
    first = factories.make_client(therapists=[therapist], last_name="First")
    feel(client_a, 3, pain=3, fatigue=4)
    feel(client_a, 1, pain=4, fatigue=5)
    feel(falls, 3, pain=8, fatigue=8)
    feel(falls, 1, pain=2, fatigue=2)
    feel(first, 1, pain=9, fatigue=9)
    html = maria.get(CASELOAD).content.decode()
    assert [flag(html, c) for c in (client_a, falls, first)] == [None, None, None]


def test_a_note_is_flagged_without_its_text(maria, client_a):
    feel(client_a, 2, pain=3, fatigue=3, note="Bad night, legs very stiff.")
    html = maria.get(CASELOAD).content.decode()
    assert flag(html, client_a) == "How I feel today Fri 27 Nov : wrote a note"
    assert 'data-feeling="note"' in caseload_row(html, client_a)
    assert "legs very stiff" not in html


def test_a_rise_and_a_note_are_flagged_together(maria, client_a):
    feel(client_a, 5, pain=2, fatigue=2)
    feel(client_a, 0, pain=2, fatigue=5, note="Tired after the heat.")
    html = maria.get(CASELOAD).content.decode()
    assert flag(html, client_a) == "How I feel today Sun 29 Nov : fatigue up 3 (2 → 5); wrote a note"
    assert 'data-feeling="rise note"' in caseload_row(html, client_a)


def test_an_entry_older_than_two_weeks_or_before_the_last_session_is_no_longer_news(maria, therapist, client_a):
    seen = factories.make_client(therapists=[therapist], last_name="Seen")
    feel(client_a, 20, pain=2, fatigue=2)
    feel(client_a, 15, pain=8, fatigue=8, note="Worse.")
    feel(seen, 4, pain=2, fatigue=2)
    feel(seen, 3, pain=8, fatigue=8, note="Worse.")
    factories.make_session(seen, therapist, started_at=NOW - dt.timedelta(days=2), signed=True)
    html = maria.get(CASELOAD).content.decode()
    assert (flag(html, client_a), flag(html, seen)) == (None, None)


def test_an_entry_on_the_day_of_the_last_session_is_still_news(maria, therapist, client_a):
    factories.make_session(client_a, therapist, started_at=NOW - dt.timedelta(days=1, hours=2), signed=True)
    feel(client_a, 1, pain=3, fatigue=3, note="Sore after the session.")
    assert flag(maria.get(CASELOAD).content.decode(), client_a) == "How I feel today Sat 28 Nov : wrote a note"


def test_the_caseload_query_count_stays_the_same_with_many_diaries(maria, therapist, django_assert_num_queries):
    def clients_with_diaries(count: int) -> None:
        for _ in range(count):
            person = factories.make_client(therapists=[therapist])
            for day in range(6):
                feel(person, day, pain=day % 4 * 2, fatigue=3, note="note" if day == 0 else "")

    clients_with_diaries(2)
    maria.get(CASELOAD)
    with django_assert_num_queries(CASELOAD_QUERIES):
        maria.get(CASELOAD)
    clients_with_diaries(28)
    with django_assert_num_queries(CASELOAD_QUERIES):
        html = maria.get(CASELOAD).content.decode()
    assert html.count('class="caseload-row__feeling') == 25


# --- the record -------------------------------------------------------------------------------------------------


def record(browser, person) -> str:
    return browser.get(reverse("clients:detail", args=[person.pk])).content.decode()


def feeling_section(html: str) -> str:
    start = html.index('id="feeling"')
    return " ".join(re.sub(r"<[^>]+>", " ", html[start : html.index("</section>", start)]).split())


def test_the_record_shows_the_latest_entry_with_date_scores_and_note(maria, client_a):
    feel(client_a, 40, pain=1, fatigue=2, note="Older entry.")
    feel(client_a, 30, pain=2, fatigue=2)
    feel(client_a, 20, pain=5, fatigue=3, note="Hot week, <b>legs</b> heavy.")
    html = record(maria, client_a)
    section = feeling_section(html)
    assert "Mon 9 Nov 2026 : pain 5/10, fatigue 3/10 pain up 3 (2 → 5)" in section
    assert "Hot week, &lt;b&gt;legs&lt;/b&gt; heavy." in section
    assert "Older entry." not in html
    assert f'href="/clients/{client_a.pk}/trends/">Every entry on the trend page' in html


def test_the_record_says_when_there_is_no_entry_yet(maria, client_a):
    assert "No entries yet: the client records how they feel between sessions in their portal." in feeling_section(
        record(maria, client_a)
    )


def test_the_record_query_count_is_pinned_and_does_not_grow_with_the_diary(maria, client_a, django_assert_num_queries):
    feel(client_a, 1, pain=3, fatigue=3)
    url = reverse("clients:detail", args=[client_a.pk])
    maria.get(url)
    with django_assert_num_queries(RECORD_QUERIES):
        maria.get(url)
    for day in range(2, 60):
        feel(client_a, day, pain=day % 10, fatigue=day % 7, note=f"Day {day}.")
    with django_assert_num_queries(RECORD_QUERIES):
        maria.get(url)
