import datetime as dt
import re
import time
from pathlib import Path

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice import audit
from practice.middleware import SESSION_LAST_SEEN_KEY
from practice.models import AuditEvent
from practice.two_factor import enrolment_path, two_factor_enrolment_issue
from tests.browser.conftest import screenshot, tablet_browser  # noqa: F401  (browser fixtures)
from tests.browser.conftest import sign_in as browser_sign_in
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LOGIN = "/accounts/login/"


def sign_in(client: Client, username: str, password: str = PASSWORD, ip: str = "192.0.2.10"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


class TestLockout:
    def test_five_failures_lock_that_username_from_that_address(self, client, therapist):
        for _ in range(4):
            assert sign_in(client, "maria", "not-the-password").status_code == 200
        fifth = sign_in(client, "maria", "not-the-password")
        assert fifth.status_code == 429
        assert "Sign-in paused" in fifth.content.decode()
        assert "paused for 15 minutes" in fifth.content.decode()
        assert sign_in(client, "maria").status_code == 429  # even the right password, now
        assert not signed_in(client)
        # Attempts that ended on the lockout page are "denied"; the wrong passwords before it "failed".
        outcomes = list(AuditEvent.objects.order_by("sequence").values_list("outcome", flat=True))
        assert outcomes == [audit.FAILED] * 4 + [audit.DENIED] * 2

    def test_four_failures_do_not_lock(self, client, therapist):
        for _ in range(4):
            sign_in(client, "maria", "not-the-password")
        assert sign_in(client, "maria").status_code == 302
        assert signed_in(client)

    def test_someone_elsewhere_cannot_lock_the_therapist_out(self, client, therapist):
        attacker = Client()
        for _ in range(5):
            sign_in(attacker, "maria", "guessing-the-password", ip="198.51.100.66")
        assert sign_in(attacker, "maria", ip="198.51.100.66").status_code == 429
        assert sign_in(client, "maria", ip="192.0.2.10").status_code == 302
        assert signed_in(client)

    def test_other_usernames_from_the_same_address_still_sign_in(self, client, therapist, other_therapist):
        for _ in range(5):
            sign_in(client, "maria", "not-the-password")
        assert sign_in(client, "james").status_code == 302

    def test_the_lock_lifts_after_fifteen_minutes(self, client, therapist, clock):
        for _ in range(5):
            sign_in(client, "maria", "not-the-password")
        assert sign_in(client, "maria").status_code == 429
        clock.shift(dt.timedelta(minutes=16))
        assert sign_in(client, "maria").status_code == 302

    def test_the_forwarded_address_counts_only_behind_a_trusted_proxy(self, client, therapist):
        # Without a trusted proxy, a forged X-Forwarded-For does not give a fresh address to guess from.
        for n in range(5):
            client.post(
                LOGIN,
                {"username": "maria", "password": "nope-nope-nope"},
                REMOTE_ADDR="192.0.2.10",
                HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
            )
        assert sign_in(client, "maria").status_code == 429
        with override_settings(PRACTICE_TRUSTED_PROXY_COUNT=1):
            response = client.post(
                LOGIN,
                {"username": "maria", "password": PASSWORD},
                REMOTE_ADDR="10.9.9.9",
                HTTP_X_FORWARDED_FOR="1.2.3.4",
            )
        assert response.status_code == 302
        assert AuditEvent.objects.filter(action=audit.LOGIN).get().ip_address == "1.2.3.4"


@pytest.fixture
def clock():
    """The clock, stopped at the start of the test; ``clock.shift(timedelta)`` moves it on."""
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        yield traveller


class TestSessionLimits:
    def test_twenty_nine_idle_minutes_keep_the_session(self, client, therapist, clock):
        client.force_login(therapist)
        clock.shift(dt.timedelta(minutes=29))
        assert client.get("/").status_code == 302
        assert signed_in(client)

    @pytest.mark.parametrize("person", ["therapist", "owner", "client_a"])
    def test_thirty_one_idle_minutes_sign_out(self, client, request, person, clock):
        user = request.getfixturevalue(person)
        user = getattr(user, "user", user)  # client_a is a Client with a portal user
        client.force_login(user)
        clock.shift(dt.timedelta(minutes=31))
        response = client.get("/", follow=True)
        assert response.redirect_chain[0][0] == f"{LOGIN}?next=%2F"
        assert "signed out after 30 minutes without activity" in response.content.decode()
        assert not signed_in(client)

    # The stored session would expire at 12 hours too; a longer cookie age shows the middleware's own rule.
    @override_settings(SESSION_COOKIE_AGE=13 * 3600)
    def test_twelve_hours_after_sign_in_even_an_active_session_ends(self, client, therapist, clock):
        client.force_login(therapist)
        for _ in range(12 * 4):  # active every quarter of an hour, for twelve hours
            clock.shift(dt.timedelta(minutes=15))
            client.get("/clients/")
        clock.shift(dt.timedelta(minutes=1))
        response = client.get("/", follow=True)
        assert "signed in more than 12 hours ago" in response.content.decode()
        assert not signed_in(client)

    def test_activity_moves_the_idle_clock(self, client, therapist, clock):
        client.force_login(therapist)
        clock.shift(dt.timedelta(minutes=20))
        client.get("/")
        assert client.session[SESSION_LAST_SEEN_KEY] == pytest.approx(time.time())
        clock.shift(dt.timedelta(minutes=20))
        assert client.get("/").status_code == 302 and signed_in(client)

    def test_a_quick_second_request_does_not_write_the_session(self, client, therapist, django_assert_num_queries):
        client.force_login(therapist)
        client.get("/")
        # Session, user and groups; the session is not saved again within the minute.
        with django_assert_num_queries(3):
            client.get("/")

    def test_signing_out_ends_the_session_on_the_server(self, client, therapist):
        client.force_login(therapist)
        key = client.session.session_key
        response = client.post(reverse("logout"))
        assert response.status_code == 302
        assert not Session.objects.filter(session_key=key).exists()
        assert client.get("/").status_code == 302
        assert not signed_in(client)

    def test_signing_out_needs_a_post(self, client, therapist):
        client.force_login(therapist)
        assert client.get(reverse("logout")).status_code == 405
        assert signed_in(client)

    def test_a_password_change_signs_the_person_out_everywhere_else(self, therapist):
        tablet, phone = Client(), Client()
        tablet.force_login(therapist)
        phone.force_login(therapist)
        new_password = "a-much-longer-new-password-42"
        response = tablet.post(
            reverse("password_change"),
            {"old_password": PASSWORD, "new_password1": new_password, "new_password2": new_password},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("password_change_done")
        assert tablet.get("/").status_code == 302 and signed_in(tablet)
        assert phone.get("/")["Location"].startswith(LOGIN)
        assert not signed_in(phone)


class TestPasswords:
    @pytest.mark.parametrize(
        ("password", "message"),
        [
            ("Short-pass1", "at least 12 characters"),
            ("password1234", "too common"),
            ("418907326512", "entirely numeric"),
            ("maria@example.org", "too similar"),
        ],
    )
    def test_weak_passwords_are_refused(self, therapist, password, message):
        with pytest.raises(ValidationError, match=message):
            validate_password(password, user=therapist)

    def test_a_twelve_character_passphrase_is_fine(self, therapist):
        validate_password("quiet-orchid", user=therapist)

    def test_the_change_form_shows_why_a_password_is_refused(self, client, therapist):
        client.force_login(therapist)
        response = client.post(
            reverse("password_change"), {"old_password": PASSWORD, "new_password1": "abc", "new_password2": "abc"}
        )
        assert response.status_code == 200
        assert "at least 12 characters" in response.content.decode()


def _code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():06d}"


def _confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def _open_enrolment_link(client: Client, user) -> None:
    """Staff set up their first authenticator through an owner's enrolment link (tests/practice/
    test_two_factor_enrolment.py shows the link itself): open one in ``client``'s session."""
    _enrolment, token = two_factor_enrolment_issue(user=user)
    assert client.get(enrolment_path(token))["Location"] == reverse("two_factor_setup")


class TestTwoFactor:
    @pytest.fixture(autouse=True)
    def _required(self, settings):
        settings.PRACTICE_REQUIRE_2FA = True

    def test_a_therapist_without_a_second_factor_is_sent_to_set_one_up(self, client, therapist):
        sign_in(client, "maria")
        _open_enrolment_link(client, therapist)
        response = client.get("/", follow=True)
        urls = [url for url, _ in response.redirect_chain]
        assert urls == ["/accounts/two-factor/verify/?next=%2F", "/accounts/two-factor/setup/?next=%2F"]
        page = response.content.decode()
        assert "Set up two-factor sign-in" in page
        assert "<svg" in page and "otpauth://totp/" in page

    def test_setting_up_shows_recovery_codes_once_and_opens_the_workspace(self, client, therapist):
        client.force_login(therapist)
        _open_enrolment_link(client, therapist)
        client.get(reverse("two_factor_setup"))
        device = TOTPDevice.objects.get(user=therapist, confirmed=False)
        response = client.post(reverse("two_factor_setup"), {"code": _code(device), "next": "/"})
        assert response.status_code == 200
        codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", response.content.decode())
        assert len(codes) == 10
        assert sorted(codes) == sorted(StaticToken.objects.values_list("token", flat=True))
        assert TOTPDevice.objects.get(user=therapist).confirmed
        assert client.get("/")["Location"] == reverse("clients:caseload")

    def test_a_wrong_setup_code_leaves_two_factor_off(self, client, therapist):
        client.force_login(therapist)
        _open_enrolment_link(client, therapist)
        client.get(reverse("two_factor_setup"))
        response = client.post(reverse("two_factor_setup"), {"code": "000000"})
        assert "That code does not match" in response.content.decode()
        assert not TOTPDevice.objects.filter(confirmed=True).exists()

    @pytest.mark.parametrize("page", ["/", "/admin/", "/clients/", "/accounts/password/", "/portal/"])
    def test_every_page_waits_for_the_second_factor(self, client, owner, page):
        _confirmed_device(owner)
        client.force_login(owner)
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/two-factor/verify/?next=")

    @pytest.mark.parametrize("page", [LOGIN, "/healthz", "/accounts/two-factor/"])
    def test_sign_in_health_and_two_factor_pages_stay_open(self, client, owner, page):
        client.force_login(owner)
        assert client.get(page).status_code in (200, 302)
        assert not client.get(page).get("Location", "").startswith("/accounts/two-factor/verify/")

    def test_signing_out_works_before_the_second_factor(self, client, owner):
        client.force_login(owner)
        client.post(reverse("logout"))
        assert not signed_in(client)

    def test_the_right_code_opens_the_requested_page(self, client, therapist):
        device = _confirmed_device(therapist)
        client.force_login(therapist)
        response = client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "/"})
        assert response["Location"] == "/"
        assert client.get("/")["Location"] == reverse("clients:caseload")
        event = AuditEvent.objects.filter(object_type="two_factor").get()
        assert (event.action, event.actor_id) == (audit.LOGIN, therapist.pk)

    def test_a_wrong_code_is_refused_and_recorded(self, client, therapist):
        device = _confirmed_device(therapist)
        client.force_login(therapist)
        wrong = _code(device, steps_ahead=10)
        response = client.post(reverse("two_factor_verify"), {"code": wrong, "next": "/"})
        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        assert client.get("/")["Location"].startswith("/accounts/two-factor/verify/")
        assert AuditEvent.objects.filter(action=audit.LOGIN_FAILED, object_type="two_factor").count() == 1

    def test_a_recovery_code_works_once(self, client, therapist):
        _confirmed_device(therapist)
        static = StaticDevice.objects.create(user=therapist, name="Recovery codes", confirmed=True)
        static.token_set.create(token="abcd2345")
        client.force_login(therapist)
        assert client.post(reverse("two_factor_verify"), {"code": "ABCD 2345", "next": "/"})["Location"] == "/"
        other = Client()
        other.force_login(therapist)
        response = other.post(reverse("two_factor_verify"), {"code": "abcd2345", "next": "/"})
        assert "That code is not right" in response.content.decode()

    def test_a_password_alone_cannot_replace_the_authenticator(self, client, therapist):
        _confirmed_device(therapist)
        client.force_login(therapist)
        response = client.get(reverse("two_factor_setup"))
        assert response["Location"].startswith(reverse("two_factor_verify"))

    def test_the_next_address_must_be_on_this_site(self, client, therapist):
        device = _confirmed_device(therapist)
        client.force_login(therapist)
        response = client.post(reverse("two_factor_verify"), {"code": _code(device), "next": "https://evil.example/"})
        assert response["Location"] == reverse("home")

    def test_clients_are_not_required_to_use_it(self, client, client_a):
        client.force_login(client_a.user)
        assert client.get("/")["Location"] == reverse("portal:home")

    def test_a_client_who_turned_it_on_must_use_it(self, client, client_a):
        _confirmed_device(client_a.user)
        client.force_login(client_a.user)
        assert client.get("/")["Location"].startswith("/accounts/two-factor/verify/")

    def test_a_client_whose_device_was_removed_is_let_through_again(self, client, client_a):
        device = _confirmed_device(client_a.user)
        client.force_login(client_a.user)
        device.delete()  # an owner removed the lost phone in the admin
        response = client.get("/", follow=True)
        assert response.redirect_chain[-1][0] == reverse("portal:home")

    def test_a_verified_person_can_make_new_recovery_codes(self, client, therapist):
        device = _confirmed_device(therapist)
        client.force_login(therapist)
        client.post(reverse("two_factor_verify"), {"code": _code(device)})
        response = client.post(reverse("two_factor_recovery_codes"))
        assert len(re.findall(r"<li><code>", response.content.decode())) == 10


