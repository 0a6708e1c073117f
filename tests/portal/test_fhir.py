"""The FHIR R4 record: bundles validated by fhir.resources, references resolved, nothing clinical in the portal's."""

import datetime as dt
import json

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle

from clients.models import MSType, Phase
from portal import fhir
from practice.models import AuditEvent
from sessions.services import session_amend
from tests import factories

pytestmark = pytest.mark.django_db

PORTAL_URL = "/portal/export/fhir.json"


def clinician_url(client) -> str:
    return f"/clients/{client.pk}/fhir.json"


def validated(bundle: dict) -> dict:
    """The bundle, after fhir.resources has accepted it and every reference resolves to one of its entries."""
    Bundle.model_validate(bundle)
    addresses = [entry["fullUrl"] for entry in bundle["entry"]]
    assert len(addresses) == len(set(addresses)), "two entries share a fullUrl"
    assert all(address.startswith("urn:uuid:") for address in addresses)
    dangling = set(fhir.references(bundle)) - set(addresses)
    assert not dangling, f"references outside the bundle: {dangling}"
    return bundle


def download(browser, url: str) -> dict:
    response = browser.get(url)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/fhir+json"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    return validated(json.loads(response.content))


def resources(bundle: dict, kind: str) -> list[dict]:
    return [entry["resource"] for entry in bundle["entry"] if entry["resource"]["resourceType"] == kind]


def codes(resource: dict) -> set[str]:
    return {coding["code"] for coding in resource["code"].get("coding", ())}


@pytest.fixture
def signed_session(client_a, therapist):
    return factories.make_session(
        client_a,
        therapist,
        signed=True,
        started_at=timezone.now() - dt.timedelta(days=7),
        pain_before=6,
        pain_after=3,
        fatigue_before=7,
        fatigue_after=5,
        subjective="SOAP-SUBJECTIVE-TEXT",
        objective="SOAP-OBJECTIVE-TEXT",
        assessment="SOAP-ASSESSMENT-TEXT",
        plan="SOAP-PLAN-TEXT",
        client_summary="SUMMARY-FOR-CLIENT",
        safety_override_reason="OVERRIDE-REASON-TEXT",
        uses=[("swedish", "upper_back", "light"), ("reflexology", "foot_right", "light")],
    )


def test_a_client_with_no_sessions_gets_a_valid_bundle_with_patient_and_diagnosis(client, client_a):
    client_a.ms_type = MSType.RRMS
    client_a.diagnosis_year = 2012
    client_a.save()
    client.force_login(client_a.user)
    bundle = download(client, PORTAL_URL)
    assert bundle["type"] == "collection"
    (patient,) = resources(bundle, "Patient")
    assert patient["name"][0] == {"use": "official", "family": "Ashby", "given": ["Alice"]}
    ms = [c for c in resources(bundle, "Condition") if "426373005" in codes(c)]
    assert len(ms) == 1 and ms[0]["onsetDateTime"] == "2012"
    assert ms[0]["clinicalStatus"]["coding"][0]["code"] == "remission"  # the fixture's current phase
    assert resources(bundle, "Encounter") == []


def test_each_signed_session_is_an_encounter_with_a_procedure_and_four_scores(
    client, therapist, client_a, signed_session
):
    factories.make_session(client_a, therapist, pain_before=9)  # a draft: never exported
    client.force_login(therapist)
    bundle = download(client, clinician_url(client_a))
    (encounter,) = resources(bundle, "Encounter")
    (procedure,) = resources(bundle, "Procedure")
    assert encounter["status"] == "finished" and encounter["class"]["code"] == "AMB"
    assert codes(procedure) == {"387854002"}
    assert "Swedish massage (upper back, light pressure)" in procedure["code"]["text"]
    assert [site["text"] for site in procedure["bodySite"]] == ["Upper back", "Right foot"]
    observations = {
        o["note"][0]["text"] + " " + o["code"]["coding"][0]["code"]: o
        for o in resources(bundle, "Observation")
        if "encounter" in o
    }
    assert observations["Before the session 72514-3"]["valueInteger"] == 6
    assert observations["After the session 72514-3"]["valueInteger"] == 3
    assert observations["Before the session fatigue-nrs"]["valueInteger"] == 7
    assert observations["After the session fatigue-nrs"]["valueInteger"] == 5
    by_url = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]}
    for observation in observations.values():
        assert by_url[observation["encounter"]["reference"]] is encounter
        assert by_url[observation["partOf"][0]["reference"]] is procedure


