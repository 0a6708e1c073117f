"""Questionnaires in a real browser: a client fills MFIS-5 on a phone, one item per screen with large answer
buttons, stops half-way and resumes; a therapist hands the tablet over in a session and later corrects an answer."""

import pytest
from django.urls import reverse
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from measures.models import QuestionnaireAmendment, QuestionnaireResponse
from tests import factories
from tests.browser.conftest import sign_in
from tests.measures.helpers import ensure_instruments

pytestmark = pytest.mark.browser

# Large enough to tap with a tremor or numb fingers: WCAG 2.5.5's 44 px, and the project's 48 px.
MIN_TARGET_PX = 48


@pytest.fixture(autouse=True)
def _instruments(transactional_db):
    ensure_instruments()


def _tap(driver, element) -> None:
    driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
    element.click()


def _submit(driver, selector: str) -> None:
    """Press a button that loads another page, and wait for that page."""
    driver.execute_script("window.pageBeingLeft = true")
    _tap(driver, driver.find_element(By.CSS_SELECTOR, selector))
    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return !window.pageBeingLeft && document.readyState === 'complete'")
    )


def _answer(driver, label: str, *, check_size: bool = False) -> None:
    """Tap the answer button with this label, then "Next question" (or "Review my answers")."""
    choice = next(
        element
        for element in driver.find_elements(By.CSS_SELECTOR, "label.questionnaire__choice")
        if element.text.strip() == label
    )
    if check_size:
        width = driver.execute_script("return document.documentElement.clientWidth")
        size = choice.size
        assert size["height"] >= MIN_TARGET_PX, size
        assert size["width"] >= width * 0.8, (size, width)  # a full-width button, not a small radio
    _tap(driver, choice)
    assert driver.find_element(By.ID, choice.get_attribute("for")).is_selected()
    _submit(driver, "button.questionnaire__next")


def _no_sideways_scrolling(driver) -> bool:
    return driver.execute_script("return document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def test_a_client_fills_mfis5_on_a_phone_stops_half_way_resumes_and_sees_the_score(
    live_server, phone_browser, screenshot, therapist
):
    driver = phone_browser
    user = factories.make_user("dana")
    client = factories.make_client(therapists=[therapist], first_name="Dana", last_name="Doyle", user=user)
    factories.make_phase(client)
    sign_in(driver, live_server, user.username)

    driver.get(live_server.url + reverse("portal:questionnaires"))
    assert "Due now" in driver.page_source
    _submit(driver, "[data-instrument=mfis5] button[type=submit]")
    for number, label in ((1, "Often"), (2, "Sometimes"), (3, "Almost always")):
        assert f"Question {number} of 5" in driver.find_element(By.CSS_SELECTOR, ".questionnaire__progress").text
        assert _no_sideways_scrolling(driver)
        if number == 1:
            screenshot(driver, "item-1")
        _answer(driver, label, check_size=number == 1)
    assert "Question 4 of 5" in driver.page_source

    # She stops here: closes the page, comes back later with a new page load.
    driver.get(live_server.url + reverse("portal:home"))
    driver.get(live_server.url + reverse("portal:questionnaires"))
    assert "You answered 3 of 5 so far." in driver.page_source
    resume = driver.find_element(By.CSS_SELECTOR, "[data-instrument=mfis5] a.portal-button")
    assert resume.text.startswith("Continue where I left off")
    _tap(driver, resume)
    WebDriverWait(driver, 10).until(lambda d: "Question 4 of 5" in d.page_source)
    response = QuestionnaireResponse.objects.get(client=client)
    assert driver.current_url.endswith(reverse("portal:questionnaire_item", args=[response.pk, 4]))
    # Going back one shows the answer she gave, chosen.
    _tap(driver, driver.find_element(By.CSS_SELECTOR, "a.questionnaire__back"))
    WebDriverWait(driver, 10).until(lambda d: "Question 3 of 5" in d.page_source)
    chosen = driver.find_element(By.CSS_SELECTOR, "input.questionnaire__radio:checked")
    assert chosen.get_attribute("value") == "4"
    _submit(driver, "button.questionnaire__next")
    for label in ("Rarely", "Never"):
        _answer(driver, label)

    assert "Check your answers" in driver.page_source
    assert _no_sideways_scrolling(driver)
    screenshot(driver, "review")
    _submit(driver, "button.questionnaire__next")
    score = driver.find_element(By.CSS_SELECTOR, ".questionnaire__score")
    assert score.get_attribute("data-score") == "10" and "10 out of 20" in score.text  # 3 + 2 + 4 + 1 + 0
    screenshot(driver, "score")
    response.refresh_from_db()
    assert (response.status, response.score, response.entered_in) == ("submitted", 10, "portal")
    driver.get(live_server.url + reverse("portal:questionnaires"))
    assert "10 of 20" in driver.find_element(By.CSS_SELECTOR, "[aria-labelledby=scores-heading] table").text


