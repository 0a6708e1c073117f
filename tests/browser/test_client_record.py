"""A therapist finds a client on a tablet, reads the record and records a new MS phase."""

from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

from clients.models import DiseasePhase, Phase
from tests import factories
from tests.browser.conftest import sign_in


def scroll_to(browser, element) -> None:
    # Instant: Bootstrap's smooth scrolling would still be moving when Selenium clicks.
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)


def test_therapist_finds_a_client_reads_the_record_and_starts_a_phase(
    live_server, tablet_browser, screenshot, therapist, client_a
):
    client_a.reduced_sensation_regions = ["hand_left", "foot_right"]
    client_a.pressure_sore_regions = ["lower_back"]
    client_a.save()
    factories.make_client(therapists=[therapist], first_name="Carl", last_name="Cole")
    factories.make_session(client_a, therapist, signed=True)
    browser = tablet_browser

    sign_in(browser, live_server, therapist.username)
    WebDriverWait(browser, 10).until(EC.url_to_be(f"{live_server.url}/clients/"))
    assert len(browser.find_elements(By.CSS_SELECTOR, ".caseload-row")) == 2
    screenshot(browser, "caseload")

    search = browser.find_element(By.NAME, "q")
    search.send_keys("ashby")
    search.submit()
    WebDriverWait(browser, 10).until(EC.url_contains("q=ashby"))
    rows = browser.find_elements(By.CSS_SELECTOR, ".caseload-row")
    assert [row.find_element(By.CSS_SELECTOR, ".caseload-row__name").text for row in rows] == ["Alice Ashby"]
    assert rows[0].find_element(By.CSS_SELECTOR, ".phase-badge").text == "Remission"
    rows[0].find_element(By.LINK_TEXT, "Alice Ashby").click()

    assert browser.find_element(By.TAG_NAME, "h1").text == "Alice Ashby"
    body_map = browser.find_element(By.CSS_SELECTOR, ".body-map__svg")
    assert body_map.is_displayed() and body_map.size["width"] > 200
    assert len(browser.find_elements(By.CSS_SELECTOR, '.body-map__region.is-reduced[data-region="hand_left"]')) == 2
    # The marked regions are filled with their pattern, not the plain grey of unmarked ones.
    fills = browser.execute_script(
        "return ['hand_left', 'lower_back', 'neck'].map("
        "r => getComputedStyle(document.querySelector(`.body-map__region[data-region=${r}]`)).fill)"
    )
    assert fills[0].startswith("url(") and fills[1].startswith("url(") and not fills[2].startswith("url(")
    assert "Pressure sores: Lower back" in browser.find_element(By.CSS_SELECTOR, ".body-map__summary").text
    timeline = browser.find_element(By.CSS_SELECTOR, ".phase-timeline")
    assert "Remission" in timeline.text and "to now" in timeline.text
    screenshot(browser, "client-record")
    scroll_to(browser, body_map)
    screenshot(browser, "client-record-body-map")

    Select(browser.find_element(By.NAME, "start-phase")).select_by_visible_text("Acute flare")
    browser.find_element(By.NAME, "start-notes").send_keys("New numbness in the left leg since Monday")
    start_button = browser.find_element(By.XPATH, "//button[normalize-space()='Start phase']")
    scroll_to(browser, start_button)
    screenshot(browser, "client-record-phases")
    start_button.click()

    assert "Acute flare recorded from" in browser.find_element(By.CSS_SELECTOR, ".alert-success").text
    first_phase = browser.find_element(By.CSS_SELECTOR, ".phase-timeline li")
    assert "Acute flare" in first_phase.text and "to now" in first_phase.text
    stop = browser.find_element(By.CSS_SELECTOR, '.safety-alert[data-code="acute_flare"]')
    assert "massage is not advised" in stop.text
    assert DiseasePhase.objects.get(client=client_a, ended_on__isnull=True).phase == Phase.ACUTE_FLARE
    screenshot(browser, "client-record-after-new-phase")


def test_phase_overlap_is_explained_in_the_browser(live_server, tablet_browser, screenshot, therapist, client_a):
    browser = tablet_browser
    sign_in(browser, live_server, therapist.username)
    WebDriverWait(browser, 10).until(EC.url_to_be(f"{live_server.url}/clients/"))
    browser.get(f"{live_server.url}/clients/{client_a.pk}/phases/start/")
    Select(browser.find_element(By.NAME, "start-phase")).select_by_visible_text("Subacute (recovering)")
    date_input = browser.find_element(By.NAME, "start-started_on")
    browser.execute_script("arguments[0].value = '2000-01-01'", date_input)
    browser.find_element(By.XPATH, "//button[normalize-space()='Start phase']").click()
    error = WebDriverWait(browser, 10).until(EC.visibility_of_element_located((By.CSS_SELECTOR, ".invalid-feedback")))
    assert "a new phase must start after that day" in error.text
    assert "Nothing was saved" in browser.find_element(By.CSS_SELECTOR, ".alert-danger").text
    assert DiseasePhase.objects.filter(client=client_a).count() == 1
    screenshot(browser, "phase-overlap-refused")
