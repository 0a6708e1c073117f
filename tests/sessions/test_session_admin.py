"""Editing a draft in the admin writes through the same services as the therapist's form."""

import pytest
from django.contrib.admin.models import LogEntry
from django.test import Client as Browser
from django.urls import reverse
from django.utils import timezone

from clients.models import Phase
from practice.models import AuditEvent
from sessions import admin as session_admin
from sessions.models import TreatmentSession
from sessions.services import session_update
from tests import factories
from tests.sessions.test_session_views import edit_url, values_of

pytestmark = pytest.mark.django_db


def change_url(session) -> str:
    return reverse("admin:treatment_sessions_treatmentsession_change", args=[session.pk])


def admin_change_data(session, opened_version: int | None = None, **fields) -> dict:
    """The admin's change form for a draft as it is stored, with its technique rows, and ``fields`` changed."""
    started = timezone.localtime(session.started_at)
    uses = list(session.technique_uses.order_by("pk")) if session.pk else []
    data = {
        "client": session.client_id,
        "therapist": session.therapist_id,
        "started_at_0": started.strftime("%Y-%m-%d"),
        "started_at_1": started.strftime("%H:%M:%S"),
        "duration_minutes": session.duration_minutes,
        "setting": session.setting,
        "room_temperature_c": "" if session.room_temperature_c is None else session.room_temperature_c,
        "pain_before": session.pain_before,
        "fatigue_before": session.fatigue_before,
        "pain_after": "" if session.pain_after is None else session.pain_after,
        "fatigue_after": "" if session.fatigue_after is None else session.fatigue_after,
        "subjective": session.subjective,
        "objective": session.objective,
        "assessment": session.assessment,
        "plan": session.plan,
        "client_summary": session.client_summary,
        "safety_override_reason": session.safety_override_reason,
        "opened_version": session.version if opened_version is None else opened_version,
        "technique_uses-TOTAL_FORMS": len(uses),
        "technique_uses-INITIAL_FORMS": len(uses),
        "technique_uses-MIN_NUM_FORMS": 0,
        "technique_uses-MAX_NUM_FORMS": 1000,
        "amendments-TOTAL_FORMS": 0,
        "amendments-INITIAL_FORMS": 0,
        "amendments-MIN_NUM_FORMS": 0,
        "amendments-MAX_NUM_FORMS": 0,
    }
    for index, use in enumerate(uses):
        data.update(
            {
                f"technique_uses-{index}-id": use.pk,
                f"technique_uses-{index}-session": session.pk,
                f"technique_uses-{index}-technique": use.technique_id,
                f"technique_uses-{index}-body_region": use.body_region,
                f"technique_uses-{index}-pressure": use.pressure,
            }
        )
    data.update(fields)
    return {name: str(value) for name, value in data.items()}


@pytest.fixture
def draft(client_a, therapist):
    return factories.make_session(
        client_a, therapist, uses=[("swedish", "upper_back", "moderate"), ("reflexology", "foot_left", "light")]
    )


@pytest.fixture
def owner_browser(owner) -> Browser:
    browser = Browser()
    browser.force_login(owner)
    return browser


@pytest.fixture
def therapist_browser(therapist) -> Browser:
    browser = Browser()
    browser.force_login(therapist)
    return browser


def test_the_change_page_carries_the_version_it_was_opened_at(owner_browser, draft):
    response = owner_browser.get(change_url(draft))
    assert response.status_code == 200
    assert response.context["adminform"].form["opened_version"].value() == draft.version
    assert 'type="hidden" name="opened_version" value="1"' in response.content.decode()


def test_a_stale_therapist_form_cannot_overwrite_the_owners_admin_edit(owner_browser, therapist_browser, draft):
    stale = values_of(therapist_browser.get(edit_url(draft)))  # opened before the owner's edit

    assert owner_browser.get(change_url(draft)).status_code == 200
    response = owner_browser.post(change_url(draft), admin_change_data(draft, subjective="Owner's admin note."))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.subjective, draft.version) == ("Owner's admin note.", 2)

    stale.update(subjective="Therapist's stale note.", pain_before="2")
    response = therapist_browser.post(edit_url(draft), stale)
    assert response.status_code == 409
    assert "Someone else saved this session while you were editing" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.subjective, draft.pain_before, draft.version) == ("Owner's admin note.", 5, 2)


