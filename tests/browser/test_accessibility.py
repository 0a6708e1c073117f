"""Every page a therapist, a client or an owner opens passes axe-core's WCAG 2.1 A and AA rules.

Many clients have MS, and low vision is common with it: contrast, labels and names are not optional.
Each test opens one browser and walks through a group of pages; each page is its own subtest, so a
failure names the page (and still checks the rest of the group).
"""

import datetime as dt
import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from clients.models import Client, DiseasePhase, Phase, SelfReport
from portal.invitations import invitation_path, portal_invitation_send
from practice.models import AuditEvent
from sessions.models import SessionAmendment, Technique, TreatmentSession
from sessions.services import session_amend
from tests import factories
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import forget_session, sign_in


class Pages:
    """Open pages in one browser and check each with axe-core, as a subtest named after the page."""

    def __init__(self, driver, live_server, subtests, screenshot) -> None:
        self.driver, self.live_server, self.subtests = driver, live_server, subtests
        self.screenshot = lambda name: screenshot(driver, name)

    def open(self, path: str) -> None:
        self.driver.get(self.live_server.url + path)

    def check(self, page: str) -> None:
        with self.subtests.test(msg=page):
            assert_no_axe_violations(self.driver, page)

    def visit(self, page: str, path: str) -> None:
        self.open(path)
        self.check(page)

    def sign_in(self, username: str) -> None:
        sign_in(self.driver, self.live_server, username)

    def check_errors(self, page: str) -> None:
        """Check a page that was sent back with errors, after making sure that it shows them."""
        shown = ".is-invalid, .invalid-feedback, .errorlist, .errornote, .alert-danger, [role=alert]"
        assert self.driver.find_elements(By.CSS_SELECTOR, shown), f"{page}: no error is shown"
        self.check(page)

    def submit(self, selector: str = "main form[method=post] button[type=submit]") -> None:
        """Submit a form and wait for the next page, so that the check reads the page it was meant to."""
        # A mark on the old page's window: gone once the next page has replaced it.
        self.driver.execute_script("window.pageBeingLeft = true")
        button = self.driver.find_element(By.CSS_SELECTOR, selector)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", button)
        button.click()
        WebDriverWait(self.driver, 10).until(
            lambda d: d.execute_script("return !window.pageBeingLeft && document.readyState === 'complete'")
        )


@pytest.fixture
def tablet(live_server, tablet_browser, subtests, screenshot) -> Pages:
    return Pages(tablet_browser, live_server, subtests, screenshot)


@pytest.fixture
def phone(live_server, phone_browser, subtests, screenshot) -> Pages:
    return Pages(phone_browser, live_server, subtests, screenshot)


def ago(days: int) -> dt.date:
    return timezone.localdate() - dt.timedelta(days=days)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def with_history(client: Client, therapist: User) -> list[TreatmentSession]:
    """Phases through a flare and a few weeks of signed sessions, the latest still a draft."""
    factories.make_phase(client, Phase.REMISSION, ago(200), ago(60))
    factories.make_phase(client, Phase.ACUTE_FLARE, ago(60), ago(45))
    factories.make_phase(client, Phase.SUBACUTE, ago(45), ago(20))
    factories.make_phase(client, Phase.REMISSION, ago(20))
    sessions = [
        factories.make_session(
            client,
            therapist,
            signed=True,
            started_at=at(ago(days)),
            pain_before=6 - week,
            fatigue_before=7 - week,
            client_summary=f"Week {week}: rest in a cool room.",
            uses=[("swedish", "upper_back", "light"), ("reflexology", "foot_left", "light")],
        )
        for week, days in enumerate([35, 28, 14, 7])
    ]
    sessions.append(
        factories.make_session(client, therapist, started_at=at(ago(1)), uses=[("swedish", "neck", "light")])
    )
    return sessions


@pytest.fixture
def rosa(therapist) -> Client:
    """A client with the health profile filled in, sensitive regions, a long history and a portal account."""
    client = factories.make_client(
        therapists=[therapist],
        first_name="Rosa",
        last_name="Remission",
        email="rosa@example.org",
        diagnosis_year=2015,
        reduced_sensation_regions=["hand_left", "foot_right"],
        pressure_sore_regions=["lower_back"],
        user=factories.make_user("rosa"),
    )
    with_history(client, therapist)
    return client


