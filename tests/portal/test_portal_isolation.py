"""No address shows one client anything of another's.

Every portal address, and the therapist and admin workspaces, is opened as client A, client B, a therapist
and an anonymous visitor. Client B's record carries distinctive markers; none may appear in anything client A
receives, pages and downloaded files alike (archives are unpacked and read).
"""

import csv
import datetime as dt
import io
import json
import zipfile

import pytest
from django.urls import get_resolver
from django.utils import timezone

from clients.intake import consent_agree, consent_text_add, intake_answer, intake_start
from clients.models import Consent, ConsentKind, SelfReport
from measures.models import Instrument, QuestionnaireResponse
from measures.services import questionnaire_start
from portal import urls as portal_urls
from tests import factories
from tests.practice.world import body_text

pytestmark = pytest.mark.django_db

# What client B's record holds that nobody else may see. Scores 9 and 10 are B's alone; A's are 1 to 3.
B_MARKERS = ("Boris", "Bexley", "BEXLEY-SUMMARY-7781", "BEXLEY-NOTE-4419", "BEXLEY-PHASE-NOTE", "James")
B_SCORE_TEXT = ("9 before, 8 after", "10 before, 9 after", "pain 9, fatigue 10")


@pytest.fixture
def records(client_a, client_b, therapist, other_therapist):
    """Both clients with signed sessions, a draft and a self-report; B's with distinctive values."""
    yesterday = timezone.now() - dt.timedelta(days=1)
    factories.make_session(
        client_a,
        therapist,
        signed=True,
        started_at=yesterday,
        pain_before=3,
        pain_after=1,
        fatigue_before=3,
        fatigue_after=2,
        client_summary="ASHBY-SUMMARY-1234",
        uses=[("swedish", "upper_back", "light")],
    )
    SelfReport.objects.create(client=client_a, pain=2, fatigue=3, note="ASHBY-NOTE-5678")
    factories.make_session(
        client_b,
        other_therapist,
        signed=True,
        started_at=yesterday,
        pain_before=9,
        pain_after=8,
        fatigue_before=10,
        fatigue_after=9,
        duration_minutes=117,
        client_summary="BEXLEY-SUMMARY-7781",
        subjective="BEXLEY-SOAP",
        uses=[("reflexology", "foot_left", "light")],
    )
    factories.make_session(client_b, other_therapist, client_summary="BEXLEY-DRAFT", pain_before=9, fatigue_before=10)
    SelfReport.objects.create(client=client_b, pain=9, fatigue=10, note="BEXLEY-NOTE-4419")
    client_b.phases.update(notes="BEXLEY-PHASE-NOTE")
    mfis5 = Instrument.objects.get(code="mfis5")
    for client in (client_a, client_b):
        questionnaire_start(client=client, instrument=mfis5, entered_by=client.user)
    # Intakes under way and data-use consents; B's carry B's markers (portal/intake.py).
    consent_text_add(kind=ConsentKind.DATA_USE, text="The practice keeps your record.", created_by=None)
    for client, contact in ((client_a, "Ann Ashby"), (client_b, "James Bexley")):
        intake_answer(intake=intake_start(client=client), answers={"emergency_contact": {"name": contact}}, step=13)
        consent_agree(client=client, kind=ConsentKind.DATA_USE, typed_name=client.full_name, recorded_by=client.user)
    return client_a, client_b


def _consents(client_a, client_b) -> dict[str, int]:
    """The ids of the clients' data-use consents, for the "{ca}" and "{cb}" in addresses."""
    ids = dict(Consent.objects.values_list("client_id", "pk"))
    return {"ca": ids[client_a.pk], "cb": ids[client_b.pk]}


def _questionnaires(client_a, client_b) -> dict[str, int]:
    """The ids of the clients' questionnaires in progress, for the "{qa}" and "{qb}" in addresses."""
    ids = dict(QuestionnaireResponse.objects.values_list("client_id", "pk"))
    return {"qa": ids[client_a.pk], "qb": ids[client_b.pk]}


