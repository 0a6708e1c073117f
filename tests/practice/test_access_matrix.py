"""Every address of the project, opened by every kind of person, with GET and with POST.

``CASES`` has one row per URL pattern (the admin's model pages are generated from its registry), and
``test_every_url_pattern_has_an_access_case`` fails when the project gains a pattern without a row: no page
can be added unguarded. Each row gives the status every role must get, for GET and for POST (with valid
data, so a refused write is a real attempt). For every response the test also checks that:

- nothing of a record the person may not see is in it (client A's and B's records carry distinctive markers,
  searched for in pages, 404 bodies, headers, CSV files and unpacked ZIP archives);
- a refused request (403, 404, 405, or a redirect to sign in) changed nothing in the clinical tables;
- a page the person may see really shows the record it is about, so the check above is not vacuous.

Each role's request runs in a savepoint that is rolled back, so every role meets the same records.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice import audit
from sessions.models import Technique
from tests.factories import PASSWORD
from tests.practice.world import (
    A_MARKERS,
    ANON,
    B_MARKERS,
    CLIENT_A,
    CLIENT_B,
    OWNER_ROLE,
    ROLES,
    THERAPIST_A,
    World,
    amend_post,
    body_text,
    build_world,
    forbidden_markers,
    password_post,
    profile_post,
    session_post,
    snapshot,
)

pytestmark = pytest.mark.django_db

SIGN_IN_PAGES = ("/accounts/login/", "/admin/login/")


def expect(anonymous: int, client_a: int, client_b: int, therapist_a: int, therapist_other: int, owner: int) -> dict:
    return dict(zip(ROLES, (anonymous, client_a, client_b, therapist_a, therapist_other, owner), strict=True))


def everyone(status: int) -> dict:
    return expect(*[status] * len(ROLES))


# The shapes most pages share.
STAFF_ON_A = expect(302, 404, 404, 200, 404, 200)  # a page about client A
STAFF_ON_A_SAVED = expect(302, 404, 404, 302, 404, 302)  # a valid write about client A
STAFF_PAGE = expect(302, 404, 404, 200, 200, 200)
PORTAL_PAGE = expect(302, 200, 200, 404, 404, 404)
PORTAL_SAVED = expect(302, 302, 302, 404, 404, 404)
SIGNED_IN_PAGE = expect(302, 200, 200, 200, 200, 200)
SIGNED_IN_REDIRECT = everyone(302)
ADMIN_ONLY = expect(302, 302, 302, 302, 302, 200)  # non-staff people are sent to the admin's sign-in page
STAFF_READ_ONLY = expect(302, 404, 404, 405, 405, 405)  # a staff page or download that only answers GET


@dataclass(frozen=True)
class Case:
    get: dict
    post: dict
    args: Callable[[World], list] = lambda w: []
    data: Callable[[World], dict] = lambda w: {}
    query: dict = field(default_factory=dict)
    # Pages anyone may use (signing in, resetting a password): their redirects need not lead to sign-in.
    public: bool = False
    # A marker of client A's own record (first name, summary, ...) that a 200 to someone entitled to see A
    # must contain: A's therapist and the owner on staff pages, client A on portal pages (B's counterpart
    # for client B).
    shows: str = ""


CASES: dict[str, Case] = {
    # --- public pages and the signed-in person's own account
    "login": Case(
        public=True,
        get=expect(200, 302, 302, 302, 302, 302),
        post=everyone(302),
        data=lambda w: {"username": "maria", "password": PASSWORD},
    ),
    "logout": Case(public=True, get=everyone(405), post=everyone(302)),
    "password_reset": Case(
        public=True, get=everyone(200), post=everyone(302), data=lambda w: {"email": w.client_a.user.email}
    ),
    "password_reset_done": Case(get=everyone(200), post=everyone(405)),
    "password_reset_confirm": Case(
        get=everyone(200),
        post=everyone(200),
        args=lambda w: ["MQ", "not-a-token"],
        data=lambda w: {"new_password1": "x" * 20, "new_password2": "x" * 20},
    ),
    "password_reset_complete": Case(get=everyone(200), post=everyone(405)),
    "two_factor": Case(get=SIGNED_IN_PAGE, post=SIGNED_IN_PAGE),
    # Nobody here has a second factor and the test settings do not require one: verify sends them on.
    "two_factor_verify": Case(get=SIGNED_IN_REDIRECT, post=SIGNED_IN_REDIRECT, data=lambda w: {"code": "123456"}),
    "two_factor_setup": Case(get=SIGNED_IN_PAGE, post=SIGNED_IN_PAGE, data=lambda w: {"code": "000000"}),
    "two_factor_recovery_codes": Case(get=SIGNED_IN_REDIRECT, post=SIGNED_IN_REDIRECT),
    # A token that matches no enrolment link: refused for everyone signed in; only opened, never posted to.
    "two_factor_enrol": Case(
        get=expect(302, 403, 403, 403, 403, 403),
        post=expect(302, 405, 405, 405, 405, 405),
        args=lambda w: ["not-a-token"],
    ),
    "password_change": Case(get=SIGNED_IN_PAGE, post=SIGNED_IN_REDIRECT, data=lambda w: password_post()),
    "password_change_done": Case(get=SIGNED_IN_PAGE, post=expect(302, 405, 405, 405, 405, 405)),
    "healthz": Case(get=everyone(200), post=everyone(405)),
    # The page script's "Stay signed in" and the signed-in person's own autosave of a form (practice.autosave).
    "session_keepalive": Case(get=everyone(405), post=SIGNED_IN_PAGE),
    "form_autosave": Case(
        get=everyone(405), post=SIGNED_IN_PAGE, data=lambda w: {"autosave_path": "/clients/", "plan": "typed"}
    ),
    "home": Case(get=SIGNED_IN_REDIRECT, post=SIGNED_IN_REDIRECT),
    # --- the therapist's workspace
    # Pages that only show something answer a POST as they answer a GET: "not yours" is a 404 either way.
    "clients:caseload": Case(get=STAFF_PAGE, post=STAFF_PAGE),
    "clients:detail": Case(get=STAFF_ON_A, post=STAFF_ON_A, args=lambda w: [w.client_a.pk], shows=A_MARKERS.own[2]),
    "clients:edit": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk],
        data=lambda w: profile_post(w.client_a, phone="01632 960000"),
        shows=A_MARKERS.own[2],
    ),
    "clients:phase_start": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk],
        data=lambda w: {"start-phase": "subacute", "start-started_on": timezone.localdate().isoformat()},
        shows=A_MARKERS.own[0],
    ),
    "clients:phase_end": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk],
        data=lambda w: {"end-ended_on": timezone.localdate().isoformat()},
        shows=A_MARKERS.own[0],
    ),
    "sessions:new": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk],
        data=lambda w: session_post(subjective="Forged?"),
        shows=A_MARKERS.own[0],
    ),
    "sessions:detail": Case(get=STAFF_ON_A, post=STAFF_ON_A, args=lambda w: [w.a_signed.pk], shows=A_MARKERS.clinic[0]),
    "sessions:edit": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.a_draft.pk],
        data=lambda w: session_post(version=w.a_draft.version, plan="Changed"),
        shows=A_MARKERS.clinic[6],
    ),
    "sessions:sign": Case(
        get=expect(302, 404, 404, 405, 405, 405), post=STAFF_ON_A_SAVED, args=lambda w: [w.a_draft.pk]
    ),
    "sessions:amend": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.a_signed.pk],
        data=lambda w: amend_post(w.a_signed),
        shows=A_MARKERS.own[0],
    ),
    "trends:page": Case(get=STAFF_ON_A, post=STAFF_ON_A, args=lambda w: [w.client_a.pk], shows=A_MARKERS.own[0]),
    "trends:csv": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A,
        args=lambda w: [w.client_a.pk],
        query={"range": "all"},
        shows="Swedish",
    ),
    # The clinician's FHIR record carries the SOAP note; the summary and its PDF show who the client is.
    "clients:fhir": Case(
        get=STAFF_ON_A, post=STAFF_READ_ONLY, args=lambda w: [w.client_a.pk], shows=A_MARKERS.clinic[0]
    ),
    # The client's intake as the therapist reviews it, asking for an update, and "not a relapse" (issue 15).
    "clients:intake_review": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk, _intake(w)],
        data=lambda w: {"accept": "cold_sensitive"},
        shows=A_MARKERS.own[0],
    ),
    "clients:intake_request": Case(get=STAFF_READ_ONLY, post=STAFF_ON_A_SAVED, args=lambda w: [w.client_a.pk]),
    "clients:relapse_dismiss": Case(
        get=STAFF_READ_ONLY,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk],
        data=lambda w: {"reason": "The MS nurse says it was a urinary infection."},
    ),
    "clients:summary": Case(
        get=STAFF_ON_A, post=STAFF_READ_ONLY, args=lambda w: [w.client_a.pk], shows=A_MARKERS.own[1]
    ),
    "clients:summary_pdf": Case(
        get=STAFF_ON_A, post=STAFF_READ_ONLY, args=lambda w: [w.client_a.pk], shows=A_MARKERS.own[1]
    ),
    # --- the portal
    "portal:home": Case(get=PORTAL_PAGE, post=everyone(405), shows=A_MARKERS.own[3]),
    "portal:self_report": Case(
        get=PORTAL_PAGE, post=PORTAL_SAVED, data=lambda w: {"pain": "3", "fatigue": "4", "note": "A better day."}
    ),
    "portal:trends": Case(get=PORTAL_PAGE, post=everyone(405), query={"range": "all"}, shows="Swedish"),
    "portal:export": Case(get=PORTAL_PAGE, post=everyone(405)),
    "portal:export_zip": Case(get=PORTAL_PAGE, post=everyone(405), shows=A_MARKERS.own[4]),
    "portal:export_file": Case(
        get=PORTAL_PAGE, post=everyone(405), args=lambda w: ["record.json"], shows=A_MARKERS.own[3]
    ),
    # The client's own FHIR record and one-page summary (portal/fhir.py, portal/summary.py): no clinic markers.
    "portal:export_fhir": Case(get=PORTAL_PAGE, post=everyone(405), shows=A_MARKERS.own[1]),
    "portal:summary": Case(get=PORTAL_PAGE, post=everyone(405), shows=A_MARKERS.own[1]),
    "portal:summary_pdf": Case(get=PORTAL_PAGE, post=everyone(405), shows=A_MARKERS.own[1]),
    # A already has an account, so the invitation is refused with a message on A's record.
    "portal:invite": Case(get=everyone(405), post=STAFF_ON_A_SAVED, args=lambda w: [w.client_a.pk]),
    "portal:accept": Case(
        get=everyone(200),
        post=everyone(200),
        args=lambda w: ["MQ", "not-a-token"],
        data=lambda w: {"new_password1": "x" * 20, "new_password2": "x" * 20},
    ),
    # --- questionnaires (measures): the portal's own, and the tablet handed over from client A's record
    "portal:questionnaires": Case(get=PORTAL_PAGE, post=everyone(405), shows="MFIS-5"),
    "portal:questionnaire_begin": Case(get=everyone(405), post=PORTAL_SAVED, args=lambda w: ["mfis5"]),
    "portal:questionnaire_item": Case(
        get=expect(302, 200, 404, 404, 404, 404),
        post=expect(302, 302, 404, 404, 404, 404),
        args=lambda w: [_questionnaire(w, "portal"), 1],
        data=lambda w: {"answer": "2"},
        shows="I have been less alert.",
    ),
    "portal:questionnaire_review": Case(
        get=expect(302, 200, 404, 404, 404, 404),
        post=expect(302, 302, 404, 404, 404, 404),
        args=lambda w: [_questionnaire(w, "portal")],
    ),
    "portal:questionnaire_done": Case(
        get=expect(302, 302, 404, 404, 404, 404), post=everyone(405), args=lambda w: [_questionnaire(w, "portal")]
    ),
    # --- the client's intake and consents (portal/intake.py), and the check-in's symptom questions
    "portal:intake": Case(
        get=PORTAL_PAGE, post=everyone(405), args=lambda w: _portal_intakes(w, []), shows="My health details"
    ),
    "portal:intake_start": Case(get=everyone(405), post=PORTAL_SAVED),
    "portal:intake_step": Case(
        get=PORTAL_PAGE,
        post=PORTAL_SAVED,
        args=lambda w: _portal_intakes(w, ["ms"]),
        data=lambda w: {"ms_type": "rrms"},
    ),
    "portal:intake_review": Case(get=PORTAL_PAGE, post=PORTAL_SAVED, args=lambda w: _portal_intakes(w, [])),
    "portal:intake_consent": Case(
        get=PORTAL_PAGE,
        post=PORTAL_SAVED,
        args=lambda w: _portal_intakes(w, []),
        data=lambda w: {"kind": "treatment", "typed_name": "Typed Name"},
        shows="DATA-USE-TEXT",
    ),
    # Client A's data-use consent: only A may withdraw it; B gets the same 404 as for nobody's.
    "portal:intake_withdraw": Case(
        get=expect(302, 200, 404, 404, 404, 404),
        post=expect(302, 302, 404, 404, 404, 404),
        args=lambda w: [_data_use_consent(w)],
        data=lambda w: {"typed_name": "Typed Name"},
    ),
    "portal:self_report_symptom": Case(
        get=PORTAL_PAGE,
        post=PORTAL_SAVED,
        args=lambda w: _portal_intakes(w, []),
        data=lambda w: {
            "lasted_over_24_hours": "yes",
            "days_since_last_relapse_began": "30_or_more",
            "fever_or_infection": "no",
            "explained_by_heat": "no",
        },
    ),
    "clients:questionnaire_choose": Case(
        get=STAFF_ON_A, post=everyone(405), args=lambda w: [w.client_a.pk], shows=A_MARKERS.own[0]
    ),
    "clients:questionnaire_begin": Case(
        get=everyone(405), post=STAFF_ON_A_SAVED, args=lambda w: [w.client_a.pk, "mfis5"]
    ),
    "clients:questionnaire_item": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk, _questionnaire(w, "session"), 1],
        data=lambda w: {"answer": "2"},
        shows=A_MARKERS.own[0],
    ),
    "clients:questionnaire_review": Case(
        get=STAFF_ON_A, post=STAFF_ON_A_SAVED, args=lambda w: [w.client_a.pk, _questionnaire(w, "session")]
    ),
    "clients:questionnaire_done": Case(
        get=expect(302, 404, 404, 302, 404, 302),
        post=everyone(405),
        args=lambda w: [w.client_a.pk, _questionnaire(w, "session")],
    ),
    # A submitted questionnaire on A's record, and its correction (an amendment with a reason).
    "clients:questionnaire_detail": Case(
        get=STAFF_ON_A, post=everyone(405), args=lambda w: [w.client_a.pk, _submitted(w)], shows=A_MARKERS.own[0]
    ),
    "clients:questionnaire_amend": Case(
        get=STAFF_ON_A,
        post=STAFF_ON_A_SAVED,
        args=lambda w: [w.client_a.pk, _submitted(w)],
        data=lambda w: _correction(),
        shows=A_MARKERS.own[0],
    ),
    # --- the admin site's own pages (its model pages are generated below)
    "admin:index": Case(get=ADMIN_ONLY, post=ADMIN_ONLY),
    # A therapist's password does not open the admin: only staff accounts sign in there.
    "admin:login": Case(
        get=expect(200, 200, 200, 200, 200, 302),
        post=everyone(200),
        data=lambda w: {"username": "james", "password": PASSWORD},
    ),
    "admin:logout": Case(public=True, get=ADMIN_ONLY | {OWNER_ROLE: 405}, post=everyone(302)),
    "admin:password_change": Case(get=ADMIN_ONLY, post=ADMIN_ONLY),
    "admin:password_change_done": Case(get=ADMIN_ONLY, post=ADMIN_ONLY | {OWNER_ROLE: 405}),
    "admin:autocomplete": Case(
        get=ADMIN_ONLY,
        post=expect(302, 302, 302, 302, 302, 405),
        query={"app_label": "treatment_sessions", "model_name": "treatmentsession", "field_name": "client"},
        shows=A_MARKERS.own[0],
    ),
    "admin:jsi18n": Case(get=ADMIN_ONLY, post=ADMIN_ONLY | {OWNER_ROLE: 405}),
    # Clients have no public address of their own, so "view on site" finds nothing even for the owner.
    "admin:view_on_site": Case(
        get=expect(302, 302, 302, 302, 302, 404),
        post=expect(302, 302, 302, 302, 302, 404),
        args=lambda w: [_content_type_id(w.client_a), w.client_a.pk],
    ),
    "admin:app_list": Case(get=ADMIN_ONLY, post=ADMIN_ONLY, args=lambda w: ["clients"]),
    "admin:auth_user_password_change": Case(get=ADMIN_ONLY, post=ADMIN_ONLY, args=lambda w: [w.client_a.user.pk]),
    # The admin's catch-all: an unknown admin address.
    "admin/(?P<url>.*)$": Case(
        get=expect(302, 302, 302, 302, 302, 404),
        post=expect(302, 302, 302, 302, 302, 404),
        args=lambda w: ["no-such-page/"],
    ),
    # --- the owner's outcomes report and its CSV files (outcomes.views), read-only: a POST is 405 for the owner
    **{
        f"outcomes:{name}": Case(get=ADMIN_ONLY, post=ADMIN_ONLY | {OWNER_ROLE: 405}, query={"start": "", "end": ""})
        for name in ("report", "summary_csv", "courses_csv", "techniques_csv", "therapists_csv")
    },
}


def _questionnaire(world: World, entered_in: str) -> int:
    """Client A's MFIS-5 with every item answered, not yet submitted (entered in the portal or in a session)."""
    from measures.models import Instrument
    from measures.services import questionnaire_answer, questionnaire_start

    instrument = Instrument.objects.get(code="mfis5")
    by = world.client_a.user if entered_in == "portal" else world.maria
    response = questionnaire_start(client=world.client_a, instrument=instrument, entered_by=by, entered_in=entered_in)
    for item in instrument.items:
        questionnaire_answer(response=response, link_id=item["link_id"], value=1)
    return response.pk