def test_with_the_requirement_off_staff_go_straight_in(client, therapist, settings):
    settings.PRACTICE_REQUIRE_2FA = False
    client.force_login(therapist)
    assert client.get("/")["Location"] == reverse("clients:caseload")


class TestHeaders:
    def test_every_page_carries_a_content_security_policy_without_inline_code(self, client):
        policy = client.get(LOGIN)["Content-Security-Policy"]
        directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
        assert directives["default-src"] == "'self'"
        assert directives["script-src"] == "'self'"
        assert directives["style-src"] == "'self'"
        assert directives["object-src"] == "'none'"
        assert directives["frame-ancestors"] == "'none'"
        assert directives["base-uri"] == "'self'"
        assert directives["form-action"] == "'self'"
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy

    def test_pages_for_signed_in_people_are_never_stored(self, client, therapist):
        client.force_login(therapist)
        for url in ["/", "/admin/", "/accounts/two-factor/"]:
            cache_control = client.get(url)["Cache-Control"]
            assert "no-store" in cache_control and "private" in cache_control, url

    def test_other_protective_headers(self, client):
        response = client.get(LOGIN)
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_admin_pages_have_no_inline_scripts(self, client, owner, client_a):
        client.force_login(owner)
        pages = [
            "/admin/",
            "/admin/clients/client/",
            f"/admin/clients/client/{client_a.pk}/change/",
            "/admin/clients/client/add/",
            "/admin/practice/auditevent/",
            "/admin/treatment_sessions/treatmentsession/",
        ]
        for url in pages:
            html = client.get(url).content.decode()
            assert "<script" in html, url
            assert _inline_scripts(html) == [], url
            assert not re.search(r"\son[a-z]+\s*=", html), url


