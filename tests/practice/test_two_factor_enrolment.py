"""Staff enrol their first authenticator only through an owner-issued, single-use, expiring link.

With two-factor sign-in required, a therapist or owner without a second factor who signs in with the
password alone cannot set one up: a password thief would otherwise choose the device. An owner issues a
link from the user admin (shown once; only its hash is kept); the person opens it signed in as themselves
and sets up the authenticator as before; the link is then spent. Every issue, refusal and use is audited.
"""

import datetime as dt
import hashlib
import io
import re
import time
from urllib.parse import urlsplit

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice import audit
from practice.models import AuditEvent, TwoFactorEnrolment
from tests.factories import PASSWORD, make_user

pytestmark = pytest.mark.django_db

SETUP = "/accounts/two-factor/setup/"
USERS = "/admin/auth/user/"
ACTION = "issue_two_factor_enrolment_link"
LINK = re.compile(r'<code class="enrolment-link">([^<]+)</code>')


@pytest.fixture(autouse=True)
def _required(settings):
    settings.PRACTICE_REQUIRE_2FA = True


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


def _code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():06d}"


def _password_only(user) -> Client:
    """A browser signed in with ``user``'s password and nothing else."""
    browser = Client()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def _verified(user) -> Client:
    """A browser of someone who set up an authenticator earlier and confirmed a code at sign-in."""
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    browser = _password_only(user)
    assert browser.post(reverse("two_factor_verify"), {"code": _code(device)}).status_code == 302
    return browser


def _issue(owner_browser: Client, *users) -> str:
    """Issue links from the user list's action; the path of the first link shown."""
    data = {"action": ACTION, "_selected_action": [user.pk for user in users], "index": "0"}
    response = owner_browser.post(USERS, data)
    assert response.status_code == 200
    links = LINK.findall(response.content.decode())
    assert links, response.content.decode()
    return urlsplit(links[0]).path


def _set_up(browser: Client) -> None:
    """Set up an authenticator on the setup page, as a person does with their phone."""
    assert browser.get(SETUP).status_code == 200
    device = TOTPDevice.objects.get(user_id=browser.session["_auth_user_id"], confirmed=False)
    response = browser.post(SETUP, {"code": _code(device), "next": "/"})
    assert response.status_code == 200
    assert "Recovery codes" in response.content.decode()


def _events(**filters) -> list[tuple]:
    rows = AuditEvent.objects.filter(**filters).order_by("sequence")
    return list(rows.values_list("action", "object_type", "object_id", "outcome", "actor_username"))


@pytest.fixture
def owner_browser(owner) -> Client:
    return _verified(owner)


class TestPasswordAlone:
    def test_a_therapist_with_only_a_password_cannot_set_up_an_authenticator(self, therapist):
        browser = _password_only(therapist)
        response = browser.get("/", follow=True)
        assert [url for url, _ in response.redirect_chain][-1] == f"{SETUP}?next=%2F"
        assert response.status_code == 403
        page = response.content.decode()
        assert "enrolment link" in page and "practice owner" in page
        assert "otpauth://" not in page and "<svg" not in page
        assert browser.post(SETUP, {"code": "123456"}).status_code == 403
        assert not TOTPDevice.objects.filter(user=therapist).exists()
        assert browser.get("/clients/")["Location"].startswith("/accounts/two-factor/verify/")

    def test_the_refused_attempt_is_audited(self, therapist):
        _password_only(therapist).get(SETUP)
        denied = (audit.ACCESS_DENIED, "two_factor", str(therapist.pk), audit.DENIED, "maria")
        assert _events(action=audit.ACCESS_DENIED) == [denied]

    def test_the_security_page_says_to_ask_the_owner(self, therapist):
        page = _password_only(therapist).get(reverse("two_factor")).content.decode()
        assert "enrolment link" in page
        assert f'href="{SETUP}"' not in page

    def test_an_owner_without_an_authenticator_cannot_enrol_either(self, owner):
        browser = _password_only(owner)
        assert browser.get("/admin/")["Location"].startswith("/accounts/two-factor/verify/")
        assert browser.get(SETUP).status_code == 403

    def test_clients_still_turn_two_factor_on_by_themselves(self, client_a):
        browser = Client()
        browser.force_login(client_a.user)
        _set_up(browser)
        assert TOTPDevice.objects.get(user=client_a.user).confirmed
        assert not TwoFactorEnrolment.objects.exists()

    def test_with_the_requirement_off_staff_set_up_without_a_link(self, therapist, settings):
        settings.PRACTICE_REQUIRE_2FA = False
        _set_up(_password_only(therapist))
        assert TOTPDevice.objects.get(user=therapist).confirmed