# (method, address) -> expected status for each visitor. "{a}" and "{b}" stand for the clients' ids.
PORTAL_PAGES = ["/portal/", "/portal/today/", "/portal/trends/", "/portal/export/"]
PORTAL_DOWNLOADS = [
    "/portal/export/my-record.zip",
    "/portal/export/sessions.csv",
    "/portal/export/phases.csv",
    "/portal/export/self_reports.csv",
    "/portal/export/trends.csv",
    "/portal/export/record.json",
    "/portal/export/fhir.json",
    "/portal/summary/",
    "/portal/summary.pdf",
]
OWN = {"client_a": 200, "client_b": 200, "therapist": 404, "anonymous": 302}
INTAKE_PAGES = [
    "/portal/intake/",
    "/portal/intake/step/emergency/",
    "/portal/intake/review/",
    "/portal/intake/consent/",
]
CASES = [
    *(("get", address, OWN) for address in PORTAL_PAGES + PORTAL_DOWNLOADS),
    ("post", "/portal/today/", {"client_a": 400, "client_b": 400, "therapist": 404, "anonymous": 302}),
    ("get", "/portal/questionnaires/", OWN),
    (
        "post",
        "/portal/questionnaires/mfis5/start/",
        {"client_a": 302, "client_b": 302, "therapist": 404, "anonymous": 302},
    ),
    # Each client's questionnaire in progress ({qa}, {qb}): the other client gets the same 404 as nobody's.
    ("get", "/portal/questionnaires/{qa}/1/", {"client_a": 200, "client_b": 404, "therapist": 404, "anonymous": 302}),
    ("get", "/portal/questionnaires/{qb}/1/", {"client_a": 404, "client_b": 200, "therapist": 404, "anonymous": 302}),
    (
        "get",
        "/portal/questionnaires/{qb}/review/",
        {"client_a": 404, "client_b": 200, "therapist": 404, "anonymous": 302},
    ),
    (
        "get",
        "/portal/questionnaires/{qb}/done/",
        {"client_a": 404, "client_b": 302, "therapist": 404, "anonymous": 302},
    ),
    # The intake and consents: each client's own; the other's consent number is the same 404 as nobody's.
    *(("get", address, OWN) for address in INTAKE_PAGES),
    ("post", "/portal/intake/start/", {"client_a": 302, "client_b": 302, "therapist": 404, "anonymous": 302}),
    ("post", "/portal/intake/step/ms/", {"client_a": 400, "client_b": 400, "therapist": 404, "anonymous": 302}),
    ("post", "/portal/intake/consent/", {"client_a": 400, "client_b": 400, "therapist": 404, "anonymous": 302}),
    (
        "get",
        "/portal/intake/consent/{cb}/withdraw/",
        {"client_a": 404, "client_b": 200, "therapist": 404, "anonymous": 302},
    ),
    (
        "post",
        "/portal/intake/consent/{cb}/withdraw/",
        {"client_a": 404, "client_b": 400, "therapist": 404, "anonymous": 302},
    ),
    ("get", "/portal/today/symptom/", {"client_a": 302, "client_b": 302, "therapist": 404, "anonymous": 302}),
    ("get", "/portal/welcome/MQ/not-a-token/", {"client_a": 200, "client_b": 200, "therapist": 200, "anonymous": 200}),
    ("post", "/portal/invite/{a}/", {"client_a": 404, "client_b": 404, "therapist": 302, "anonymous": 302}),
    ("post", "/portal/invite/{b}/", {"client_a": 404, "client_b": 404, "therapist": 404, "anonymous": 302}),
    ("get", "/clients/", {"client_a": 404, "client_b": 404, "therapist": 200, "anonymous": 302}),
    ("get", "/clients/{a}/", {"client_a": 404, "client_b": 404, "therapist": 200, "anonymous": 302}),
    ("get", "/clients/{b}/", {"client_a": 404, "client_b": 404, "therapist": 404, "anonymous": 302}),
    # Clients and therapists have no staff flag: the admin only offers its own sign-in page.
    ("get", "/admin/", {"client_a": 302, "client_b": 302, "therapist": 302, "anonymous": 302}),
    ("get", "/admin/clients/client/", {"client_a": 302, "client_b": 302, "therapist": 302, "anonymous": 302}),
    ("get", "/admin/clients/selfreport/", {"client_a": 302, "client_b": 302, "therapist": 302, "anonymous": 302}),
]
VISITORS = ["client_a", "client_b", "therapist", "anonymous"]


def _sign_in(django_client, visitor: str, records, therapist) -> None:
    client_a, client_b = records
    user = {"client_a": client_a.user, "client_b": client_b.user, "therapist": therapist}.get(visitor)
    if user is not None:
        django_client.force_login(user)


def _everything_in(response) -> str:
    """The response as text; an archive is unpacked and each of its files read, a PDF's text extracted."""
    content = response.content
    if response.get("Content-Type", "").startswith("application/pdf"):
        return body_text(response)
    if response.get("Content-Type") == "application/zip":
        archive = zipfile.ZipFile(io.BytesIO(content))
        return "\n".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    return content.decode("utf-8-sig")