def test_sign_in_and_password_reset_pages(tablet):
    tablet.visit("sign-in", "/accounts/login/")
    tablet.driver.find_element(By.NAME, "username").send_keys("nobody")
    tablet.driver.find_element(By.NAME, "password").send_keys("not the password")
    tablet.submit()
    tablet.check_errors("sign-in, wrong password")
    for _ in range(5):
        tablet.open("/accounts/login/")
        tablet.driver.find_element(By.NAME, "username").send_keys("nobody")
        tablet.driver.find_element(By.NAME, "password").send_keys("not the password")
        tablet.submit()
    assert "Sign-in paused" in tablet.driver.page_source
    tablet.check("sign-in, locked out")
    tablet.visit("password reset", reverse("password_reset"))
    tablet.visit("password reset sent", reverse("password_reset_done"))
    tablet.visit("password reset, invalid link", reverse("password_reset_confirm", args=["MQ", "invalid-token"]))
    tablet.visit("password reset complete", reverse("password_reset_complete"))
    tablet.visit("admin sign-in", reverse("admin:login"))


def test_therapist_caseload_client_record_and_phase_pages(tablet, therapist, rosa):
    flare = factories.make_client(therapists=[therapist], first_name="Frank", last_name="Flare")
    factories.make_phase(flare, Phase.ACUTE_FLARE, ago(3))
    factories.make_client(therapists=[therapist], first_name="Nina", last_name="New")
    tablet.sign_in(therapist.username)

    tablet.visit("caseload", reverse("clients:caseload"))
    tablet.screenshot("caseload-navbar")
    tablet.visit("caseload, searched", reverse("clients:caseload") + "?q=rem")
    tablet.visit("client record", reverse("clients:detail", args=[rosa.pk]))
    tablet.visit("client record, acute flare", reverse("clients:detail", args=[flare.pk]))
    tablet.visit("profile edit", reverse("clients:edit", args=[rosa.pk]))
    tablet.driver.find_element(By.NAME, "first_name").clear()
    tablet.submit()
    tablet.check_errors("profile edit, with errors")
    tablet.visit("phase start", reverse("clients:phase_start", args=[rosa.pk]))
    tablet.driver.execute_script("document.querySelector('[name=start-started_on]').value = '2000-01-01'")
    tablet.submit()
    tablet.check_errors("phase start, with errors")
    tablet.visit("phase end", reverse("clients:phase_end", args=[rosa.pk]))


def test_therapist_session_pages(tablet, therapist, rosa):
    draft = TreatmentSession.objects.get(client=rosa, status="draft")
    signed = TreatmentSession.objects.filter(client=rosa, status="signed").latest("started_at")
    tablet.sign_in(therapist.username)

    tablet.visit("new session", reverse("sessions:new", args=[rosa.pk]))
    tablet.submit("#session-form button[type=submit]")
    tablet.check_errors("new session, with errors")
    tablet.visit("session detail, draft", reverse("sessions:detail", args=[draft.pk]))
    tablet.visit("session edit, draft", reverse("sessions:edit", args=[draft.pk]))
    tablet.visit("session detail, signed", reverse("sessions:detail", args=[signed.pk]))
    tablet.visit("amend signed session", reverse("sessions:amend", args=[signed.pk]))
    tablet.submit()
    tablet.check_errors("amend signed session, with errors")
    session_amend(session=signed, author=therapist, reason="Pain after was 2, not 3.", changes={"pain_after": 2})
    tablet.visit("session detail, amended", reverse("sessions:detail", args=[signed.pk]))

    # Sign the draft (a POST from the detail page): the signed page with its message.
    draft.pain_after, draft.fatigue_after = 2, 3
    draft.save()
    tablet.open(reverse("sessions:detail", args=[draft.pk]))
    tablet.submit("[data-sign]")
    assert "Session signed" in tablet.driver.page_source
    tablet.check("session detail, just signed")


def test_therapist_session_safety_review_pages(tablet, therapist):
    flare = factories.make_client(therapists=[therapist], first_name="Frank", last_name="Flare")
    factories.make_phase(flare, Phase.ACUTE_FLARE, ago(3))
    tablet.sign_in(therapist.username)

    tablet.visit("new session, acute flare", reverse("sessions:new", args=[flare.pk]))
    tablet.driver.execute_script(
        "const select = document.querySelector('[name=uses-0-technique]');"
        "select.value = select.querySelector('option:nth-child(2)').value;"
        "document.querySelector('[name=uses-0-body_region]').selectedIndex = 1;"
        "document.querySelector('[name=uses-0-pressure]').selectedIndex = 1;"
        "document.querySelector('label[for=id_pain_before_5]').click();"
        "document.querySelector('label[for=id_fatigue_before_8]').click();"
    )
    tablet.submit("#session-form button[type=submit]")
    assert "safety stop applies" in tablet.driver.page_source.lower()
    tablet.check("new session, safety stop review")