def _inline_scripts(html: str) -> list[str]:
    tags = re.findall(r"<script\b[^>]*>", html)
    return [tag for tag in tags if "src=" not in tag and 'type="application/json"' not in tag]


def _project_files(pattern: str) -> list[Path]:
    skip = {".venv", "node_modules", "var", ".git", "test-artifacts"}
    return [path for path in ROOT.rglob(pattern) if not skip & set(path.relative_to(ROOT).parts)]


def test_no_view_is_exempt_from_csrf_checks():
    offenders = [str(path) for path in _project_files("*.py") if "csrf_exempt" in path.read_text()]
    offenders = [path for path in offenders if not path.endswith("test_security.py")]
    assert offenders == []


def test_no_template_has_inline_scripts_or_event_handlers():
    for path in _project_files("*.html"):
        html = path.read_text()
        assert _inline_scripts(html) == [], path
        assert not re.search(r"<[^>]+\son[a-z]+\s*=", html), path


def test_the_project_file_search_sees_project_code_only():
    # Guards the two tests above against silently looking at nothing, or at third-party code.
    files = {path.relative_to(ROOT).as_posix() for path in _project_files("*.py")}
    assert {"practice/access.py", "practice/middleware.py", "clients/models.py", "sessions/models.py"} <= files
    assert not any(name.startswith((".venv/", "node_modules/")) for name in files)
    assert any(path.name == "base.html" for path in _project_files("*.html"))


