"""The trend chart in a real browser: it draws every point and every phase band."""

import datetime as dt

import pytest
from django.utils import timezone
from selenium.webdriver.support.ui import WebDriverWait

from clients.models import Phase, SelfReport
from tests import factories
from tests.browser.conftest import sign_in

CHART_COUNTS = """
return [...document.querySelectorAll('canvas[data-trend-chart]')].map((canvas) => {
  const chart = Chart.getChart(canvas);
  const annotations = chart.options.plugins.annotation.annotations;
  return {
    measure: canvas.dataset.trendChart,
    points: Object.fromEntries(chart.data.datasets.map((d, i) => [d.label, chart.getDatasetMeta(i).data.length])),
    bands: Object.keys(annotations).filter((key) => key.startsWith('phase')).length,
    threshold: 'threshold' in annotations,
    height: canvas.getBoundingClientRect().height,
  };
});
"""


def open_trends(driver, live_server, username: str, person) -> None:
    sign_in(driver, live_server, username)
    # Wait for the sign-in to land before asking for the next page.
    WebDriverWait(driver, 10).until(lambda d: "/accounts/login/" not in d.current_url)
    driver.get(f"{live_server.url}/clients/{person.pk}/trends/")


@pytest.fixture
def through_a_flare(therapist):
    """20 weekly sessions over 22 weeks: remission, a flare (no sessions), recovery, remission again."""
    today = timezone.localdate()

    def ago(days: int) -> dt.date:
        return today - dt.timedelta(days=days)

    person = factories.make_client(therapists=[therapist], first_name="Fran", last_name="Flare")
    factories.make_phase(person, Phase.REMISSION, ago(200), ago(90))
    factories.make_phase(person, Phase.ACUTE_FLARE, ago(90), ago(76))
    factories.make_phase(person, Phase.SUBACUTE, ago(76), ago(40))
    factories.make_phase(person, Phase.REMISSION, ago(40))
    made = 0
    for week in reversed(range(22)):
        day = ago(1 + 7 * week)
        if ago(90) <= day < ago(76):
            continue  # no massage during a flare
        started_at = timezone.make_aware(dt.datetime.combine(day, dt.time(10)))
        flare_after = ago(76) <= day < ago(40)
        draft = week == 0  # the latest session is still a draft: no after-scores yet
        factories.make_session(
            person,
            therapist,
            started_at=started_at,
            pain_before=6 if flare_after else 4,
            fatigue_before=7 if flare_after else 5,
            uses=[("swedish", "upper_back", "light")],
            signed=not draft,
        )
        made += 1
    assert made == 20
    SelfReport.objects.create(client=person, recorded_on=ago(60), pain=7, fatigue=8)
    SelfReport.objects.create(client=person, recorded_on=ago(10), pain=3, fatigue=4)
    return person


def test_trend_chart_draws_every_session_and_phase_band(
    live_server, tablet_browser, screenshot, therapist, through_a_flare
):
    open_trends(tablet_browser, live_server, therapist.username, through_a_flare)

    assert tablet_browser.find_element("css selector", "canvas[data-trend-chart='pain']")
    charts = tablet_browser.execute_script(CHART_COUNTS)

    assert [chart["measure"] for chart in charts] == ["pain", "fatigue"]
    for chart in charts:
        title = chart["measure"].title()
        assert chart["points"] == {
            f"{title} before session": 20,
            f"{title} after session": 19,  # the draft has no after-score
            "Average of last 4 sessions (before)": 17,
            "Recorded between sessions": 2,
        }
        # Remission, flare, subacute, remission again.
        assert chart["bands"] == 4
        assert chart["threshold"]
        assert chart["height"] > 200
    problems = [
        entry["message"]
        for entry in tablet_browser.get_log("browser")
        if entry["level"] == "SEVERE" and "favicon" not in entry["message"]
    ]
    assert problems == []  # no script errors and nothing refused by the Content-Security-Policy
    screenshot(tablet_browser, "trend-page")
    tablet_browser.execute_script("document.querySelector('#trend-charts-heading').scrollIntoView()")
    screenshot(tablet_browser, "trend-chart")


def test_trend_page_prints_without_navigation_or_controls(
    live_server, tablet_browser, screenshot, therapist, through_a_flare
):
    open_trends(tablet_browser, live_server, therapist.username, through_a_flare)
    tablet_browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})

    visible = tablet_browser.execute_script(
        "return ['.navbar', '.trend-controls', '.trend-actions', '.trend-print-only', 'canvas'].map("
        "(s) => document.querySelector(s).checkVisibility())"
    )

    assert visible == [False, False, False, True, True]
    screenshot(tablet_browser, "trend-print")


def test_trend_page_fits_a_phone_screen(live_server, phone_browser, screenshot, therapist, through_a_flare):
    open_trends(phone_browser, live_server, therapist.username, through_a_flare)

    overflow = phone_browser.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    charts = phone_browser.execute_script(CHART_COUNTS)

    assert overflow <= 0
    assert [chart["points"]["Pain before session"] for chart in charts[:1]] == [20]
    screenshot(phone_browser, "trend-phone")