def test_trend_pages(tablet, therapist, rosa):
    empty = factories.make_client(therapists=[therapist], first_name="Nina", last_name="New")
    tablet.sign_in(therapist.username)

    tablet.open(reverse("trends:page", args=[rosa.pk]))
    # Check the page as it is read: with its charts drawn.
    WebDriverWait(tablet.driver, 10).until(
        lambda d: d.execute_script("return !!(window.Chart && Chart.getChart('trend-chart-pain'))")
    )
    tablet.check("trends, with data")
    page = reverse("trends:page", args=[rosa.pk])
    tablet.visit("trends, a range with no sessions", page + "?range=custom&start=2001-01-01&end=2001-03-01")
    tablet.open(page + "?range=custom&start=&end=")
    tablet.check_errors("trends, a range with errors")
    tablet.visit("trends, no data", reverse("trends:page", args=[empty.pk]))
    tablet.visit("summary for the neurologist", reverse("clients:summary", args=[rosa.pk]))
    tablet.visit("summary for the neurologist, no data", reverse("clients:summary", args=[empty.pk]))


def test_two_factor_and_password_pages(tablet, therapist):
    other = factories.make_therapist("sam")
    TOTPDevice.objects.create(user=other, name="Authenticator app", confirmed=True)
    tablet.sign_in(therapist.username)

    tablet.visit("two-factor overview", reverse("two_factor"))
    tablet.visit("two-factor setup", reverse("two_factor_setup"))
    tablet.driver.find_element(By.NAME, "code").send_keys("000000")
    tablet.submit()
    tablet.check_errors("two-factor setup, wrong code")
    device = TOTPDevice.objects.get(user=therapist)
    device.throttle_reset()  # a wrong code makes the next try wait a second
    code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code.time = time.time()
    field = tablet.driver.find_element(By.NAME, "code")
    field.clear()
    field.send_keys(f"{code.token():06d}")
    tablet.submit()
    assert "recovery codes" in tablet.driver.page_source.lower()
    tablet.check("two-factor setup done, recovery codes")
    tablet.visit("two-factor overview, on", reverse("two_factor"))
    tablet.visit("recovery codes", reverse("two_factor_recovery_codes"))
    tablet.visit("password change", reverse("password_change"))
    tablet.submit()
    tablet.check_errors("password change, with errors")
    tablet.visit("password change done", reverse("password_change_done"))

    forget_session(tablet.driver)
    tablet.sign_in(other.username)
    tablet.visit("two-factor verify", reverse("two_factor_verify"))
    tablet.driver.find_element(By.NAME, "code").send_keys("000000")
    tablet.submit()
    tablet.check_errors("two-factor verify, wrong code")


def test_portal_pages_on_a_phone(phone, therapist, rosa):
    newcomer = factories.make_client(
        therapists=[therapist], first_name="Dana", last_name="Doyle", email="d@example.org"
    )
    invited = portal_invitation_send(client=newcomer, invited_by=therapist, site_url=phone.live_server.url)

    phone.visit("invitation welcome", invitation_path(invited))
    phone.visit("invitation welcome, invalid link", invitation_path(invited, token="invalid-token"))
    phone.visit("sign-in, phone", "/accounts/login/")
    phone.sign_in(rosa.user.username)

    phone.visit("portal home", "/portal/")
    phone.driver.find_element(By.CSS_SELECTOR, ".navbar-toggler").click()
    WebDriverWait(phone.driver, 5).until(EC.visibility_of_element_located((By.ID, "main-nav")))
    phone.check("portal home, menu open")
    phone.screenshot("portal-menu-open")
    phone.visit("portal today", "/portal/today/")
    phone.submit("form.self-report button[type=submit]")
    phone.check_errors("portal today, with errors")
    phone.visit("portal trends", "/portal/trends/")
    phone.visit("portal export", "/portal/export/")
    phone.visit("portal summary for the neurologist", "/portal/summary/")
    phone.visit("two-factor overview, phone", reverse("two_factor"))
    phone.visit("password change, phone", reverse("password_change"))

    forget_session(phone.driver)
    newcomer_user = User.objects.get(pk=invited.pk)
    newcomer_user.set_password(factories.PASSWORD)
    newcomer_user.save()
    phone.sign_in(newcomer_user.username)
    phone.visit("portal home, no sessions yet", "/portal/")
    phone.visit("portal trends, no data", "/portal/trends/")
    phone.visit("portal export, no data", "/portal/export/")


