"""A therapist logs, reviews and signs sessions on a tablet, in a real browser."""

import datetime as dt

from django.utils import timezone
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from clients.models import Phase
from sessions.models import SessionStatus, TreatmentSession
from tests import factories
from tests.browser.conftest import page_replaced, sign_in


def wait_for_text(driver, text: str, timeout: float = 10) -> None:
    WebDriverWait(driver, timeout).until(EC.text_to_be_present_in_element((By.TAG_NAME, "body"), text))


def click(driver, element) -> None:
    # Bootstrap turns on smooth scrolling; scroll at once so the click lands where the element is.
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def click_through(driver, element, timeout: float = 10) -> None:
    """Click something that loads another page and wait until the old page is gone.

    Waiting for text alone is not enough: the live safety screen and the messages can show the awaited
    words on the old page already, and the next step would then act on a page being replaced.
    """
    old_page = driver.find_element(By.TAG_NAME, "html")
    try:
        click(driver, element)
    except WebDriverException as error:
        # chromedriver may report the clicked button gone when the click itself already started loading
        # the next page; the wait below then tells whether it did.
        if "does not belong to the document" not in str(error):
            raise
    WebDriverWait(driver, timeout).until(page_replaced(old_page))


def tap_score(driver, field: str, score: int) -> None:
    click(driver, driver.find_element(By.CSS_SELECTOR, f"label[for=id_{field}_{score}]"))


def fill_row(driver, index: int, technique: str, region: str, pressure: str) -> None:
    Select(driver.find_element(By.NAME, f"uses-{index}-technique")).select_by_visible_text(technique)
    Select(driver.find_element(By.NAME, f"uses-{index}-body_region")).select_by_visible_text(region)
    Select(driver.find_element(By.NAME, f"uses-{index}-pressure")).select_by_visible_text(pressure)


def submit(driver) -> None:
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "#session-form button[type=submit]"))


def test_therapist_logs_a_session_resolves_a_caution_and_signs_it(live_server, tablet_browser, screenshot, therapist):
    driver = tablet_browser
    client = factories.make_client(therapists=[therapist], first_name="Rosa", last_name="Remission")
    factories.make_phase(client, Phase.REMISSION)
    sign_in(driver, live_server, therapist.username)
    wait_for_text(driver, "Rosa")

    driver.get(f"{live_server.url}/clients/{client.pk}/")
    click_through(driver, driver.find_element(By.LINK_TEXT, "Log a session"))
    wait_for_text(driver, "Log a session: Rosa Remission")
    assert "Remission" in driver.find_element(By.CSS_SELECTOR, "header .phase-badge").text

    fill_row(driver, 0, "Swedish massage", "Upper back", "Moderate")
    # The second technique goes in a row added by the "Add a technique" button.
    rows_before = len(driver.find_elements(By.CSS_SELECTOR, "#technique-rows [data-technique-row]"))
    click(driver, driver.find_element(By.CSS_SELECTOR, "[data-add-row]"))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#technique-rows [data-technique-row]")) == rows_before + 1
    # Its region is picked on the body map: a tap fills the region of the row being worked on.
    Select(driver.find_element(By.NAME, f"uses-{rows_before}-technique")).select_by_visible_text("Reflexology")
    click(driver, driver.find_element(By.CSS_SELECTOR, "[data-session-body-map] summary"))
    click(driver, driver.find_element(By.CSS_SELECTOR, "[data-session-body-map] path[data-region=foot_left]"))
    region = Select(driver.find_element(By.NAME, f"uses-{rows_before}-body_region"))
    assert region.first_selected_option.text == "Left foot"
    assert "Left foot chosen for technique" in driver.find_element(By.ID, "body-map-status").text
    screenshot(driver, "1-body-map-pick")
    tap_score(driver, "pain_before", 8)
    tap_score(driver, "fatigue_before", 6)
    tap_score(driver, "pain_after", 5)
    tap_score(driver, "fatigue_after", 4)
    driver.find_element(By.NAME, "client_summary").send_keys("Gentle back and foot work; rest this evening.")
    screenshot(driver, "1-form-filled")
    submit(driver)

    # The review step: high pain before is a caution to confirm; nothing is saved yet.
    wait_for_text(driver, "Pain before the session is high (8/10)")
    assert not TreatmentSession.objects.exists()
    screenshot(driver, "2-caution-review")
    click(driver, driver.find_element(By.NAME, "confirm_cautions"))
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "#safety-review button[type=submit]"))

    wait_for_text(driver, "Session saved as a draft")
    session = TreatmentSession.objects.get()
    assert session.technique_uses.count() == 2
    assert "Swedish massage" in driver.page_source and "Reflexology" in driver.page_source
    screenshot(driver, "3-draft-saved")

    click_through(driver, driver.find_element(By.CSS_SELECTOR, "[data-sign]"))
    wait_for_text(driver, "Session signed.")
    assert driver.find_element(By.CSS_SELECTOR, "[data-status]").text == "Signed"
    session.refresh_from_db()
    assert session.status == SessionStatus.SIGNED
    assert session.signed_by == therapist
    screenshot(driver, "4-signed")


def test_acute_flare_stop_needs_an_override_reason(live_server, tablet_browser, screenshot, therapist):
    driver = tablet_browser
    client = factories.make_client(therapists=[therapist], first_name="Frank", last_name="Flare")
    today = timezone.localdate()
    factories.make_phase(client, Phase.REMISSION, started_on=today - dt.timedelta(days=300), ended_on=today)
    factories.make_phase(client, Phase.ACUTE_FLARE, started_on=today)
    sign_in(driver, live_server, therapist.username)
    wait_for_text(driver, "Frank")

    driver.get(f"{live_server.url}/clients/{client.pk}/sessions/new/")
    wait_for_text(driver, "In an acute flare (relapse)")
    fill_row(driver, 0, "Reiki and light-touch energy work", "Head", "Light")
    fill_row(driver, 1, "Reflexology", "Right foot", "Light")
    tap_score(driver, "pain_before", 5)
    tap_score(driver, "fatigue_before", 8)
    submit(driver)

    wait_for_text(driver, "A safety stop applies")
    assert not TreatmentSession.objects.exists()
    screenshot(driver, "1-stop-review")
    reason = driver.find_element(By.NAME, "safety_override_reason")
    reason.send_keys("Client in hospice care asked for calming light touch; neurologist agreed by phone.")
    submit(driver)

    wait_for_text(driver, "Safety stop overridden.")
    session = TreatmentSession.objects.get()
    assert session.safety_override_reason.startswith("Client in hospice care")
    assert "neurologist agreed by phone" in driver.find_element(By.CSS_SELECTOR, "[data-override]").text
    screenshot(driver, "2-saved-with-override")
