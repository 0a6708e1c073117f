"""Going ahead despite a safety stop takes a real reason, and each stop overridden is its own audit event."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from clients.models import Phase
from practice.models import AuditAction, AuditEvent
from sessions import services
from sessions.models import TreatmentSession
from sessions.safety import PlannedUse
from sessions.screening import OVERRIDE_REASON_EXPECTED, override_reason_problem, screen_planned_session
from sessions.services import record_overrides, session_create
from tests import factories
from tests.practice.world import admin_session_post
from tests.sessions.test_session_admin import admin_change_data
from tests.sessions.test_session_views import edit_url, new_url, session_data, values_of

pytestmark = pytest.mark.django_db

ADD_URL = reverse("admin:treatment_sessions_treatmentsession_add")
REASON = "Neurologist cleared light work on the feet for comfort today."
# Hot stone is a technique to avoid, uses heat (the client is heat-sensitive) and is used on a region
# with reduced sensation: three stops, on top of the acute flare.
HOT_STONE_ON_THE_FOOT = ("hot-stone", "foot_left", "deep")
STOPS = [
    "acute_flare",
    "avoid_technique",
    "heat_technique",
    "pressure_on_reduced_sensation",
    "heat_on_reduced_sensation",
]


# --- the rule, as a table ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    [
        "",
        "   ",
        "x",
        "n/a",
        "ok",
        "test",
        "override",
        "asdf",
        "none",
        "-",
        "...",
        "Client is fine",  # 14 characters
        "xxxxxxxxxxxxxxxxxxxx",
        "aaaaaaaaaaaaaaaaaaaaaaaa",
        "x x x x x x x x x x x x",
        "test test test test test",
        "override override override",
        "asdfasdfasdfasdf",
        "asdf asdf asdf asdf asdf",
        "n/a n/a n/a n/a n/a n/a",
        "ok ok ok ok ok ok ok ok",
        "none none none none",
        "OK, override test, none",
        "---------------------",
        "......................",
        "1234567890123456789",
        "xx yy zz ww vv uu tt",
        "Physician physician physician",  # one word, said again
    ],
)
def test_placeholders_and_short_text_are_not_a_reason(reason):
    assert override_reason_problem(reason) == OVERRIDE_REASON_EXPECTED


@pytest.mark.parametrize(
    "reason",
    [
        "Physician agreed.",
        "Client is fine today.",
        "  Neurologist   cleared   light reflexology.  ",
        REASON,
        "Hospice: comfort care agreed with the family and the nurse.",
        "Médecin d'accord: massage léger.",
    ],
)
def test_a_sentence_is_a_reason(reason):
    assert override_reason_problem(reason) is None


def test_the_message_says_what_is_expected():
    assert OVERRIDE_REASON_EXPECTED == "Say why it is safe to go ahead despite the stop, in a sentence."


# --- the therapist's form ---------------------------------------------------------------------------------------


@pytest.fixture
def flare_client(therapist):
    """Heat-sensitive (the default), in an acute flare, with reduced sensation in the left foot."""
    person = factories.make_client(therapists=[therapist], last_name="Flare", reduced_sensation_regions=["foot_left"])
    factories.make_phase(person, Phase.ACUTE_FLARE, started_on=timezone.localdate() - dt.timedelta(days=3))
    return person


@pytest.fixture
def maria(client, therapist):
    client.force_login(therapist)
    return client


def override_events() -> list[tuple[str, str, str, int | None, str]]:
    return sorted(
        AuditEvent.objects.filter(action=AuditAction.SAFETY_OVERRIDE).values_list(
            "object_type", "object_id", "actor_username", "client_id", "outcome"
        )
    )


def post_reviewed(browser, url: str, data: dict):
    """Post once to see the findings, then again as the therapist would, having read them."""
    first = browser.post(url, data)
    assert first.status_code == 200
    return browser.post(url, values_of(first) | {"confirm_cautions": "on"})


@pytest.mark.parametrize("reason", ["x", "ok", "n/a", "test test test test test", "override override"])
def test_the_form_refuses_a_placeholder_reason_and_saves_nothing(maria, flare_client, reason):
    response = post_reviewed(
        maria, new_url(flare_client), session_data(HOT_STONE_ON_THE_FOOT, safety_override_reason=reason)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["safety_override_reason"] == [OVERRIDE_REASON_EXPECTED]
    assert OVERRIDE_REASON_EXPECTED in response.content.decode()
    assert not TreatmentSession.objects.exists()
    assert override_events() == []


def test_a_real_reason_saves_the_session_and_records_each_stop_overridden(maria, therapist, flare_client):
    response = post_reviewed(
        maria, new_url(flare_client), session_data(HOT_STONE_ON_THE_FOOT, safety_override_reason=REASON)
    )
    assert response.status_code == 302
    session = TreatmentSession.objects.get()
    assert session.safety_override_reason == REASON
    pk = str(session.pk)
    assert override_events() == sorted((code, pk, "maria", flare_client.pk, "ok") for code in STOPS)
    # Codes and ids only: no reason, no technique, no region in the trail.
    for event in AuditEvent.objects.filter(action=AuditAction.SAFETY_OVERRIDE):
        assert "Neurologist" not in f"{event.object_type}{event.object_id}"
    # The create event is still there, after the override events.
    create = AuditEvent.objects.get(action=AuditAction.CREATE, object_type="session")
    assert create.sequence > max(
        AuditEvent.objects.filter(action=AuditAction.SAFETY_OVERRIDE).values_list("sequence", flat=True)
    )


def test_a_session_without_a_stop_records_no_override(maria, client_a):
    response = maria.post(new_url(client_a), session_data(("swedish", "neck", "light"), safety_override_reason="x"))
    assert response.status_code == 302
    assert TreatmentSession.objects.get().safety_override_reason == ""
    assert override_events() == []


def test_editing_a_draft_over_a_stop_needs_a_real_reason_and_records_the_stops_again(maria, therapist, flare_client):
    draft = factories.make_session(
        flare_client, therapist, uses=[("reflexology", "foot_right", "light")], safety_override_reason=REASON
    )
    page = maria.get(edit_url(draft))
    data = values_of(page) | {"safety_override_reason": "ok ok ok ok ok ok", "plan": "Next week if settled."}
    refused = maria.post(edit_url(draft), data)
    assert refused.context["form"].errors["safety_override_reason"] == [OVERRIDE_REASON_EXPECTED]
    assert TreatmentSession.objects.get(pk=draft.pk).version == draft.version
    assert override_events() == []
    data["safety_override_reason"] = "Neurologist agreed to light reflexology on the right foot."
    assert maria.post(edit_url(draft), data).status_code == 302
    assert override_events() == [("acute_flare", str(draft.pk), "maria", flare_client.pk, "ok")]


# --- the admin --------------------------------------------------------------------------------------------------


@pytest.fixture
def owner_browser(owner) -> Browser:
    browser = Browser()
    browser.force_login(owner)
    return browser


@pytest.mark.parametrize("reason", ["x", "n/a", "Client is fine", "asdf asdf asdf asdf"])
def test_the_admin_refuses_a_placeholder_reason(owner_browser, therapist, flare_client, reason):
    data = admin_session_post(flare_client, therapist, HOT_STONE_ON_THE_FOOT, safety_override_reason=reason)
    response = owner_browser.post(ADD_URL, data)
    assert response.status_code == 200
    assert f"Safety section, override reason: {OVERRIDE_REASON_EXPECTED}" in response.content.decode()
    assert not TreatmentSession.objects.exists()
    assert override_events() == []


def test_the_admin_saves_over_the_stops_with_a_real_reason_and_records_each_as_the_owner(
    owner_browser, therapist, flare_client
):
    data = admin_session_post(flare_client, therapist, HOT_STONE_ON_THE_FOOT, safety_override_reason=REASON)
    assert owner_browser.post(ADD_URL, data).status_code == 302
    session = TreatmentSession.objects.get()
    assert session.therapist == therapist
    assert override_events() == sorted((code, str(session.pk), "owner", flare_client.pk, "ok") for code in STOPS)


def test_the_admin_edit_of_a_draft_over_a_stop_records_it(owner_browser, therapist, flare_client):
    draft = factories.make_session(
        flare_client, therapist, uses=[("reflexology", "foot_right", "light")], safety_override_reason=REASON
    )
    url = reverse("admin:treatment_sessions_treatmentsession_change", args=[draft.pk])
    refused = owner_browser.post(url, admin_change_data(draft, safety_override_reason="none"))
    assert f"Safety section, override reason: {OVERRIDE_REASON_EXPECTED}" in refused.content.decode()
    assert override_events() == []
    assert owner_browser.post(url, admin_change_data(draft, plan="Review after the flare.")).status_code == 302
    assert override_events() == [("acute_flare", str(draft.pk), "owner", flare_client.pk, "ok")]


# --- the services: the rule holds for every writer, and the events share the session's transaction ----------------


def _flare_findings(person):
    uses = [PlannedUse(factories.technique("hot-stone"), "foot_left", "deep")]
    return uses, screen_planned_session(client=person, when=timezone.now(), uses=uses)


@pytest.mark.parametrize("reason", ["", "x", "override"])
def test_the_services_refuse_a_stop_without_a_real_reason(therapist, flare_client, reason):
    uses, findings = _flare_findings(flare_client)
    values = {"pain_before": 4, "fatigue_before": 4, "safety_override_reason": reason}
    with pytest.raises(ValidationError) as refused:
        session_create(client=flare_client, therapist=therapist, values=values, uses=uses, findings=findings)
    assert list(refused.value.message_dict) == ["safety_override_reason"]
    assert not TreatmentSession.objects.exists()
    assert override_events() == []


def test_no_override_event_survives_a_session_write_that_fails(therapist, flare_client, monkeypatch):
    uses, findings = _flare_findings(flare_client)
    values = {"pain_before": 4, "fatigue_before": 4, "safety_override_reason": REASON}

    def fail_after_the_events(session, findings, user):
        record_overrides(session, findings, user)
        raise RuntimeError("the write failed")

    monkeypatch.setattr(services, "record_overrides", fail_after_the_events)
    with pytest.raises(RuntimeError):
        session_create(client=flare_client, therapist=therapist, values=values, uses=uses, findings=findings)
    assert not TreatmentSession.objects.exists()
    assert override_events() == []


def test_record_overrides_records_stops_only(therapist, client_a):
    session = factories.make_session(client_a, therapist)
    uses = [PlannedUse(factories.technique("swedish"), "neck", "light")]
    findings = screen_planned_session(client=client_a, when=session.started_at, uses=uses, room_temperature_c=26)
    assert findings and record_overrides(session, findings, therapist) == []