class TestIssuing:
    def test_an_owner_issues_a_link_shown_once_and_stored_as_a_hash(self, owner, owner_browser, therapist, clock):
        path = _issue(owner_browser, therapist)
        token = path.rstrip("/").rsplit("/", 1)[1]
        assert path == reverse("two_factor_enrol", args=[token])
        assert len(token) >= 40
        enrolment = TwoFactorEnrolment.objects.get()
        assert enrolment.token_hash == hashlib.sha256(token.encode()).hexdigest()
        assert token not in str(list(TwoFactorEnrolment.objects.values_list()))
        assert (enrolment.user, enrolment.created_by) == (therapist, owner)
        assert enrolment.expires_at == timezone.now() + dt.timedelta(hours=72)
        assert enrolment.used_at is None and enrolment.voided_at is None
        # Shown once: nowhere to be found afterwards, and the audit event names the account, not the token.
        for url in [USERS, f"{USERS}{therapist.pk}/change/", "/admin/practice/auditevent/"]:
            assert token not in owner_browser.get(url).content.decode(), url
        issued = (audit.CREATE, "two_factor_enrolment", str(therapist.pk), audit.OK, "owner")
        assert _events(object_type="two_factor_enrolment") == [issued]
        assert not AuditEvent.objects.filter(object_id__contains=token[:12]).exists()

    def test_the_change_page_has_a_button_that_issues_a_link(self, owner_browser, therapist, client_a):
        page = owner_browser.get(f"{USERS}{therapist.pk}/change/").content.decode()
        assert "Issue a two-factor enrolment link" in page
        form = re.search(r'<form method="post" action="/admin/auth/user/">(.*?)</form>', page, re.S).group(1)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
        assert fields["action"] == ACTION and fields["_selected_action"] == str(therapist.pk)
        response = owner_browser.post(USERS, fields)
        assert LINK.search(response.content.decode())
        assert TwoFactorEnrolment.objects.get().user == therapist
        # A client's account has no such button: clients turn two-factor on by themselves.
        assert "enrolment link" not in owner_browser.get(f"{USERS}{client_a.user.pk}/change/").content.decode()

    def test_links_for_several_people_at_once_and_none_for_a_client(self, owner_browser, therapist, other_therapist):
        client_user = make_user("carla")
        data = {"action": ACTION, "_selected_action": [therapist.pk, other_therapist.pk, client_user.pk], "index": "0"}
        page = owner_browser.post(USERS, data).content.decode()
        assert len(LINK.findall(page)) == 2
        assert "carla is not on the practice&#x27;s staff" in page
        assert set(TwoFactorEnrolment.objects.values_list("user__username", flat=True)) == {"maria", "james"}
        denied = (audit.ACCESS_DENIED, "two_factor_enrolment", str(client_user.pk), audit.DENIED, "owner")
        assert denied in _events(object_type="two_factor_enrolment")

    def test_an_owner_who_is_not_a_superuser_issues_none_for_a_superuser(self, owner_browser):
        root = make_user("root", is_superuser=True, is_staff=True)
        data = {"action": ACTION, "_selected_action": [root.pk], "index": "0"}
        page = owner_browser.post(USERS, data).content.decode()
        assert "only a superuser issues their enrolment link" in page
        assert not TwoFactorEnrolment.objects.exists()

    def test_a_therapist_cannot_issue_links(self, therapist):
        therapist.is_staff = True
        therapist.save()
        browser = _verified(therapist)
        data = {"action": ACTION, "_selected_action": [therapist.pk], "index": "0"}
        assert browser.post(USERS, data).status_code == 403
        # Even with rights on the user list the action is not theirs: it is neither offered nor run.
        therapist.user_permissions.add(*Permission.objects.filter(codename__in=["view_user", "change_user"]))
        assert ACTION not in browser.get(USERS).content.decode()
        assert not LINK.search(browser.post(USERS, data).content.decode())
        assert not TwoFactorEnrolment.objects.exists()


