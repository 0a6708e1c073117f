"""No session is saved for a client without a current consent to treatment: a stop no reason overrides (issue 15)."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from clients.intake import consent_withdraw
from clients.models import ConsentKind
from sessions.models import TreatmentSession
from sessions.safety import PlannedUse
from sessions.services import SessionWriteRefused, session_create, session_sign, session_update
from tests import factories
from tests.practice.world import admin_session_post
from tests.sessions.test_session_views import detail_url, edit_url, session_data

pytestmark = pytest.mark.django_db

OVERRIDE = "The client agreed out loud and the neurologist is happy with massage."


@pytest.fixture
def unconsented(therapist):
    """A client with a portal account, cared for by ``therapist``, once the practice has a consent text."""
    factories.make_consent_text()
    return factories.make_client(therapists=[therapist], consented=False, user=factories.make_user())


def new_url(client) -> str:
    return reverse("sessions:new", args=[client.pk])


def test_the_session_form_is_refused_with_the_way_to_get_consent_on_the_record(client, therapist, unconsented):
    client.force_login(therapist)
    response = client.get(new_url(unconsented))
    assert response.status_code == 302 and response["Location"] == reverse("clients:detail", args=[unconsented.pk])
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "has not consented to treatment" in message
    record = client.get(response["Location"]).content.decode()
    assert 'data-consent="missing"' in record
    assert reverse("clients:intake_request", args=[unconsented.pk]) in record  # ask in the portal, right there


def test_a_posted_session_is_not_saved_even_with_an_override_reason(client, therapist, unconsented):
    client.force_login(therapist)
    data = session_data(("swedish", "neck", "light"), safety_override_reason=OVERRIDE)
    assert client.post(new_url(unconsented), data).status_code == 302
    assert not TreatmentSession.objects.filter(client=unconsented).exists()


def test_the_service_refuses_whoever_calls_it(therapist, unconsented):
    uses = [PlannedUse(factories.technique("swedish"), "neck", "light")]
    with pytest.raises(SessionWriteRefused, match="has not consented to treatment"):
        session_create(
            client=unconsented,
            therapist=therapist,
            values={"started_at": unconsented.created_at, "safety_override_reason": OVERRIDE},
            uses=uses,
        )


def test_the_admin_refuses_too(client, owner, therapist, unconsented):
    client.force_login(owner)
    data = admin_session_post(unconsented, therapist, ("swedish", "neck", "light"), safety_override_reason=OVERRIDE)
    response = client.post(reverse("admin:treatment_sessions_treatmentsession_add"), data)
    assert response.status_code == 200
    assert "has not consented to treatment" in response.content.decode()
    assert not TreatmentSession.objects.filter(client=unconsented).exists()


def test_with_consent_the_session_is_saved(client, therapist, unconsented):
    factories.consent(unconsented)
    client.force_login(therapist)
    assert client.get(new_url(unconsented)).status_code == 200
    client.post(new_url(unconsented), session_data(("swedish", "neck", "light")))
    assert TreatmentSession.objects.filter(client=unconsented).count() == 1


def test_a_withdrawn_consent_or_a_new_version_is_not_current(client, therapist, unconsented):
    consent = factories.consent(unconsented)
    consent_withdraw(consent=consent, typed_name="Staff for the client", recorded_by=therapist, from_portal=False)
    client.force_login(therapist)
    assert client.get(new_url(unconsented)).status_code == 302
    factories.consent(unconsented)
    assert client.get(new_url(unconsented)).status_code == 200
    factories.make_consent_text(text="Version 2: home visits included.")
    assert client.get(new_url(unconsented)).status_code == 302


def test_the_data_use_consent_alone_is_not_consent_to_treatment(client, therapist, unconsented):
    factories.consent(unconsented, ConsentKind.DATA_USE)
    client.force_login(therapist)
    assert client.get(new_url(unconsented)).status_code == 302


def test_the_record_shows_a_current_consent_and_no_stop(client, therapist, unconsented):
    factories.consent(unconsented)
    client.force_login(therapist)
    record = client.get(reverse("clients:detail", args=[unconsented.pk])).content.decode()
    assert 'data-consent="current"' in record and 'data-consent="missing"' not in record


def test_the_new_session_form_costs_no_query_for_the_consent(client, therapist, client_a, django_assert_num_queries):
    factories.make_consent_text()
    factories.consent(client_a)
    client.force_login(therapist)
    client.get(new_url(client_a))
    with django_assert_num_queries(NEW_FORM_QUERIES):
        client.get(new_url(client_a))


# As tests/sessions/test_session_views.py pins it: the consent is read with the client, the relapse with the phase.
NEW_FORM_QUERIES = 9


def test_the_demo_gives_its_clients_consent_even_those_seeded_before_consents(db):
    from clients.models import Client
    from devtools.demo import EMAIL_DOMAIN, build_demo, ensure_demo_consents
    from sessions.services import create_refusal

    build_demo(clients=2, years=0.1)
    demo = list(Client.objects.filter(email__endswith=f"@{EMAIL_DOMAIN}"))
    assert len(demo) == 2 and all(create_refusal(client=person) is None for person in demo)
    assert ensure_demo_consents() == 0  # run again: nothing new
    factories.make_consent_text(text="Version 2")
    assert ensure_demo_consents() == 2 and all(create_refusal(client=person) is None for person in demo)


def test_the_owner_records_a_paper_consent_in_the_admin_and_the_session_can_be_saved(client, owner, unconsented):
    from clients.models import Consent, ConsentText

    client.force_login(owner)
    record = client.get(reverse("clients:detail", args=[unconsented.pk])).content.decode()
    add_url = reverse("admin:clients_consent_add")
    assert f"{add_url}?client={unconsented.pk}" in record  # the owner's way is right there
    text = ConsentText.objects.get()
    assert (
        client.post(add_url, {"client": unconsented.pk, "consent_text": text.pk, "typed_name": "x"}).status_code == 200
    )
    assert not Consent.objects.exists()
    response = client.post(add_url, {"client": unconsented.pk, "consent_text": text.pk, "typed_name": " Dana  Doe "})
    assert response.status_code == 302
    consent = Consent.objects.get(client=unconsented)
    assert (consent.typed_name, consent.recorded_by, consent.consent_text) == ("Dana Doe", owner, text)
    assert client.get(new_url(unconsented)).status_code == 200


def test_a_therapist_cannot_record_a_consent_in_the_admin_nor_sees_the_way(client, therapist, unconsented):
    client.force_login(therapist)
    record = client.get(reverse("clients:detail", args=[unconsented.pk])).content.decode()
    assert reverse("admin:clients_consent_add") not in record
    assert "recorded by the practice owner" in record
    assert client.get(reverse("admin:clients_consent_add")).status_code in (302, 403)


# --- a draft begun while the consent was current (issue 15, G2(b)): edited and signed under the same rule


@pytest.fixture
def draft(therapist, unconsented):
    """A draft with its after-scores, saved while ``unconsented`` had consented to the current version."""
    factories.consent(unconsented)
    return factories.make_session(
        unconsented, therapist, uses=[("swedish", "neck", "light")], pain_after=3, fatigue_after=4
    )


def test_a_new_consent_version_holds_the_draft_until_the_client_consents_again(client, therapist, unconsented, draft):
    factories.make_consent_text(text="Version 2: home visits included.")
    client.force_login(therapist)
    page = client.get(detail_url(draft)).content.decode()
    assert "this draft cannot be edited until they do" in page
    assert edit_url(draft) not in page and reverse("sessions:sign", args=[draft.pk]) not in page
    response = client.get(edit_url(draft))
    assert response["Location"] == detail_url(draft)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert "has not consented to treatment" in message and "the record shows how" in message
    assert client.post(edit_url(draft), session_data(("swedish", "neck", "light"))).status_code == 302
    assert client.post(reverse("sessions:sign", args=[draft.pk])).status_code == 302
    draft.refresh_from_db()
    assert (draft.version, draft.is_signed) == (1, False)
    factories.consent(unconsented)  # agreed to version 2
    assert client.get(edit_url(draft)).status_code == 200
    client.post(reverse("sessions:sign", args=[draft.pk]))
    draft.refresh_from_db()
    assert draft.is_signed


def test_a_withdrawn_consent_refuses_editing_and_signing_in_the_services(owner, therapist, unconsented, draft):
    consent = unconsented.consents.get()
    consent_withdraw(consent=consent, typed_name="Staff for the client", recorded_by=therapist, from_portal=False)
    for user in (therapist, owner):  # owners edit drafts, and are held to the rule too
        with pytest.raises(SessionWriteRefused, match="this draft cannot be edited"):
            session_update(session=draft, user=user, values={"pain_after": 2}, uses=None, version=draft.version)
    with pytest.raises(SessionWriteRefused, match="this draft cannot be signed"):
        session_sign(session=draft, user=therapist)
    draft.refresh_from_db()
    assert (draft.pain_after, draft.is_signed) == (3, False)


def test_a_draft_page_reads_the_consent_once(client, therapist, unconsented, draft, django_assert_num_queries):
    client.force_login(therapist)
    client.get(detail_url(draft))
    # The edit and the sign refusal share one read of the consent (sessions.services._consent_refusal).
    with django_assert_num_queries(DRAFT_PAGE_QUERIES):
        client.get(detail_url(draft))


# The signed session's page (tests/sessions/test_session_views.py, 10) and the draft's consent, read once.
DRAFT_PAGE_QUERIES = 10


def test_without_any_consent_to_treatment_text_the_rule_waits_for_the_owner(client, therapist, client_a):
    """Deliberate (README's rule map): a practice that has written no consent text has nothing to agree to yet."""
    client.force_login(therapist)
    assert client.get(new_url(client_a)).status_code == 200
    client.post(new_url(client_a), session_data(("swedish", "neck", "light")))
    session = TreatmentSession.objects.get(client=client_a)
    assert client.get(edit_url(session)).status_code == 200
