"""The owner's outcomes report in a real browser: the chart is drawn and a CSV file downloads."""

import datetime as dt
import time

import pytest
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from outcomes.storage import client_visits_rebuild
from tests import factories
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def three_courses(therapist):
    """Three clients with six weekly sessions each in the last months: better, the same, worse."""
    first = timezone.localdate() - dt.timedelta(days=100)
    for base, follow_up in ((8, 4), (5, 5), (3, 6)):
        client = factories.make_client(therapists=[therapist])
        for week in range(6):
            pain = follow_up if week == 5 else base
            factories.make_session(
                client,
                therapist,
                started_at=timezone.make_aware(dt.datetime.combine(first + dt.timedelta(days=7 * week), dt.time(10))),
                signed=True,
                pain_before=pain,
                fatigue_before=6,
            )
        client_visits_rebuild(client.pk)


def test_owner_sees_the_chart_and_downloads_a_csv(
    tablet_browser, live_server, owner, three_courses, tmp_path, screenshot
):
    driver = tablet_browser
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)})
    sign_in(driver, live_server, owner.username)
    WebDriverWait(driver, 10).until(lambda d: "/accounts/login/" not in d.current_url)
    driver.get(f"{live_server.url}/admin/outcomes/?treatments=5")

    assert "3 clients finished a course" in driver.find_element(By.CSS_SELECTOR, ".outcomes-headline").text
    lines = driver.execute_script(
        "return [...document.querySelectorAll('svg.outcomes-chart line.pair')].map((line) => "
        "({kind: line.classList[1], length: line.getTotalLength(), stroke: getComputedStyle(line).stroke}))"
    )
    # Two panels (pain, fatigue): pain has one line of each kind; fatigue one "same" line of three clients.
    assert sorted(line["kind"] for line in lines) == ["pair-improved", "pair-same", "pair-same", "pair-worse"]
    assert all(line["length"] > 100 for line in lines)
    strokes = {line["kind"]: line["stroke"] for line in lines}
    assert len(set(strokes.values())) == 3  # coloured by improved / no change / worse, from the stylesheet
    bars = driver.find_elements(By.CSS_SELECTOR, "svg.outcomes-bars rect.bar")
    assert bars and bars[0].size["width"] > 0
    screenshot(driver, "outcomes-report")

    driver.find_element(By.LINK_TEXT, "courses.csv").click()
    deadline = time.monotonic() + 10
    while not (tmp_path / "outcomes-courses.csv").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    text = (tmp_path / "outcomes-courses.csv").read_text(encoding="utf-8-sig")
    lines_of_csv = text.strip().splitlines()
    assert lines_of_csv[0].startswith("client_id,therapist_id,course_start,follow_up_on")
    assert len(lines_of_csv) == 4
