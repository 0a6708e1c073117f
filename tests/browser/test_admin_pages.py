"""The owner's admin in Chromium at 1366 px: no inline style for the Content-Security-Policy to block, and the
client page and the sessions list fit the window with the sidebar and the filters open."""

import pytest
from selenium.webdriver.common.by import By

from clients.models import Phase
from tests import factories
from tests.browser.conftest import sign_in

# Installed before any page script runs (a script added through the DevTools protocol is exempt from the policy),
# so that no violation is missed.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.cspViolations.push(`${event.violatedDirective} ${event.sourceFile}:${event.lineNumber} ${event.sample}`);
});
"""


@pytest.fixture
def desktop(tablet_browser):
    tablet_browser.set_window_size(1366, 768)
    tablet_browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": RECORD_VIOLATIONS})
    return tablet_browser


@pytest.fixture
def records(therapist):
    """Long names, as real ones can be, and a record with every part filled in."""
    therapist.first_name, therapist.last_name = "Maria-Fernanda", "Oyelaran-Whitcombe"
    therapist.save()
    client = factories.make_client(
        therapists=[therapist],
        first_name="Alexandrina",
        last_name="Featherstonehaugh-Montgomery",
        reduced_sensation_regions=["calf_left", "foot_left"],
    )
    factories.make_phase(client, Phase.REMISSION)
    draft = factories.make_session(client, therapist, uses=[("swedish", "upper_back", "light")], setting="home")
    signed = factories.make_session(client, therapist, signed=True, safety_override_reason="Agreed with her doctor.")
    return {"client": client, "draft": draft, "signed": signed}


def _violations(driver) -> list[str]:
    return driver.execute_script("return window.cspViolations")


def _overflow(driver) -> int:
    """How many pixels the page is wider than the window (0 when it fits)."""
    return driver.execute_script("return document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_the_violation_recorder_sees_a_blocked_inline_style(desktop, live_server, owner):
    sign_in(desktop, live_server, owner.username)
    desktop.get(live_server.url + "/admin/")
    desktop.execute_script("document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">x</p>')")
    assert any(violation.startswith("style-src") for violation in _violations(desktop))


def test_admin_client_and_session_pages_have_no_csp_violations(desktop, live_server, owner, records):
    sign_in(desktop, live_server, owner.username)
    pages = {
        "index": "/admin/",
        "client add": "/admin/clients/client/add/",
        "client change": f"/admin/clients/client/{records['client'].pk}/change/",
        "session add": "/admin/treatment_sessions/treatmentsession/add/",
        "session change, draft": f"/admin/treatment_sessions/treatmentsession/{records['draft'].pk}/change/",
        "session change, signed": f"/admin/treatment_sessions/treatmentsession/{records['signed'].pk}/change/",
        "sessions list": "/admin/treatment_sessions/treatmentsession/",
        "delete refused": f"/admin/clients/client/{records['client'].pk}/delete/",
    }
    found = {}
    for name, path in pages.items():
        desktop.get(live_server.url + path)
        desktop.find_element(By.ID, "content")
        if name.endswith("add") or "draft" in name:
            # The widgets' scripts draw more once used: an inline row added, a calendar opened.
            for link in desktop.find_elements(By.CSS_SELECTOR, ".add-row a, .datetimeshortcuts a")[:3]:
                link.click()
        if violations := _violations(desktop):
            found[name] = violations
    assert found == {}


def test_client_change_page_fits_a_1366_px_window(desktop, live_server, owner, records):
    sign_in(desktop, live_server, owner.username)
    desktop.get(f"{live_server.url}/admin/clients/client/{records['client'].pk}/change/")
    desktop.find_element(By.ID, "phases-group")
    assert _overflow(desktop) <= 0


def test_sessions_list_shows_the_fatigue_column_without_a_sideways_scroll(desktop, live_server, owner, records):
    sign_in(desktop, live_server, owner.username)
    desktop.get(f"{live_server.url}/admin/treatment_sessions/treatmentsession/")
    table = desktop.find_element(By.ID, "result_list")
    scroll_width, room = desktop.execute_script(
        "return [arguments[0].scrollWidth, arguments[0].parentElement.clientWidth]", table
    )
    assert scroll_width <= room
    fatigue = desktop.find_element(By.CSS_SELECTOR, "#result_list th.column-fatigue")
    right = desktop.execute_script("return arguments[0].getBoundingClientRect().right", fatigue)
    assert right <= desktop.execute_script("return document.documentElement.clientWidth")