def _durations_in(response) -> set[int]:
    """Every ``duration_minutes`` value in an archive's CSV and JSON files."""
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    found: set[int] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key == "duration_minutes" and item not in (None, ""):
                    found.add(int(item))
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for name in archive.namelist():
        text = archive.read(name).decode("utf-8-sig")
        if name.endswith(".csv"):
            walk(list(csv.DictReader(io.StringIO(text))))
        elif name.endswith(".json"):
            walk(json.loads(text))
    return found


@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize(("method", "address", "expected"), CASES, ids=[f"{m} {a}" for m, a, _ in CASES])
def test_each_address_answers_each_visitor_as_expected(client, records, therapist, visitor, method, address, expected):
    client_a, client_b = records
    _sign_in(client, visitor, records, therapist)
    url = address.format(
        a=client_a.pk, b=client_b.pk, **_questionnaires(client_a, client_b), **_consents(client_a, client_b)
    )
    response = getattr(client, method)(url, {"pain": "99"} if url == "/portal/today/" and method == "post" else {})
    assert response.status_code == expected[visitor]
    if response.status_code == 302 and visitor == "anonymous" and not url.startswith("/admin/"):
        assert response["Location"].startswith("/accounts/login/?next=")
    if visitor == "client_a":
        received = _everything_in(response)
        for marker in (*B_MARKERS, *B_SCORE_TEXT, "BEXLEY-SOAP", "BEXLEY-DRAFT"):
            assert marker not in received, f"{url} showed client A {marker!r}"


OWN_RECORD = {
    "/portal/": ["ASHBY-SUMMARY-1234", "Remission"],
    "/portal/trends/": ["ASHBY-NOTE-5678", "Swedish massage"],
    "/portal/export/my-record.zip": ["ASHBY-SUMMARY-1234", "ASHBY-NOTE-5678", "Remission", "Alice"],
    "/portal/export/sessions.csv": ["ASHBY-SUMMARY-1234"],
    "/portal/export/phases.csv": ["Remission"],
    "/portal/export/self_reports.csv": ["ASHBY-NOTE-5678"],
    "/portal/export/trends.csv": ["session,,", "self_report,2,3"],
    "/portal/export/record.json": ["ASHBY-SUMMARY-1234", "ASHBY-NOTE-5678", "Alice"],
    "/portal/intake/review/": ["Ann Ashby"],
    "/portal/intake/consent/": ["The practice keeps your record.", "Alice Ashby"],
}


@pytest.mark.parametrize(("address", "expected"), OWN_RECORD.items())
def test_client_a_receives_their_own_record(client, records, address, expected):
    """The isolation checks above mean something: client A's own record is really in what they receive."""
    client_a, _client_b = records
    client.force_login(client_a.user)
    received = _everything_in(client.get(address))
    for text in expected:
        assert text in received


def test_client_a_export_holds_only_client_a_rows(client, records):
    client_a, _client_b = records
    client.force_login(client_a.user)
    received = _everything_in(client.get("/portal/export/my-record.zip"))
    assert "ASHBY-SUMMARY-1234" in received and "ASHBY-NOTE-5678" in received
    # Client B's session length, read from the files' duration fields: as a bare number it can stand inside a
    # timestamp's microseconds or an id.
    durations = _durations_in(client.get("/portal/export/my-record.zip"))
    assert durations and 117 not in durations


def test_the_client_id_in_an_address_is_ignored(client, records):
    """Portal addresses take no client id; a guessed query parameter changes nothing."""
    client_a, client_b = records
    client.force_login(client_a.user)
    received = _everything_in(client.get(f"/portal/export/my-record.zip?client={client_b.pk}&client_id={client_b.pk}"))
    assert "ASHBY-SUMMARY-1234" in received and "BEXLEY" not in received


def test_every_portal_address_is_covered_by_the_isolation_cases():
    covered = {address for _method, address, _expected in CASES}
    patterns = {str(pattern.pattern) for pattern in portal_urls.urlpatterns}
    resolver = get_resolver()
    for pattern in patterns:
        # Each pattern must match at least one address in CASES.
        assert any(
            (match := resolver.resolve(address.format(a=1, b=2, qa=3, qb=4, ca=5, cb=6)))
            and match.route == f"portal/{pattern}"
            for address in covered
            if address.startswith("/portal/")
        ), f"portal/{pattern} has no isolation case"
