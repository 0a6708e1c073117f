"""The intake, the consents and the check-in's symptom questions, as the client uses them in the portal."""

import re

import pytest
from django.utils import timezone

from clients.intake import consent_agree, consent_text_add
from clients.models import Consent, ConsentKind, ConsentWithdrawal, Intake, IntakeStatus, SelfReport
from portal.intake import STEPS
from practice.models import AuditEvent

pytestmark = pytest.mark.django_db

MS, SYMPTOMS, HEAT, COLD, CONDITIONS, MEDICINES, INJURY, PREGNANCY, SENSATION, SORES, GOALS, NEURO, EMERGENCY = (
    f"/portal/intake/step/{step.slug}/" for step in STEPS
)
ANSWERS = {
    MS: {"ms_type": "rrms", "diagnosis_year": "2016"},
    SYMPTOMS: {"new_or_worse_symptoms_30_days": "no"},
    HEAT: {"heat_sensitive": "yes"},
    COLD: {"cold_sensitive": "unsure"},
    CONDITIONS: {"conditions_needing_clearance": ["osteoporosis"]},
    MEDICINES: {"medications": "Baclofen 10 mg"},
    INJURY: {"recent_injury_or_surgery": ""},
    PREGNANCY: {"pregnant": "no"},
    SENSATION: {"reduced_sensation_regions": ["hand_left", "foot_right"]},
    SORES: {"pressure_sore_regions": ["lower_back"]},
    GOALS: {"goals": ["pain", "sleep"]},
    NEURO: {"name": "Dr Nadia Rahman", "phone": "020 7946 0000"},
    EMERGENCY: {"name": "Bob Ashby", "relationship": "Husband", "phone": "07700 900123"},
}


@pytest.fixture
def signed_in(client, client_a):
    client.force_login(client_a.user)
    return client


@pytest.fixture
def texts(owner):
    consent_text_add(kind=ConsentKind.TREATMENT, text="TREATMENT-TEXT I agree to massage.", created_by=owner)
    consent_text_add(kind=ConsentKind.DATA_USE, text="DATA-TEXT The practice keeps my record.", created_by=owner)


def _actions(client_a) -> list[tuple[str, str]]:
    return list(AuditEvent.objects.filter(client_id=client_a.pk).values_list("action", "object_type"))


def test_a_new_client_is_offered_the_intake_and_starts_it(signed_in, client_a):
    page = signed_in.get("/portal/intake/").content.decode()
    assert "My health details" in page and "Start" in page
    assert 'href="/portal/intake/"' in signed_in.get("/portal/").content.decode()  # in the portal's menu
    response = signed_in.post("/portal/intake/start/")
    assert response.status_code == 302 and response["Location"] == MS
    intake = Intake.objects.get(client=client_a)
    assert intake.status == IntakeStatus.IN_PROGRESS and intake.started_at is not None
    assert ("create", "intake") in _actions(client_a)


