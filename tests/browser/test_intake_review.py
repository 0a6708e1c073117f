"""Issue 15, done when: a newly invited client fills the intake on a phone over two visits, marks the body map and
consents; the therapist reviews it on a tablet, accepting some answers and not others; the safety screen then
reflects exactly what was accepted."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from clients.intake import consent_text_add
from clients.models import Client, Intake, IntakeStatus
from portal.invitations import invitation_path, portal_invitation_send
from sessions.safety import PlannedUse
from sessions.screening import screen_planned_session
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import forget_session, sign_in

pytestmark = pytest.mark.django_db(transaction=True)


def settle(driver) -> None:
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return !window.pageBeingLeft && document.readyState === 'complete'")
    )


def press(driver, selector: str) -> None:
    """Click a button and wait for the next page."""
    driver.execute_script("window.pageBeingLeft = true")
    button = driver.find_element(By.CSS_SELECTOR, selector)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", button)
    button.click()
    settle(driver)


def choose(driver, name: str, value: str) -> None:
    element = driver.find_element(By.CSS_SELECTOR, f"input[name={name}][value={value}]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    driver.execute_script("arguments[0].click()", element)


def tap_region(driver, region: str) -> None:
    shape = driver.find_element(By.CSS_SELECTOR, f'.body-map__region[data-region="{region}"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", shape)
    shape.click()
    assert driver.find_element(By.CSS_SELECTOR, f'input[value="{region}"]').is_selected()


NEXT = "button[name=next]"
STOP = "button[name=stop]"


def test_invited_client_intake_over_two_visits_then_the_therapists_review(
    live_server, phone_browser, tablet_browser, therapist, screenshot
):
    for kind in ("treatment", "data_use"):
        consent_text_add(kind=kind, text=f"The {kind.replace('_', ' ')} consent.", created_by=None)
    dana = factories.make_client(
        therapists=[therapist], first_name="Dana", last_name="Doyle", email="dana@example.org", consented=False
    )
    factories.make_phase(dana)
    invited = portal_invitation_send(client=dana, invited_by=therapist, site_url=live_server.url)
    phone = phone_browser

    # First visit: accept the invitation, answer the first screens, stop half-way.
    phone.get(live_server.url + invitation_path(invited))
    for name in ("new_password1", "new_password2"):
        phone.find_element(By.NAME, name).send_keys(factories.PASSWORD)
    press(phone, "main form[method=post] button[type=submit]")
    phone.get(live_server.url + reverse("portal:intake"))
    press(phone, f"form[action='{reverse('portal:intake_start')}'] button[type=submit]")
    choose(phone, "ms_type", "rrms")
    press(phone, NEXT)
    choose(phone, "new_or_worse_symptoms_30_days", "no")
    press(phone, NEXT)
    choose(phone, "heat_sensitive", "yes")
    press(phone, NEXT)
    choose(phone, "cold_sensitive", "no")
    press(phone, STOP)
    assert Intake.objects.get(client=dana).status == IntakeStatus.IN_PROGRESS
    screenshot(phone, "stopped-half-way")

    # Second visit, signed in again: carry on where she left off, mark the body map, send it and consent.
    forget_session(phone)
    sign_in(phone, live_server, invited.username)
    phone.get(live_server.url + reverse("portal:intake"))
    press(phone, "a.portal-button[href*='/intake/step/']")
    assert "/intake/step/conditions/" in phone.current_url
    for _ in ("conditions", "medicines", "injury"):
        press(phone, NEXT)
    choose(phone, "pregnant", "no")
    press(phone, NEXT)
    tap_region(phone, "foot_left")
    tap_region(phone, "foot_right")
    screenshot(phone, "body-map-reduced-sensation")
    press(phone, NEXT)
    tap_region(phone, "hip_left")
    press(phone, NEXT)
    for _ in ("goals", "neurologist", "emergency"):
        press(phone, NEXT)
    press(phone, "main form[method=post] button[type=submit]")  # send to my therapist
    WebDriverWait(phone, 10).until(EC.url_contains("/intake/consent/"))
    phone.find_element(By.ID, "treatment-typed-name").send_keys("Dana Doyle")
    press(phone, "[data-consent=treatment] button[type=submit]")
    intake = Intake.objects.get(client=dana)
    assert intake.status == IntakeStatus.SUBMITTED
    assert intake.answers["reduced_sensation_regions"] == ["foot_left", "foot_right"]
    assert intake.answers["pressure_sore_regions"] == ["hip_left"]
    assert Client.objects.get(pk=dana.pk).reduced_sensation_regions == []  # nothing reaches the record yet

    # The therapist, on a tablet: the caseload flags it; accept the numb feet, leave the pressure sore.
    tablet = tablet_browser
    sign_in(tablet, live_server, therapist.username)
    tablet.get(live_server.url + reverse("clients:caseload"))
    row = tablet.find_element(By.CSS_SELECTOR, f'.caseload-row[data-client="{dana.pk}"]')
    link = row.find_element(By.CSS_SELECTOR, "a[data-intake=waiting]")
    tablet.execute_script("window.pageBeingLeft = true")
    link.click()
    settle(tablet)
    assert_no_axe_violations(tablet, "intake review, tablet")
    assert not tablet.find_element(By.ID, "accept-reduced_sensation_regions").is_selected()
    tablet.execute_script("arguments[0].click()", tablet.find_element(By.ID, "accept-reduced_sensation_regions"))
    tablet.execute_script("arguments[0].click()", tablet.find_element(By.ID, "accept-ms_type"))
    screenshot(tablet, "intake-review")
    press(tablet, "#intake-review button[type=submit]")
    codes = {e.get_attribute("data-code") for e in tablet.find_elements(By.CSS_SELECTOR, "#alerts-heading ~ ul li")}
    assert "reduced_sensation_on_record" in codes and "pressure_sores_on_record" not in codes

    dana.refresh_from_db()
    assert (dana.reduced_sensation_regions, dana.pressure_sore_regions, dana.ms_type) == (
        ["foot_left", "foot_right"],
        [],
        "rrms",
    )
    swedish = factories.technique("swedish")
    findings = screen_planned_session(
        client=dana,
        when=dana.created_at,
        uses=[PlannedUse(swedish, "foot_left", "firm"), PlannedUse(swedish, "hip_left", "light")],
    )
    stops = {f.code for f in findings if f.severity == "stop"}
    assert stops == {"pressure_on_reduced_sensation"}  # accepted numbness stops firm work; the unaccepted sore does not
    # And with consent to treatment given, the session form opens.
    tablet.get(live_server.url + reverse("sessions:new", args=[dana.pk]))
    assert "/sessions/new/" in tablet.current_url