class TestUsingTheLink:
    def test_the_link_lets_its_person_set_up_the_authenticator_once(self, owner_browser, therapist):
        path = _issue(owner_browser, therapist)
        browser = _password_only(therapist)
        assert browser.get(path)["Location"] == SETUP
        _set_up(browser)
        assert TOTPDevice.objects.get(user=therapist).confirmed
        assert TwoFactorEnrolment.objects.get().used_at is not None
        assert browser.get("/")["Location"] == reverse("clients:caseload")
        mine = _events(actor_username="maria")
        assert mine[-2:] == [
            (audit.CHANGE, "two_factor_enrolment", str(therapist.pk), audit.OK, "maria"),
            (audit.CREATE, "two_factor", str(therapist.pk), audit.OK, "maria"),
        ]
        # Spent: the same link is refused now, and after the authenticator was removed (a lost phone) too.
        again = browser.get(path)
        assert again.status_code == 403 and "has been used already" in again.content.decode()
        TOTPDevice.objects.filter(user=therapist).delete()
        StaticDevice.objects.filter(user=therapist).delete()
        fresh = _password_only(therapist)
        assert fresh.get(path).status_code == 403
        assert fresh.get(SETUP).status_code == 403
        assert (
            _events(action=audit.ACCESS_DENIED, object_type="two_factor_enrolment")
            == [(audit.ACCESS_DENIED, "two_factor_enrolment", str(therapist.pk), audit.DENIED, "maria")] * 2
        )

    def test_someone_not_signed_in_signs_in_first_and_comes_back(self, owner_browser, therapist):
        path = _issue(owner_browser, therapist)
        browser = Client()
        response = browser.get(path)
        assert response["Location"] == f"/accounts/login/?next={path}"
        response = browser.post(
            "/accounts/login/", {"username": "maria", "password": PASSWORD, "next": path}, follow=True
        )
        assert [url for url, _ in response.redirect_chain] == [path, SETUP]
        assert "otpauth://totp/" in response.content.decode()
        _set_up(browser)

    def test_another_persons_link_is_refused_and_stays_theirs(self, owner_browser, therapist, other_therapist):
        path = _issue(owner_browser, other_therapist)
        maria = _password_only(therapist)
        response = maria.get(path)
        assert response.status_code == 403
        assert "issued for another account" in response.content.decode()
        assert maria.get(SETUP).status_code == 403
        denied = (audit.ACCESS_DENIED, "two_factor_enrolment", str(other_therapist.pk), audit.DENIED, "maria")
        assert denied in _events(object_type="two_factor_enrolment")
        james = _password_only(other_therapist)
        assert james.get(path)["Location"] == SETUP
        _set_up(james)

    def test_an_expired_link_is_refused(self, owner_browser, therapist, clock):
        path = _issue(owner_browser, therapist)
        clock.shift(dt.timedelta(hours=72, seconds=1))
        browser = _password_only(therapist)
        response = browser.get(path)
        assert response.status_code == 403
        assert "This enrolment link expired on" in response.content.decode()
        assert browser.get(SETUP).status_code == 403
        assert _events(action=audit.ACCESS_DENIED, object_type="two_factor_enrolment") == [
            (audit.ACCESS_DENIED, "two_factor_enrolment", str(therapist.pk), audit.DENIED, "maria")
        ]

    def test_a_link_works_until_it_expires(self, owner_browser, therapist, clock):
        path = _issue(owner_browser, therapist)
        clock.shift(dt.timedelta(hours=71, minutes=59))
        browser = _password_only(therapist)
        assert browser.get(path)["Location"] == SETUP
        _set_up(browser)

    def test_a_new_link_voids_the_old_one(self, owner_browser, therapist):
        old = _issue(owner_browser, therapist)
        new = _issue(owner_browser, therapist)
        assert TwoFactorEnrolment.objects.open().get().voided_at is None
        assert TwoFactorEnrolment.objects.filter(voided_at__isnull=False).count() == 1
        browser = _password_only(therapist)
        response = browser.get(old)
        assert response.status_code == 403 and "replaced by a newer one" in response.content.decode()
        assert browser.get(new)["Location"] == SETUP
        _set_up(browser)

    def test_a_link_voided_after_it_was_opened_cannot_finish_the_setup(self, owner_browser, therapist):
        path = _issue(owner_browser, therapist)
        browser = _password_only(therapist)
        browser.get(path)
        assert browser.get(SETUP).status_code == 200
        device = TOTPDevice.objects.get(user=therapist, confirmed=False)
        _issue(owner_browser, therapist)  # the owner sends a new link meanwhile
        response = browser.post(SETUP, {"code": _code(device)})
        assert response.status_code == 403
        assert "replaced by a newer one" in response.content.decode()
        assert not TOTPDevice.objects.filter(user=therapist, confirmed=True).exists()

    def test_an_unknown_link_is_refused_and_audited(self, therapist):
        browser = _password_only(therapist)
        response = browser.get(reverse("two_factor_enrol", args=["made-up-token"]))
        assert response.status_code == 403 and "not valid" in response.content.decode()
        denied = (audit.ACCESS_DENIED, "two_factor_enrolment", "", audit.DENIED, "maria")
        assert _events(object_type="two_factor_enrolment") == [denied]