def test_a_therapist_hands_the_tablet_over_then_corrects_an_answer(live_server, tablet_browser, screenshot, therapist):
    driver = tablet_browser
    client = factories.make_client(therapists=[therapist], first_name="Rosa", last_name="Reyes")
    factories.make_phase(client)
    factories.make_session(client, therapist, signed=True, subjective="SOAP-NOT-FOR-THE-CLIENT")
    sign_in(driver, live_server, therapist.username)
    record = live_server.url + reverse("clients:detail", args=[client.pk])

    driver.get(record)
    _tap(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "Hand the tablet to Rosa"))
    WebDriverWait(driver, 10).until(lambda d: "Hello Rosa" in d.page_source)
    # The client holds the tablet: nothing of the record is on these screens.
    assert "SOAP-NOT-FOR-THE-CLIENT" not in driver.page_source and "Safety alerts" not in driver.page_source
    screenshot(driver, "chooser")
    _submit(driver, "[data-instrument=mfis5] button[type=submit]")
    for label in ("Sometimes", "Sometimes", "Often", "Often", "Rarely"):
        assert "SOAP-NOT-FOR-THE-CLIENT" not in driver.page_source
        _answer(driver, label)
    _submit(driver, "button.questionnaire__next")
    assert driver.find_element(By.CSS_SELECTOR, ".questionnaire__score").get_attribute("data-score") == "11"
    _tap(driver, driver.find_element(By.LINK_TEXT, "Hand the tablet back"))
    WebDriverWait(driver, 10).until(lambda d: d.current_url == record)
    assert driver.find_element(By.CSS_SELECTOR, "[data-latest-score]").text == "11/20"
    response = QuestionnaireResponse.objects.get(client=client)
    assert (response.entered_in, response.entered_by) == ("session", therapist)

    # Later: Rosa says she meant "Never" for the last question. The therapist corrects it with a reason.
    _tap(driver, driver.find_element(By.PARTIAL_LINK_TEXT, "See the answers"))
    WebDriverWait(driver, 10).until(lambda d: "Correct an answer" in d.page_source)
    _tap(driver, driver.find_element(By.LINK_TEXT, "Correct an answer"))
    WebDriverWait(driver, 10).until(lambda d: "Record the correction" in d.page_source)
    last = response.instrument.items[-1]["link_id"]
    _tap(driver, driver.find_element(By.CSS_SELECTOR, f"input[name=item_{last}][value='0']"))
    driver.find_element(By.NAME, "reason").send_keys("Rosa meant Never for the last question.")
    screenshot(driver, "correction")
    _submit(driver, "main form[method=post] button[type=submit]")
    assert driver.find_element(By.CSS_SELECTOR, "[data-current-score]").get_attribute("data-current-score") == "10"
    assert QuestionnaireAmendment.objects.get(response=response).reason == "Rosa meant Never for the last question."

    driver.get(record)
    assert driver.find_element(By.CSS_SELECTOR, "[data-latest-score]").text == "10/20"
    mark = driver.find_element(By.CSS_SELECTOR, "#questionnaires details[data-corrected]")
    assert not mark.get_property("open")  # the original is folded away...
    _tap(driver, mark.find_element(By.TAG_NAME, "summary"))
    assert mark.get_property("open")
    assert "As submitted: 11/20" in mark.text  # ...one click away
