"""A therapist corrects a signed session's technique in a real browser, and finds it corrected, the original kept."""

import datetime as dt

from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from clients.models import Phase
from sessions.models import SessionAmendment, TechniqueUse
from tests import factories
from tests.browser.conftest import sign_in
from tests.browser.test_session_logging import click, click_through, wait_for_text


def test_therapist_corrects_a_technique_of_a_signed_session(live_server, tablet_browser, screenshot, therapist):
    driver = tablet_browser
    client = factories.make_client(therapists=[therapist], first_name="Rosa", last_name="Remission")
    factories.make_phase(client, Phase.REMISSION)
    session = factories.make_session(
        client,
        therapist,
        signed=True,
        started_at=timezone.now() - dt.timedelta(days=2),
        uses=[("swedish", "upper_back", "moderate")],
    )
    sign_in(driver, live_server, therapist.username)
    wait_for_text(driver, "Rosa")

    driver.get(f"{live_server.url}/sessions/{session.pk}/")
    click_through(driver, driver.find_element(By.LINK_TEXT, "Correct (amend)"))
    wait_for_text(driver, "Correct the signed session")
    # The slip: it was reflexology on the left foot, at light pressure.
    Select(driver.find_element(By.NAME, "uses-0-technique")).select_by_visible_text("Reflexology")
    click(driver, driver.find_element(By.CSS_SELECTOR, "[data-session-body-map] summary"))
    click(driver, driver.find_element(By.CSS_SELECTOR, "[data-session-body-map] path[data-region=foot_left]"))
    Select(driver.find_element(By.NAME, "uses-0-pressure")).select_by_visible_text("Light")
    driver.find_element(By.NAME, "reason").send_keys("Charted the wrong technique.")
    click_through(driver, driver.find_element(By.CSS_SELECTOR, "[data-record-correction]"))
    wait_for_text(driver, "Correction recorded")
    screenshot(driver, "amended-technique")

    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "[data-use]")]
    assert rows == ["Reflexology Left foot Light"]
    assert "corrected" in driver.find_element(By.CSS_SELECTOR, "[data-corrected-field=technique_uses]").text
    original = driver.find_element(By.CSS_SELECTOR, "[data-corrected-original=technique_uses]")
    click(driver, original.find_element(By.TAG_NAME, "summary"))
    assert "Swedish massage on upper back (moderate)" in original.text
    # The signed rows are as signed; the amendment holds the correction.
    assert [(u.technique.slug, u.body_region) for u in TechniqueUse.objects.filter(session=session)] == [
        ("swedish", "upper_back")
    ]
    assert SessionAmendment.objects.get().changes["technique_uses"]["to"][0]["body_region"] == "foot_left"
