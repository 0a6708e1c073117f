"""The portal's questionnaires and the therapist's hand-over, through their real addresses."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from measures.models import QuestionnaireResponse
from practice.models import AuditEvent
from tests import factories
from tests.measures.helpers import make_instrument, mfis5, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client, client_a):
    client.force_login(client_a.user)
    return client


def start(browser, code="mfis5"):
    return browser.post(reverse("portal:questionnaire_begin", args=[code]))


def test_the_portal_lists_what_is_due_and_the_nav_links_to_it(alice):
    html = alice.get(reverse("portal:questionnaires")).content.decode()
    assert "Modified Fatigue Impact Scale, 5-item version (MFIS-5)" in html
    assert "Due now" in html
    assert 'href="/portal/questionnaires/"' in alice.get(reverse("portal:home")).content.decode()


def test_filling_one_item_per_screen_stopping_half_way_and_resuming(alice, client_a):
    response = start(alice)
    questionnaire = QuestionnaireResponse.objects.get(client=client_a)
    first = reverse("portal:questionnaire_item", args=[questionnaire.pk, 1])
    assert response["Location"] == first
    page = alice.get(first).content.decode()
    assert "Question 1 of 5" in page and "I have been less alert." in page
    assert page.count('type="radio" name="answer"') == 5
    assert alice.post(first, {"answer": "3"})["Location"] == reverse(
        "portal:questionnaire_item", args=[questionnaire.pk, 2]
    )
    second = reverse("portal:questionnaire_item", args=[questionnaire.pk, 2])
    alice.post(second, {"answer": "1"})
    # Away, then back: the list offers to continue at question 3, and starting again resumes too.
    listing = alice.get(reverse("portal:questionnaires")).content.decode()
    third = reverse("portal:questionnaire_item", args=[questionnaire.pk, 3])
    assert "You answered 2 of 5 so far." in listing and f'href="{third}"' in listing
    assert start(alice)["Location"] == third
    # The saved answer is shown chosen when going back.
    assert 'value="3" checked' in alice.get(first).content.decode()
    for number, value in ((3, "4"), (4, "2"), (5, "0")):
        alice.post(reverse("portal:questionnaire_item", args=[questionnaire.pk, number]), {"answer": value})
    review = alice.get(reverse("portal:questionnaire_review", args=[questionnaire.pk])).content.decode()
    assert "Almost always" in review and "Check your answers" in review
    done = alice.post(reverse("portal:questionnaire_review", args=[questionnaire.pk]))
    assert done["Location"] == reverse("portal:questionnaire_done", args=[questionnaire.pk])
    thanks = alice.get(done["Location"]).content.decode()
    assert 'data-score="10"' in thanks and "out of 20" in thanks
    assert "no published minimal important difference" in thanks
    assert QuestionnaireResponse.objects.get(pk=questionnaire.pk).entered_in == "portal"


def test_a_missing_answer_is_a_clear_message_not_an_error(alice, client_a):
    start(alice)
    questionnaire = QuestionnaireResponse.objects.get(client=client_a)
    item = reverse("portal:questionnaire_item", args=[questionnaire.pk, 1])
    for bad in ({}, {"answer": "9"}, {"answer": "<script>"}):
        page = alice.post(item, bad)
        assert page.status_code == 400
        assert "Choose one of the answers." in page.content.decode()
    review = alice.post(reverse("portal:questionnaire_review", args=[questionnaire.pk]))
    assert review.status_code == 400 and "5 questions not answered yet." in review.content.decode()
    assert alice.get(reverse("portal:questionnaire_item", args=[questionnaire.pk, 6])).status_code == 404


def test_a_submitted_questionnaire_cannot_be_changed_from_the_portal(alice, client_a):
    questionnaire = submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user)
    item = reverse("portal:questionnaire_item", args=[questionnaire.pk, 1])
    assert alice.post(item, {"answer": "4"})["Location"] == reverse(
        "portal:questionnaire_done", args=[questionnaire.pk]
    )
    assert QuestionnaireResponse.objects.get(pk=questionnaire.pk).answers["mfis5-1"] == 1


def test_the_thank_you_compares_with_last_time_against_a_published_mcid(alice, client_a):
    instrument = make_instrument()
    submitted(client_a, instrument, [2, 2, 2], by=client_a.user, days_ago=30)
    now = submitted(client_a, instrument, [1, 1, 0], by=client_a.user)
    page = alice.get(reverse("portal:questionnaire_done", args=[now.pk])).content.decode()
    assert "4 points better than last time (6). That is at least the 2-point change known to matter." in page


def test_a_client_cannot_open_another_clients_questionnaire(client, client_a, client_b):
    other = submitted(client_b, mfis5(), [1, 1, 1, 1, 1], by=client_b.user)
    client.force_login(client_a.user)
    for name in ("questionnaire_done", "questionnaire_review"):
        assert client.get(reverse(f"portal:{name}", args=[other.pk])).status_code == 404
    assert AuditEvent.objects.filter(action="access_denied", object_type="questionnaire").exists()


def test_an_unknown_instrument_is_a_404(alice):
    assert start(alice, "pdds").status_code == 404


def queries_of(browser, urls) -> dict[str, int]:
    """The queries each page costs, asked for twice (the first visit may warm caches)."""
    counts = {}
    for url in urls:
        browser.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert browser.get(url).status_code == 200, url
        counts[url] = len(captured)
    return counts


def grow_history(client_a, therapist) -> None:
    """Six more questionnaires, from the portal and in sessions, and six sessions: no page may cost more."""
    for n in range(6):
        entered_in = "portal" if n % 2 else "session"
        by = client_a.user if n % 2 else therapist
        submitted(client_a, mfis5(), [n % 5] * 5, by=by, days_ago=40 + n, entered_in=entered_in)
        factories.make_session(client_a, therapist, signed=True, started_at=timezone.now() - dt.timedelta(days=50 + n))


def test_the_portal_pages_cost_a_fixed_number_of_queries(alice, client_a, therapist, django_assert_num_queries):
    earlier = submitted(client_a, mfis5(), [2] * 5, by=client_a.user, days_ago=30)
    start(alice)
    questionnaire = QuestionnaireResponse.objects.get(client=client_a, status="in_progress")
    pages = queries_of(
        alice,
        [
            reverse("portal:questionnaires"),
            reverse("portal:questionnaire_item", args=[questionnaire.pk, 1]),
            reverse("portal:questionnaire_review", args=[questionnaire.pk]),
            reverse("portal:questionnaire_done", args=[earlier.pk]),
        ],
    )
    grow_history(client_a, therapist)
    for url, count in pages.items():
        with django_assert_num_queries(count):
            alice.get(url)
    assert list(pages.values()) == QUERIES


# The web session, the user, the client profile, the roles; then the page's own reads and the audit event (3
# queries). The list works out what is due (2) and reads the client's questionnaires; an item or the review reads
# the questionnaire; the thank-you page reads it and the one before it (to compare).
QUERIES = [12, 8, 8, 9]


# --- the tablet handed over in a session


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


def test_the_record_offers_the_hand_over_and_shows_the_latest_score(maria, client_a):
    record = reverse("clients:detail", args=[client_a.pk])
    html = maria.get(record).content.decode()
    assert "Hand the tablet to Alice for a questionnaire" in html and "None filled in yet." in html
    submitted(client_a, mfis5(), [2, 2, 2, 2, 3], by=client_a.user)
    assert 'data-latest-score="11"' in maria.get(record).content.decode()


def test_the_hand_over_fills_the_questionnaire_as_the_therapist_in_a_session(maria, client_a, therapist):
    factories.make_session(client_a, therapist, subjective="SOAP-SECRET")
    choose = maria.get(reverse("clients:questionnaire_choose", args=[client_a.pk])).content.decode()
    assert "Hello Alice" in choose and "SOAP-SECRET" not in choose
    started = maria.post(reverse("clients:questionnaire_begin", args=[client_a.pk, "mfis5"]))
    questionnaire = QuestionnaireResponse.objects.get(client=client_a)
    assert started["Location"] == reverse("clients:questionnaire_item", args=[client_a.pk, questionnaire.pk, 1])
    for number in range(1, 6):
        url = reverse("clients:questionnaire_item", args=[client_a.pk, questionnaire.pk, number])
        page = maria.get(url).content.decode()
        assert f"Question {number} of 5" in page
        assert "SOAP-SECRET" not in page and "Safety alerts" not in page and "Log a session" not in page
        maria.post(url, {"answer": "4"})
    maria.post(reverse("clients:questionnaire_review", args=[client_a.pk, questionnaire.pk]))
    questionnaire.refresh_from_db()
    assert (questionnaire.status, questionnaire.score) == ("submitted", 20)
    assert (questionnaire.entered_by, questionnaire.entered_in) == (therapist, "session")
    done = maria.get(reverse("clients:questionnaire_done", args=[client_a.pk, questionnaire.pk])).content.decode()
    assert f'href="{reverse("clients:detail", args=[client_a.pk])}">Hand the tablet back' in done


def test_another_therapist_cannot_hand_over_for_a_client_they_do_not_care_for(client, other_therapist, client_a):
    client.force_login(other_therapist)
    assert client.post(reverse("clients:questionnaire_begin", args=[client_a.pk, "mfis5"])).status_code == 404
    assert not QuestionnaireResponse.objects.exists()


def test_the_portal_and_the_hand_over_do_not_open_each_others_questionnaires(maria, client_a, therapist):
    portal = submitted(client_a, mfis5(), [1] * 5, by=client_a.user)
    url = reverse("clients:questionnaire_done", args=[client_a.pk, portal.pk])
    assert maria.get(url).status_code == 404


def test_the_caseload_shows_who_is_due_at_a_fixed_query_count(maria, therapist, client_a, django_assert_num_queries):
    html = maria.get(reverse("clients:caseload")).content.decode()
    assert html.count('data-questionnaire="due"') == 1
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        maria.get(reverse("clients:caseload"))
    for _ in range(5):
        c = factories.make_client(therapists=[therapist])
        submitted(c, mfis5(), [0] * 5, by=therapist, days_ago=2)
    with django_assert_num_queries(len(captured)):
        html = maria.get(reverse("clients:caseload")).content.decode()
    assert html.count('data-questionnaire="due"') == 1


def test_the_hand_over_pages_cost_a_fixed_number_of_queries(maria, client_a, therapist, django_assert_num_queries):
    earlier = submitted(client_a, mfis5(), [2] * 5, by=therapist, days_ago=30, entered_in="session")
    maria.post(reverse("clients:questionnaire_begin", args=[client_a.pk, "mfis5"]))
    questionnaire = QuestionnaireResponse.objects.get(client=client_a, status="in_progress")
    pages = queries_of(
        maria,
        [
            reverse("clients:questionnaire_choose", args=[client_a.pk]),
            reverse("clients:questionnaire_item", args=[client_a.pk, questionnaire.pk, 1]),
            reverse("clients:questionnaire_review", args=[client_a.pk, questionnaire.pk]),
            reverse("clients:questionnaire_done", args=[client_a.pk, earlier.pk]),
        ],
    )
    grow_history(client_a, therapist)
    for url, count in pages.items():
        with django_assert_num_queries(count):
            maria.get(url)
    assert list(pages.values()) == HAND_OVER_QUERIES


# The web session, the user, the roles, the client (scoped to the therapist); the page's own reads and the audit
# event (3 queries); the roles context processor looking for a client profile (a therapist has none). The choice
# works out what is due (2) and lists the instruments; an item or the review reads the questionnaire; the
# thank-you page reads it and the one before it.
HAND_OVER_QUERIES = [10, 8, 8, 9]