def test_questionnaire_pages(phone, tablet, therapist, rosa):
    """MFIS-5 in the portal on a phone (list, an item, with an error, review, result) and on the record (the
    hand-over chooser, a submitted questionnaire, its correction) on a tablet."""
    from measures.models import QuestionnaireResponse
    from tests.measures.helpers import corrected, ensure_instruments

    ensure_instruments()
    phone.sign_in(rosa.user.username)
    phone.visit("portal questionnaires", reverse("portal:questionnaires"))
    phone.submit("[data-instrument=mfis5] button[type=submit]")
    phone.check("questionnaire item")
    phone.submit("button.questionnaire__next")
    phone.check_errors("questionnaire item, no answer chosen")
    response = QuestionnaireResponse.objects.get(client=rosa, status="in_progress")
    phone.visit("questionnaire item, answer chosen", reverse("portal:questionnaire_item", args=[response.pk, 1]))
    phone.driver.find_element(By.CSS_SELECTOR, "label[for=answer-2]").click()
    phone.check("questionnaire item, an answer selected")
    phone.submit("button.questionnaire__next")
    phone.visit("questionnaire review, unanswered", reverse("portal:questionnaire_review", args=[response.pk]))
    phone.submit("button.questionnaire__next")
    phone.check_errors("questionnaire review, not all answered")
    for number in range(2, 6):
        phone.open(reverse("portal:questionnaire_item", args=[response.pk, number]))
        phone.driver.find_element(By.CSS_SELECTOR, "label[for=answer-1]").click()
        phone.submit("button.questionnaire__next")
    phone.check("questionnaire review")
    phone.submit("button.questionnaire__next")
    phone.check("questionnaire result")
    earlier = corrected(rosa, therapist)
    phone.visit("portal questionnaires, with a corrected score", reverse("portal:questionnaires"))

    tablet.sign_in(therapist.username)
    tablet.visit("record with a corrected questionnaire", reverse("clients:detail", args=[rosa.pk]))
    tablet.visit("hand-over chooser", reverse("clients:questionnaire_choose", args=[rosa.pk]))
    tablet.submit("[data-instrument=mfis5] button[type=submit]")
    tablet.check("hand-over item")
    detail = reverse("clients:questionnaire_detail", args=[rosa.pk, earlier.pk])
    tablet.visit("questionnaire on the record, corrected", detail)
    tablet.visit("questionnaire correction", reverse("clients:questionnaire_amend", args=[rosa.pk, earlier.pk]))
    tablet.submit()
    tablet.check_errors("questionnaire correction, with errors")


@pytest.fixture
def admin_data(owner, therapist, rosa) -> dict:
    """One of everything the owner's screens list, with an amendment and an audit trail."""
    signed = TreatmentSession.objects.filter(client=rosa, status="signed").latest("started_at")
    session_amend(session=signed, author=therapist, reason="Pain after was 2, not 3.", changes={"pain_after": 2})
    return {
        "client": rosa,
        "phase": DiseasePhase.objects.filter(client=rosa).latest("started_on"),
        "draft": TreatmentSession.objects.get(client=rosa, status="draft"),
        "signed": signed,
        "amendment": SessionAmendment.objects.get(session=signed),
        "technique": Technique.objects.get(slug="hot-stone"),
        "user": therapist,
    }


