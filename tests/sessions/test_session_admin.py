"""Editing a draft in the admin writes through the same services as the therapist's form."""

import datetime as dt
import re

import pytest
from django.contrib.admin.models import LogEntry
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Phase
from practice.models import AuditEvent
from sessions import admin as session_admin
from sessions.models import TreatmentSession
from sessions.safety import PlannedUse
from sessions.services import session_amend, session_update
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


# --- the owner can reach the work: the sessions list, its search and filters, and the way to the session page

CHANGELIST = "/admin/treatment_sessions/treatmentsession/"


def listed(response) -> list[int]:
    """The ids of the sessions on a changelist page, in order."""
    html = response.content.decode()
    assert response.status_code == 200, html[:500]
    if 'id="result_list"' not in html:
        return []  # the admin draws no table for an empty result
    table = html.split('id="result_list"', 1)[1].split("</table>", 1)[0]
    return [int(pk) for pk in re.findall(r'href="/admin/treatment_sessions/treatmentsession/(\d+)/change/', table)]


@pytest.fixture
def two_therapists_sessions(client_a, client_b, therapist, other_therapist):
    therapist.first_name, therapist.last_name = "Maria", "Lopez"
    therapist.save()
    other_therapist.first_name, other_therapist.last_name = "James", "Okafor"
    other_therapist.save()
    now = timezone.now()
    return {
        "maria": factories.make_session(client_a, therapist, signed=True, started_at=now - dt.timedelta(days=3)),
        "james": factories.make_session(client_b, other_therapist, signed=True, started_at=now - dt.timedelta(days=2)),
        "override": factories.make_session(
            client_b,
            other_therapist,
            signed=True,
            started_at=now - dt.timedelta(days=20),
            safety_override_reason="Cleared by her neurologist for light touch during the flare.",
        ),
        "young_draft": factories.make_session(client_a, therapist, started_at=now - dt.timedelta(hours=2)),
        "old_draft": factories.make_session(client_a, therapist, started_at=now - dt.timedelta(days=9)),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("maria", {"maria", "young_draft", "old_draft"}),  # the therapist's username and first name
        ("Okafor", {"james", "override"}),  # a therapist's last name
        ("james okafor", {"james", "override"}),  # every word, in any of the fields
        ("Ashby", {"maria", "young_draft", "old_draft"}),  # a client's last name, as before
        ('"Maria Lopez"', set()),  # a quoted phrase is one word: no single field holds it
        ("nobody-at-all", set()),
    ],
)
def test_sessions_can_be_searched_by_therapist_or_client(owner_browser, two_therapists_sessions, query, expected):
    found = listed(owner_browser.get(CHANGELIST, {"q": query}))
    assert set(found) == {two_therapists_sessions[name].pk for name in expected}


def test_sessions_can_be_filtered_by_therapist(owner_browser, two_therapists_sessions, other_therapist):
    page = owner_browser.get(CHANGELIST)
    assert "James Okafor" in page.content.decode()  # offered by name
    found = listed(owner_browser.get(CHANGELIST, {"therapist": other_therapist.pk}))
    assert set(found) == {two_therapists_sessions["james"].pk, two_therapists_sessions["override"].pk}
    assert listed(owner_browser.get(CHANGELIST, {"therapist": "not-a-number"})) == []


def test_sessions_saved_over_a_stop_have_a_column_and_a_filter(owner_browser, two_therapists_sessions):
    sessions = two_therapists_sessions
    html = owner_browser.get(CHANGELIST).content.decode()
    assert "Over a stop" in html and "By saved over a safety stop" in html
    assert listed(owner_browser.get(CHANGELIST, {"over_stop": "yes"})) == [sessions["override"].pk]
    assert sessions["override"].pk not in listed(owner_browser.get(CHANGELIST, {"over_stop": "no"}))
    assert len(listed(owner_browser.get(CHANGELIST, {"over_stop": "no"}))) == 4


