"""The idle limit passes while a therapist is logging a session: nothing they typed is lost.

The idle limit is cut to a few seconds so that the test can let it pass for real: the page warns first,
then the sign-out happens, Save goes to the sign-in page, and signing in again brings every field back.
"""

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from practice.models import FormAutosave
from sessions.models import TreatmentSession
from tests import factories
from tests.browser.conftest import sign_in
from tests.browser.test_session_logging import click, click_through, fill_row, submit, tap_score, wait_for_text
from tests.factories import PASSWORD

IDLE_SECONDS = 12
WARNING_SECONDS = 5
NOTES = {
    "subjective": "Woke with a heavy left leg; better after breakfast.",
    "objective": "Left calf tight, no redness.",
    "plan": "Reflexology again next week.",
    "client_summary": "We worked gently on your back and your left foot.",
}


def wait_until(condition, timeout: float = 15, message: str = "") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(message or "timed out")


def value(driver, name: str) -> str:
    return driver.find_element(By.NAME, name).get_attribute("value")


def selected(driver, name: str) -> str:
    return Select(driver.find_element(By.NAME, name)).first_selected_option.text


def checked_score(driver, field: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, f"input[name={field}]:checked").get_attribute("value")


def test_the_idle_limit_passes_mid_form_and_every_field_comes_back(
    live_server, tablet_browser, screenshot, therapist, settings
):
    settings.PRACTICE_SESSION_IDLE_TIMEOUT = IDLE_SECONDS
    settings.PRACTICE_SESSION_IDLE_WARNING = WARNING_SECONDS
    driver = tablet_browser
    client = factories.make_client(therapists=[therapist], first_name="Rosa", last_name="Remission")
    factories.make_phase(client)
    sign_in(driver, live_server, therapist.username)
    path = f"/clients/{client.pk}/sessions/new/"
    driver.get(live_server.url + path)
    wait_for_text(driver, "Log a session: Rosa Remission")

    fill_row(driver, 0, "Swedish massage", "Upper back", "Moderate")
    click(driver, driver.find_element(By.CSS_SELECTOR, "[data-add-row]"))
    added = int(value(driver, "uses-TOTAL_FORMS")) - 1
    fill_row(driver, added, "Reflexology", "Left foot", "Light")
    tap_score(driver, "pain_before", 4)
    tap_score(driver, "fatigue_before", 6)
    temperature = driver.find_element(By.NAME, "room_temperature_c")
    temperature.clear()
    temperature.send_keys("21.5")
    for name, text in NOTES.items():
        driver.find_element(By.NAME, name).send_keys(text)
    started_at = value(driver, "started_at")

    # The script keeps a copy as the therapist types.
    wait_until(
        lambda: FormAutosave.objects.filter(path=path, data__client_summary=[NOTES["client_summary"]]).exists(),
        message="nothing was autosaved",
    )
    # Then nobody types: a warning first, with its "Stay signed in" button...
    dialog = driver.find_element(By.ID, "session-clock")
    WebDriverWait(driver, IDLE_SECONDS + 5).until(EC.visibility_of(dialog))
    assert dialog.get_attribute("role") == "alertdialog"
    assert dialog.find_element(By.CSS_SELECTOR, "[data-clock-stay]").is_displayed()
    assert driver.switch_to.active_element == dialog.find_element(By.CSS_SELECTOR, "[data-clock-stay]")
    screenshot(driver, "warning")
    # ...then the idle limit passes.
    wait_for_text(driver, "You have been signed out", timeout=WARNING_SECONDS + 5)
    time.sleep(1)  # past the server's limit too, whatever rounding the page's clock made

    # Save, too late: the sign-in page, and nothing saved.
    submit(driver)
    wait_for_text(driver, "signed out after")
    assert "/accounts/login/" in driver.current_url
    assert not TreatmentSession.objects.exists()
    driver.find_element(By.NAME, "username").send_keys(therapist.username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "main button[type=submit]"))

    # Back on the form, with everything typed, and a message saying so.
    assert driver.current_url == live_server.url + path
    wait_for_text(driver, "We kept what you typed at")
    screenshot(driver, "restored")
    assert value(driver, "started_at") == started_at
    assert int(value(driver, "uses-TOTAL_FORMS")) == added + 1
    assert [selected(driver, f"uses-0-{field}") for field in ("technique", "body_region", "pressure")] == [
        "Swedish massage",
        "Upper back",
        "Moderate",
    ]
    assert [selected(driver, f"uses-{added}-{field}") for field in ("technique", "body_region", "pressure")] == [
        "Reflexology",
        "Left foot",
        "Light",
    ]
    assert (checked_score(driver, "pain_before"), checked_score(driver, "fatigue_before")) == ("4", "6")
    assert value(driver, "room_temperature_c") == "21.5"
    for name, text in NOTES.items():
        assert value(driver, name) == text
    assert not driver.find_elements(By.CSS_SELECTOR, ".is-invalid")

    # Saved this time; the copy is spent.
    submit(driver)
    wait_for_text(driver, "Session saved as a draft")
    session = TreatmentSession.objects.get()
    assert (session.pain_before, session.fatigue_before) == (4, 6)
    assert session.subjective == NOTES["subjective"] and session.client_summary == NOTES["client_summary"]
    assert sorted(use.body_region for use in session.technique_uses.all()) == ["foot_left", "upper_back"]
    assert not FormAutosave.objects.exists()
