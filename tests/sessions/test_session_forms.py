"""The session form's parts on their own, and the safety screen in the admin's session form."""

from decimal import Decimal

import pytest
from django.urls import reverse

from clients.models import Phase
from sessions.forms import (
    AmendmentForm,
    TechniqueUseFormSet,
    findings_fingerprint,
    techniques_for_form,
)
from sessions.models import Technique, TreatmentSession
from sessions.safety import Finding, Severity
from sessions.services import session_amend
from tests import factories
from tests.practice.world import admin_session_post

pytestmark = pytest.mark.django_db


def rows_formset(*rows):
    data = {"uses-TOTAL_FORMS": str(len(rows)), "uses-INITIAL_FORMS": "0"}
    for index, (technique, region, pressure) in enumerate(rows):
        data.update(
            {
                f"uses-{index}-technique": str(technique.pk) if technique else "",
                f"uses-{index}-body_region": region,
                f"uses-{index}-pressure": pressure,
            }
        )
    return TechniqueUseFormSet(data, prefix="uses", techniques=techniques_for_form())


# --- technique rows ---------------------------------------------------------------------


def test_rows_become_planned_uses_and_blank_rows_are_left_out():
    swedish, reflexology = factories.technique("swedish"), factories.technique("reflexology")
    formset = rows_formset((swedish, "neck", "moderate"), (None, "", "light"), (reflexology, "foot_left", "light"))
    assert formset.is_valid()
    uses = formset.planned_uses()
    assert [(u.technique, u.body_region, u.pressure) for u in uses] == [
        (swedish, "neck", "moderate"),
        (reflexology, "foot_left", "light"),
    ]


def test_a_row_ticked_for_removal_is_left_out_even_if_incomplete():
    formset = rows_formset(
        (factories.technique("swedish"), "neck", "light"), (factories.technique("shiatsu"), "", "light")
    )
    formset.data = {**formset.data, "uses-1-DELETE": "on"}
    assert formset.is_valid(), formset.errors
    assert len(formset.planned_uses()) == 1


def test_a_row_with_an_unknown_pressure_is_refused():
    formset = rows_formset((factories.technique("swedish"), "neck", "crushing"))
    assert not formset.is_valid()
    assert formset.forms[0].errors["pressure"] == ["Choose a pressure from the list."]


def test_a_row_with_an_unknown_region_is_refused():
    formset = rows_formset((factories.technique("swedish"), "tail", "light"))
    assert not formset.is_valid()
    assert formset.forms[0].errors["body_region"] == ["Choose a body region from the list."]


def test_rows_load_the_catalogue_once_whatever_the_number_of_rows(django_assert_num_queries):
    swedish = factories.technique("swedish")
    with django_assert_num_queries(1):
        formset = rows_formset(*[(swedish, region, "light") for region in ("neck", "head", "hip_left", "calf_left")])
        assert formset.is_valid()
        formset.as_div()


def test_technique_choices_are_grouped_by_ms_guidance():
    formset = rows_formset()
    groups = [label for label, _options in formset.technique_choices[1:]]
    assert groups == ["Recommended", "Use with caution", "Avoid"]
    avoid = dict(formset.technique_choices[1:])["Avoid"]
    assert {name for _pk, name in avoid} == {
        "Deep tissue massage",
        "Hot stone massage",
        "Rolfing / structural integration",
    }


def test_a_retired_technique_stays_available_to_the_session_that_used_it(client_a, therapist):
    session = factories.make_session(client_a, therapist, uses=[("shiatsu", "neck", "light")])
    Technique.objects.filter(slug="shiatsu").update(is_active=False)
    assert "shiatsu" not in {t.slug for t in techniques_for_form()}
    assert "shiatsu" in {t.slug for t in techniques_for_form(session)}
    assert len(techniques_for_form(session)) == Technique.objects.count()


# --- the review fingerprint -------------------------------------------------------------