def _submitted(world: World) -> int:
    """Client A's MFIS-5, submitted in the portal (every answer 1)."""
    from measures.models import QuestionnaireResponse
    from measures.services import questionnaire_submit

    return questionnaire_submit(response=QuestionnaireResponse.objects.get(pk=_questionnaire(world, "portal"))).pk


def _intake(world: World) -> int:
    """Client A's intake, submitted from the portal and waiting for review (cold-sensitive, unlike the record)."""
    from clients.intake import intake_answer, intake_start, intake_submit

    intake = intake_start(client=world.client_a)
    intake_answer(intake=intake, answers={"cold_sensitive": not world.client_a.cold_sensitive}, step=1)
    return intake_submit(intake=intake).pk


def _portal_intakes(world: World, args: list) -> list:
    """Both clients mid-way through an intake, the practice's consent texts, and a new symptom today each."""
    from clients.intake import consent_text_add, intake_start
    from clients.services import self_report_record

    for kind in ("treatment", "data_use"):
        consent_text_add(kind=kind, text=f"{kind.upper().replace('_', '-')}-TEXT", created_by=None)
    for client in (world.client_a, world.client_b):
        intake_start(client=client)
        self_report_record(client=client, pain=3, fatigue=4, new_or_worse_symptom=True)
    return args