def test_a_stale_admin_page_cannot_overwrite_the_therapists_edit(owner_browser, therapist_browser, draft):
    opened = admin_change_data(draft, subjective="Owner's stale note.")
    mine = values_of(therapist_browser.get(edit_url(draft)))
    mine["subjective"] = "Therapist's note."
    assert therapist_browser.post(edit_url(draft), mine).status_code == 302

    response = owner_browser.post(change_url(draft), opened)
    assert response.status_code == 200
    assert "Someone else saved or signed this session after you opened it" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.subjective, draft.version) == ("Therapist's note.", 2)


def test_a_conflict_found_at_the_admins_write_is_a_message_and_nothing_is_saved(owner_browser, draft, monkeypatch):
    def someone_saves_first(**kwargs):
        # Another save lands between the admin form's checks and its write.
        TreatmentSession.objects.filter(pk=draft.pk).update(version=2)
        return session_update(**kwargs)

    monkeypatch.setattr(session_admin, "session_update", someone_saves_first)
    response = owner_browser.post(change_url(draft), admin_change_data(draft, plan="Mine."), follow=True)
    assert response.redirect_chain == [(change_url(draft), 302)]
    assert "Someone else saved or signed this session after you opened it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.plan == ""
    assert not AuditEvent.objects.filter(action="change").exists()


def test_an_admin_edit_replaces_the_rows_and_keeps_history_and_audit(owner, owner_browser, draft):
    history_before = draft.history.count()
    data = admin_change_data(draft, plan="Calves next time.", **{"technique_uses-0-pressure": "light"})
    assert owner_browser.post(change_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert draft.plan == "Calves next time."
    assert sorted(draft.technique_uses.values_list("technique__slug", "body_region", "pressure")) == [
        ("reflexology", "foot_left", "light"),
        ("swedish", "upper_back", "light"),
    ]
    # One history row for the change, on either database (PostgreSQL's trigger leaves it to the app).
    assert draft.history.count() == history_before + 1
    latest = draft.history.order_by("-history_date", "-history_id").first()
    assert (latest.plan, latest.version, latest.history_user) == ("Calves next time.", 2, owner)
    change = AuditEvent.objects.filter(action="change", object_type="session").get()
    assert (change.object_id, change.client_id, change.actor_username) == (str(draft.pk), draft.client_id, "owner")
    message = LogEntry.objects.get(object_id=str(draft.pk)).get_change_message()
    assert message.startswith("Changed ") and "Plan." in message
    assert "Changed Pressure for technique use" in message


def test_an_admin_edit_keeps_no_override_reason_when_no_stop_applies(owner_browser, draft):
    data = admin_change_data(draft, safety_override_reason="Just in case.")
    assert owner_browser.post(change_url(draft), data).status_code == 302
    draft.refresh_from_db()
    assert (draft.safety_override_reason, draft.version) == ("", 2)


def test_an_admin_edit_under_a_stop_keeps_the_override_reason(owner_browser, therapist):
    person = factories.make_client(therapists=[therapist])
    factories.make_phase(person, Phase.ACUTE_FLARE)
    session = factories.make_session(person, therapist, uses=[("reflexology", "foot_left", "light")])
    data = admin_change_data(session, safety_override_reason="Physician agreed.")
    response = owner_browser.post(change_url(session), data, follow=True)
    assert "Safety stop: In an acute flare (relapse)" in response.content.decode()
    session.refresh_from_db()
    assert (session.safety_override_reason, session.version) == ("Physician agreed.", 2)


def test_a_session_added_in_the_admin_starts_at_version_one_with_its_rows(owner_browser, therapist, client_a):
    draft_like = TreatmentSession(
        client=client_a, therapist=therapist, started_at=timezone.now(), pain_before=4, fatigue_before=4
    )
    data = admin_change_data(draft_like, opened_version="")
    data.update(
        {
            "technique_uses-TOTAL_FORMS": "1",
            "technique_uses-INITIAL_FORMS": "0",
            "technique_uses-0-technique": str(factories.technique("swedish").pk),
            "technique_uses-0-body_region": "neck",
            "technique_uses-0-pressure": "light",
        }
    )
    response = owner_browser.post(reverse("admin:treatment_sessions_treatmentsession_add"), data)
    assert response.status_code == 302
    session = TreatmentSession.objects.get()
    assert (session.version, session.therapist) == (1, therapist)
    assert list(session.technique_uses.values_list("technique__slug", "body_region")) == [("swedish", "neck")]
    assert response.url == reverse("admin:treatment_sessions_treatmentsession_changelist")
    assert AuditEvent.objects.filter(action="create", object_type="session", object_id=str(session.pk)).exists()