@pytest.mark.browser
def test_admin_and_two_factor_pages_run_under_the_policy_in_a_real_browser(
    live_server,
    tablet_browser,  # noqa: F811  (fixture imported from tests.browser.conftest)
    screenshot,  # noqa: F811
    owner,
    client_a,
):
    driver = tablet_browser
    browser_sign_in(driver, live_server, owner.username)
    pages = [
        "/admin/",
        "/admin/clients/client/",
        f"/admin/clients/client/{client_a.pk}/change/",
        "/admin/treatment_sessions/treatmentsession/add/",
        f"/admin/practice/auditevent/?client_id={client_a.pk}",
        "/admin/practice/historicalclient/",
        "/accounts/two-factor/setup/",
    ]
    for url in pages:
        driver.get(f"{live_server.url}{url}")
        assert _policy_violations(driver) == [], url
    assert driver.find_element("css selector", ".two-factor-qr svg").is_displayed()
    screenshot(driver, "two-factor-setup")
    # The browser does enforce the policy and report it: an injected inline script is refused.
    driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.x = 1'; document.body.append(s)"
    )
    assert driver.execute_script("return window.x") is None
    assert _policy_violations(driver)


def _policy_violations(driver) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


class TestOwnerTools:
    def test_an_owner_removes_a_lost_phone_but_sees_no_secret(self, client, owner, therapist):
        device = _confirmed_device(therapist)
        client.force_login(owner)
        page = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
        assert device.key not in page
        assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 302
        assert not TOTPDevice.objects.exists()

    def test_an_owner_lifts_a_lockout(self, client, owner, therapist):
        locked = Client()
        for _ in range(5):
            sign_in(locked, "maria", "not-the-password")
        attempt = AccessAttempt.objects.get()
        client.force_login(owner)
        assert client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"}).status_code == 302
        assert sign_in(locked, "maria").status_code == 302

    def test_therapists_cannot_open_these_tools(self, client, therapist):
        staff_therapist = therapist
        staff_therapist.is_staff = True
        staff_therapist.save()
        client.force_login(staff_therapist)
        assert client.get("/admin/otp_totp/totpdevice/").status_code == 403
        assert client.get("/admin/axes/accessattempt/").status_code == 403