def _data_use_consent(world: World) -> int:
    """Client A's consent to the data-use text (the texts are written first if need be)."""
    from clients.intake import consent_agree
    from clients.models import ConsentText

    if not ConsentText.objects.exists():
        _portal_intakes(world, [])
    return consent_agree(client=world.client_a, kind="data_use", typed_name="Alice", recorded_by=None).pk


def _consent_withdrawal(world: World):
    from clients.intake import consent_withdraw
    from clients.models import Consent

    consent = Consent.objects.get(pk=_data_use_consent(world))
    return consent_withdraw(consent=consent, typed_name="Alice", recorded_by=None)


def _correction() -> dict:
    from measures.models import Instrument

    items = Instrument.objects.get(code="mfis5").items
    return {"reason": "Meant another answer.", **{f"item_{item['link_id']}": "2" for item in items}}


# The admin's pages for each registered model.
ADMIN_MODEL_PAGES = ("changelist", "add", "history", "delete", "change")
ADMIN_OBJECT_REDIRECT = "admin/{app}/{model}/<path:object_id>/"


def _content_type_id(obj) -> int:
    return ContentType.objects.get_for_model(obj).pk


# --- the enumeration


def url_patterns(resolver=None, namespace: str = "", route: str = ""):
    """(name, route) of every pattern, names qualified by their namespaces; unnamed ones by their route."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from url_patterns(pattern, inner, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            full_route = route + str(pattern.pattern)
            yield (f"{namespace}{pattern.name}" if pattern.name else full_route), full_route


def admin_model_keys() -> set[str]:
    keys = set()
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        keys |= {f"admin:{info[0]}_{info[1]}_{page}" for page in ADMIN_MODEL_PAGES}
        keys.add(ADMIN_OBJECT_REDIRECT.format(app=info[0], model=info[1]))
    return keys


def test_every_url_pattern_has_an_access_case():
    patterns = {key for key, _route in url_patterns()}
    covered = set(CASES) | admin_model_keys()
    assert patterns - covered == set(), "URL patterns without a row in CASES: add one (who may open it, and how)"
    assert covered - patterns == set(), "rows in CASES for patterns that no longer exist"


def test_the_enumeration_sees_namespaced_and_admin_patterns():
    keys = {key for key, _route in url_patterns()}
    assert {"portal:accept", "sessions:sign", "trends:csv", "admin:clients_client_change", "healthz"} <= keys
    assert "admin/clients/client/<path:object_id>/" in keys


# --- running one request as one role


@pytest.fixture
def world() -> World:
    return build_world()


def _refused(status: int, response) -> bool:
    if status in (403, 404, 405):
        return True
    return status == 302 and response.get("Location", "").startswith(SIGN_IN_PAGES)


def _counterpart(marker: str, role: str) -> str:
    """Client B's marker in the place of client A's, for client B's own portal pages."""
    if role == CLIENT_B and marker in A_MARKERS.own:
        return B_MARKERS.own[A_MARKERS.own.index(marker)]
    return marker