def _admin(model, action: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{action}", args=args)


ADMIN_AREAS = {
    "index": lambda data: [
        ("admin index", reverse("admin:index")),
        ("admin delete refused", _admin(Client, "delete", data["client"].pk)),
    ],
    "clients": lambda data: [
        ("clients list", _admin(Client, "changelist")),
        ("clients list, filtered", _admin(Client, "changelist") + "?archived=all&current_phase=remission"),
        ("client add", _admin(Client, "add")),
        ("client change", _admin(Client, "change", data["client"].pk)),
        ("client history", _admin(Client, "history", data["client"].pk)),
    ],
    "phases": lambda data: [
        ("phases list", _admin(DiseasePhase, "changelist")),
        ("phase add", _admin(DiseasePhase, "add")),
        ("phase change", _admin(DiseasePhase, "change", data["phase"].pk)),
    ],
    "sessions": lambda data: [
        ("sessions list", _admin(TreatmentSession, "changelist")),
        ("sessions list, drafts to sign", _admin(TreatmentSession, "changelist") + "?to_sign=oldest&over_stop=no"),
        ("session add", _admin(TreatmentSession, "add")),
        ("session change, draft", _admin(TreatmentSession, "change", data["draft"].pk)),
        ("session change, signed", _admin(TreatmentSession, "change", data["signed"].pk)),
        ("amendments list", _admin(SessionAmendment, "changelist")),
        ("amendment view", _admin(SessionAmendment, "change", data["amendment"].pk)),
    ],
    "techniques": lambda data: [
        ("techniques list", _admin(Technique, "changelist")),
        ("technique add", _admin(Technique, "add")),
        ("technique change", _admin(Technique, "change", data["technique"].pk)),
    ],
    "users": lambda data: [
        ("users list", _admin(User, "changelist")),
        ("user add", _admin(User, "add")),
        ("user change", _admin(User, "change", data["user"].pk)),
        ("user password", _admin(User, "password_change", data["user"].pk)),
    ],
    "audit log": lambda data: [
        ("audit log", _admin(AuditEvent, "changelist")),
        ("audit event", _admin(AuditEvent, "change", AuditEvent.objects.latest("sequence").pk)),
    ],
    "change history": lambda data: [
        ("client history list", _admin(Client.history.model, "changelist")),
        ("client history entry", _admin(Client.history.model, "change", Client.history.latest().pk)),
        ("session history list", _admin(TreatmentSession.history.model, "changelist")),
        ("phase history list", _admin(DiseasePhase.history.model, "changelist")),
        ("self-report history list", _admin(SelfReport.history.model, "changelist")),
    ],
    # The owner's outcomes report (outcomes.views): all time, and with a bad filter value's message.
    "outcomes": lambda data: [
        ("outcomes report", reverse("outcomes:report") + "?start=&end=&treatments=4"),
        ("outcomes report, bad filter", reverse("outcomes:report") + "?treatments=99&start=soon"),
    ],
    "questionnaires": lambda data: _questionnaire_admin_pages(data),
    "intakes and consents": lambda data: _intake_admin_pages(data),
    "security": lambda data: [
        ("devices list", _admin(TOTPDevice, "changelist")),
        ("access attempts list", _admin(AccessAttempt, "changelist")),
        ("admin password change", reverse("admin:password_change")),
    ],
}


def _questionnaire_admin_pages(data: dict) -> list[tuple[str, str]]:
    from measures.models import Instrument, QuestionnaireResponse
    from tests.measures.helpers import corrected, ensure_instruments

    ensure_instruments()
    response = corrected(data["client"], data["user"])
    return [
        ("instruments list", _admin(Instrument, "changelist")),
        ("instrument view", _admin(Instrument, "change", response.instrument_id)),
        ("questionnaires list", _admin(QuestionnaireResponse, "changelist")),
        ("questionnaire view, with a correction", _admin(QuestionnaireResponse, "change", response.pk)),
    ]


def _intake_admin_pages(data: dict) -> list[tuple[str, str]]:
    from clients.intake import consent_agree, consent_text_add, consent_withdraw, intake_answer, intake_start
    from clients.models import Consent, ConsentText, ConsentWithdrawal, Intake

    rosa = data["client"]
    intake = intake_start(client=rosa)
    intake_answer(intake=intake, answers={"ms_type": "rrms", "reduced_sensation_regions": ["hand_left"]}, step=9)
    text = consent_text_add(kind="data_use", text="The practice keeps your record.", created_by=None)
    consent = consent_agree(client=rosa, kind="data_use", typed_name="Rosa Quinn", recorded_by=rosa.user)
    consent_withdraw(consent=consent, typed_name="Rosa Quinn", recorded_by=rosa.user)
    return [
        ("intakes list", _admin(Intake, "changelist")),
        ("intake view", _admin(Intake, "change", intake.pk)),
        ("consent texts list", _admin(ConsentText, "changelist")),
        ("consent text add", _admin(ConsentText, "add")),
        ("consent text view", _admin(ConsentText, "change", text.pk)),
        ("consents list", _admin(Consent, "changelist")),
        ("consent view, withdrawn", _admin(Consent, "change", consent.pk)),
        ("withdrawals list", _admin(ConsentWithdrawal, "changelist")),
    ]


@pytest.mark.parametrize("area", ADMIN_AREAS)
def test_owner_admin_pages(tablet, admin_data, owner, area):
    tablet.sign_in(owner.username)
    for page, path in ADMIN_AREAS[area](admin_data):
        tablet.visit(page, path)


def test_owner_admin_widgets_in_use(tablet, admin_data, owner):
    """The admin's JavaScript widgets once used: an open autocomplete list and a row added to an inline."""
    wait = WebDriverWait(tablet.driver, 10)
    tablet.sign_in(owner.username)

    tablet.open(_admin(TreatmentSession, "add"))
    tablet.driver.find_element(By.CSS_SELECTOR, ".field-client .select2-selection").click()
    wait.until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".select2-results"), "Remission"))
    tablet.check("session add, client list open")

    tablet.open(_admin(TreatmentSession, "change", admin_data["draft"].pk))
    tablet.driver.find_element(By.CSS_SELECTOR, "#technique_uses-group .add-row a").click()
    wait.until(EC.visibility_of_element_located((By.ID, "technique_uses-1")))
    tablet.check("session change, technique row added")

    tablet.open(_admin(Client, "change", admin_data["client"].pk))
    rows = len(tablet.driver.find_elements(By.CSS_SELECTOR, "#phases-group tr.form-row:not(.empty-form)"))
    tablet.driver.find_element(By.CSS_SELECTOR, "#phases-group .add-row a").click()
    wait.until(EC.visibility_of_element_located((By.ID, f"phases-{rows}")))
    tablet.check("client change, phase row added")
    tablet.driver.execute_script("document.getElementById('phases-group').scrollIntoView({behavior: 'instant'})")
    tablet.screenshot("admin-phases-inline")