def test_the_intake_over_two_visits_saves_every_screen_and_resumes(client, client_a):
    client.force_login(client_a.user)
    client.post("/portal/intake/start/")
    steps = list(ANSWERS.items())
    for address, data in steps[:6]:
        response = client.post(address, {**data, "next": ""})
        assert response.status_code == 302, response.content.decode()[:2000]
    # Leaving half-way: the seventh screen is saved with "Save and stop for now", then the browser is closed.
    response = client.post(steps[6][0], {**steps[6][1], "stop": ""})
    assert response["Location"] == "/portal/intake/"
    client.logout()

    # The next day: signed in again, the portal carries on from the eighth screen.
    client.force_login(client_a.user)
    page = client.get("/portal/intake/").content.decode()
    assert "You have answered 7 of 13 screens." in page
    assert f'href="{PREGNANCY}"' in page and "Continue where I left off" in page
    assert "checked" in client.get(MS).content.decode()  # what was saved is shown again
    for address, data in steps[7:]:
        assert client.post(address, data).status_code == 302
    review = client.get("/portal/intake/review/").content.decode()
    for words in (
        "Relapsing-remitting (RRMS)",
        "2016",
        "Osteoporosis",
        "Baclofen 10 mg",
        "Left hand, Right foot",
        "Lower back",
        "Less pain, Better sleep",
        "Dr Nadia Rahman, 020 7946 0000",
        "Bob Ashby, Husband",
    ):
        assert words in review
    assert client.post("/portal/intake/review/").status_code == 302
    intake = Intake.objects.get(client=client_a)
    assert intake.status == IntakeStatus.SUBMITTED and intake.step == len(STEPS)
    assert intake.answers == {
        "ms_type": "rrms",
        "diagnosis_year": 2016,
        "new_or_worse_symptoms_30_days": False,
        "heat_sensitive": True,
        "cold_sensitive": None,
        "conditions_needing_clearance": ["osteoporosis"],
        "medications": "Baclofen 10 mg",
        "recent_injury_or_surgery": "",
        "pregnant": False,
        "reduced_sensation_regions": ["hand_left", "foot_right"],
        "pressure_sore_regions": ["lower_back"],
        "goals": ["pain", "sleep"],
        "neurologist_contact": {"name": "Dr Nadia Rahman", "phone": "020 7946 0000"},
        "emergency_contact": {"name": "Bob Ashby", "relationship": "Husband", "phone": "07700 900123"},
    }
    # Nothing the client typed changed the record: the therapist reviews it first.
    client_a.refresh_from_db()
    assert (client_a.ms_type, client_a.reduced_sensation_regions, client_a.goals) == ("unknown", [], [])
    # Sent: the screens no longer take answers, and the overview says it waits for the therapist.
    assert client.get(MS)["Location"] == "/portal/intake/"
    assert client.post(MS, ANSWERS[MS])["Location"] == "/portal/intake/"
    assert "has not gone through them yet" in client.get("/portal/intake/").content.decode()
    assert ("change", "intake") in _actions(client_a)


def test_pregnancy_and_a_recent_operation_join_the_clearance_list(signed_in, client_a):
    signed_in.post("/portal/intake/start/")
    signed_in.post(CONDITIONS, {"conditions_needing_clearance": ["edema"]})
    signed_in.post(INJURY, {"recent_injury_or_surgery": "Knee operation in May"})
    signed_in.post(PREGNANCY, {"pregnant": "yes"})
    answers = Intake.objects.get().answers
    assert answers["conditions_needing_clearance"] == ["edema", "recent_injury_surgery", "pregnancy"]
    # The conditions screen lists neither (each has its own screen), and saving it again keeps them.
    page = signed_in.get(CONDITIONS).content.decode()
    assert 'value="pregnancy"' not in page and 'value="recent_injury_surgery"' not in page
    signed_in.post(CONDITIONS, {"conditions_needing_clearance": ["cancer"]})
    signed_in.post(PREGNANCY, {"pregnant": "no"})
    assert Intake.objects.get().answers["conditions_needing_clearance"] == ["cancer", "recent_injury_surgery"]