@functools.cache
def _shared_browser() -> Client:
    return Client()


def _browser() -> Client:
    # One test client for every request: a new one loads the middleware again, and WhiteNoise's
    # scan of the static files alone takes a tenth of a second.
    browser = _shared_browser()
    browser.cookies.clear()
    return browser


def check(
    world: World, role: str, method: str, url: str, data: dict, expected: int, *, shows: str = "", public: bool = False
) -> list[str]:
    """Problems with one request: wrong status, foreign data in the response, a refused write that wrote."""
    browser = _browser()
    user = world.user(role)
    with transaction.atomic():
        if user is not None:
            browser.force_login(user)
        before = snapshot()
        response = browser.get(url) if method == "get" else browser.post(url, data)
        after = snapshot()
        text = body_text(response)
        transaction.set_rollback(True)
    where = f"{method.upper()} {url} as {role}"
    problems = []
    if response.status_code != expected:
        problems.append(f"{where}: status {response.status_code}, expected {expected}")
    leaked = [marker for marker in forbidden_markers(role) if marker in text]
    if leaked:
        problems.append(f"{where}: response contains {leaked}")
    if _refused(expected, response) and before != after:
        changed = [name for name in before if before[name] != after[name]]
        problems.append(f"{where}: refused, yet changed {changed}")
    if role == ANON and not public and response.status_code == 302:
        location = response.get("Location", "")
        if not location.startswith(SIGN_IN_PAGES):
            problems.append(f"{where}: redirected to {location}, not to sign in")
    if shows and response.status_code == 200 and role != ANON:
        marker = _counterpart(shows, role)
        if marker not in forbidden_markers(role) and marker not in text:
            problems.append(f"{where}: the page does not show {marker!r}")
    return problems


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("key", sorted(CASES))
def test_every_role_gets_what_its_role_allows_and_nothing_else(world, key, method):
    case = CASES[key]
    # Named patterns are reversed; the one unnamed row (the admin's catch-all) is a regex: its address is built.
    url = "/admin/" + case.args(world)[0] if key.startswith("admin/") else reverse(key, args=case.args(world))
    if case.query:
        url = f"{url}?{urlencode(case.query)}"
    expected = case.get if method == "get" else case.post
    data = case.data(world) if method == "post" else {}
    problems = []
    for role in ROLES:
        problems += check(world, role, method, url, data, expected[role], shows=case.shows, public=case.public)
    assert not problems, "\n".join(problems)