def test_fingerprint_ignores_info_and_changes_with_any_stop_or_caution():
    stop = Finding(Severity.STOP, "acute_flare", "Flare.")
    caution = Finding(Severity.CAUTION, "warm_room", "Warm (25 °C).")
    info = Finding(Severity.INFO, "cold_sensitive", "Cold.")
    assert findings_fingerprint([stop, caution]) == findings_fingerprint([stop, caution, info])
    assert findings_fingerprint([stop, caution]) != findings_fingerprint([stop])
    assert findings_fingerprint([caution]) != findings_fingerprint(
        [Finding(Severity.CAUTION, "warm_room", "Warm (27 °C).")]
    )


# --- amendments -------------------------------------------------------------------------


def amendment_form(session, **changes):
    data = {
        "duration_minutes": session.duration_minutes,
        "setting": session.setting,
        "room_temperature_c": session.room_temperature_c or "",
        "pain_before": session.pain_before,
        "fatigue_before": session.fatigue_before,
        "pain_after": session.pain_after,
        "fatigue_after": session.fatigue_after,
        "reason": "Correction.",
    }
    data.update(changes)
    return AmendmentForm({k: "" if v is None else str(v) for k, v in data.items()}, session=session)


def test_amendment_changes_are_only_the_values_that_differ(client_a, therapist):
    session = factories.make_session(client_a, therapist, signed=True, room_temperature_c=Decimal("22.5"))
    form = amendment_form(session, room_temperature_c="22.5", fatigue_after=1, plan="Rest more.")
    assert form.is_valid(), form.errors
    assert form.changes() == {"fatigue_after": 1, "plan": "Rest more."}


def test_amendment_compares_with_values_as_already_amended(client_a, therapist):
    session = factories.make_session(client_a, therapist, signed=True, room_temperature_c=Decimal("22.5"))
    session_amend(
        session=session, author=therapist, reason="Thermometer was wrong.", changes={"room_temperature_c": "23"}
    )
    form = amendment_form(session, room_temperature_c="23")
    assert not form.is_valid()
    assert form.non_field_errors() == ["Change at least one value to record a correction."]
    form = amendment_form(session, room_temperature_c="22.5")
    assert form.is_valid(), form.errors
    assert form.changes() == {"room_temperature_c": Decimal("22.5")}


def test_amendment_cannot_clear_an_after_score(client_a, therapist):
    session = factories.make_session(client_a, therapist, signed=True)
    form = amendment_form(session, pain_after=None)
    assert not form.is_valid()
    assert form.errors["pain_after"] == ["Tap a score from 0 (none) to 10 (worst imaginable)."]


# --- the admin's session form runs the safety screen -----------------------------------------


@pytest.fixture
def admin_client_for_owner(client, owner):
    client.force_login(owner)
    return client


ADD_URL = reverse("admin:treatment_sessions_treatmentsession_add")


def test_admin_refuses_a_session_with_a_safety_stop_and_no_override_reason(admin_client_for_owner, therapist, client_a):
    data = admin_session_post(client_a, therapist, ("hot-stone", "upper_back", "light"))
    response = admin_client_for_owner.post(ADD_URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Safety stop: Hot stone massage (upper back) is a technique to avoid in MS" in html
    assert "write why you are going ahead in the Safety section" in html
    assert not TreatmentSession.objects.exists()


def test_admin_saves_a_session_with_a_safety_stop_and_an_override_reason(admin_client_for_owner, therapist):
    person = factories.make_client(therapists=[therapist])
    factories.make_phase(person, Phase.ACUTE_FLARE)
    data = admin_session_post(
        person, therapist, ("reflexology", "foot_left", "light"), safety_override_reason="Physician agreed."
    )
    response = admin_client_for_owner.post(ADD_URL, data, follow=True)
    session = TreatmentSession.objects.get()
    assert session.safety_override_reason == "Physician agreed."
    assert "Safety stop: In an acute flare (relapse)" in response.content.decode()


def test_admin_saves_a_session_with_cautions_and_shows_them(admin_client_for_owner, therapist, client_a):
    data = admin_session_post(client_a, therapist, ("swedish", "neck", "light"), room_temperature_c="26")
    response = admin_client_for_owner.post(ADD_URL, data, follow=True)
    assert TreatmentSession.objects.count() == 1
    assert "Safety caution: The room is warm (26 °C)" in response.content.decode()