def test_idle_sign_out_warning_and_notice(tablet, phone, therapist, rosa, settings):
    """The warning before the idle sign-out (static/js/session_clock.js), then its signed-out notice."""
    settings.PRACTICE_SESSION_IDLE_TIMEOUT = 12
    settings.PRACTICE_SESSION_IDLE_WARNING = 12  # shown as soon as the page opens
    for pages, name in ((tablet, "session form"), (phone, "portal")):
        pages.sign_in(therapist.username if pages is tablet else rosa.user.username)
        pages.open(reverse("sessions:new", args=[rosa.pk]) if pages is tablet else "/portal/")
        dialog = pages.driver.find_element(By.ID, "session-clock")
        WebDriverWait(pages.driver, 10).until(EC.visibility_of(dialog))
        assert "Stay signed in" in dialog.text
        pages.check(f"idle warning, {name}")
        WebDriverWait(pages.driver, 15).until(
            EC.text_to_be_present_in_element((By.ID, "session-clock"), "You have been signed out")
        )
        pages.check(f"signed-out notice, {name}")


def test_error_pages(tablet, therapist):
    """The product's 404, signed out and signed in (Django serves it with DEBUG off, as here)."""
    tablet.visit("not found, signed out", "/no-such-page/")
    tablet.sign_in(therapist.username)
    tablet.visit("not found, signed in", "/no-such-page/")


