"""The questionnaire score charts on both trend pages pass axe-core (issue 12): a tablet and a phone."""

import pytest
from django.urls import reverse

from tests.browser.test_accessibility import Pages, phone, rosa, tablet  # noqa: F401  # fixtures
from tests.measures.helpers import corrected, ensure_instruments, make_instrument, mfis5, submitted

pytestmark = pytest.mark.browser


def test_trend_pages_with_questionnaire_scores(tablet: Pages, phone: Pages, therapist, rosa):  # noqa: F811
    ensure_instruments()
    submitted(rosa, mfis5(), [3, 3, 2, 2, 2], by=rosa.user, days_ago=40)
    submitted(rosa, mfis5(), [1, 1, 1, 1, 1], by=rosa.user, days_ago=10)
    corrected(rosa, therapist)
    submitted(rosa, make_instrument(), [2, 1, 1], by=rosa.user, days_ago=20)  # an instrument with an MCID band

    tablet.sign_in(therapist.username)
    tablet.open(reverse("trends:page", args=[rosa.pk]))
    assert len(tablet.driver.find_elements("css selector", "svg.tq-chart")) == 2
    tablet.check("trends with questionnaire charts")

    phone.sign_in(rosa.user.username)
    phone.open("/portal/trends/")
    chart = phone.driver.find_element("css selector", "svg.tq-chart")
    assert chart.size["width"] <= phone.driver.execute_script("return document.documentElement.clientWidth")
    phone.check("portal trends with questionnaire charts")
