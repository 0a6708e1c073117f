"""Phones: the trend pages fit a 320 px screen, and the portal's menu offers what its page buttons offer."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from clients.models import Client
from tests import factories
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility import with_history

# What the widest page element is, when the page is wider than the screen (to say what to fix).
_OVERFLOWING = """
const width = document.documentElement.clientWidth;
return Array.from(document.querySelectorAll("body *"))
  .filter((el) => el.getBoundingClientRect().right > width + 0.5 && el.getClientRects().length)
  .slice(-5)
  .map((el) => `${el.tagName.toLowerCase()}.${el.className} right=${Math.round(el.getBoundingClientRect().right)}`);
"""


def narrow(driver, width: int, height: int = 720) -> None:
    """A phone's screen of ``width`` CSS pixels, whatever the smallest window the browser allows."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        # Not "mobile": a desktop scroll bar takes room, as in the walkthrough that found the overflow.
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def assert_fits(driver, width: int, page: str) -> None:
    """Nothing scrolls sideways: the page is no wider than the screen less its scroll bar (a desktop
    browser's, which leaves less room than a phone's overlay scroll bar)."""
    WebDriverWait(driver, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert driver.execute_script("return window.innerWidth") == width
    room = driver.execute_script("return document.documentElement.clientWidth")
    scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
    overflowing = driver.execute_script(_OVERFLOWING)
    assert scroll_width <= room <= width, f"{page} is {scroll_width - room} px too wide at {width} px: {overflowing}"


@pytest.fixture
def rosa(therapist) -> Client:
    client = factories.make_client(
        therapists=[therapist], first_name="Rosa", last_name="Remission", user=factories.make_user("rosa")
    )
    with_history(client, therapist)
    return client


def wait_for_charts(driver) -> None:
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return !!(window.Chart && Chart.getChart('trend-chart-pain'))")
    )


@pytest.mark.parametrize("query", ["", "?range=custom&start=&end="])
def test_the_therapists_trend_page_fits_a_320_px_screen(live_server, phone_browser, screenshot, therapist, rosa, query):
    driver = phone_browser
    narrow(driver, 320)
    sign_in(driver, live_server, therapist.username)
    driver.get(live_server.url + reverse("trends:page", args=[rosa.pk]) + query)
    if not query:
        wait_for_charts(driver)
    screenshot(driver, "trends-320")
    assert_fits(driver, 320, "the therapist's trend page")


@pytest.mark.parametrize("query", ["", "?range=custom&start=&end="])
def test_the_portal_trend_page_fits_a_320_px_screen(live_server, phone_browser, screenshot, rosa, query):
    driver = phone_browser
    narrow(driver, 320)
    sign_in(driver, live_server, rosa.user.username)
    driver.get(live_server.url + "/portal/trends/" + query)
    if not query:
        wait_for_charts(driver)
    screenshot(driver, "portal-trends-320")
    assert_fits(driver, 320, "the portal's trend page")


def links(elements) -> list[tuple[str, str]]:
    return [(link.get_attribute("href"), link.text.strip()) for link in elements]


def test_the_portal_menu_and_page_buttons_offer_the_same_links_on_a_phone(live_server, phone_browser, rosa):
    driver = phone_browser
    narrow(driver, 375, 812)
    sign_in(driver, live_server, rosa.user.username)
    for path in ("/portal/", "/portal/today/", "/portal/trends/", "/portal/export/"):
        driver.get(live_server.url + path)
        buttons = links(driver.find_elements(By.CSS_SELECTOR, ".portal-nav a"))
        toggler = driver.find_element(By.CSS_SELECTOR, ".navbar-toggler")
        assert toggler.is_displayed(), "the menu is collapsed at 375 px"
        toggler.click()
        WebDriverWait(driver, 5).until(EC.visibility_of_element_located((By.ID, "main-nav")))
        WebDriverWait(driver, 5).until(
            lambda d: "collapsing" not in d.find_element(By.ID, "main-nav").get_attribute("class")
        )
        # The menu's sections (the account's own links, Security and Change password, follow in their own list).
        menu = links(driver.find_elements(By.CSS_SELECTOR, "#main-nav > ul:first-child a"))
        assert {"My sessions", "How I feel today", "My trends", "My data"} <= {text for _, text in buttons}
        assert menu == buttons, f"on {path} the menu offers {menu} and the page's buttons {buttons}"
        current = driver.find_elements(By.CSS_SELECTOR, "#main-nav > ul:first-child a[aria-current=page]")
        assert links(current) == [(live_server.url + path, dict(buttons)[live_server.url + path])]