def row_of(response, session) -> str:
    """The changelist row of ``session``, as HTML."""
    html = response.content.decode()
    (row,) = [r for r in html.split("<tr") if f"/treatmentsession/{session.pk}/change/" in r]
    return row


def test_a_correction_saved_over_a_stop_is_listed_and_shown_as_over_a_stop(owner_browser, therapist, client_a):
    # A signed session corrected to add hot stone for a heat-sensitive client: the correction keeps the reason.
    signed = factories.make_session(client_a, therapist, signed=True, uses=[("swedish", "upper_back", "light")])
    rows = [PlannedUse.of(use) for use in signed.technique_uses.all()]
    hot = PlannedUse(factories.technique("hot-stone"), "lower_back", "light")
    reason = "Stones were lukewarm, client asked for them; checked skin before and after."
    session_amend(
        session=signed,
        author=therapist,
        reason="Forgot a row.",
        changes={},
        uses=[*rows, hot],
        safety_override_reason=reason,
    )
    plain = factories.make_session(client_a, therapist, signed=True)
    assert not signed.safety_override_reason  # the signed row itself holds no reason

    assert listed(owner_browser.get(CHANGELIST, {"over_stop": "yes"})) == [signed.pk]
    assert listed(owner_browser.get(CHANGELIST, {"over_stop": "no"})) == [plain.pk]
    page = owner_browser.get(CHANGELIST)
    assert 'class="field-over_stop">Yes</td>' in row_of(page, signed)
    assert 'class="field-over_stop">—</td>' in row_of(page, plain)


def test_drafts_to_sign_are_listed_oldest_first_with_their_age(owner_browser, two_therapists_sessions):
    response = owner_browser.get(CHANGELIST, {"to_sign": "oldest"})
    assert listed(response) == [two_therapists_sessions["old_draft"].pk, two_therapists_sessions["young_draft"].pk]
    html = response.content.decode()
    assert "Draft, 9 days old" in html and "Draft, from today" in html


def test_sessions_list_shows_scores_compactly(owner_browser, two_therapists_sessions):
    html = owner_browser.get(CHANGELIST).content.decode()
    assert "5 → 3" in html and "6 → 4" in html  # pain and fatigue, before and after a signed session
    assert "5 → –" in html  # a draft without its after-score yet


def test_sessions_list_query_count_does_not_grow(owner_browser, two_therapists_sessions, client_a, therapist):
    for query in ({}, {"q": "maria"}, {"therapist": therapist.pk}, {"over_stop": "yes"}, {"to_sign": "oldest"}):
        owner_browser.get(CHANGELIST, query)
        with CaptureQueriesContext(connection) as few:
            owner_browser.get(CHANGELIST, query)
        for _ in range(5):
            factories.make_session(client_a, therapist, safety_override_reason="Agreed with the client.")
        with CaptureQueriesContext(connection) as more:
            owner_browser.get(CHANGELIST, query)
        assert len(more) == len(few), query


def test_session_change_page_links_to_the_session_page(owner_browser, two_therapists_sessions):
    session = two_therapists_sessions["maria"]
    html = owner_browser.get(change_url(session)).content.decode()
    assert f'<a href="/sessions/{session.pk}/">Open the session page</a>' in html


def test_view_site_opens_the_caseload(owner_browser):
    html = owner_browser.get("/admin/").content.decode()
    assert '<a href="/clients/">View site</a>' in html


def test_a_sessions_delete_address_explains_that_records_are_kept(owner_browser, two_therapists_sessions):
    session = two_therapists_sessions["maria"]
    url = reverse("admin:treatment_sessions_treatmentsession_delete", args=[session.pk])
    for response in (owner_browser.get(url), owner_browser.post(url, {"post": "yes"})):
        assert response.status_code == 403
        assert "Treatment sessions are never deleted" in response.content.decode()
    assert TreatmentSession.objects.filter(pk=session.pk).exists()