# --- the admin's model pages


def _admin_object(world: World, model):
    """A record of ``model`` for its change, history and delete pages: client A's where there is one."""
    label = model._meta.label
    chosen = {
        "clients.Client": lambda: world.client_a,
        "clients.DiseasePhase": lambda: world.client_a.phases.first(),
        "treatment_sessions.TreatmentSession": lambda: world.a_signed,
        "treatment_sessions.SessionAmendment": lambda: world.a_signed.amendments.first(),
        "treatment_sessions.Technique": lambda: Technique.objects.get(slug="swedish"),
        "auth.User": lambda: world.client_a.user,
        "practice.HistoricalClient": lambda: model.objects.filter(id=world.client_a.pk).first(),
        "practice.HistoricalTreatmentSession": lambda: model.objects.filter(id=world.a_signed.pk).first(),
        "practice.HistoricalDiseasePhase": lambda: model.objects.filter(client_id=world.client_a.pk).first(),
        "measures.QuestionnaireResponse": lambda: model.objects.get(pk=_submitted(world)),
        "clients.Intake": lambda: model.objects.get(pk=_intake(world)),
        "clients.Consent": lambda: model.objects.get(pk=_data_use_consent(world)),
        "clients.ConsentText": lambda: model.objects.get(consents__pk=_data_use_consent(world)),
        "clients.ConsentWithdrawal": lambda: _consent_withdrawal(world),
    }
    if label in chosen:
        return chosen[label]()
    return model._default_manager.order_by("pk").first()