def test_intake_consent_and_symptom_pages_on_a_phone(phone, rosa):
    """The portal intake (a screen, with an error, the body map, the check), the consents (to give, given, to
    withdraw, with an error) and the check-in's symptom questions (asked, unanswered, answered) on a phone."""
    from clients.intake import consent_text_add

    def tap(element) -> None:
        phone.driver.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'})", element)
        element.click()

    for kind in ("treatment", "data_use"):
        consent_text_add(
            kind=kind, text=f"The {kind.replace('_', ' ')} consent.\n\nA second paragraph.", created_by=None
        )
    phone.sign_in(rosa.user.username)
    phone.visit("intake overview, not started", reverse("portal:intake"))
    phone.submit()
    phone.check("intake first screen")
    phone.submit()
    phone.check_errors("intake screen, no answer chosen")
    for slug in ("symptoms", "conditions", "medicines", "sensation", "sores", "goals", "emergency"):
        phone.visit(f"intake screen {slug}", reverse("portal:intake_step", args=[slug]))
    phone.open(reverse("portal:intake_step", args=["sensation"]))
    tap(phone.driver.find_element(By.CSS_SELECTOR, '.body-map__region[data-region="hand_left"]'))
    assert phone.driver.find_element(By.CSS_SELECTOR, 'input[value="hand_left"]').is_selected()
    phone.check("intake body map, a region chosen")
    phone.visit("intake overview, under way", reverse("portal:intake"))
    phone.visit("intake check of answers", reverse("portal:intake_review"))
    phone.submit()
    phone.check("consents to give")
    phone.submit("[data-consent=treatment] button[type=submit]")
    phone.check_errors("consent, no name typed")
    phone.driver.find_element(By.ID, "data_use-typed-name").send_keys("Rosa Quinn")
    phone.submit("[data-consent=data_use] button[type=submit]")
    phone.check("consent given")
    tap(phone.driver.find_element(By.CSS_SELECTOR, "[data-consent=data_use] a.btn"))
    WebDriverWait(phone.driver, 10).until(EC.url_contains("/withdraw/"))
    phone.check("consent withdrawal")
    phone.submit()
    phone.check_errors("consent withdrawal, no name typed")

    phone.open(reverse("portal:self_report"))
    tap(phone.driver.find_element(By.CSS_SELECTOR, "label[for=id_pain_3]"))
    tap(phone.driver.find_element(By.CSS_SELECTOR, "label[for=id_fatigue_6]"))
    tap(phone.driver.find_element(By.CSS_SELECTOR, "label[for=id_new_or_worse_symptom_1]"))
    phone.submit("form.self-report button[type=submit]")
    phone.check("symptom questions")
    phone.submit()
    phone.check_errors("symptom questions, unanswered")
    for answer in (
        "id_lasted_over_24_hours_0",
        "id_days_since_last_relapse_began_0",
        "id_fever_or_infection_1",
        "id_explained_by_heat_1",
    ):
        tap(phone.driver.find_element(By.CSS_SELECTOR, f"label[for={answer}]"))
    phone.submit()
    phone.check("symptom questions, a possible relapse")


def test_intake_review_and_the_records_intake_consent_and_relapse_panel(tablet, therapist, owner, rosa):
    """The therapist's review of an intake (waiting, with an error, reviewed) and the record's panel: an intake
    waiting, a reported relapse with its "not a relapse" form, a missing consent with the ways to get it."""
    from clients.intake import consent_text_add, intake_answer, intake_start, intake_submit
    from clients.services import self_report_record

    consent_text_add(kind="treatment", text="The treatment consent.", created_by=None)
    intake = intake_start(client=rosa)
    answers = {"ms_type": "rrms", "cold_sensitive": True, "pressure_sore_regions": ["hip_left"], "medications": "None"}
    intake_answer(intake=intake, answers=answers | {"new_or_worse_symptoms_30_days": True}, step=3)
    intake_submit(intake=intake)
    self_report_record(
        client=rosa,
        pain=6,
        fatigue=7,
        new_or_worse_symptom=True,
        relapse_answers={
            "lasted_over_24_hours": "yes",
            "days_since_last_relapse_began": "30_or_more",
            "fever_or_infection": "no",
            "explained_by_heat": "no",
        },
    )
    review = reverse("clients:intake_review", args=[rosa.pk, intake.pk])
    tablet.sign_in(therapist.username)
    tablet.visit("caseload, intake waiting and a reported relapse", reverse("clients:caseload"))
    tablet.visit("client record, intake, relapse and consent panel", reverse("clients:detail", args=[rosa.pk]))
    tablet.visit("intake review", review)
    tablet.driver.execute_script(
        "const box = document.createElement('input'); box.type = 'hidden'; box.name = 'accept';"
        "box.value = 'medications'; document.getElementById('intake-review').appendChild(box);"
    )
    tablet.submit("#intake-review button[type=submit]")
    tablet.check_errors("intake review, a forged answer refused")
    tablet.submit("#intake-review button[type=submit]")
    tablet.visit("intake review, reviewed", review)
    forget_session(tablet.driver)
    tablet.sign_in(owner.username)
    tablet.visit("client record, owner's way to a paper consent", reverse("clients:detail", args=[rosa.pk]))
    tablet.visit("admin, record a paper consent", reverse("admin:clients_consent_add") + f"?client={rosa.pk}")
