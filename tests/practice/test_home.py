"""The front door: "/" sends each person home, and the sign-in page."""

from django.urls import reverse

from tests.factories import PASSWORD, make_user


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next=/"


def test_therapist_lands_on_the_caseload(client, therapist):
    client.force_login(therapist)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/clients/"


def test_owner_lands_in_the_admin(client, owner):
    client.force_login(owner)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


def test_client_lands_in_the_portal(client, client_a):
    client.force_login(client_a.user)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/portal/"


def test_someone_without_a_role_is_told_to_ask_the_owner(client, db):
    client.force_login(make_user("newcomer"))
    response = client.get("/")
    assert response.status_code == 200
    assert "not yet linked to a role" in response.content.decode()


def test_wrong_password_shows_a_clear_error_and_signs_nobody_in(client, therapist):
    response = client.post(reverse("login"), {"username": therapist.username, "password": "not-the-password"})
    assert response.status_code == 200
    assert "Your username and password did not match. Please try again." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_right_password_lands_a_therapist_on_the_caseload(client, therapist):
    response = client.post(reverse("login"), {"username": therapist.username, "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("clients:caseload")
    assert int(client.session["_auth_user_id"]) == therapist.pk


def test_a_client_sees_the_portal_links_and_a_therapists_page_asks_for_no_client_record(client, client_a, therapist):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(client_a.user)
    assert 'href="/portal/"' in client.get("/accounts/password_change/").content.decode()

    client.force_login(therapist)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/accounts/password_change/").content.decode()
    assert 'href="/portal/"' not in page
    assert not [q["sql"] for q in queries if '"clients_client"' in q["sql"]]


def test_staff_with_a_client_record_get_no_portal_links_the_portal_would_refuse(client, client_a, therapist):
    """The portal is for clients who are not staff (practice.access.client_required); the menu says the same."""
    client_a.user.groups.add(*therapist.groups.all())
    client.force_login(client_a.user)
    assert client.get("/").headers["Location"] == "/clients/"
    assert 'href="/portal/"' not in client.get("/clients/").content.decode()
    assert client.get("/portal/").status_code == 404
