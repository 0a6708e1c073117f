"""A newly invited client on a phone fills in the intake over two visits, marks the body map and consents."""

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from clients.intake import consent_text_add
from clients.models import Consent, Intake, IntakeStatus
from portal.invitations import invitation_path, portal_invitation_send
from tests import factories
from tests.browser.conftest import forget_session, page_replaced, sign_in

NEW_PASSWORD = "slow-mornings-by-the-canal"


def _tap(driver, element) -> None:
    # "instant": Bootstrap's smooth scrolling would still be moving when Selenium clicks.
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _choose(driver, name: str, value: str) -> None:
    """Tap the large button (the label) of one answer."""
    radio = driver.find_element(By.CSS_SELECTOR, f'input[name="{name}"][value="{value}"]')
    _tap(driver, driver.find_element(By.CSS_SELECTOR, f'label[for="{radio.get_attribute("id")}"]'))


def _save(driver, wait, button: str = "next") -> None:
    old = driver.find_element(By.TAG_NAME, "html")
    _tap(driver, driver.find_element(By.CSS_SELECTOR, f'#intake-form button[name="{button}"]'))
    wait.until(page_replaced(old))


def _screen(driver) -> str:
    return driver.find_element(By.CSS_SELECTOR, "h1").text


def _no_sideways_scrolling(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_intake_over_two_visits_with_the_body_map_and_consent(live_server, phone_browser, therapist, screenshot):
    driver, wait = phone_browser, WebDriverWait(phone_browser, 10)
    consent_text_add(kind="treatment", text="I agree to gentle massage within my comfort.", created_by=None)
    consent_text_add(kind="data_use", text="The practice keeps my record safely.", created_by=None)
    client = factories.make_client(
        therapists=[therapist], first_name="Erin", last_name="Ebdon", email="erin@example.org", consented=False
    )
    user = portal_invitation_send(client=client, invited_by=therapist, site_url=live_server.url)

    # The invitation: a password, then straight to the intake.
    driver.get(live_server.url + invitation_path(user))
    driver.find_element(By.NAME, "new_password1").send_keys(NEW_PASSWORD)
    driver.find_element(By.NAME, "new_password2").send_keys(NEW_PASSWORD)
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    wait.until(EC.url_to_be(f"{live_server.url}/portal/intake/"))
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    wait.until(EC.url_contains("/portal/intake/step/ms/"))

    # First visit: four screens, then "Save and stop for now" on the fifth.
    start_button = driver.find_element(By.CSS_SELECTOR, 'label[for="id_ms_type_1"]')
    assert start_button.size["height"] >= 44  # large targets
    _choose(driver, "ms_type", "rrms")
    driver.find_element(By.NAME, "diagnosis_year").send_keys("2019")
    screenshot(driver, "1-first-screen")
    _save(driver, wait)
    _choose(driver, "new_or_worse_symptoms_30_days", "no")
    _save(driver, wait)
    _choose(driver, "heat_sensitive", "yes")
    _save(driver, wait)
    _choose(driver, "cold_sensitive", "no")
    _save(driver, wait)
    assert _screen(driver) == "Other health conditions"
    _tap(driver, driver.find_element(By.CSS_SELECTOR, 'label[for="id_conditions_needing_clearance_1"]'))  # arthritis
    _save(driver, wait, "stop")
    assert "Saved. Come back whenever you like" in driver.page_source
    assert _no_sideways_scrolling(driver)
    forget_session(driver)  # the phone is put away; the session is gone

    # Second visit: signed in again, carry on where I left off.
    sign_in(driver, live_server, user.username, NEW_PASSWORD)
    driver.get(live_server.url + "/portal/intake/")
    assert "You have answered 5 of 13 screens." in driver.page_source
    _tap(driver, driver.find_element(By.LINK_TEXT, "Continue where I left off"))
    wait.until(EC.url_contains("/portal/intake/step/medicines/"))
    driver.find_element(By.NAME, "medications").send_keys("Fampridine")
    _save(driver, wait)
    _save(driver, wait)  # no injury or operation
    _choose(driver, "pregnant", "no")
    _save(driver, wait)

    # The body map: tap the left hand and the right foot; a second tap takes the foot off again; Enter on the
    # right hand (keyboard) ticks it. The checkboxes follow the map.
    assert _screen(driver) == "Less feeling"
    for region in ("hand_left", "foot_right", "foot_right"):
        _tap(driver, driver.find_element(By.CSS_SELECTOR, f'.body-map__region[data-region="{region}"]'))
    right_hand = driver.find_element(By.CSS_SELECTOR, '.body-map__region[data-region="hand_right"]')
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", right_hand)
    right_hand.send_keys(Keys.ENTER)
    ticked = [
        box.get_attribute("value")
        for box in driver.find_elements(By.CSS_SELECTOR, 'input[name="reduced_sensation_regions"]')
        if box.is_selected()
    ]
    assert ticked == ["hand_left", "hand_right"]
    assert (
        driver.find_element(By.CSS_SELECTOR, '.body-map__region[data-region="hand_left"]').get_attribute("aria-pressed")
        == "true"
    )
    screenshot(driver, "2-body-map")
    _save(driver, wait)
    assert _screen(driver) == "Pressure sores"
    _tap(driver, driver.find_element(By.CSS_SELECTOR, '.body-map__region[data-region="lower_back"]'))
    _save(driver, wait)
    for _ in range(3):  # goals, neurologist, emergency contact: left as they are
        _save(driver, wait)

    # The check of all answers, then send.
    wait.until(EC.url_contains("/portal/intake/review/"))
    assert "Left hand, Right hand" in driver.page_source and "Fampridine" in driver.page_source
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "main form button[type=submit]"))
    wait.until(EC.url_contains("/portal/intake/consent/"))

    # Consent: type my name under each text; what, which version and when is shown back.
    for kind in ("treatment", "data_use"):
        box = wait.until(EC.presence_of_element_located((By.ID, f"{kind}-typed-name")))
        driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", box)
        box.send_keys("Erin Ebdon")
        old = driver.find_element(By.TAG_NAME, "html")
        _tap(driver, driver.find_element(By.CSS_SELECTOR, f"[data-consent={kind}] button[type=submit]"))
        wait.until(page_replaced(old))
    shown = driver.find_elements(By.CSS_SELECTOR, "[data-consent-given]")
    assert len(shown) == 2 and all("version 1" in s.text and "Erin Ebdon" in s.text for s in shown)
    assert _no_sideways_scrolling(driver)
    screenshot(driver, "3-consents")

    intake = Intake.objects.get(client=client)
    assert intake.status == IntakeStatus.SUBMITTED
    assert intake.answers["reduced_sensation_regions"] == ["hand_left", "hand_right"]
    assert intake.answers["pressure_sore_regions"] == ["lower_back"]
    assert intake.answers["conditions_needing_clearance"] == ["arthritis"]
    assert (intake.answers["ms_type"], intake.answers["diagnosis_year"]) == ("rrms", 2019)
    assert Consent.objects.filter(client=client, typed_name="Erin Ebdon").count() == 2
