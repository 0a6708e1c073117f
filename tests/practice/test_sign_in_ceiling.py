"""Guessing one account's password from many addresses is slowed to one check per cool-down (practice.sign_in)."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from practice import audit
from practice.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"
WRONG = "guessing-the-password"


def sign_in(username: str, password: str, ip: str) -> tuple[Client, object]:
    browser = Client()
    return browser, browser.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def guess_from_three_addresses(username: str) -> None:
    # Four wrong guesses from each of three addresses: 12, under every per-address lock (5), over the
    # ceiling of 10: the last two are already refused unchecked.
    for ip in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        for _ in range(4):
            sign_in(username, WRONG, ip)


def test_the_ceiling_is_below_what_three_addresses_can_try():
    assert settings.PRACTICE_SIGN_IN_CEILING < 3 * (settings.AXES_FAILURE_LIMIT - 1)


def test_spread_guessing_makes_the_next_attempt_wait_even_with_the_right_password(therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        guess_from_three_addresses("maria")
        browser, response = sign_in("maria", PASSWORD, "203.0.113.9")
        assert response.status_code == 200
        assert "_auth_user_id" not in browser.session
        assert "wait 30 seconds, then sign in again" in response.content.decode()
        last = AuditEvent.objects.order_by("-sequence").first()
        assert (last.action, last.outcome, last.actor_username) == (audit.LOGIN_FAILED, audit.DENIED, "maria")
        clock.shift(dt.timedelta(seconds=31))
        browser, response = sign_in("maria", PASSWORD, "203.0.113.9")
        assert response.status_code == 302 and "_auth_user_id" in browser.session


def test_attempts_refused_while_cooling_down_do_not_prolong_it(therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        guess_from_three_addresses("maria")
        for _ in range(5):
            clock.shift(dt.timedelta(seconds=10))
            sign_in("maria", WRONG, "198.51.100.4")  # every few seconds: only the one after 30 s is checked
        clock.shift(dt.timedelta(seconds=31))
        browser, response = sign_in("maria", PASSWORD, "203.0.113.9")
        assert "_auth_user_id" in browser.session


def test_guessing_is_slowed_to_one_password_check_per_cool_down(therapist):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        guess_from_three_addresses("maria")
        for second in range(0, 300, 5):
            clock.shift(dt.timedelta(seconds=5))
            sign_in("maria", WRONG, f"198.51.100.{10 + second % 200}")
    checked = AuditEvent.objects.filter(action=audit.LOGIN_FAILED, outcome=audit.FAILED).count()
    assert checked == settings.PRACTICE_SIGN_IN_CEILING + 300 // settings.PRACTICE_SIGN_IN_COOLDOWN


def test_other_accounts_and_names_in_other_case_are_counted_as_typed(therapist, other_therapist):
    with time_machine.travel(timezone.now(), tick=False):
        guess_from_three_addresses("MARIA")
        _, response = sign_in("maria", PASSWORD, "203.0.113.9")
        assert "wait 30 seconds" in response.content.decode()
        browser, _ = sign_in("james", PASSWORD, "203.0.113.9")
        assert "_auth_user_id" in browser.session


def test_a_few_failures_elsewhere_change_nothing(therapist):
    for _ in range(4):
        sign_in("maria", WRONG, "198.51.100.1")
    browser, _ = sign_in("maria", PASSWORD, "203.0.113.9")
    assert "_auth_user_id" in browser.session
