"""The therapist's one-page summary for the neurologist: who may open it, what it costs, and its PDF."""

import shutil

import pytest

from practice.models import AuditEvent
from tests import factories
from tests.portal.test_summary import many_sessions, pdf_pages, pdf_text

pytestmark = pytest.mark.django_db

needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils is not installed")


def page(client) -> str:
    return f"/clients/{client.pk}/summary/"


def pdf(client) -> str:
    return f"/clients/{client.pk}/summary.pdf"


def test_the_therapist_and_the_owner_open_the_summary_and_others_get_a_404(
    client, therapist, other_therapist, owner, client_a
):
    for user in (therapist, owner):
        client.force_login(user)
        response = client.get(page(client_a))
        assert response.status_code == 200
        assert "Alice Ashby" in response.content.decode()
        assert f'href="/clients/{client_a.pk}/summary.pdf"' in response.content.decode()
    client.force_login(other_therapist)
    assert client.get(page(client_a)).status_code == 404
    assert client.get(pdf(client_a)).status_code == 404
    client.force_login(client_a.user)
    assert client.get(page(client_a)).status_code == 404
    client.logout()
    assert client.get(page(client_a)).status_code == 302


def test_the_record_links_to_the_summary_and_the_fhir_record(client, therapist, client_a):
    client.force_login(therapist)
    record = client.get(f"/clients/{client_a.pk}/").content.decode()
    assert f'href="/clients/{client_a.pk}/summary/"' in record
    assert f'href="/clients/{client_a.pk}/fhir.json"' in record


@needs_poppler
def test_the_pdf_is_one_page_for_520_sessions_without_soap_notes(client, therapist, client_a, tmp_path):
    many_sessions(client_a, therapist, 520)
    client.force_login(therapist)
    response = client.get(pdf(client_a))
    assert response["Content-Disposition"].startswith(f'attachment; filename="client-{client_a.pk}-summary-')
    assert pdf_pages(response.content, tmp_path) == 1
    text = pdf_text(response.content, tmp_path)
    assert "520 signed" in text and "Swedish massage" in text
    assert "SOAP-IN-BULK" not in text
    events = AuditEvent.objects.filter(client_id=client_a.pk, object_type="summary_pdf")
    assert [(e.action, e.actor_username) for e in events] == [("export", "maria")]


@needs_poppler
def test_the_pdf_of_a_client_with_no_sessions_is_one_page(client, owner, client_a, tmp_path):
    client.force_login(owner)
    content = client.get(pdf(client_a)).content
    assert pdf_pages(content, tmp_path) == 1
    assert "No signed sessions yet." in pdf_text(content, tmp_path)


# The signed-in user, their session and roles, the client; two trend reports of five queries each; the current
# phase, the therapists, the questionnaire scores; the audit event (three).
QUERIES = 20


def test_query_count_is_pinned_and_does_not_grow_with_sessions(client, therapist, client_a, django_assert_num_queries):
    client.force_login(therapist)
    factories.make_session(client_a, therapist, signed=True, uses=[("swedish", "neck", "light")])
    with django_assert_num_queries(QUERIES):
        assert client.get(page(client_a)).status_code == 200
    many_sessions(client_a, therapist, 80)
    with django_assert_num_queries(QUERIES):
        assert client.get(page(client_a)).status_code == 200
