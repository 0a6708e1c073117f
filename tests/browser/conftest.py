"""Real-browser tests: Debian's chromium driven by its chromedriver through Selenium.

Nothing is downloaded: the driver path is given, so Selenium Manager is never asked.
Screenshots of key screens are saved under test-artifacts/ as evidence.
"""

import os
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from tests.factories import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")
VIEWPORTS = {"tablet": (1024, 768), "phone": (390, 844)}


def _driver(width: int, height: int) -> webdriver.Chrome:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        message = (
            f"Browser tests need Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): "
            "apt-get install chromium chromium-driver, or deselect them with -m 'not browser'."
        )
        # CI must never pass by skipping them; on a developer's machine a skip with the reason is enough.
        if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.implicitly_wait(3)
    return driver


@pytest.fixture
def tablet_browser():
    driver = _driver(*VIEWPORTS["tablet"])
    yield driver
    driver.quit()


@pytest.fixture
def phone_browser():
    driver = _driver(*VIEWPORTS["phone"])
    yield driver
    driver.quit()


@pytest.fixture
def screenshot(request):
    """Save a PNG of the current page: screenshot(driver, "name")."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(driver: webdriver.Chrome, name: str) -> Path:
        path = ARTIFACTS / f"{request.node.name}-{name}.png"
        driver.save_screenshot(str(path))
        return path

    return take


def sign_in(driver: webdriver.Chrome, live_server, username: str, password: str = PASSWORD) -> None:
    for attempt in range(3):
        try:
            _fill_sign_in(driver, live_server, username, password)
            return
        except StillSignedIn:
            # A response that left the server before the session was forgotten (a keep-alive ping of the
            # page before) can land after the cookies were cleared: Chromium's network service still
            # stores its cookie. Forget the session again and retry.
            if attempt == 2:
                raise
            forget_session(driver)
        except WebDriverException as error:
            # Chromium may still be replacing the previous page when the form is touched ("Node with
            # given id does not belong to the document"): load the sign-in page again and retry.
            if "does not belong to the document" not in str(error) or attempt == 2:
                raise


class StillSignedIn(AssertionError):
    """The sign-in page sent the browser on: it still holds a session."""


def forget_session(driver: webdriver.Chrome) -> None:
    """Throw the browser's session away, as when a phone is put away or another person signs in.

    The page is left first: a response still on its way to it (the favicon, a keep-alive ping) would
    otherwise set the session cookie again after the cookies were deleted, and the sign-in page would
    then send the still-signed-in browser on to the home page.
    """
    driver.get("about:blank")
    # WebDriver's delete_all_cookies() only reaches the current page's site, which about:blank has not.
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})


def _fill_sign_in(driver: webdriver.Chrome, live_server, username: str, password: str) -> None:
    driver.get(f"{live_server.url}/accounts/login/")
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    if not driver.find_elements("name", "username"):
        raise StillSignedIn(
            f"No sign-in form at {driver.current_url} ({driver.title!r}): is the browser still signed in?"
        )
    driver.find_element("name", "username").send_keys(username)
    driver.find_element("name", "password").send_keys(password)
    button = driver.find_element("css selector", "button[type=submit]")
    button.click()
    # Wait for the next page: sign-in does real work (throttling, audit) before it redirects.
    WebDriverWait(driver, 10).until(page_replaced(button))


def page_replaced(old_page):
    """A wait condition: ``old_page`` (an element of the previous page) is gone.

    Chromium sometimes reports a node of a page being replaced as "does not belong to the document" rather
    than as stale: both mean the old page is gone.
    """

    def gone(driver) -> bool:
        try:
            return expected_conditions.staleness_of(old_page)(driver)
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise

    return gone