@pytest.fixture
def admin_world(world) -> World:
    """The world, plus a row for each security table the admin lists (devices, lockouts, audit events)."""
    TOTPDevice.objects.create(user=world.james, name="Authenticator app", confirmed=False)
    StaticDevice.objects.create(user=world.james, name="Recovery codes", confirmed=False)
    AccessAttempt.objects.create(username="nobody", ip_address="192.0.2.1", failures_since_start=1)
    audit.record(None, audit.READ, obj=world.client_a, actor=world.maria)
    return world


# What owners may do in the admin, model by model. Clinical records and the logs are never deleted, and
# accounts are deactivated rather than deleted; logs, history, amendments, security records and the roles
# are never added or edited by hand; a signed session (the one opened here) is read-only.
NEVER_DELETED = {
    "auth.User",
    "auth.Group",
    "clients.Client",
    "clients.DiseasePhase",
    "treatment_sessions.TreatmentSession",
    "treatment_sessions.SessionAmendment",
    "treatment_sessions.Technique",
    "practice.AuditEvent",
    "practice.HistoricalClient",
    "practice.HistoricalDiseasePhase",
    "practice.HistoricalTreatmentSession",
    "practice.HistoricalSelfReport",
    "measures.Instrument",
    "measures.QuestionnaireResponse",
    # The client's own intakes and consents, and the consent texts they agreed to (issue 15).
    "clients.Intake",
    "clients.ConsentText",
    "clients.Consent",
    "clients.ConsentWithdrawal",
}
NEVER_ADDED = {
    "auth.Group",
    "treatment_sessions.SessionAmendment",
    "practice.AuditEvent",
    "practice.HistoricalClient",
    "practice.HistoricalDiseasePhase",
    "practice.HistoricalTreatmentSession",
    "practice.HistoricalSelfReport",
    "otp_totp.TOTPDevice",
    "otp_static.StaticDevice",
    "axes.AccessAttempt",
    # Instruments are data migrations; questionnaires are filled in the portal or on the tablet, corrected by amendment.
    "measures.Instrument",
    "measures.QuestionnaireResponse",
    # Written by the client in the portal. A consent text is added as a new version, and a consent given on
    # paper is added by the owner; neither is edited.
    "clients.Intake",
    "clients.ConsentWithdrawal",
}
READ_ONLY = NEVER_ADDED | {"treatment_sessions.TreatmentSession", "clients.ConsentText", "clients.Consent"}


