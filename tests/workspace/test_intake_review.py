"""The therapist's review of the client's intake: field by field, accepted into the record knowingly (issue 15)."""

import pytest
from django.urls import reverse

from clients.intake import intake_answer, intake_start, intake_submit
from clients.intake_review import intake_accept
from clients.models import Client, Intake, IntakeStatus
from practice.models import AuditEvent
from sessions.safety import PlannedUse
from sessions.screening import screen_planned_session
from tests import factories

pytestmark = pytest.mark.django_db

ANSWERS = {
    "ms_type": "rrms",
    "diagnosis_year": 2015,
    "cold_sensitive": True,
    "reduced_sensation_regions": ["foot_left", "hand_right"],
    "pressure_sore_regions": ["hip_left"],
    "neurologist_contact": {"name": "Dr Nkemelu", "phone": "01632 960111"},
    "medications": "Ocrelizumab",
    "pregnant": False,
}


def submitted(client: Client, answers: dict | None = None) -> Intake:
    intake = intake_start(client=client)
    intake_answer(intake=intake, answers=ANSWERS if answers is None else answers, step=3)
    return intake_submit(intake=intake)


def review_url(intake: Intake) -> str:
    return reverse("clients:intake_review", args=[intake.client_id, intake.pk])


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


def test_the_caseload_and_the_record_link_to_an_intake_waiting_for_review(maria, client_a, client_b):
    intake = submitted(client_a)
    caseload = maria.get(reverse("clients:caseload")).content.decode()
    assert "Intake waiting for review" in caseload and review_url(intake) in caseload
    record = maria.get(reverse("clients:detail", args=[client_a.pk])).content.decode()
    assert 'data-intake="waiting"' in record and review_url(intake) in record


def test_an_intake_still_being_filled_in_is_not_waiting_and_cannot_be_opened(maria, client_a):
    intake = intake_start(client=client_a)
    intake_answer(intake=intake, answers={"cold_sensitive": True}, step=1)
    assert "Intake waiting for review" not in maria.get(reverse("clients:caseload")).content.decode()
    assert maria.get(review_url(intake)).status_code == 404


def test_the_review_shows_what_the_client_said_beside_the_record_nothing_ticked(maria, client_a):
    client_a.reduced_sensation_regions = ["calf_left"]
    client_a.save()
    intake = submitted(client_a)
    response = maria.get(review_url(intake))
    html = response.content.decode()
    assert response.status_code == 200
    rows = {row.field: row for row in response.context["rows"]}
    assert rows["reduced_sensation_regions"].offered and rows["reduced_sensation_regions"].recorded == ["calf_left"]
    # Body maps both ways for each region question, and no box ticked by default.
    assert html.count("body-map__svg") == 4
    assert 'name="accept"' in html and "checked" not in html.split('id="intake-review"')[1].split("</form>")[0]
    assert "Ocrelizumab" in html  # what only the intake holds is there to read
    assert AuditEvent.objects.filter(action="read", object_type="intake", object_id=str(intake.pk)).exists()


def test_accepting_some_answers_changes_only_those_with_history_naming_the_intake(maria, therapist, client_a):
    intake = submitted(client_a)
    response = maria.post(review_url(intake), {"accept": ["reduced_sensation_regions", "neurologist_contact"]})
    assert response.status_code == 302
    client_a.refresh_from_db()
    assert client_a.reduced_sensation_regions == ["foot_left", "hand_right"]
    assert (client_a.neurologist_name, client_a.neurologist_phone) == ("Dr Nkemelu", "01632 960111")
    assert client_a.pressure_sore_regions == [] and client_a.cold_sensitive is False and client_a.ms_type != "rrms"
    latest = client_a.history.order_by("-history_date").first()
    assert latest.history_change_reason == f"Accepted from intake #{intake.pk}"
    assert latest.history_user == therapist
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.REVIEWED and intake.reviewed_by == therapist
    assert intake.accepted_fields == ["reduced_sensation_regions", "neurologist_contact"]
    assert AuditEvent.objects.filter(action="change", object_type="intake", object_id=str(intake.pk)).exists()
    assert AuditEvent.objects.filter(action="change", object_type="client", object_id=str(client_a.pk)).exists()


def test_the_safety_screen_reflects_exactly_what_was_accepted(therapist, client_a):
    intake = submitted(client_a)
    intake_accept(intake=intake, reviewed_by=therapist, accepted_fields=["reduced_sensation_regions"])
    client_a.refresh_from_db()
    swedish = factories.technique("swedish")
    codes = {
        f.code
        for f in screen_planned_session(
            client=client_a,
            when=client_a.created_at,
            uses=[PlannedUse(swedish, "foot_left", "firm"), PlannedUse(swedish, "hip_left", "light")],
        )
    }
    assert "pressure_on_reduced_sensation" in codes  # accepted: firm pressure on a numb foot is a stop
    assert "pressure_sore_region" not in codes  # not accepted: the sore the client marked is not on the record


def test_nothing_accepted_leaves_the_record_as_it_was_and_marks_the_intake_reviewed(maria, client_a):
    before = Client.objects.filter(pk=client_a.pk).values().get()
    history = client_a.history.count()
    intake = submitted(client_a)
    assert maria.post(review_url(intake), {}).status_code == 302
    assert Client.objects.filter(pk=client_a.pk).values().get() == before
    assert client_a.history.count() == history
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.REVIEWED and intake.accepted_fields == []