@pytest.mark.parametrize(
    ("address", "data", "message"),
    [
        (MS, {}, "Choose your type of MS"),
        (MS, {"ms_type": "rrms", "diagnosis_year": "1800"}, "greater than or equal to 1940"),
        (MS, {"ms_type": "rrms", "diagnosis_year": str(timezone.localdate().year + 1)}, "cannot be in the future"),
        (MS, {"ms_type": "sometimes"}, "Choose your type of MS"),
        (HEAT, {}, "Choose one answer."),
        (SENSATION, {"reduced_sensation_regions": ["tail"]}, "Choose from the list."),
        (MEDICINES, {"medications": "x" * 2001}, "at most 2000 characters"),
    ],
)
def test_bad_answers_get_a_clear_message_and_nothing_is_saved(signed_in, address, data, message):
    signed_in.post("/portal/intake/start/")
    response = signed_in.post(address, data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert Intake.objects.get().answers == {}


def test_an_unknown_screen_is_a_404_and_screens_need_a_started_intake(signed_in):
    assert signed_in.get(MS)["Location"] == "/portal/intake/"
    assert signed_in.get("/portal/intake/review/")["Location"] == "/portal/intake/"
    signed_in.post("/portal/intake/start/")
    assert signed_in.get("/portal/intake/step/shoe-size/").status_code == 404


def test_the_body_map_screens_draw_the_map_and_work_without_it(signed_in):
    signed_in.post("/portal/intake/start/")
    signed_in.post(SENSATION, {"reduced_sensation_regions": ["hand_left"]})
    page = signed_in.get(SENSATION).content.decode()
    assert "body-map--interactive" in page and "portal/intake_body_map" in page
    # The map shows what is ticked; the checkboxes carry the answer without JavaScript.
    assert re.search(r'class="body-map__region is-selected" [^>]*data-region="hand_left"', page)
    assert re.search(r'type="checkbox" name="reduced_sensation_regions" id="[^"]+" value="hand_left" checked', page)
    assert 'id="intake-form"' in page  # typed answers are kept through an idle sign-out (practice.autosave)


def test_a_therapists_request_is_shown_and_taken_up(signed_in, client_a, therapist):
    from clients.intake import request_intake_update

    request_intake_update(client=client_a, by=therapist)
    assert "Your therapist has asked you to update" in signed_in.get("/portal/intake/").content.decode()
    signed_in.post("/portal/intake/start/")
    assert Intake.objects.count() == 1


def test_the_intake_pages_query_counts_are_pinned(signed_in, client_a, texts, django_assert_num_queries):
    signed_in.post("/portal/intake/start/")
    # web session, user, client profile, roles; the open intake; three for the audit event.
    with django_assert_num_queries(8):
        signed_in.get(SENSATION)
    # ... as above, and two for the intake due check, the last sent, the consent texts, the current consents.
    with django_assert_num_queries(13):
        signed_in.get("/portal/intake/")
    with django_assert_num_queries(8):
        signed_in.get("/portal/intake/review/")
    # web session, user, client profile, roles; consent texts, current consents, history; three for the audit.
    with django_assert_num_queries(10):
        signed_in.get("/portal/intake/consent/")


# --- consents


def test_the_client_agrees_by_typing_their_name_and_sees_it_shown_back(signed_in, client_a, texts):
    page = signed_in.get("/portal/intake/consent/").content.decode()
    assert "TREATMENT-TEXT" in page and "DATA-TEXT" in page and "Version 1" in page
    response = signed_in.post(
        "/portal/intake/consent/", {"kind": "treatment", "typed_name": "Alice Ashby"}, follow=True
    )
    page = response.content.decode()
    consent = Consent.objects.get()
    agreed = timezone.localtime(consent.agreed_at)
    assert "You agreed to “Consent to treatment”, version 1" in page
    assert f"You agreed to version 1 on {agreed:%-d %b %Y} at {agreed:%H:%M}, by typing “Alice Ashby”" in page
    assert ("create", "consent") in _actions(client_a)


def test_agreeing_without_a_name_is_refused_clearly(signed_in, texts):
    response = signed_in.post("/portal/intake/consent/", {"kind": "treatment", "typed_name": " "})
    assert response.status_code == 400
    assert "Type your full name to agree." in response.content.decode()
    response = signed_in.post("/portal/intake/consent/", {"kind": "marketing", "typed_name": "Alice"})
    assert response.status_code == 400
    assert not Consent.objects.exists()


def test_without_a_text_there_is_nothing_to_agree_to(signed_in):
    page = signed_in.get("/portal/intake/consent/").content.decode()
    assert page.count("The practice has not written this consent yet.") == 2
    assert signed_in.post("/portal/intake/consent/", {"kind": "treatment", "typed_name": "Alice"}).status_code == 400


def test_submitting_the_intake_leads_to_the_consents_still_needed(signed_in, texts):
    signed_in.post("/portal/intake/start/")
    assert signed_in.post("/portal/intake/review/")["Location"] == "/portal/intake/consent/"


def test_the_data_use_consent_is_withdrawn_from_the_portal(signed_in, client_a, texts):
    consent = consent_agree(client=client_a, kind=ConsentKind.DATA_USE, typed_name="Alice Ashby", recorded_by=None)
    page = signed_in.get("/portal/intake/consent/").content.decode()
    assert f'href="/portal/intake/consent/{consent.pk}/withdraw/"' in page
    address = f"/portal/intake/consent/{consent.pk}/withdraw/"
    assert signed_in.post(address, {"typed_name": ""}).status_code == 400
    response = signed_in.post(address, {"typed_name": "Alice Ashby"}, follow=True)
    assert "Your consent is withdrawn" in response.content.decode()
    assert ConsentWithdrawal.objects.get().consent == consent
    again = signed_in.get(address, follow=True)  # withdrawn already: back to the consents, with a word why
    assert "This consent is withdrawn already." in again.content.decode()
    assert ("change", "consent_withdrawal") in _actions(client_a)


def test_consent_to_treatment_and_other_clients_consents_cannot_be_withdrawn_here(signed_in, client_a, client_b, texts):
    treatment = consent_agree(client=client_a, kind=ConsentKind.TREATMENT, typed_name="Alice Ashby", recorded_by=None)
    others = consent_agree(client=client_b, kind=ConsentKind.DATA_USE, typed_name="Boris Bexley", recorded_by=None)
    refused = signed_in.get(f"/portal/intake/consent/{treatment.pk}/withdraw/", follow=True).content.decode()
    assert "Consent to treatment is withdrawn by telling your therapist" in refused
    response = signed_in.post(f"/portal/intake/consent/{others.pk}/withdraw/", {"typed_name": "Alice Ashby"})
    assert response.status_code == 404 and "Boris" not in response.content.decode()
    assert not ConsentWithdrawal.objects.exists()
    assert AuditEvent.objects.filter(action="access_denied", object_type="consent", client_id=client_b.pk).exists()


# --- "How I feel today": a new or worse symptom


def test_a_new_or_worse_symptom_leads_to_the_relapse_questions(signed_in, client_a):
    response = signed_in.post("/portal/today/", {"pain": "4", "fatigue": "6", "new_or_worse_symptom": "yes"})
    assert response["Location"] == "/portal/today/symptom/"
    page = signed_in.get("/portal/today/symptom/").content.decode()
    assert "Has it lasted more than 24 hours?" in page and "What to do now" not in page
    answers = {
        "lasted_over_24_hours": "yes",
        "days_since_last_relapse_began": "30_or_more",
        "fever_or_infection": "no",
        "explained_by_heat": "no",
    }
    page = signed_in.post("/portal/today/symptom/", answers, follow=True).content.decode()
    assert "could be a relapse. Please contact your MS team" in page
    assert "This is not a diagnosis" in page
    report = SelfReport.objects.get()
    assert (report.pain, report.new_or_worse_symptom, report.triage) == (4, True, "possible_relapse")
    assert ("change", "self_report") in _actions(client_a)
    # Saving the day's scores again keeps the answers; the questions come back filled in.
    signed_in.post("/portal/today/", {"pain": "5", "fatigue": "6", "new_or_worse_symptom": "yes"})
    report.refresh_from_db()
    assert (report.pain, report.triage, report.explained_by_heat) == (5, "possible_relapse", "no")


def test_heat_reads_as_a_likely_pseudo_relapse(signed_in):
    signed_in.post("/portal/today/", {"pain": "4", "fatigue": "6", "new_or_worse_symptom": "yes"})
    answers = {
        "lasted_over_24_hours": "no",
        "days_since_last_relapse_began": "dont_know",
        "fever_or_infection": "no",
        "explained_by_heat": "yes",
    }
    page = signed_in.post("/portal/today/symptom/", answers, follow=True).content.decode()
    assert "more like a pseudo-relapse" in page and "This is not a diagnosis" in page
    assert SelfReport.objects.get().triage == "likely_pseudo_relapse"


def test_the_symptom_questions_must_all_be_answered(signed_in):
    signed_in.post("/portal/today/", {"pain": "4", "fatigue": "6", "new_or_worse_symptom": "yes"})
    response = signed_in.post("/portal/today/symptom/", {"lasted_over_24_hours": "maybe"})
    assert response.status_code == 400
    assert response.content.decode().count("Choose one answer.") == 4
    assert SelfReport.objects.get().triage == "unclear"  # a new symptom, not yet described


def test_no_symptom_no_questions_and_saying_no_clears_them(signed_in):
    assert signed_in.get("/portal/today/symptom/")["Location"] == "/portal/today/"
    signed_in.post("/portal/today/", {"pain": "4", "fatigue": "6", "new_or_worse_symptom": "yes"})
    signed_in.post(
        "/portal/today/symptom/",
        {
            "lasted_over_24_hours": "yes",
            "days_since_last_relapse_began": "30_or_more",
            "fever_or_infection": "no",
            "explained_by_heat": "no",
        },
    )
    assert (
        signed_in.post("/portal/today/", {"pain": "4", "fatigue": "6", "new_or_worse_symptom": "no"})["Location"]
        == "/portal/"
    )
    report = SelfReport.objects.get()
    assert (report.new_or_worse_symptom, report.triage, report.lasted_over_24_hours) == (False, "", "")
    assert signed_in.get("/portal/today/symptom/")["Location"] == "/portal/today/"