def test_amended_values_are_exported_and_marked(client, therapist, client_a, signed_session):
    session_amend(session=signed_session, author=therapist, reason="AMENDMENT-REASON", changes={"pain_after": 5})
    for user, url in ((client_a.user, PORTAL_URL), (therapist, clinician_url(client_a))):
        client.force_login(user)
        bundle = download(client, url)
        after = [o for o in resources(bundle, "Observation") if o.get("note") == [{"text": "After the session"}]]
        assert {o["valueInteger"] for o in after if "72514-3" in codes(o)} == {5}
        (procedure,) = resources(bundle, "Procedure")
        assert "Corrected by the therapist" in procedure["note"][0]["text"]
        assert "AMENDMENT-REASON" not in json.dumps(bundle)


def test_amended_technique_rows_and_date_are_exported(client, therapist, client_a, signed_session):
    moved = signed_session.started_at - dt.timedelta(days=2)
    swedish = factories.technique("swedish")
    session_amend(
        session=signed_session,
        author=therapist,
        reason="Wrong day and region",
        changes={"started_at": moved},
        uses=[fhir_planned(swedish, "neck")],
    )
    client.force_login(client_a.user)
    bundle = download(client, PORTAL_URL)
    (encounter,) = resources(bundle, "Encounter")
    (procedure,) = resources(bundle, "Procedure")
    assert dt.datetime.fromisoformat(encounter["period"]["start"]) == moved.replace(microsecond=0)
    assert [site["text"] for site in procedure["bodySite"]] == ["Neck"]


def fhir_planned(technique, region: str, pressure: str = "light"):
    from sessions.safety import PlannedUse

    return PlannedUse(technique, region, pressure)


def test_the_portal_bundle_holds_no_soap_note_summary_or_override_reason(client, client_a, signed_session):
    client.force_login(client_a.user)
    text = json.dumps(download(client, PORTAL_URL))
    for secret in ("SOAP-", "OVERRIDE-REASON-TEXT", "SUMMARY-FOR-CLIENT"):
        assert secret not in text


def test_the_clinicians_bundle_carries_the_soap_note_but_no_override_reason(
    client, therapist, client_a, signed_session
):
    session_amend(session=signed_session, author=therapist, reason="Typo", changes={"plan": "AMENDED-PLAN"})
    client.force_login(therapist)
    bundle = download(client, clinician_url(client_a))
    (procedure,) = resources(bundle, "Procedure")
    note = procedure["note"][-1]["text"]
    assert "Subjective: SOAP-SUBJECTIVE-TEXT" in note and "Plan: AMENDED-PLAN" in note
    assert "SOAP-PLAN-TEXT" not in note
    assert "OVERRIDE-REASON-TEXT" not in json.dumps(bundle)


def test_phases_are_observations_and_flares_are_exacerbation_conditions(client, therapist, client_a):
    today = timezone.localdate()
    remission = client_a.phases.get()
    remission.started_on = today - dt.timedelta(days=20)
    remission.save()
    factories.make_phase(client_a, Phase.ACUTE_FLARE, today - dt.timedelta(days=60), today - dt.timedelta(days=40))
    factories.make_phase(client_a, Phase.SUBACUTE, today - dt.timedelta(days=40), today - dt.timedelta(days=20))
    client.force_login(therapist)
    bundle = download(client, clinician_url(client_a))
    phases = [o for o in resources(bundle, "Observation") if "ms-phase" in codes(o)]
    assert [p["valueCodeableConcept"]["coding"][0]["code"] for p in phases] == ["acute_flare", "subacute", "remission"]
    assert phases[0]["effectivePeriod"] == {
        "start": (today - dt.timedelta(days=60)).isoformat(),
        "end": (today - dt.timedelta(days=40)).isoformat(),
    }
    assert "end" not in phases[-1]["effectivePeriod"]
    (flare,) = [c for c in resources(bundle, "Condition") if "192929006" in codes(c)]
    # con-4: an abated condition is resolved.
    assert flare["clinicalStatus"]["coding"][0]["code"] == "resolved"
    assert flare["abatementDateTime"] == (today - dt.timedelta(days=40)).isoformat()


def test_an_ongoing_flare_makes_the_ms_condition_a_relapse(client, therapist, client_a):
    remission = client_a.phases.get()
    remission.ended_on = timezone.localdate() - dt.timedelta(days=3)
    remission.save()
    factories.make_phase(client_a, Phase.ACUTE_FLARE, timezone.localdate() - dt.timedelta(days=3))
    client.force_login(therapist)
    bundle = download(client, clinician_url(client_a))
    ms = next(c for c in resources(bundle, "Condition") if "24700007" in codes(c))
    assert ms["clinicalStatus"]["coding"][0]["code"] == "relapse"
    flare = next(c for c in resources(bundle, "Condition") if "192929006" in codes(c))
    assert flare["clinicalStatus"]["coding"][0]["code"] == "active" and "abatementDateTime" not in flare


