"""Every form refuses a POST without its CSRF token (403, nothing changed), and accepts the same POST with it.

The second half of each test matters as much as the first: it shows the data was otherwise valid, so the
403 came from the missing token and not from anything else. Then: no view of the project, nor any view its
addresses reach, is exempt from the check, and every POST form in the project's templates carries a token.
"""

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client as BrowserClient
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clients.models import Client
from devtools.html_forms import FormFields
from tests.factories import PASSWORD, make_client
from tests.practice.world import (
    World,
    amend_post,
    build_world,
    password_post,
    profile_post,
    session_post,
    snapshot,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
# Spelled in two pieces so that this file is not itself a hit for the search below.
EXEMPT = "csrf_" + "exempt"


@pytest.fixture
def world() -> World:
    return build_world()


def strict(user=None) -> BrowserClient:
    browser = BrowserClient(enforce_csrf_checks=True)
    if user is not None:
        browser.force_login(user)
    return browser


def with_token(browser: BrowserClient, data: dict) -> dict:
    """``data`` plus the CSRF token a page with a form would have given this browser."""
    page = browser.get("/accounts/password_reset/", follow=True)  # any page with a form
    return data | {"csrfmiddlewaretoken": FormFields(page.content.decode()).fields["csrfmiddlewaretoken"]}


@dataclass(frozen=True)
class Form:
    who: Callable[[World], object]
    url: Callable[[World], str]
    data: Callable[[World], dict]


TODAY = lambda: timezone.localdate().isoformat()  # noqa: E731

# Forms whose effect shows in the clinical tables or the accounts (see world.snapshot).
FORMS = {
    "phase start": Form(
        lambda w: w.maria,
        lambda w: f"/clients/{w.client_a.pk}/phases/start/",
        lambda w: {"start-phase": "subacute", "start-started_on": TODAY()},
    ),
    "phase end": Form(
        lambda w: w.maria, lambda w: f"/clients/{w.client_a.pk}/phases/end/", lambda w: {"end-ended_on": TODAY()}
    ),
    "edit profile": Form(
        lambda w: w.maria,
        lambda w: f"/clients/{w.client_a.pk}/edit/",
        lambda w: profile_post(w.client_a, phone="01632 960777"),
    ),
    "new session": Form(
        lambda w: w.maria, lambda w: f"/clients/{w.client_a.pk}/sessions/new/", lambda w: session_post()
    ),
    "edit session": Form(
        lambda w: w.maria,
        lambda w: f"/sessions/{w.a_draft.pk}/edit/",
        lambda w: session_post(version=w.a_draft.version, plan="Changed"),
    ),
    "sign session": Form(lambda w: w.maria, lambda w: f"/sessions/{w.a_draft.pk}/sign/", lambda w: {}),
    "amend session": Form(
        lambda w: w.maria, lambda w: f"/sessions/{w.a_signed.pk}/amend/", lambda w: amend_post(w.a_signed)
    ),
    "self-report": Form(
        lambda w: w.client_a.user, lambda w: "/portal/today/", lambda w: {"pain": "3", "fatigue": "4", "note": ""}
    ),
    "password change": Form(lambda w: w.maria, lambda w: "/accounts/password/", lambda w: password_post()),
    "admin change": Form(
        lambda w: w.owner,
        lambda w: f"/admin/auth/user/{w.maria.pk}/change/",
        lambda w: {
            "username": "maria",
            "first_name": "Maria",
            "last_name": "Changed",
            "email": "maria@example.org",
            "is_active": "on",
            "groups": [g.pk for g in w.maria.groups.all()],
            "date_joined_0": "2024-01-01",
            "date_joined_1": "09:00:00",
        },
    ),
    "admin action": Form(
        lambda w: w.owner,
        lambda w: "/admin/clients/client/",
        lambda w: {"action": "archive_clients", "_selected_action": [w.client_a.pk]},
    ),
}


@pytest.mark.parametrize("name", sorted(FORMS))
def test_a_form_without_its_token_is_refused_and_changes_nothing(world, name):
    form = FORMS[name]
    browser = strict(form.who(world))
    url, data = form.url(world), form.data(world)
    before = snapshot()
    refused = browser.post(url, data)
    assert refused.status_code == 403
    assert "data-csrf-failure" in refused.content.decode()  # the product's expired-page (templates/403_csrf.html)
    assert snapshot() == before
    accepted = browser.post(url, with_token(browser, data))
    assert accepted.status_code == 302, getattr(accepted, "context", None) and accepted.context.get("form")
    assert snapshot() != before


def test_sign_in_without_a_token_is_refused(world):
    browser = strict()
    assert browser.post("/accounts/login/", {"username": "maria", "password": PASSWORD}).status_code == 403
    assert SESSION_KEY not in browser.session
    data = with_token(browser, {"username": "maria", "password": PASSWORD})
    assert browser.post("/accounts/login/", data).status_code == 302
    assert SESSION_KEY in browser.session


def test_admin_sign_in_without_a_token_is_refused(world):
    browser = strict()
    assert browser.post("/admin/login/", {"username": "owner", "password": PASSWORD}).status_code == 403
    assert SESSION_KEY not in browser.session


def test_sign_out_without_a_token_is_refused_and_the_person_stays_signed_in(world):
    browser = strict(world.maria)
    assert browser.post("/accounts/logout/").status_code == 403
    assert browser.get("/clients/").status_code == 200
    assert browser.post("/accounts/logout/", with_token(browser, {})).status_code == 302
    assert browser.get("/clients/").status_code == 302


def test_password_reset_without_a_token_sends_nothing(world):
    browser = strict()
    assert browser.post("/accounts/password_reset/", {"email": "aqx_portal@example.org"}).status_code == 403
    assert mail.outbox == []
    assert browser.post("/accounts/password_reset/", with_token(browser, {"email": "aqx_portal@example.org"}))
    assert len(mail.outbox) == 1


def test_inviting_without_a_token_makes_no_account(world):
    carla = make_client(therapists=[world.maria], first_name="Carla", email="carla@example.org")
    browser = strict(world.maria)
    assert browser.post(f"/portal/invite/{carla.pk}/").status_code == 403
    assert Client.objects.get(pk=carla.pk).user is None and mail.outbox == []
    assert browser.post(f"/portal/invite/{carla.pk}/", with_token(browser, {})).status_code == 302
    assert Client.objects.get(pk=carla.pk).user is not None


def test_accepting_an_invitation_without_a_token_sets_no_password(world):
    carla = make_client(therapists=[world.maria], first_name="Carla", email="carla@example.org")
    inviter = strict(world.maria)
    inviter.post(f"/portal/invite/{carla.pk}/", with_token(inviter, {}))
    carla.refresh_from_db()
    link = re.search(r"(/portal/welcome/\S+/\S+/)", mail.outbox[-1].body).group(1)
    browser = strict()
    set_password = browser.get(link)["Location"]
    new = "a-calm-river-in-spring"
    assert browser.post(set_password, {"new_password1": new, "new_password2": new}).status_code == 403
    carla.user.refresh_from_db()
    assert not carla.user.has_usable_password()
    accepted = browser.post(set_password, with_token(browser, {"new_password1": new, "new_password2": new}))
    assert accepted.status_code == 302
    carla.user.refresh_from_db()
    assert carla.user.check_password(new)


class TestTwoFactorForms:
    def _code(self, device: TOTPDevice) -> str:
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        return f"{totp.token():06d}"

    def test_confirming_a_code_without_a_token_does_not_verify(self, world):
        device = TOTPDevice.objects.create(user=world.maria, name="phone", confirmed=True)
        browser = BrowserClient(enforce_csrf_checks=True)
        browser.post("/accounts/login/", with_token(browser, {"username": "maria", "password": PASSWORD}))
        assert browser.get("/clients/").status_code == 302  # the second factor is still to come
        assert browser.post("/accounts/two-factor/verify/", {"code": self._code(device)}).status_code == 403
        assert browser.get("/clients/").status_code == 302
        verified = browser.post("/accounts/two-factor/verify/", with_token(browser, {"code": self._code(device)}))
        assert verified.status_code == 302
        assert browser.get("/clients/").status_code == 200

    def test_setting_up_an_authenticator_without_a_token_confirms_nothing(self, world):
        browser = strict(world.maria)
        browser.get("/accounts/two-factor/setup/")
        device = TOTPDevice.objects.get(user=world.maria)
        assert browser.post("/accounts/two-factor/setup/", {"code": self._code(device)}).status_code == 403
        assert not TOTPDevice.objects.get(pk=device.pk).confirmed
        confirmed = browser.post("/accounts/two-factor/setup/", with_token(browser, {"code": self._code(device)}))
        assert confirmed.status_code == 200 and "recovery" in confirmed.content.decode().lower()
        assert TOTPDevice.objects.get(pk=device.pk).confirmed

    def test_new_recovery_codes_without_a_token_are_refused(self, world):
        browser = strict(world.maria)
        assert browser.post("/accounts/two-factor/recovery-codes/").status_code == 403
        assert browser.post("/accounts/two-factor/recovery-codes/", with_token(browser, {})).status_code != 403


# --- nothing is exempt


def _project_files(pattern: str) -> list[Path]:
    skip = {".venv", "node_modules", "var", ".git", "test-artifacts"}
    return [path for path in ROOT.rglob(pattern) if not skip & set(path.relative_to(ROOT).parts)]


def test_no_project_file_exempts_a_view_from_csrf_checks():
    files = _project_files("*.py")
    # The search sees the project's code.
    assert any(path.relative_to(ROOT).as_posix() == "portal/views.py" for path in files)
    assert not any(".venv" in path.parts for path in files)
    # The name used as code (an import, a decorator, an attribute), not inside quotes as other tests search for it.
    used = re.compile(rf"(?<![\"'])\b{EXEMPT}\b(?![\"'])")
    offenders = [str(path.relative_to(ROOT)) for path in files if used.search(path.read_text())]
    assert offenders == []
    assert used.search(f"from django.views.decorators.csrf import {EXEMPT}")
    assert used.search(f"@{EXEMPT}\ndef view(request): ...")


def _callbacks(resolver=None):
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern)
        elif isinstance(pattern, URLPattern):
            yield pattern


def test_no_address_reaches_a_view_exempt_from_csrf_checks():
    # Third-party views (the admin, Django's sign-in) included: an exemption marks the view function itself.
    patterns = list(_callbacks())
    assert len(patterns) > 50
    exempt = [str(p.pattern) for p in patterns if getattr(p.callback, EXEMPT, False)]
    assert exempt == []


def test_every_post_form_in_the_templates_carries_a_token():
    forms_seen = 0
    for path in _project_files("*.html"):
        html = path.read_text()
        for form in re.findall(r"<form\b[^>]*>.*?</form>", html, flags=re.S | re.I):
            opening = form[: form.index(">") + 1]
            if re.search(r'method\s*=\s*"post"', opening, re.I):
                forms_seen += 1
                assert "{% csrf_token %}" in form, f"{path.relative_to(ROOT)}: {opening}"
    assert forms_seen >= 15
