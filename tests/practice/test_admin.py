import pytest
from django.contrib import admin
from django.urls import reverse

from clients.models import Client, DiseasePhase
from sessions.models import SessionAmendment, TreatmentSession
from sessions.services import session_amend
from tests.factories import make_client, make_phase, make_session

CLINICAL_MODELS = [Client, DiseasePhase, TreatmentSession, SessionAmendment]


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def practice(owner, therapist, other_therapist):
    """A few clients with phases, sessions, technique uses and an amendment."""
    clients = []
    for i in range(3):
        client = make_client(therapists=[therapist, other_therapist] if i == 0 else [therapist])
        make_phase(client)
        make_session(client, therapist, uses=[("swedish", "upper_back", "light"), ("reiki", "head", "light")])
        clients.append(client)
    signed = make_session(clients[0], therapist, signed=True)
    session_amend(session=signed, author=therapist, reason="Corrected score", changes={"pain_after": 2})
    return clients


def grow(therapist, clients: int, sessions_each: int) -> None:
    for _ in range(clients):
        client = make_client(therapists=[therapist])
        make_phase(client)
        for _ in range(sessions_each):
            make_session(client, therapist, uses=[("swedish", "calf_left", "light")])


@pytest.mark.django_db
class TestOwnerAdmin:
    def test_owner_opens_every_changelist_add_and_change_page(
        self, client, owner, practice, django_assert_max_num_queries
    ):
        client.force_login(owner)
        opened = 0
        for model, model_admin in admin.site._registry.items():
            pages = [admin_url(model, "changelist")]
            request = type("R", (), {"user": owner})()
            if model_admin.has_add_permission(request):
                pages.append(admin_url(model, "add"))
            obj = model._default_manager.order_by("pk").first()
            if obj is not None:
                pages.append(admin_url(model, "change", obj.pk))
            for url in pages:
                with django_assert_max_num_queries(30):
                    response = client.get(url)
                assert response.status_code == 200, url
                opened += 1
        assert opened >= 15

    @pytest.mark.parametrize("model", [Client, TreatmentSession, DiseasePhase])
    def test_changelist_query_count_does_not_grow_with_rows(
        self, client, owner, therapist, practice, model, django_assert_num_queries
    ):
        client.force_login(owner)
        url = admin_url(model, "changelist")
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as small:
            assert client.get(url).status_code == 200
        grow(therapist, clients=10, sessions_each=3)
        with django_assert_num_queries(len(small.captured_queries)):
            assert client.get(url).status_code == 200

    def test_client_changelist_shows_readable_columns(self, client, owner, practice):
        client.force_login(owner)
        response = client.get(admin_url(Client, "changelist"))
        content = response.content.decode()
        for heading in ["Current phase", "Last session", "Sessions", "Therapists"]:
            assert heading in content
        assert "Remission" in content
        assert "Maria" in content

    def test_changelist_search_and_filters_work(self, client, owner, practice):
        client.force_login(owner)
        target = practice[1]
        response = client.get(admin_url(Client, "changelist"), {"q": target.last_name})
        assert target.last_name in response.content.decode()
        assert practice[2].last_name not in response.content.decode()
        for params in [{"current_phase": "remission"}, {"archived": "all"}, {"ms_type": "rrms"}]:
            assert client.get(admin_url(Client, "changelist"), params).status_code == 200
        response = client.get(
            admin_url(TreatmentSession, "changelist"), {"status": "signed", "q": practice[0].last_name}
        )
        assert response.status_code == 200