@pytest.mark.parametrize(
    ("ms_type", "snomed"),
    [(MSType.UNKNOWN, "24700007"), (MSType.SPMS, "425500002"), (MSType.PPMS, "428700003"), (MSType.CIS, "cis")],
)
def test_each_ms_type_is_coded(client_a, ms_type, snomed):
    client_a.ms_type = ms_type
    client_a.save()
    bundle = validated(fhir.client_bundle(client_a, fhir.CLIENT))
    ms = resources(bundle, "Condition")[0]
    assert codes(ms) == {snomed}
    if ms_type == MSType.CIS:  # no verified SNOMED CT code: the practice's own system, never SNOMED's MS code
        assert ms["code"]["coding"][0]["system"] != fhir.SNOMED
    if ms_type == MSType.PPMS:
        assert ms["clinicalStatus"]["coding"][0]["code"] == "active"


def test_addresses_are_stable_between_exports_and_differ_between_records(client_a, signed_session):
    first = fhir.client_bundle(client_a, fhir.CLINICIAN)
    second = fhir.client_bundle(client_a, fhir.CLINICIAN)
    assert [e["fullUrl"] for e in first["entry"]] == [e["fullUrl"] for e in second["entry"]]
    ids = fhir.Addresses(fhir.DEFAULT_PRACTICE_URI)
    assert ids.url(f"client/{client_a.pk}") == first["entry"][0]["fullUrl"]
    assert ids.url("client/1") != fhir.Addresses("urn:another-practice").url("client/1")


def test_the_library_rejects_a_broken_bundle():
    """The validation is real: a missing required element fails."""
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": "urn:uuid:1", "resource": {"resourceType": "Encounter", "class": {"code": "AMB"}}}],
    }
    with pytest.raises(ValueError):
        Bundle.model_validate(bundle)


def test_the_sample_bundle_in_the_docs_validates():
    # docs/fhir.md section 7 shows what the export sends: held to the same checks as every bundle the tests make.
    text = (settings.BASE_DIR / "docs" / "fhir.md").read_text()
    sample = text.split("## 7. Sample Bundle")[1].split("```json\n")[1].split("\n```")[0]
    bundle = validated(json.loads(sample))
    assert bundle["type"] == "collection"
    kinds = {entry["resource"]["resourceType"] for entry in bundle["entry"]}
    for kind in ("Patient", "Condition", "Encounter", "Procedure", "Observation"):
        assert kind in kinds, kind
    if fhir.measures_installed():
        assert {"Questionnaire", "QuestionnaireResponse"} <= kinds


def test_script_like_text_is_kept_as_data_in_json(client, client_a):
    client_a.first_name = "<script>alert(1)</script>"
    client_a.save()
    client.force_login(client_a.user)
    response = client.get(PORTAL_URL)
    assert json.loads(response.content)["entry"][0]["resource"]["name"][0]["given"] == ["<script>alert(1)</script>"]
    assert response["Content-Type"] == "application/fhir+json"  # never rendered as HTML by a browser


def _queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert browser.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("who", ["client", "therapist"])
def test_query_count_does_not_grow_with_sessions(client, therapist, client_a, who):
    url = PORTAL_URL if who == "client" else clinician_url(client_a)
    client.force_login(client_a.user if who == "client" else therapist)
    factories.make_session(client_a, therapist, signed=True, uses=[("swedish", "neck", "light")])
    few = _queries(client, url)
    for days in range(2, 8):
        session = factories.make_session(
            client_a,
            therapist,
            signed=True,
            started_at=timezone.now() - dt.timedelta(days=days),
            uses=[("reiki", "head", "light")],
        )
        session_amend(session=session, author=therapist, reason="Typo", changes={"pain_after": 2})
    assert _queries(client, url) == few


# The signed-in user and their session, the client, sessions, technique rows, amendments, phases, measures' rows
# where installed, intakes and consents (issue 15), and the audit event with its chain head.
CLINICIAN_QUERIES = 14


def test_query_count_is_pinned(client, therapist, client_a, signed_session, django_assert_num_queries):
    client.force_login(therapist)
    with django_assert_num_queries(CLINICIAN_QUERIES):
        assert client.get(clinician_url(client_a)).status_code == 200