def owner_status(label: str, page: str, method: str) -> int:
    if page == "object":
        return 302  # on to the change page
    if page == "add" and label in NEVER_ADDED:
        return 403
    if page == "delete" and label in NEVER_DELETED:
        return 403
    if page == "change" and method == "post" and label in READ_ONLY:
        return 403
    return 200


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_admin_model_pages_open_for_the_owner_only(admin_world, model, method):
    obj = _admin_object(admin_world, model)
    assert obj is not None, model
    info = (model._meta.app_label, model._meta.model_name)
    pages = {
        "changelist": reverse(f"admin:{info[0]}_{info[1]}_changelist"),
        "add": reverse(f"admin:{info[0]}_{info[1]}_add"),
        "history": reverse(f"admin:{info[0]}_{info[1]}_history", args=[obj.pk]),
        "delete": reverse(f"admin:{info[0]}_{info[1]}_delete", args=[obj.pk]),
        "change": reverse(f"admin:{info[0]}_{info[1]}_change", args=[obj.pk]),
        "object": f"/admin/{info[0]}/{info[1]}/{obj.pk}/",
    }
    shows_a = model._meta.label in ("clients.Client",)
    problems = []
    for page, url in pages.items():
        for role in ROLES:
            expected = owner_status(model._meta.label, page, method) if role == OWNER_ROLE else 302
            shows = A_MARKERS.own[0] if shows_a and page in ("change", "changelist") else ""
            problems += check(admin_world, role, method, url, {}, expected, shows=shows)
    assert not problems, "\n".join(problems)