def test_a_forged_or_repeated_acceptance_is_refused_with_a_message_and_nothing_changes(maria, client_a):
    intake = submitted(client_a)
    response = maria.post(review_url(intake), {"accept": ["medications"]})
    assert response.status_code == 400
    assert "not differences to accept" in response.content.decode()
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.SUBMITTED
    maria.post(review_url(intake), {"accept": ["cold_sensitive"]})
    again = maria.post(review_url(intake), {"accept": ["pressure_sore_regions"]})
    assert again.status_code == 400 and "reviewed already" in again.content.decode()
    client_a.refresh_from_db()
    assert client_a.cold_sensitive is True and client_a.pressure_sore_regions == []


def test_an_unknown_intake_answer_of_ms_type_never_overwrites_the_record(maria, client_a):
    client_a.ms_type = "spms"
    client_a.save()
    intake = submitted(client_a, {"ms_type": "unknown", "diagnosis_year": None})
    rows = {row.field: row for row in maria.get(review_url(intake)).context["rows"]}
    assert not rows["ms_type"].offered and not rows["diagnosis_year"].offered


def test_another_therapists_intake_is_a_404(client, other_therapist, client_a):
    intake = submitted(client_a)
    client.force_login(other_therapist)
    assert client.get(review_url(intake)).status_code == 404
    assert client.post(review_url(intake), {"accept": ["cold_sensitive"]}).status_code == 404
    intake.refresh_from_db()
    assert intake.status == IntakeStatus.SUBMITTED


def test_the_review_page_query_count_is_pinned(maria, client_a, django_assert_num_queries):
    intake = submitted(client_a)
    maria.get(review_url(intake))
    with django_assert_num_queries(REVIEW_QUERIES):
        maria.get(review_url(intake))


def test_the_caseload_and_record_query_counts_do_not_grow_with_intakes(maria, therapist, django_assert_num_queries):
    people = [factories.make_client(therapists=[therapist]) for _ in range(3)]
    submitted(people[0])
    maria.get(reverse("clients:caseload"))
    with django_assert_num_queries(CASELOAD_QUERIES):
        maria.get(reverse("clients:caseload"))
    for person in people[1:]:
        submitted(person)
    with django_assert_num_queries(CASELOAD_QUERIES):
        html = maria.get(reverse("clients:caseload")).content.decode()
    assert html.count('data-intake="waiting"') == 3
    url = reverse("clients:detail", args=[people[0].pk])
    maria.get(url)
    with django_assert_num_queries(RECORD_QUERIES):
        maria.get(url)


# The web session, the user and roles, the client, the intake (with its reviewer), the audit event (3); the same
# however many answers and regions.
REVIEW_QUERIES = 8
# As tests/workspace/test_caseload_drafts.py: the waiting intake and relapse facts are subqueries of the page.
CASELOAD_QUERIES = 6
# The web session, the user and roles; the client (its phase, last session, latest entries, intake and relapse
# facts as subqueries), its phases, the session count, its therapists, the newest questionnaire score; the audit
# event (3).
RECORD_QUERIES = 11


# --- the client's export and FHIR bundle carry the intakes and consents ---------------------------------------


def test_the_export_and_the_fhir_bundle_include_intakes_and_consents(client, client_a, therapist):
    import json

    from clients.intake import consent_agree, consent_withdraw
    from clients.models import ConsentKind
    from portal.exports import ClientExport
    from tests.portal.test_fhir import download, resources

    factories.make_consent_text()
    factories.make_consent_text(ConsentKind.DATA_USE, "We keep your record for 8 years.")
    treatment = consent_agree(client=client_a, kind=ConsentKind.TREATMENT, typed_name="Alice Ashby", recorded_by=None)
    data = consent_agree(client=client_a, kind=ConsentKind.DATA_USE, typed_name="Alice Ashby", recorded_by=None)
    consent_withdraw(consent=data, typed_name="Alice Ashby", recorded_by=None)
    intake = submitted(client_a)
    record = json.loads(ClientExport(client_a).record_json().content)
    assert [i["answers"]["medications"] for i in record["intakes"]] == ["Ocrelizumab"]
    assert {(c["version"], c["withdrawn_at"] is None) for c in record["consents"]} == {(1, True), (1, False)}

    client.force_login(client_a.user)
    bundle = download(client, "/portal/export/fhir.json")  # validated by fhir.resources, references resolved
    consents = {c["scope"]["coding"][0]["code"]: c for c in resources(bundle, "Consent")}
    assert consents["treatment"]["status"] == "active" and consents["patient-privacy"]["status"] == "inactive"
    assert treatment.consent_text.version == 1
    [response] = [r for r in resources(bundle, "QuestionnaireResponse") if r["questionnaire"].endswith("intake")]
    answers = {item["linkId"]: item["answer"] for item in response["item"]}
    assert answers["cold_sensitive"] == [{"valueBoolean": True}]
    assert [a["valueCoding"]["code"] for a in answers["reduced_sensation_regions"]] == ["foot_left", "hand_right"]
    assert intake.pk
