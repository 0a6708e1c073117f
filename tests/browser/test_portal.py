"""A client on a phone: accepts the invitation, sets a password, records today's scores, reads their trends
and downloads their data."""

import datetime as dt
import io
import urllib.request
import zipfile

from django.conf import settings
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from clients.models import SelfReport
from portal.invitations import invitation_path, portal_invitation_send
from tests import factories
from tests.browser.conftest import page_replaced

NEW_PASSWORD = "quiet-morning-by-the-lake"


def _no_sideways_scrolling(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def _tap(driver, element) -> None:
    """Bring the element to the middle of the small screen first, as a person would scroll to it.

    "instant": Bootstrap turns on smooth scrolling, which would still be moving when Selenium clicks.
    """
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _download(driver, url: str) -> tuple[dict, bytes]:
    """Fetch a download with the browser's own session cookie, as the browser would."""
    cookie = driver.get_cookie(settings.SESSION_COOKIE_NAME)
    request = urllib.request.Request(url, headers={"Cookie": f"{cookie['name']}={cookie['value']}"})
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (the live test server)
        return dict(response.headers), response.read()


def test_client_accepts_invitation_records_scores_reads_trends_and_downloads_data(
    live_server, phone_browser, screenshot, therapist
):
    driver = phone_browser
    wait = WebDriverWait(driver, 10)
    client = factories.make_client(
        therapists=[therapist], first_name="Dana", last_name="Doyle", email="dana@example.org"
    )
    factories.make_phase(client)
    for days, pain_before in [(21, 7), (14, 6), (7, 5)]:
        factories.make_session(
            client,
            therapist,
            signed=True,
            started_at=timezone.now() - dt.timedelta(days=days),
            pain_before=pain_before,
            client_summary=f"Summary {days} days ago: rest in a cool room.",
            uses=[("swedish", "upper_back", "light"), ("reflexology", "foot_left", "light")],
        )
    user = portal_invitation_send(client=client, invited_by=therapist, site_url=live_server.url)

    # 1. The invitation link: choose a password.
    driver.get(live_server.url + invitation_path(user))
    assert "/set-password/" in driver.current_url
    assert "Choose your password" in driver.page_source
    assert "dana@example.org" in driver.page_source
    screenshot(driver, "1-welcome")
    driver.find_element(By.NAME, "new_password1").send_keys(NEW_PASSWORD)
    driver.find_element(By.NAME, "new_password2").send_keys(NEW_PASSWORD)
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "main button[type=submit]"))

    # 2. Signed in, offered the intake first (portal/intake.py), then on to my sessions.
    wait.until(EC.url_to_be(f"{live_server.url}/portal/intake/"))
    assert "Welcome. Your password is set" in driver.page_source
    _tap(driver, driver.find_element(By.CSS_SELECTOR, ".portal-nav a[href='/portal/']"))
    wait.until(EC.url_to_be(f"{live_server.url}/portal/"))
    assert "Summary 7 days ago" in driver.page_source
    assert _no_sideways_scrolling(driver)
    screenshot(driver, "2-my-sessions")

    # 3. How I feel today: big buttons, tapped.
    pain_three = driver.find_element(By.CSS_SELECTOR, "label[for=id_pain_3]")
    assert pain_three.size["height"] >= 44 and pain_three.size["width"] >= 44
    _tap(driver, pain_three)
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "label[for=id_fatigue_6]"))
    driver.find_element(By.ID, "id_note").send_keys("Slept well.")
    screenshot(driver, "3-how-i-feel-today")
    # The welcome message is a success alert too: wait for the page to be replaced, then for the new alert.
    old_page = driver.find_element(By.TAG_NAME, "html")
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "form.self-report button[type=submit]"))
    wait.until(page_replaced(old_page))
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".alert-success"), "Today's entry is saved"))
    report = SelfReport.objects.get(client=client)
    assert (report.pain, report.fatigue, report.note) == (3, 6, "Slept well.")

    # 4. My trends: the charts are drawn, with the day's scores as their own series.
    _tap(driver, driver.find_element(By.CSS_SELECTOR, ".portal-nav a[href='/portal/trends/']"))
    wait.until(EC.url_to_be(f"{live_server.url}/portal/trends/"))
    wait.until(lambda d: d.execute_script("return !!(window.Chart && Chart.getChart('trend-chart-pain'))"))
    series = driver.execute_script(
        "return Chart.getChart('trend-chart-pain').data.datasets.map(d => [d.label, d.data.length])"
    )
    assert any(length == 3 for _label, length in series), series
    assert any(length == 1 for _label, length in series), series  # today's own entry
    assert "Your pain and fatigue over time" in driver.page_source
    assert _no_sideways_scrolling(driver)
    driver.execute_script("document.getElementById('trend-chart-pain').scrollIntoView({behavior: 'instant'})")
    screenshot(driver, "4-my-trends")

    # 5. My data: the archive downloads with the date in its name and holds today's entry.
    _tap(driver, driver.find_element(By.CSS_SELECTOR, ".portal-nav a[href='/portal/export/']"))
    wait.until(EC.url_to_be(f"{live_server.url}/portal/export/"))
    screenshot(driver, "5-my-data")
    link = driver.find_element(By.CSS_SELECTOR, "a[data-export=archive]")
    headers, content = _download(driver, link.get_attribute("href"))
    today = timezone.localdate().isoformat()
    assert headers["Content-Disposition"] == f'attachment; filename="my-record-{today}.zip"'
    archive = zipfile.ZipFile(io.BytesIO(content))
    self_reports = archive.read(f"self_reports-{today}.csv").decode("utf-8-sig")
    assert f"{today},3,6,Slept well." in self_reports
    assert "Summary 21 days ago" in archive.read(f"sessions-{today}.csv").decode("utf-8-sig")

    # 6. Text at 200 %: everything still fits the phone's width.
    for page in ("/portal/", "/portal/trends/", "/portal/export/"):
        driver.get(live_server.url + page)
        driver.execute_script("document.documentElement.style.fontSize = '225%'")  # 2 x the portal's 112.5 %
        assert _no_sideways_scrolling(driver), page
    screenshot(driver, "6-my-data-text-200-percent")


def test_every_portal_control_is_reachable_by_keyboard(live_server, phone_browser, client_a):
    """Tab through the portal home: the score buttons, the note and the save button all take focus."""
    driver = phone_browser
    driver.get(live_server.url + "/accounts/login/")
    # Sign in as the client through the real form.
    driver.find_element(By.NAME, "username").send_keys(client_a.user.username)
    driver.find_element(By.NAME, "password").send_keys(factories.PASSWORD)
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "main button[type=submit]"))
    WebDriverWait(driver, 10).until(EC.url_to_be(f"{live_server.url}/portal/"))
    body = driver.find_element(By.TAG_NAME, "body")
    reached = set()
    for _ in range(40):
        body.send_keys("\ue004")  # Tab
        reached.add(driver.execute_script("return document.activeElement.id || document.activeElement.name || ''"))
    assert {"id_note"} <= reached
    assert any(name.startswith("id_pain_") for name in reached)
    assert any(name.startswith("id_fatigue_") for name in reached)