class TestTheFirstOwner:
    """A fresh install: nobody can open the admin yet, so an operator issues the first link on the server."""

    def test_the_command_prints_a_link_that_enrols_the_superuser(self):
        root = make_user("root", is_superuser=True, is_staff=True)
        out = io.StringIO()
        call_command("issue_enrolment_link", "root", "--base-url", "https://practice.example.org/", stdout=out)
        links = re.findall(r"https://practice\.example\.org(/accounts/two-factor/enrol/[^/\s]+/)", out.getvalue())
        assert len(links) == 1
        assert TwoFactorEnrolment.objects.get().created_by is None
        assert _events(object_type="two_factor_enrolment") == [
            (audit.CREATE, "two_factor_enrolment", str(root.pk), audit.OK, "manage.py")
        ]
        browser = _password_only(root)
        assert browser.get(SETUP).status_code == 403
        assert browser.get(links[0])["Location"] == SETUP
        _set_up(browser)
        assert browser.get("/admin/").status_code == 200

    def test_without_a_base_url_the_command_prints_the_path(self, owner):
        out = io.StringIO()
        call_command("issue_enrolment_link", "owner", stdout=out)
        assert re.search(r"^/accounts/two-factor/enrol/[^/\s]+/$", out.getvalue(), re.M)

    def test_the_command_refuses_unknown_accounts_and_clients(self, client_a):
        with pytest.raises(CommandError, match="no account named 'nobody'"):
            call_command("issue_enrolment_link", "nobody", stdout=io.StringIO())
        with pytest.raises(CommandError, match="not on the practice's staff"):
            call_command("issue_enrolment_link", "client_a", stdout=io.StringIO())
        assert not TwoFactorEnrolment.objects.exists()
