"""What an owner may change on the practice's user accounts in /admin/auth/user/ (owners are not superusers)."""

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from practice.roles import OWNER, THERAPIST
from tests import factories


def change_url(user: User) -> str:
    return reverse("admin:auth_user_change", args=[user.pk])


def user_form(user: User, **changes) -> dict:
    """The change form as the browser would send it for ``user``, with ``changes`` applied."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on" if user.is_active else "",
        # As an owner's browser shows it: the therapist role is the only one offered.
        "groups": [str(pk) for pk in user.groups.filter(name=THERAPIST).values_list("pk", flat=True)],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "09:00:00",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value not in ("", None)}


@pytest.fixture
def signed_in_owner(client, owner):
    client.force_login(owner)
    return client


def test_owner_cannot_make_anyone_a_superuser_or_staff(signed_in_owner, owner, therapist):
    for target in (therapist, owner):
        response = signed_in_owner.post(change_url(target), user_form(target, is_superuser="on", is_staff="on"))
        assert response.status_code == 302
        target.refresh_from_db()
        assert not target.is_superuser
    owner.refresh_from_db()
    assert owner.is_staff and list(owner.groups.values_list("name", flat=True)) == [OWNER]
    therapist.refresh_from_db()
    assert not therapist.is_staff


def test_owner_cannot_give_the_owner_role_or_single_permissions(signed_in_owner, therapist):
    owner_group = Group.objects.get(name=OWNER)
    form = user_form(therapist, groups=[str(owner_group.pk)], user_permissions=["1"])
    response = signed_in_owner.post(change_url(therapist), form)
    assert response.status_code == 200  # the owner role is not among the choices: a field error
    assert "Select a valid choice" in response.content.decode()
    therapist.refresh_from_db()
    assert list(therapist.groups.values_list("name", flat=True)) == [THERAPIST]
    assert not therapist.user_permissions.exists()


def test_owner_gives_and_takes_the_therapist_role_and_other_roles_are_kept(signed_in_owner, owner):
    therapist_group = Group.objects.get(name=THERAPIST)
    newcomer = factories.make_user("newcomer")
    signed_in_owner.post(change_url(newcomer), user_form(newcomer, groups=[str(therapist_group.pk)]))
    assert list(newcomer.groups.values_list("name", flat=True)) == [THERAPIST]
    co_owner = factories.make_owner("co_owner")
    co_owner.groups.add(therapist_group)
    signed_in_owner.post(change_url(co_owner), user_form(co_owner, groups=[]))
    assert list(co_owner.groups.values_list("name", flat=True)) == [OWNER]


def test_owner_edits_names_and_can_deactivate_a_therapist(signed_in_owner, therapist):
    response = signed_in_owner.post(change_url(therapist), user_form(therapist, last_name="Lopez", is_active=""))
    assert response.status_code == 302
    therapist.refresh_from_db()
    assert therapist.last_name == "Lopez" and not therapist.is_active


def test_superuser_accounts_are_read_only_to_owners(signed_in_owner):
    root = User.objects.create_superuser("root", "root@example.org", "x-long-password-1")
    response = signed_in_owner.post(change_url(root), user_form(root, is_active="", email="evil@example.org"))
    assert response.status_code == 403
    root.refresh_from_db()
    assert root.is_active and root.email == "root@example.org"


def test_superuser_still_grants_superuser(client, therapist):
    root = User.objects.create_superuser("root", "root@example.org", "x-long-password-1")
    client.force_login(root)
    form = user_form(therapist, is_superuser="on", is_staff="on")
    assert client.post(change_url(therapist), form).status_code == 302
    therapist.refresh_from_db()
    assert therapist.is_superuser and therapist.is_staff