def test_downloads_are_audited_as_exports(client, therapist, owner, client_a):
    client.force_login(client_a.user)
    client.get(PORTAL_URL)
    client.force_login(owner)
    client.get(clinician_url(client_a))
    events = AuditEvent.objects.filter(object_type="fhir_json", client_id=client_a.pk).order_by("sequence")
    assert [(e.action, e.actor_username) for e in events] == [("export", "client_a"), ("export", "owner")]


def test_a_therapist_who_does_not_care_for_the_client_gets_a_404(client, other_therapist, client_a):
    client.force_login(other_therapist)
    assert client.get(clinician_url(client_a)).status_code == 404
    assert AuditEvent.objects.filter(action="access_denied", client_id=client_a.pk).exists()


@pytest.mark.skipif(not fhir.measures_installed(), reason="measures not installed: no MFIS-5/PDDS models yet")
def test_questionnaires_are_exported_as_questionnaire_and_response(client, therapist, client_a):
    from measures.services import questionnaire_amend
    from tests.measures.helpers import make_instrument, mfis5, submitted

    mfis = submitted(client_a, mfis5(), [3, 3, 2, 2, 1], by=client_a.user, days_ago=30)
    submitted(client_a, mfis5(), [1, 1, 1, 1, 1], by=client_a.user)
    submitted(client_a, make_instrument(), [2, 0, 0], by=therapist)
    questionnaire_amend(response=mfis, author=therapist, reason="Misread", answers={"mfis5-5": 2})
    client.force_login(client_a.user)
    bundle = download(client, PORTAL_URL)
    questionnaires = {q["url"]: q for q in resources(bundle, "Questionnaire")}
    assert len(questionnaires) == 2
    mfis_q = next(q for q in questionnaires.values() if q["title"].startswith("Modified Fatigue"))
    # The stem first, as the client saw it above each question, and the recall period: the answers' meaning.
    assert mfis_q["item"][0] == {
        "linkId": "mfis5-stem",
        "text": "Because of my fatigue during the past 4 weeks:",
        "type": "display",
    }
    assert [i["linkId"] for i in mfis_q["item"]][1:] == [f"mfis5-{n}" for n in range(1, 6)]
    assert mfis_q["description"] == "MFIS-5. Recall period: the past 4 weeks."
    responses = resources(bundle, "QuestionnaireResponse")
    assert len(responses) == 3 and all(r["questionnaire"] in questionnaires for r in responses)
    first = responses[0]
    assert first["status"] == "completed"
    assert [i["answer"][0]["valueCoding"]["code"] for i in first["item"]] == ["3", "3", "2", "2", "2"]  # amended
    totals = [
        o for o in resources(bundle, "Observation") if any(c["code"].endswith("-total") for c in o["code"]["coding"])
    ]
    assert [o["valueInteger"] for o in totals] == [12, 5, 2]


@pytest.mark.skipif(not fhir.measures_installed(), reason="measures not installed")
def test_answers_are_exported_in_the_instruments_item_order_whatever_order_they_were_stored_in(client, client_a):
    from measures.models import QuestionnaireResponse
    from tests.measures.helpers import OPTIONS, make_instrument

    # PostgreSQL's jsonb orders keys by length, then bytes ("ord-a", "ord-b", "ord-c-long"); SQLite keeps the order
    # stored (reversed here). The instrument's order is neither.
    link_ids = ["ord-c-long", "ord-b", "ord-a"]
    items = [{"link_id": link_id, "text": link_id, "options": OPTIONS} for link_id in link_ids]
    instrument = make_instrument("ord", instructions="", recall_period="", items=items)
    answers = {"ord-a": 0, "ord-b": 1, "ord-c-long": 2}
    QuestionnaireResponse.objects.create(
        client=client_a,
        instrument=instrument,
        status="submitted",
        started_at=timezone.now(),
        submitted_at=timezone.now(),
        answers=answers,
        score=3,
        entered_by=client_a.user,
        entered_in="portal",
    )
    client.force_login(client_a.user)
    bundle = download(client, PORTAL_URL)
    (questionnaire,) = resources(bundle, "Questionnaire")
    assert [i["linkId"] for i in questionnaire["item"]] == link_ids  # no stem item, no description without them
    assert "description" not in questionnaire
    (response,) = resources(bundle, "QuestionnaireResponse")
    assert [(i["linkId"], i["answer"][0]["valueCoding"]["code"]) for i in response["item"]] == [
        ("ord-c-long", "2"),
        ("ord-b", "1"),
        ("ord-a", "0"),
    ]
