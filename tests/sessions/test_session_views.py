"""Logging, editing, signing and amending sessions through the therapist's pages."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from clients.models import Phase
from sessions.forms import EXTRA_ROWS_EDIT, EXTRA_ROWS_NEW
from sessions.models import SessionAmendment, SessionStatus, Technique, TechniqueUse, TreatmentSession
from tests import factories

pytestmark = pytest.mark.django_db


def when(hours_ago: float = 2) -> str:
    return (timezone.localtime() - dt.timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M")


def session_data(*rows, prefix: str = "uses", initial_rows: int = 0, **fields) -> dict:
    """A POST for the session form: fields by name, technique rows as (slug, region, pressure)."""
    data = {
        "started_at": when(),
        "duration_minutes": "60",
        "setting": "clinic",
        "room_temperature_c": "21",
        "pain_before": "4",
        "fatigue_before": "5",
        "pain_after": "",
        "fatigue_after": "",
        "subjective": "Tight shoulders after a long week.",
        "objective": "",
        "assessment": "",
        "plan": "",
        "client_summary": "Gentle work on shoulders and back.",
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial_rows),
    }
    for index, (slug, region, pressure) in enumerate(rows):
        technique = factories.technique(slug).pk if slug else ""
        data.update(
            {
                f"{prefix}-{index}-technique": str(technique),
                f"{prefix}-{index}-body_region": region,
                f"{prefix}-{index}-pressure": pressure,
            }
        )
    for name, value in fields.items():
        if value is None:
            data.pop(name, None)
        else:
            data[name] = str(value)
    return data


def values_of(response) -> dict:
    """The form on a rendered page as the browser would post it back (what the therapist sees typed)."""
    data = {}
    formset = response.context["formset"]
    forms = [response.context["form"], formset.management_form, *formset.forms]
    for form in forms:
        for bound in form:
            value = bound.value()
            if isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
                continue
            formatted = bound.field.widget.format_value(bound.field.prepare_value(value))
            if isinstance(formatted, list):  # selects format their value as a list
                formatted = formatted[0] if formatted else ""
            data[bound.html_name] = "" if formatted is None else str(formatted)
    return data


def new_url(client) -> str:
    return reverse("sessions:new", args=[client.pk])


def detail_url(session) -> str:
    return reverse("sessions:detail", args=[session.pk])


def edit_url(session) -> str:
    return reverse("sessions:edit", args=[session.pk])


def field_errors(response, name: str) -> list[str]:
    return list(response.context["form"].errors.get(name, []))


@pytest.fixture
def logged_in(client, therapist):
    client.force_login(therapist)
    return client


@pytest.fixture
def flare_client(therapist):
    person = factories.make_client(therapists=[therapist], first_name="Fiona", last_name="Flare")
    factories.make_phase(
        person,
        Phase.REMISSION,
        started_on=timezone.localdate() - dt.timedelta(days=200),
        ended_on=timezone.localdate() - dt.timedelta(days=5),
    )
    factories.make_phase(person, Phase.ACUTE_FLARE, started_on=timezone.localdate() - dt.timedelta(days=5))
    return person


@pytest.fixture
def draft(client_a, therapist):
    return factories.make_session(
        client_a, therapist, uses=[("swedish", "upper_back", "moderate"), ("reflexology", "foot_left", "light")]
    )


@pytest.fixture
def signed(client_a, therapist):
    return factories.make_session(client_a, therapist, uses=[("swedish", "neck", "light")], signed=True)


# --- access ------------------------------------------------------------------------


def test_caring_therapist_opens_the_new_session_form(logged_in, client_a):
    response = logged_in.get(new_url(client_a))
    assert response.status_code == 200
    assert "Log a session: Alice Ashby" in response.content.decode()


def test_owner_opens_the_new_session_form_for_any_client(client, owner, client_b):
    client.force_login(owner)
    assert client.get(new_url(client_b)).status_code == 200


def test_other_therapist_gets_404_for_a_client_they_do_not_care_for(client, other_therapist, client_a):
    client.force_login(other_therapist)
    assert client.get(new_url(client_a)).status_code == 404
    assert client.post(new_url(client_a), session_data(("swedish", "neck", "light"))).status_code == 404
    assert not TreatmentSession.objects.exists()


def test_client_user_gets_404_on_the_new_session_form(client, client_a):
    client.force_login(client_a.user)
    assert client.get(new_url(client_a)).status_code == 404


def test_anonymous_visitor_is_sent_to_sign_in(client, client_a, draft):
    for url in (new_url(client_a), detail_url(draft), edit_url(draft), reverse("sessions:amend", args=[draft.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))
    assert client.post(reverse("sessions:sign", args=[draft.pk])).status_code == 302


@pytest.mark.parametrize("name", ["sessions:detail", "sessions:edit", "sessions:amend"])
def test_other_therapist_cannot_open_another_therapists_client_session(client, other_therapist, draft, signed, name):
    client.force_login(other_therapist)
    assert client.get(reverse(name, args=[draft.pk])).status_code == 404
    assert client.get(reverse(name, args=[signed.pk])).status_code == 404


def test_other_therapist_cannot_sign_or_edit_another_therapists_client_session(client, other_therapist, draft):
    client.force_login(other_therapist)
    draft_data = session_data(("swedish", "neck", "light"), version=draft.version)
    assert client.post(edit_url(draft), draft_data).status_code == 404
    assert client.post(reverse("sessions:sign", args=[draft.pk])).status_code == 404
    draft.refresh_from_db()
    assert draft.status == SessionStatus.DRAFT
    assert draft.version == 1


@pytest.mark.parametrize("name", ["sessions:detail", "sessions:edit"])
def test_client_user_cannot_open_their_own_session_in_the_therapist_pages(client, client_a, draft, name):
    client.force_login(client_a.user)
    assert client.get(reverse(name, args=[draft.pk])).status_code == 404


def test_owner_opens_any_session(client, owner, draft):
    client.force_login(owner)
    assert client.get(detail_url(draft)).status_code == 200
    assert client.get(edit_url(draft)).status_code == 200


def test_archived_client_gets_no_new_sessions(logged_in, client_a):
    client_a.archive()
    response = logged_in.get(new_url(client_a), follow=True)
    assert response.redirect_chain[-1][0] == reverse("clients:detail", args=[client_a.pk])
    assert "is archived: no new sessions can be logged" in response.content.decode()
    logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light")))
    assert not TreatmentSession.objects.exists()


# --- the form ----------------------------------------------------------------------


def test_new_form_defaults_to_now_and_offers_blank_technique_rows(logged_in, client_a):
    # A moment just past, well inside its minute: the form shows it to the minute.
    moment = (timezone.now() - dt.timedelta(minutes=1)).replace(second=42, microsecond=0)
    with time_machine.travel(moment, tick=False):
        response = logged_in.get(new_url(client_a))
    form = response.context["form"]
    started = timezone.make_aware(form["started_at"].value())  # shown in local time
    assert started == moment.replace(second=0)  # now, to the minute
    assert len(response.context["formset"].forms) == EXTRA_ROWS_NEW
    html = response.content.decode()
    # 0-10 tap targets with labels for each score, reachable as radio buttons.
    assert html.count('name="pain_before"') == 11
    assert '<label class="btn score-btn" for="id_pain_before_10">10</label>' in html
    assert 'id="technique-row-template"' in html
    assert 'name="uses-__prefix__-technique"' in html


def test_new_form_shows_the_alerts_that_apply_before_any_plan(logged_in, therapist):
    person = factories.make_client(therapists=[therapist], pressure_sore_regions=["hip_left"])
    html = logged_in.get(new_url(person)).content.decode()
    assert "Before you start" in html
    assert "Pressure sores on record (left hip)" in html


def test_therapist_logs_a_session_with_two_techniques(logged_in, therapist, client_a):
    data = session_data(("swedish", "upper_back", "moderate"), ("reflexology", "foot_left", "light"))
    response = logged_in.post(new_url(client_a), data)
    session = TreatmentSession.objects.get()
    assert response.status_code == 302
    assert response.url == detail_url(session)
    assert session.client == client_a
    assert session.therapist == therapist
    assert session.status == SessionStatus.DRAFT
    assert session.room_temperature_c == Decimal("21")
    assert (session.pain_before, session.fatigue_before, session.pain_after) == (4, 5, None)
    assert sorted(session.technique_uses.values_list("technique__slug", "body_region", "pressure")) == [
        ("reflexology", "foot_left", "light"),
        ("swedish", "upper_back", "moderate"),
    ]


def test_blank_technique_rows_are_ignored(logged_in, client_a):
    data = session_data(("swedish", "neck", "light"), ("", "", "light"), ("", "", "light"))
    assert logged_in.post(new_url(client_a), data).status_code == 302
    assert TechniqueUse.objects.count() == 1


def test_session_with_after_scores_saves_them(logged_in, client_a):
    logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light"), pain_after=2, fatigue_after=3))
    session = TreatmentSession.objects.get()
    assert (session.pain_after, session.fatigue_after) == (2, 3)


# --- invalid input: clear messages, nothing saved --------------------------------------


@pytest.mark.parametrize("score", ["11", "-1", "4.5", "ten"])
def test_out_of_range_score_gets_a_clear_message_and_nothing_is_saved(logged_in, client_a, score):
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light"), pain_before=score))
    assert response.status_code == 200
    assert field_errors(response, "pain_before") == ["Choose a whole number from 0 to 10."]
    assert "Choose a whole number from 0 to 10." in response.content.decode()
    assert not TreatmentSession.objects.exists()
    assert not TechniqueUse.objects.exists()


def test_missing_before_score_asks_for_a_tap(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light"), fatigue_before=None))
    assert field_errors(response, "fatigue_before") == ["Tap a score from 0 (none) to 10 (worst imaginable)."]
    assert not TreatmentSession.objects.exists()


def test_future_date_with_after_scores_is_refused(logged_in, client_a):
    data = session_data(("swedish", "neck", "light"), started_at=when(-48), pain_after=2, fatigue_after=2)
    response = logged_in.post(new_url(client_a), data)
    assert field_errors(response, "started_at") == ["A session cannot start in the future; log it after it happens."]
    assert not TreatmentSession.objects.exists()


def test_future_date_without_after_scores_is_refused_too(logged_in, client_a):
    # A session is logged after it happens: no planned drafts (see tests/sessions/test_hardening.py).
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light"), started_at=when(-48)))
    assert field_errors(response, "started_at") == ["A session cannot start in the future; log it after it happens."]
    assert not TreatmentSession.objects.exists()


def test_technique_row_without_a_region_gets_a_message_on_the_row(logged_in, client_a):
    data = session_data(("swedish", "neck", "light"), ("reflexology", "", "light"))
    response = logged_in.post(new_url(client_a), data)
    row = response.context["formset"].forms[1]
    assert row.errors["body_region"] == ["Choose the body region for this technique."]
    assert "Choose the body region for this technique." in response.content.decode()
    assert not TreatmentSession.objects.exists()
    assert not TechniqueUse.objects.exists()


def test_region_without_a_technique_gets_a_message_on_the_row(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("", "neck", "light")))
    assert response.context["formset"].forms[0].errors["technique"] == ["Choose the technique used."]
    assert not TreatmentSession.objects.exists()


def test_duplicate_technique_and_region_rows_are_refused(logged_in, client_a):
    data = session_data(("swedish", "neck", "light"), ("swedish", "neck", "moderate"))
    response = logged_in.post(new_url(client_a), data)
    errors = response.context["formset"].forms[1].errors["body_region"]
    assert errors == ["Swedish massage on the neck is already in row 1; remove one of the two rows."]
    assert not TreatmentSession.objects.exists()


def test_same_technique_on_two_regions_is_fine(logged_in, client_a):
    data = session_data(("swedish", "neck", "light"), ("swedish", "upper_back", "light"))
    assert logged_in.post(new_url(client_a), data).status_code == 302
    assert TechniqueUse.objects.count() == 2


def test_a_session_needs_at_least_one_technique(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("", "", "light")))
    assert response.context["formset"].non_form_errors() == [
        "Add at least one technique with the body region it was used on."
    ]
    assert not TreatmentSession.objects.exists()


def test_unknown_technique_is_refused(logged_in, client_a):
    data = session_data(("swedish", "neck", "light"))
    data["uses-0-technique"] = "999999"
    response = logged_in.post(new_url(client_a), data)
    assert response.context["formset"].forms[0].errors["technique"] == ["Choose a technique from the list."]


def test_retired_technique_is_not_offered_for_new_sessions(logged_in, client_a):
    Technique.objects.filter(slug="shiatsu").update(is_active=False)
    response = logged_in.post(new_url(client_a), session_data(("shiatsu", "neck", "light")))
    assert response.context["formset"].forms[0].errors["technique"] == ["Choose a technique from the list."]


def test_room_temperature_out_of_range_is_refused(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light"), room_temperature_c=55))
    assert field_errors(response, "room_temperature_c") == ["Enter the room temperature in °C (5 to 40)."]


# --- the safety review -----------------------------------------------------------------


def test_acute_flare_stop_needs_an_override_reason_and_nothing_is_saved_without_it(logged_in, flare_client):
    response = logged_in.post(new_url(flare_client), session_data(("reflexology", "foot_left", "light")))
    assert response.status_code == 200
    html = response.content.decode()
    assert "In an acute flare (relapse)" in html
    assert field_errors(response, "safety_override_reason") == [
        "A safety stop applies. Change the plan, or write why you are going ahead anyway."
    ]
    assert 'name="safety_override_reason"' in html
    assert not TreatmentSession.objects.exists()


def test_acute_flare_stop_with_an_override_reason_is_saved_and_the_reason_shown(logged_in, flare_client):
    first = logged_in.post(new_url(flare_client), session_data(("reflexology", "foot_left", "light")))
    data = values_of(first)
    data["safety_override_reason"] = "Neurologist agreed to very light reflexology for comfort."
    response = logged_in.post(new_url(flare_client), data)
    session = TreatmentSession.objects.get()
    assert response.status_code == 302
    assert session.safety_override_reason == "Neurologist agreed to very light reflexology for comfort."
    html = logged_in.get(detail_url(session)).content.decode()
    assert "Safety stop overridden." in html
    assert "Neurologist agreed to very light reflexology for comfort." in html
    assert "In an acute flare (relapse)" in html


def test_override_reason_written_before_the_screen_ran_is_checked_against_the_findings(logged_in, flare_client):
    # The form shows the flare up front; a reason typed then covers it if the plan adds no other stop.
    page = logged_in.get(new_url(flare_client))
    assert 'name="safety_override_reason"' in page.content.decode()
    data = session_data(("reflexology", "foot_left", "light"), reviewed=page.context["form"]["reviewed"].value())
    data["safety_override_reason"] = "Client asked for a short calming session; no pressure."
    assert logged_in.post(new_url(flare_client), data).status_code == 302
    # A plan that adds a stop of its own is shown again before it can be saved.
    data = session_data(("deep-tissue", "lower_back", "deep"), reviewed=page.context["form"]["reviewed"].value())
    data["safety_override_reason"] = "Client asked for a short calming session; no pressure."
    response = logged_in.post(new_url(flare_client), data)
    assert field_errors(response, "safety_override_reason") == [
        "The safety findings changed. Read them, check this reason still applies, and save again."
    ]
    assert TreatmentSession.objects.count() == 1


def test_heat_technique_for_a_heat_sensitive_client_is_a_stop(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("warm-compress", "calf_left", "light")))
    assert "Warm compress (left calf) uses heat and this client is heat-sensitive" in response.content.decode()
    assert field_errors(response, "safety_override_reason")
    assert not TreatmentSession.objects.exists()


def test_caution_needs_an_explicit_confirmation(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light"), room_temperature_c=26))
    html = response.content.decode()
    assert "The room is warm (26 °C) and this client is heat-sensitive" in html
    assert field_errors(response, "confirm_cautions") == ["Tick to confirm you have read the cautions."]
    assert "I have read the cautions" in html
    assert 'name="safety_override_reason"' not in html
    assert not TreatmentSession.objects.exists()

    data = values_of(response)
    data["confirm_cautions"] = "on"
    assert logged_in.post(new_url(client_a), data).status_code == 302
    assert TreatmentSession.objects.get().room_temperature_c == Decimal("26")


def test_confirmation_covers_only_the_cautions_that_were_shown(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light"), room_temperature_c=26))
    data = values_of(response)
    data.update(confirm_cautions="on", pain_before="8")
    response = logged_in.post(new_url(client_a), data)
    assert field_errors(response, "confirm_cautions") == ["The cautions changed. Read them and confirm again."]
    assert "Pain before the session is high (8/10)" in response.content.decode()
    assert not TreatmentSession.objects.exists()
    # The box is unticked again so the therapist confirms what is now shown.
    assert response.context["form"]["confirm_cautions"].value() is False


def test_high_pain_before_is_a_caution(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "firm"), pain_before=8))
    assert "Pain before the session is high (8/10)" in response.content.decode()
    assert field_errors(response, "confirm_cautions")


def test_no_findings_saves_on_the_first_post(logged_in, client_a):
    response = logged_in.post(new_url(client_a), session_data(("swedish", "neck", "light")))
    assert response.status_code == 302
    assert TreatmentSession.objects.get().safety_override_reason == ""


def test_override_reason_is_dropped_when_no_stop_applies(logged_in, client_a):
    data = session_data(("swedish", "neck", "light"), safety_override_reason="Just in case.")
    logged_in.post(new_url(client_a), data)
    assert TreatmentSession.objects.get().safety_override_reason == ""


def test_saved_session_page_shows_its_findings(logged_in, therapist):
    person = factories.make_client(therapists=[therapist], reduced_sensation_regions=["calf_right"])
    factories.make_phase(person)
    session = factories.make_session(person, therapist, uses=[("swedish", "calf_right", "moderate")])
    html = logged_in.get(detail_url(session)).content.decode()
    assert "Swedish massage at moderate pressure on the right calf, where sensation is reduced" in html
    assert 'data-code="pressure_on_reduced_sensation"' in html


# --- editing drafts ----------------------------------------------------------------------


def test_edit_form_shows_the_draft_and_its_version(logged_in, draft):
    response = logged_in.get(edit_url(draft))
    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    assert form["version"].value() == 1
    assert len(formset.forms) == 2 + EXTRA_ROWS_EDIT
    assert formset.forms[0]["body_region"].value() == "upper_back"


def test_editing_a_draft_replaces_its_rows_and_bumps_the_version(logged_in, draft):
    data = values_of(logged_in.get(edit_url(draft)))
    data.update({"uses-1-DELETE": "on", "uses-2-technique": str(factories.technique("shiatsu").pk)})
    data.update({"uses-2-body_region": "neck", "uses-2-pressure": "moderate", "subjective": "Edited notes."})
    response = logged_in.post(edit_url(draft), data)
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.version == 2
    assert draft.subjective == "Edited notes."
    assert sorted(draft.technique_uses.values_list("technique__slug", "body_region")) == [
        ("shiatsu", "neck"),
        ("swedish", "upper_back"),
    ]


def test_invalid_edit_changes_nothing(logged_in, draft):
    data = values_of(logged_in.get(edit_url(draft)))
    data.update({"pain_before": "11", "uses-0-body_region": "neck"})
    response = logged_in.post(edit_url(draft), data)
    assert field_errors(response, "pain_before") == ["Choose a whole number from 0 to 10."]
    draft.refresh_from_db()
    assert draft.version == 1
    assert draft.pain_before == 5
    assert set(draft.technique_uses.values_list("body_region", flat=True)) == {"upper_back", "foot_left"}


def test_second_of_two_concurrent_edits_gets_a_conflict_and_keeps_its_typed_values(client, therapist, owner, draft):
    client.force_login(therapist)
    from django.test import Client as TestClient

    other = TestClient()
    other.force_login(owner)
    mine = values_of(client.get(edit_url(draft)))
    theirs = values_of(other.get(edit_url(draft)))

    theirs.update(subjective="Owner's notes.", pain_before="6")
    assert other.post(edit_url(draft), theirs).status_code == 302

    mine.update(subjective="My notes, typed carefully.", pain_before="3", **{"uses-0-pressure": "light"})
    response = client.post(edit_url(draft), mine)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else saved this session while you were editing" in html
    assert "My notes, typed carefully." in html
    assert response.context["form"]["pain_before"].value() == "3"
    assert response.context["formset"].forms[0]["pressure"].value() == "light"

    draft.refresh_from_db()
    assert draft.subjective == "Owner's notes."
    assert draft.pain_before == 6
    assert draft.version == 2
    assert draft.technique_uses.get(body_region="upper_back").pressure == "moderate"


def test_after_a_conflict_saving_again_knowingly_replaces_the_other_save(client, therapist, owner, draft):
    client.force_login(therapist)
    mine = values_of(client.get(edit_url(draft)))
    TreatmentSession.objects.filter(pk=draft.pk).update(version=2, subjective="Someone else's.")
    mine["subjective"] = "Mine after all."
    conflict = client.post(edit_url(draft), mine)
    assert conflict.status_code == 409
    assert client.post(edit_url(draft), values_of(conflict)).status_code == 302
    draft.refresh_from_db()
    assert (draft.subjective, draft.version) == ("Mine after all.", 3)


def test_edit_of_a_draft_signed_meanwhile_is_refused_with_a_conflict(client, therapist, draft):
    client.force_login(therapist)
    data = values_of(client.get(edit_url(draft)))
    TreatmentSession.objects.filter(pk=draft.pk).update(
        status=SessionStatus.SIGNED, pain_after=2, fatigue_after=2, signed_at=timezone.now(), signed_by=therapist
    )
    data["subjective"] = "Too late."
    response = client.post(edit_url(draft), data)
    assert response.status_code == 409
    assert "Someone signed this session while you were editing" in response.content.decode()
    draft.refresh_from_db()
    assert draft.subjective != "Too late."


def test_editing_notes_of_a_draft_with_confirmed_cautions_does_not_ask_again(logged_in, therapist, client_a):
    session = factories.make_session(
        client_a, therapist, uses=[("swedish", "neck", "light")], room_temperature_c=Decimal("26")
    )
    data = values_of(logged_in.get(edit_url(session)))
    data["plan"] = "Cooler room next time."
    assert logged_in.post(edit_url(session), data).status_code == 302


def test_edit_of_a_signed_session_is_refused(logged_in, signed):
    response = logged_in.get(edit_url(signed), follow=True)
    assert response.redirect_chain[-1][0] == detail_url(signed)
    assert "This session is signed and can no longer be edited" in response.content.decode()
    data = session_data(("swedish", "neck", "light"), version=signed.version, subjective="Changed")
    response = logged_in.post(edit_url(signed), data)
    assert response.status_code == 409
    assert "record them as an amendment" in response.content.decode()
    signed.refresh_from_db()
    assert signed.subjective == ""


# --- signing -----------------------------------------------------------------------------


def test_signing_without_after_scores_is_refused_with_a_clear_message(logged_in, draft):
    response = logged_in.post(reverse("sessions:sign", args=[draft.pk]), follow=True)
    assert "Record pain after and fatigue after the session before signing it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == SessionStatus.DRAFT


def test_signing_a_complete_draft_locks_it(logged_in, therapist, draft):
    TreatmentSession.objects.filter(pk=draft.pk).update(pain_after=2, fatigue_after=3)
    response = logged_in.post(reverse("sessions:sign", args=[draft.pk]), follow=True)
    assert "Session signed." in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == SessionStatus.SIGNED
    assert draft.signed_by == therapist
    assert 'data-status="signed"' in response.content.decode()


def test_signing_twice_says_it_is_already_signed(logged_in, signed):
    response = logged_in.post(reverse("sessions:sign", args=[signed.pk]), follow=True)
    assert "This session is already signed." in response.content.decode()


def test_sign_needs_a_post(logged_in, draft):
    assert logged_in.get(reverse("sessions:sign", args=[draft.pk])).status_code == 405


# --- amendments --------------------------------------------------------------------------


def amend_data(session, **changes) -> dict:
    data = {
        "started_at": f"{timezone.localtime(session.started_at):%Y-%m-%dT%H:%M}",
        "duration_minutes": str(session.duration_minutes),
        "setting": session.setting,
        "room_temperature_c": "" if session.room_temperature_c is None else str(session.room_temperature_c),
        "pain_before": str(session.pain_before),
        "fatigue_before": str(session.fatigue_before),
        "pain_after": str(session.pain_after),
        "fatigue_after": str(session.fatigue_after),
        "subjective": session.subjective,
        "objective": session.objective,
        "assessment": session.assessment,
        "plan": session.plan,
        "client_summary": session.client_summary,
        "reason": "",
    }
    data.update({name: str(value) for name, value in changes.items()})
    return data


def test_amending_a_signed_session_keeps_the_original_and_shows_the_amendment(logged_in, therapist, signed):
    url = reverse("sessions:amend", args=[signed.pk])
    assert logged_in.get(url).status_code == 200
    response = logged_in.post(url, amend_data(signed, pain_after=2, setting="home", reason="Typed 3 instead of 2."))
    assert response.status_code == 302
    signed.refresh_from_db()
    assert (signed.pain_after, signed.setting) == (3, "clinic")
    amendment = SessionAmendment.objects.get()
    assert amendment.author == therapist
    assert amendment.changes == {"pain_after": {"from": 3, "to": 2}, "setting": {"from": "clinic", "to": "home"}}
    html = logged_in.get(detail_url(signed)).content.decode()
    # The main table shows the value as corrected, marked, with the signed original a click away.
    assert "As corrected" in html
    assert 'data-score="pain_after">2 <details class="corrected"' in html
    assert 'Signed original:</span><ul class="mb-0"><li>Pain after: 3</li>' in html
    assert "Reason: Typed 3 instead of 2." in html
    assert "Pain after: 3 → 2" in html
    assert "Setting: Clinic → Client&#x27;s home" in html
    assert "Maria" in html


def test_amend_form_starts_from_the_values_as_already_corrected(logged_in, therapist, signed):
    url = reverse("sessions:amend", args=[signed.pk])
    logged_in.post(url, amend_data(signed, pain_after=2, reason="First fix."))
    response = logged_in.get(url)
    assert response.context["form"]["pain_after"].value() == 2
    logged_in.post(url, amend_data(signed, pain_after=1, reason="Second fix."))
    assert SessionAmendment.objects.order_by("pk").last().changes == {"pain_after": {"from": 2, "to": 1}}


def test_amendment_needs_a_reason(logged_in, signed):
    response = logged_in.post(reverse("sessions:amend", args=[signed.pk]), amend_data(signed, pain_after=1))
    assert response.context["form"].errors["reason"] == ["Say why the signed session is being corrected."]
    assert not SessionAmendment.objects.exists()


def test_amendment_needs_a_change(logged_in, signed):
    response = logged_in.post(reverse("sessions:amend", args=[signed.pk]), amend_data(signed, reason="No change."))
    assert response.context["form"].non_field_errors() == ["Change at least one value to record a correction."]
    assert not SessionAmendment.objects.exists()


def test_amendment_with_an_out_of_range_score_is_refused(logged_in, signed):
    data = amend_data(signed, pain_after=11, reason="Oops.")
    response = logged_in.post(reverse("sessions:amend", args=[signed.pk]), data)
    assert response.context["form"].errors["pain_after"] == ["Choose a whole number from 0 to 10."]
    assert not SessionAmendment.objects.exists()


def test_draft_is_not_amended_but_edited(logged_in, draft):
    response = logged_in.get(reverse("sessions:amend", args=[draft.pk]))
    assert response.status_code == 302
    assert response.url == edit_url(draft)


# --- query counts -------------------------------------------------------------------------


def add_techniques(count: int) -> None:
    Technique.objects.bulk_create(
        Technique(name=f"Extra technique {n}", slug=f"extra-{n}", guidance="recommended", reason="Test.")
        for n in range(count)
    )


def test_new_session_form_queries_do_not_grow_with_the_catalogue(logged_in, client_a, django_assert_num_queries):
    logged_in.get(new_url(client_a))  # warm the session
    # Seven for the page, three for its audit event.
    with django_assert_num_queries(9):
        logged_in.get(new_url(client_a))
    add_techniques(25)
    with django_assert_num_queries(9):
        response = logged_in.get(new_url(client_a))
    assert "Extra technique 24" in response.content.decode()


def test_edit_form_queries_do_not_grow_with_rows(logged_in, therapist, client_a, django_assert_num_queries):
    few = factories.make_session(client_a, therapist, uses=[("swedish", "neck", "light")])
    many = factories.make_session(
        client_a, therapist, uses=[("swedish", region, "light") for region in ("neck", "head", "calf_left", "hip_left")]
    )
    add_techniques(10)
    logged_in.get(edit_url(few))
    # Nine for the page (one reads the client's consent to treatment: a draft is edited only with a current one),
    # three for its audit event.
    with django_assert_num_queries(11):
        logged_in.get(edit_url(few))
    with django_assert_num_queries(11):
        logged_in.get(edit_url(many))


def test_session_page_queries_do_not_grow_with_rows_or_amendments(
    logged_in, therapist, client_a, django_assert_num_queries
):
    few = factories.make_session(client_a, therapist, uses=[("swedish", "neck", "light")], signed=True)
    many = factories.make_session(
        client_a,
        therapist,
        uses=[(slug, "neck", "light") for slug in ("swedish", "reflexology", "shiatsu", "reiki")],
        signed=True,
    )
    for n in range(3):
        SessionAmendment.objects.create(
            session=many, author=therapist, reason=f"Fix {n}", changes={"plan": {"from": "", "to": str(n)}}
        )
    logged_in.get(detail_url(few))
    # Seven for the page, three for its audit event.
    with django_assert_num_queries(9):
        logged_in.get(detail_url(few))
    with django_assert_num_queries(9):
        logged_in.get(detail_url(many))