@pytest.mark.django_db
class TestNothingClinicalIsDeleted:
    @pytest.mark.parametrize("model", CLINICAL_MODELS)
    def test_no_delete_page(self, client, owner, practice, model):
        client.force_login(owner)
        obj = model._default_manager.first()
        response = client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
        assert response.status_code == 403
        assert model._default_manager.filter(pk=obj.pk).exists()

    @pytest.mark.parametrize("model", CLINICAL_MODELS)
    def test_no_delete_selected_action(self, client, owner, practice, model):
        client.force_login(owner)
        obj = model._default_manager.first()
        response = client.post(
            admin_url(model, "changelist"), {"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"}
        )
        assert model._default_manager.filter(pk=obj.pk).exists()
        assert response.status_code in (200, 302)
        assert 'value="delete_selected"' not in client.get(admin_url(model, "changelist")).content.decode()

    def test_archive_action_archives_instead(self, client, owner, practice):
        client.force_login(owner)
        target = practice[0]
        response = client.post(
            admin_url(Client, "changelist"), {"action": "archive_clients", "_selected_action": [target.pk]}, follow=True
        )
        assert "Archived 1 client" in response.content.decode()
        target.refresh_from_db()
        assert target.is_archived
        # Archived clients leave the default list but are still there.
        assert target.last_name not in client.get(admin_url(Client, "changelist")).content.decode()
        assert target.last_name in client.get(admin_url(Client, "changelist"), {"archived": "yes"}).content.decode()

    def test_signed_session_is_read_only_in_the_admin(self, client, owner, practice):
        client.force_login(owner)
        signed = TreatmentSession.objects.signed().first()
        url = admin_url(TreatmentSession, "change", signed.pk)
        page = client.get(url)
        assert page.status_code == 200
        assert 'name="pain_before"' not in page.content.decode()
        response = client.post(url, {"pain_before": 9, "client": signed.client_id, "therapist": signed.therapist_id})
        assert response.status_code == 403
        signed.refresh_from_db()
        assert signed.pain_before == 5

    def test_owner_cannot_add_amendments_bypassing_the_service(self, client, owner, practice):
        client.force_login(owner)
        assert client.get(admin_url(SessionAmendment, "add")).status_code == 403

    def test_therapists_are_not_admin_users(self, client, therapist):
        client.force_login(therapist)
        response = client.get(admin_url(Client, "changelist"))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_owner_can_edit_a_draft_session_in_the_admin(client, owner, practice):
    client.force_login(owner)
    draft = TreatmentSession.objects.drafts().first()
    page = client.get(admin_url(TreatmentSession, "change", draft.pk))
    assert 'name="pain_before"' in page.content.decode()


@pytest.mark.django_db
def test_admin_header_links_to_two_factor_sign_in(client, owner):
    client.force_login(owner)
    content = client.get("/admin/").content.decode()
    assert 'href="/accounts/two-factor/"' in content
    assert "Run the practice" in content


@pytest.mark.django_db
def test_client_change_page_links_to_the_record_and_the_trend_page(client, owner, practice):
    client.force_login(owner)
    person = practice[0]
    html = client.get(admin_url(Client, "change", person.pk)).content.decode()
    assert f'<a href="/clients/{person.pk}/">Client record</a>' in html
    assert f'<a href="/clients/{person.pk}/trends/">Trends</a>' in html


@pytest.mark.django_db
@pytest.mark.parametrize("model", CLINICAL_MODELS, ids=lambda m: m.__name__)
def test_a_clinical_records_delete_address_says_why_nothing_is_deleted(client, owner, practice, model):
    client.force_login(owner)
    obj = model.objects.order_by("pk").first()
    response = client.get(admin_url(model, "delete", obj.pk))
    assert response.status_code == 403
    html = response.content.decode()
    assert f"{model._meta.verbose_name_plural.capitalize()} are never deleted" in html
    assert "archived" in html and "amendment" in html
    assert 'id="changelist-filter"' not in html  # the admin's own look, not a list


def test_every_registered_model_has_a_plain_name_in_a_section_of_the_owners_home():
    from django.contrib import admin

    from practice.admin_mixins import PLAIN_NAMES

    unnamed = sorted(model._meta.label for model in admin.site._registry if model._meta.label not in PLAIN_NAMES)
    assert unnamed == [], "add these to ADMIN_SECTIONS (practice/admin_mixins.py)"
