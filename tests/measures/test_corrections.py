"""Correcting a submitted questionnaire from the client record: an amendment with a reason, the corrected score
marked "corrected" on the record and in the portal, the submitted one a click away."""

import pytest
from django.urls import reverse

from measures.models import QuestionnaireAmendment, QuestionnaireResponse
from practice.models import AuditEvent
from tests.measures.helpers import mfis5, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


def answers(values, **extra):
    data = {f"item_{item['link_id']}": str(v) for item, v in zip(mfis5().items, values, strict=True)}
    return {**data, **extra}


def urls(client_a, questionnaire):
    return (
        reverse("clients:questionnaire_detail", args=[client_a.pk, questionnaire.pk]),
        reverse("clients:questionnaire_amend", args=[client_a.pk, questionnaire.pk]),
    )


def test_a_therapist_corrects_an_answer_with_a_reason_and_the_original_stays(maria, client_a, therapist):
    questionnaire = submitted(client_a, mfis5(), [2, 2, 2, 2, 3], by=client_a.user)
    detail, amend = urls(client_a, questionnaire)
    form = maria.get(amend).content.decode()
    assert "Record the correction" in form and "I have been less alert." in form
    assert form.count("checked") == 5  # the current answers are chosen
    saved = maria.post(amend, answers([2, 2, 2, 2, 0], reason="Alice meant Never for the last one."))
    assert saved.status_code == 302 and saved["Location"] == detail
    amendment = QuestionnaireAmendment.objects.get()
    assert (amendment.author, amendment.score, amendment.reason) == (
        therapist,
        8,
        "Alice meant Never for the last one.",
    )
    assert list(amendment.changes.values()) == [{"from": 3, "to": 0}]
    questionnaire.refresh_from_db()
    assert questionnaire.score == 11  # as submitted, untouched
    page = maria.get(detail).content.decode()
    assert 'data-current-score="8"' in page and 'data-original-score="11"' in page
    assert page.count("data-corrected") == 2  # the score and the one answer corrected
    assert "Alice meant Never for the last one." in page
    assert AuditEvent.objects.filter(action="amend", object_type="questionnaire", client_id=client_a.pk).count() == 1


def test_the_record_and_the_portal_show_the_corrected_score_marked_with_the_original_a_click_away(
    maria, client, client_a, therapist
):
    questionnaire = submitted(client_a, mfis5(), [4, 4, 4, 4, 4], by=client_a.user)
    detail, amend = urls(client_a, questionnaire)
    maria.post(amend, answers([4, 4, 4, 4, 1], reason="Typed by mistake."))
    record = maria.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert 'data-latest-score="17"' in record and "data-corrected" in record and "As submitted:</span> 20/20" in record
    assert f'href="{detail}"' in record
    client.force_login(client_a.user)
    portal = client.get(reverse("portal:questionnaires")).content.decode()
    assert "17 of 20" in portal and "data-corrected" in portal and "As first sent: 20 of 20." in portal
    done = client.get(reverse("portal:questionnaire_done", args=[questionnaire.pk])).content.decode()
    assert 'data-score="17"' in done and "As first sent: 20 out of 20." in done


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": ""}, "This field is required."),
        ({"reason": "   "}, "This field is required."),
        ({"reason": "Nothing really.", "same": True}, "Nothing to correct: the answers are the same as before."),
        ({"reason": "Bad value.", "bad": "9"}, "Choose one of the answers."),
        ({"reason": "Bad value.", "bad": "<script>"}, "Choose one of the answers."),
        ({"reason": "Missing.", "missing": True}, "Choose one of the answers."),
    ],
)
def test_bad_corrections_are_refused_with_a_clear_message(maria, client_a, data, message):
    questionnaire = submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user)
    _detail, amend = urls(client_a, questionnaire)
    values = [1, 1, 1, 1, 1] if data.get("same") or data.get("bad") or data.get("missing") else [1, 1, 1, 1, 2]
    post = answers(values, reason=data["reason"])
    first = f"item_{mfis5().items[0]['link_id']}"
    if data.get("bad"):
        post[first] = data["bad"]
    if data.get("missing"):
        del post[first]
    response = maria.post(amend, post)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not QuestionnaireAmendment.objects.exists()


def test_only_submitted_questionnaires_of_the_client_are_opened(maria, client_a, client_b, therapist):
    from measures.services import questionnaire_start

    draft = questionnaire_start(client=client_a, instrument=mfis5(), entered_by=client_a.user)
    for url in urls(client_a, draft):
        assert maria.get(url).status_code == 404
    others = submitted(client_b, mfis5(), [1] * 5, by=client_b.user)
    # Client B's questionnaire under client A's address: a 404, whoever may see A.
    for url in urls(client_a, others):
        assert maria.get(url).status_code == 404


def test_an_archived_clients_questionnaire_is_read_only(maria, client_a):
    questionnaire = submitted(client_a, mfis5(), [1] * 5, by=client_a.user)
    client_a.archive()
    detail, amend = urls(client_a, questionnaire)
    assert "Correct an answer" not in maria.get(detail).content.decode()
    response = maria.post(amend, answers([0] * 5, reason="Late."))
    assert response.status_code == 302 and response["Location"] == detail
    assert not QuestionnaireAmendment.objects.exists()


def test_the_pages_cost_a_fixed_number_of_queries(maria, client_a, therapist, django_assert_num_queries):
    questionnaire = submitted(client_a, mfis5(), [2] * 5, by=client_a.user)
    detail, amend = urls(client_a, questionnaire)
    for n in range(3):
        older = submitted(client_a, mfis5(), [n] * 5, by=client_a.user, days_ago=30 + n)
        maria.post(urls(client_a, older)[1], answers([n, n, n, n, 4], reason=f"Fix {n}."))
    maria.post(amend, answers([2, 2, 2, 2, 0], reason="Fix."))
    maria.post(amend, answers([2, 2, 2, 2, 1], reason="Fix again."))
    # The web session, the user, their roles, the client, the questionnaire, its amendments (with authors), the other
    # scores (the detail only), the audit event (3 queries) and the base template's own look-up: whatever the count of
    # questionnaires and corrections.
    with django_assert_num_queries(DETAIL_QUERIES):
        maria.get(detail)
    with django_assert_num_queries(AMEND_QUERIES):
        maria.get(amend)


DETAIL_QUERIES = 10
AMEND_QUERIES = 9


def test_a_therapist_who_does_not_care_for_the_client_gets_a_404(client, other_therapist, client_a):
    questionnaire = submitted(client_a, mfis5(), [1] * 5, by=client_a.user)
    client.force_login(other_therapist)
    for url in urls(client_a, questionnaire):
        assert client.get(url).status_code == 404
    assert client.post(urls(client_a, questionnaire)[1], answers([0] * 5, reason="x")).status_code == 404
    assert QuestionnaireResponse.objects.get().amendments.count() == 0
