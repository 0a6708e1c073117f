"""Getting into the portal: invitations with one-time set-password links, and password reset."""

import re
from unittest import mock

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import User
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clients.models import Client
from portal.invitations import (
    invitation_path,
    invitation_timeout,
    invitation_token_generator,
    portal_invitation_possible,
    portal_invitation_send,
)
from tests import factories

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-calm-river-in-spring"
LINK = re.compile(r"https?://[^/\s]+(/portal/welcome/[^/\s]+/[^/\s]+/)")


@pytest.fixture
def new_client(therapist):
    return factories.make_client(
        therapists=[therapist], first_name="Carla", last_name="Chen", email="Carla.Chen@example.org"
    )


def invite(django_client, inviter, client: Client):
    django_client.force_login(inviter)
    return django_client.post(f"/portal/invite/{client.pk}/")


def link_in_last_mail() -> str:
    match = LINK.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def set_password(django_client, path: str, password: str = NEW_PASSWORD):
    """Follow the link as Django's view wants it (token moved into the session) and choose a password."""
    response = django_client.get(path)
    if response.status_code != 302:
        return response
    return django_client.post(response["Location"], {"new_password1": password, "new_password2": password})


def test_therapist_invites_a_client_and_the_client_gets_a_link(client, therapist, new_client):
    response = invite(client, therapist, new_client)
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{new_client.pk}/"
    new_client.refresh_from_db()
    user = new_client.user
    assert user.username == "carla.chen@example.org"
    assert user.email == "Carla.Chen@example.org"
    assert (user.first_name, user.last_name) == ("Carla", "Chen")
    assert not user.has_usable_password()
    assert not user.is_staff and not user.is_superuser and not user.groups.exists()
    (message,) = mail.outbox
    assert message.to == ["Carla.Chen@example.org"]
    assert "Your username is: carla.chen@example.org" in message.body
    assert "expires in 7 days" in message.body
    assert link_in_last_mail().startswith("/portal/welcome/")
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("Invitation sent to Carla.Chen@example.org" in m for m in messages)