def test_the_markers_are_really_in_the_records(world):
    """The leak checks search for these; they must be where a leak would come from."""
    from clients.models import DiseasePhase, SelfReport
    from sessions.models import SessionAmendment, TreatmentSession

    for tag, client in (("AQX", world.client_a), ("BQY", world.client_b)):
        assert TreatmentSession.objects.filter(client=client, subjective=f"{tag}-SOAP-S", status="signed").exists()
        assert TreatmentSession.objects.filter(client=client, client_summary=f"{tag}-DRAFT-SUMMARY").exists()
        assert DiseasePhase.objects.filter(client=client, notes=f"{tag}-PHASE-NOTE").exists()
        assert SelfReport.objects.filter(client=client, note=f"{tag}-SELF-NOTE").exists()
        assert SessionAmendment.objects.filter(session__client=client, reason=f"{tag}-AMEND-REASON").exists()


@pytest.mark.parametrize("role", [CLIENT_A, THERAPIST_A, OWNER_ROLE])
def test_everyone_signed_in_finds_their_security_pages_in_the_menu(world, role):
    browser = _browser()
    browser.force_login(world.user(role))
    home = {CLIENT_A: "/portal/", THERAPIST_A: "/clients/", OWNER_ROLE: "/accounts/two-factor/"}[role]
    page = browser.get(home).content.decode()
    assert f'href="{reverse("two_factor")}"' in page and ">Security</a>" in page
    assert f'href="{reverse("password_change")}"' in page and ">Change password</a>" in page
    assert "Security</a>" not in _browser().get("/accounts/login/").content.decode()