def test_the_link_sets_a_password_signs_in_and_opens_the_portal(client, therapist, new_client):
    invite(client, therapist, new_client)
    path = link_in_last_mail()
    client.logout()
    first = client.get(path)
    # The token leaves the address at once, so it cannot leak through a Referer header.
    assert first.status_code == 302 and first["Location"].endswith("/set-password/")
    page = client.get(first["Location"])
    assert "Choose your password" in page.content.decode()
    assert "carla.chen@example.org" in page.content.decode()
    response = client.post(first["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    # Straight on to the intake and consents (portal/intake.py).
    assert response.status_code == 302 and response["Location"] == "/portal/intake/"
    new_client.refresh_from_db()
    assert int(client.session[SESSION_KEY]) == new_client.user.pk
    assert new_client.user.check_password(NEW_PASSWORD)
    assert client.get("/portal/").status_code == 200


def test_the_link_works_only_once(client, therapist, new_client):
    invite(client, therapist, new_client)
    path = link_in_last_mail()
    client.logout()
    assert set_password(client, path).status_code == 302
    client.logout()
    again = client.get(path)
    assert again.status_code == 200
    assert "This link no longer works" in again.content.decode()
    new_client.refresh_from_db()
    assert new_client.user.check_password(NEW_PASSWORD)


def test_a_password_that_is_too_short_is_refused_with_a_message(client, new_client, therapist):
    invite(client, therapist, new_client)
    client.logout()
    response = set_password(client, link_in_last_mail(), "short-pw")
    assert response.status_code == 200
    assert "at least 12 characters" in response.content.decode()
    new_client.refresh_from_db()
    assert not new_client.user.has_usable_password()


def test_the_link_expires(client, therapist, new_client):
    invite(client, therapist, new_client)
    new_client.refresh_from_db()
    user = new_client.user
    generator = invitation_token_generator
    issued = generator._num_seconds(generator._now()) - invitation_timeout() - 60
    expired = generator._make_token_with_timestamp(user, issued, generator.secret)
    fresh_enough = generator._make_token_with_timestamp(user, issued + 120, generator.secret)
    client.logout()
    assert "This link no longer works" in client.get(invitation_path(user, expired)).content.decode()
    assert client.get(invitation_path(user, fresh_enough)).status_code == 302


def test_a_link_cannot_be_used_for_another_account(client, therapist, new_client, owner):
    invite(client, therapist, new_client)
    token = link_in_last_mail().rstrip("/").rsplit("/", 1)[1]
    client.logout()
    for other in (owner, therapist):
        uid = urlsafe_base64_encode(force_bytes(other.pk))
        response = client.get(f"/portal/welcome/{uid}/{token}/")
        assert response.status_code == 200
        assert "This link no longer works" in response.content.decode()
        other.refresh_from_db()
        assert other.check_password(factories.PASSWORD)


def test_a_staff_account_can_never_be_set_up_through_an_invitation(client, therapist):
    # Even a token made for the therapist's own account is refused by the invitation page.
    token = invitation_token_generator.make_token(therapist)
    response = client.get(invitation_path(therapist, token))
    assert "This link no longer works" in response.content.decode()


def test_invitation_and_password_reset_tokens_are_not_interchangeable(client, client_a):
    reset_token = default_token_generator.make_token(client_a.user)
    invitation_token = invitation_token_generator.make_token(client_a.user)
    uid = urlsafe_base64_encode(force_bytes(client_a.user.pk))
    assert "This link no longer works" in client.get(f"/portal/welcome/{uid}/{reset_token}/").content.decode()
    assert (
        "This link no longer works"
        in client.get(f"/accounts/password_reset/{uid}/{invitation_token}/").content.decode()
    )


def test_a_new_invitation_voids_the_earlier_link(client, therapist, new_client):
    invite(client, therapist, new_client)
    first = link_in_last_mail()
    invite(client, therapist, new_client)
    second = link_in_last_mail()
    assert User.objects.filter(email="Carla.Chen@example.org").count() == 1
    client.logout()
    assert "This link no longer works" in client.get(first).content.decode()
    assert client.get(second).status_code == 302


def test_whether_an_invitation_can_be_offered(therapist, new_client, client_a):
    assert portal_invitation_possible(new_client)
    portal_invitation_send(client=new_client, invited_by=therapist, site_url="https://practice.test")
    new_client.refresh_from_db()
    assert portal_invitation_possible(new_client)  # not taken up yet: it may be sent again
    new_client.user.set_password(NEW_PASSWORD)
    new_client.user.save()
    assert not portal_invitation_possible(new_client)
    assert not portal_invitation_possible(client_a)  # has an account
    assert not portal_invitation_possible(factories.make_client(email=""))
    archived = factories.make_client(email="old@example.org")
    archived.archive()
    assert not portal_invitation_possible(archived)


def test_a_client_without_an_email_address_is_not_invited(client, therapist):
    nobody = factories.make_client(therapists=[therapist], email="")
    response = invite(client, therapist, nobody)
    assert response.status_code == 302
    assert any("no e-mail address" in str(m) for m in response.wsgi_request._messages)
    nobody.refresh_from_db()
    assert nobody.user is None and not mail.outbox


def test_a_client_who_already_has_an_account_is_not_invited_again(client, therapist, client_a):
    client_a.email = "alice@example.org"
    client_a.save()
    response = invite(client, therapist, client_a)
    assert any("already has a portal account" in str(m) for m in response.wsgi_request._messages)
    assert not mail.outbox
    assert User.objects.filter(email="alice@example.org").count() == 0


def test_no_account_is_left_behind_when_the_mail_cannot_be_sent(client, therapist, new_client):
    with mock.patch("portal.invitations.send_mail", side_effect=ConnectionRefusedError("SMTP down")):
        response = invite(client, therapist, new_client)
    assert any("could not be sent" in str(m) for m in response.wsgi_request._messages)
    new_client.refresh_from_db()
    assert new_client.user is None
    assert not User.objects.filter(email="Carla.Chen@example.org").exists()


def test_username_falls_back_to_the_name_when_the_address_is_taken(therapist, new_client):
    factories.make_user("carla.chen@example.org")
    factories.make_user("carla.chen")
    user = portal_invitation_send(client=new_client, invited_by=therapist, site_url="https://practice.test")
    assert user.username == "carla.chen2"


def test_a_therapist_cannot_invite_another_therapists_client(client, therapist, client_b):
    client_b.user = None
    client_b.email = "boris@example.org"
    client_b.save()
    assert invite(client, therapist, client_b).status_code == 404
    assert not mail.outbox


def test_clients_cannot_invite(client, client_a, new_client):
    assert invite(client, client_a.user, new_client).status_code == 404
    new_client.refresh_from_db()
    assert new_client.user is None


def test_anonymous_people_are_asked_to_sign_in_and_get_is_not_allowed(client, therapist, new_client):
    response = client.post(f"/portal/invite/{new_client.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    client.force_login(therapist)
    assert client.get(f"/portal/invite/{new_client.pk}/").status_code == 405
    new_client.refresh_from_db()
    assert new_client.user is None


def test_owner_invites_from_the_admin(client, owner, new_client):
    client.force_login(owner)
    response = client.post(
        "/admin/clients/client/",
        {"action": "invite_to_portal", "_selected_action": [str(new_client.pk)]},
        follow=True,
    )
    assert response.status_code == 200
    new_client.refresh_from_db()
    assert new_client.user is not None
    assert mail.outbox[-1].to == ["Carla.Chen@example.org"]


def test_password_reset_does_not_reveal_whether_an_address_is_registered(client, client_a):
    client_a.user.email = "alice@example.org"
    client_a.user.save()
    known = client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"] == "/accounts/password_reset/done/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["alice@example.org"]
    done = client.get(known["Location"])
    assert "If the address you entered belongs to an account here" in done.content.decode()


def test_password_reset_link_sets_a_new_password(client, client_a):
    client_a.user.email = "alice@example.org"
    client_a.user.save()
    client.post("/accounts/password_reset/", {"email": "alice@example.org"})
    path = re.search(r"https?://[^/\s]+(/accounts/password_reset/\S+/)", mail.outbox[0].body).group(1)
    first = client.get(path)
    assert first.status_code == 302
    response = client.post(first["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response["Location"] == "/accounts/password_reset/complete/"
    client_a.user.refresh_from_db()
    assert client_a.user.check_password(NEW_PASSWORD)
    assert "This link no longer works" in client.get(path).content.decode()
