"""A catalogue of hostile and careless input: every case gets a clear message (or is stored exactly), never a 500,
and a refused form saves nothing.

- forged ids: a client, therapist, session or technique the person cannot reach, smuggled into a POST;
- scores out of range or not numbers; impossible dates; overlapping phases;
- a 10 MB note (refused before any form sees it) and a note over the forms' limit (refused on its field);
- emoji and right-to-left text, which round-trip exactly;
- a NUL byte, which PostgreSQL cannot store: a message on the field, not a 500;
- script payloads in every free-text field, which every page shows escaped.
"""

import datetime as dt
import json
import re

import pytest
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.test import Client as BrowserClient
from django.utils import timezone
from django.utils.html import escape

from clients.models import Client, DiseasePhase, SelfReport
from practice.roles import THERAPIST
from sessions.forms import NOTE_MAX_LENGTH
from sessions.models import SessionAmendment, SessionStatus, Technique, TechniqueUse, TreatmentSession
from sessions.services import session_amend
from tests.factories import make_user
from tests.practice.world import amend_post, build_world, profile_post, session_post, snapshot

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def world():
    return build_world()


def signed_in(user) -> BrowserClient:
    browser = BrowserClient()
    browser.force_login(user)
    return browser


def errors_of(response, form: str = "form") -> dict:
    return {name: list(messages) for name, messages in response.context[form].errors.items()}


def new_session_url(client: Client) -> str:
    return f"/clients/{client.pk}/sessions/new/"


# --- forged ids


class TestForgedIds:
    def test_a_session_for_another_therapists_client_is_refused_through_its_address(self, world):
        before = snapshot()
        response = signed_in(world.maria).post(new_session_url(world.client_b), session_post())
        assert response.status_code == 404
        assert snapshot() == before

    def test_client_therapist_and_state_in_a_session_post_are_ignored(self, world):
        data = session_post(
            client=world.client_b.pk,
            therapist=world.james.pk,
            status=SessionStatus.SIGNED,
            signed_by=world.james.pk,
            signed_at="2020-01-01T10:00",
            version="99",
        )
        response = signed_in(world.maria).post(new_session_url(world.client_a), data)
        assert response.status_code == 302
        saved = TreatmentSession.objects.latest("pk")
        assert (saved.client, saved.therapist, saved.status, saved.signed_by, saved.signed_at) == (
            world.client_a,
            world.maria,
            SessionStatus.DRAFT,
            None,
            None,
        )
        assert saved.version == 1
        assert TreatmentSession.objects.filter(client=world.client_b).count() == 2

    def test_editing_a_draft_cannot_move_it_to_another_client_or_therapist(self, world):
        draft = world.a_draft
        data = session_post(version=draft.version, client=world.client_b.pk, therapist=world.james.pk)
        assert signed_in(world.maria).post(f"/sessions/{draft.pk}/edit/", data).status_code == 302
        draft.refresh_from_db()
        assert (draft.client, draft.therapist) == (world.client_a, world.maria)

    @pytest.mark.parametrize("technique", ["987654", "abc", "-1", "1 OR 1=1"])
    def test_a_technique_row_pointing_at_no_technique_is_refused(self, world, technique):
        before = snapshot()
        data = session_post() | {"uses-0-technique": technique}
        response = signed_in(world.maria).post(new_session_url(world.client_a), data)
        assert response.status_code == 200
        assert response.context["formset"].forms[0].errors["technique"] == ["Choose a technique from the list."]
        assert snapshot() == before

    def test_a_retired_technique_cannot_be_added_to_a_new_session(self, world):
        retired = Technique.objects.get(slug="swedish")
        retired.is_active = False
        retired.save()
        before = snapshot()
        response = signed_in(world.maria).post(new_session_url(world.client_a), session_post())
        assert response.context["formset"].forms[0].errors["technique"] == ["Choose a technique from the list."]
        assert snapshot() == before

    def test_a_therapist_cannot_assign_therapists_or_a_portal_account(self, world):
        a = world.client_a
        data = profile_post(a, phone="01632 960001") | {
            "therapists": [world.maria.pk, world.james.pk],
            "user": world.client_b.user.pk,
            "archived_at": "2020-01-01T00:00",
        }
        assert signed_in(world.maria).post(f"/clients/{a.pk}/edit/", data).status_code == 302
        a.refresh_from_db()
        assert a.phone == "01632 960001"  # the rest of the form was saved
        assert list(a.therapists.all()) == [world.maria]
        assert (a.user, a.archived_at) == (world.client_a.user, None)

    @pytest.mark.parametrize("who", ["a client's account", "an inactive therapist", "no one"])
    def test_the_owner_can_assign_only_active_therapists(self, world, who):
        gone = make_user("gone", role=THERAPIST, is_active=False)
        forged = {"a client's account": world.client_b.user.pk, "an inactive therapist": gone.pk, "no one": 987654}
        before = snapshot()
        data = profile_post(world.client_a) | {"therapists": [world.maria.pk, forged[who]]}
        response = signed_in(world.owner).post(f"/clients/{world.client_a.pk}/edit/", data)
        assert response.status_code == 200
        assert "therapists" in errors_of(response)
        assert snapshot() == before

    def test_an_amendment_cannot_be_filed_on_another_session_or_by_another_author(self, world):
        signed = world.a_signed
        data = amend_post(signed) | {"session": world.b_signed.pk, "author": world.james.pk}
        assert signed_in(world.maria).post(f"/sessions/{signed.pk}/amend/", data).status_code == 302
        amendment = SessionAmendment.objects.latest("pk")
        assert (amendment.session, amendment.author) == (signed, world.maria)
        assert world.b_signed.amendments.count() == 1

    def test_a_self_report_is_always_the_signed_in_clients_and_todays(self, world):
        data = {"pain": "3", "fatigue": "4", "note": "", "client": world.client_b.pk, "recorded_on": "2020-01-01"}
        assert signed_in(world.client_a.user).post("/portal/today/", data).status_code == 302
        report = SelfReport.objects.latest("pk")
        assert (report.client, report.recorded_on) == (world.client_a, TODAY())
        assert SelfReport.objects.filter(client=world.client_b).count() == 1

    def test_a_phase_is_always_for_the_client_in_the_address(self, world):
        data = {"start-phase": "subacute", "start-started_on": TODAY().isoformat(), "start-client": world.client_b.pk}
        assert signed_in(world.maria).post(f"/clients/{world.client_a.pk}/phases/start/", data).status_code == 302
        assert list(world.client_b.phases.values_list("phase", "ended_on")) == [("remission", None)]

    def test_the_admin_autocomplete_answers_owners_only(self, world):
        query = {"app_label": "treatment_sessions", "model_name": "treatmentsession", "field_name": "client"}
        url = "/admin/autocomplete/"
        therapist = signed_in(world.maria).get(url, query)
        assert therapist.status_code == 302 and therapist["Location"].startswith("/admin/login/")
        helpdesk = make_user("helpdesk", is_staff=True)  # staff flag, but no role and no permissions
        refused = signed_in(helpdesk).get(url, query)
        assert refused.status_code == 403
        assert "Zephyrine" not in refused.content.decode()
        names = [r["text"] for r in signed_in(world.owner).get(url, query).json()["results"]]
        assert "Zephyrine Quillfeather" in names and "Barnaby Oxleyworth" in names


# --- scores


class TestScores:
    @pytest.mark.parametrize("value", ["11", "-1", "abc", "5.5", "1e1", "\u0663", "", " 4x"])
    def test_a_session_score_outside_0_to_10_is_refused_on_its_field(self, world, value):
        before = snapshot()
        data = session_post(pain_before=value)
        response = signed_in(world.maria).post(new_session_url(world.client_a), data)
        assert response.status_code == 200
        assert errors_of(response)["pain_before"]
        assert snapshot() == before

    @pytest.mark.parametrize("value", ["11", "-3", "x"])
    def test_an_amended_score_outside_0_to_10_is_refused(self, world, value):
        before = snapshot()
        response = signed_in(world.maria).post(
            f"/sessions/{world.a_signed.pk}/amend/", amend_post(world.a_signed, fatigue_after=value)
        )
        assert response.status_code == 200
        assert errors_of(response)["fatigue_after"]
        assert snapshot() == before

    @pytest.mark.parametrize("value", ["11", "-1", "ten", ""])
    def test_a_self_reported_score_outside_0_to_10_is_refused(self, world, value):
        before = snapshot()
        response = signed_in(world.client_a.user).post("/portal/today/", {"pain": value, "fatigue": "3"})
        assert response.status_code == 400
        assert errors_of(response)["pain"] == ["Choose a number for your pain today, from 0 to 10."]
        assert snapshot() == before

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("duration_minutes", "0"),
            ("duration_minutes", "100000"),
            ("duration_minutes", "an hour"),
            ("room_temperature_c", "NaN"),
            ("room_temperature_c", "Infinity"),
            ("room_temperature_c", "-300"),
            ("room_temperature_c", "1e400"),
        ],
    )
    def test_other_numbers_out_of_range_are_refused_on_their_field(self, world, field, value):
        before = snapshot()
        response = signed_in(world.maria).post(new_session_url(world.client_a), session_post(**{field: value}))
        assert response.status_code == 200
        assert errors_of(response)[field]
        assert snapshot() == before

    def test_the_database_refuses_a_score_the_forms_would_never_send(self, world):
        with pytest.raises(IntegrityError), transaction.atomic():
            TreatmentSession.objects.filter(pk=world.a_draft.pk).update(pain_before=11)


# --- dates


IMPOSSIBLE_DAYS = ["2025-02-30", "0000-01-01", "2025-13-01", "10000-01-01", "yesterday", ""]


class TestDates:
    @pytest.mark.parametrize("day", IMPOSSIBLE_DAYS)
    def test_an_impossible_session_date_is_refused(self, world, day):
        before = snapshot()
        started_at = f"{day}T10:00" if day and day != "yesterday" else day
        response = signed_in(world.maria).post(new_session_url(world.client_a), session_post(started_at=started_at))
        assert response.status_code == 200
        assert errors_of(response)["started_at"]
        assert snapshot() == before

    @pytest.mark.parametrize("day", IMPOSSIBLE_DAYS)
    def test_an_impossible_phase_start_or_end_is_refused(self, world, day):
        before = snapshot()
        maria = signed_in(world.maria)
        start = maria.post(
            f"/clients/{world.client_a.pk}/phases/start/", {"start-phase": "subacute", "start-started_on": day}
        )
        assert start.status_code == 200 and errors_of(start)["started_on"]
        end = maria.post(f"/clients/{world.client_a.pk}/phases/end/", {"end-ended_on": day})
        assert end.status_code == 200 and errors_of(end)["ended_on"]
        assert snapshot() == before

    @pytest.mark.parametrize("day", ["2025-02-30", "0000-01-01", "2999-01-01"])
    def test_an_impossible_or_future_date_of_birth_is_refused(self, world, day):
        before = snapshot()
        data = profile_post(world.client_a, date_of_birth=day)
        response = signed_in(world.maria).post(f"/clients/{world.client_a.pk}/edit/", data)
        assert response.status_code == 200
        assert errors_of(response)["date_of_birth"]
        assert snapshot() == before

    @pytest.mark.parametrize(
        "query",
        [
            {"range": "custom", "start": "2025-02-30", "end": "0000-01-01"},
            {"range": "custom", "start": "9999-12-31", "end": "9999-12-31"},
            {"range": "custom", "start": "2024-05-01", "end": "2024-01-01"},
            {"range": "ever"},
        ],
    )
    def test_impossible_trend_ranges_show_the_page_with_a_message(self, world, query):
        therapist = signed_in(world.maria).get(f"/clients/{world.client_a.pk}/trends/", query)
        assert therapist.status_code == 200
        assert signed_in(world.maria).get(f"/clients/{world.client_a.pk}/trends.csv", query).status_code == 200
        assert signed_in(world.client_a.user).get("/portal/trends/", query).status_code == 200
        assert signed_in(world.client_a.user).get("/portal/export/trends.csv", query).status_code == 200
        if query["range"] == "custom":
            assert therapist.context["range_form"].errors

    @pytest.mark.parametrize("page", ["abc", "-1", "0", "99999999999999999999", "1\x00"])
    def test_odd_page_numbers_show_a_page(self, world, page):
        assert signed_in(world.maria).get("/clients/", {"page": page}).status_code == 200
        assert signed_in(world.maria).get(f"/clients/{world.client_a.pk}/", {"page": page}).status_code == 200
        assert signed_in(world.client_a.user).get("/portal/", {"page": page}).status_code == 200


class TestOverlappingPhases:
    def test_a_phase_starting_before_the_current_one_is_refused(self, world):
        before = snapshot()
        started = (TODAY() - dt.timedelta(days=200)).isoformat()
        response = signed_in(world.maria).post(
            f"/clients/{world.client_a.pk}/phases/start/", {"start-phase": "acute_flare", "start-started_on": started}
        )
        assert response.status_code == 200
        assert "a new phase must start after that day" in errors_of(response)["started_on"][0]
        assert snapshot() == before

    def test_an_overlapping_phase_added_in_the_admin_is_refused_with_the_overlap_named(self, world):
        before = snapshot()
        data = {
            "client": world.client_a.pk,
            "phase": "acute_flare",
            "started_on": (TODAY() - dt.timedelta(days=30)).isoformat(),
            "ended_on": (TODAY() - dt.timedelta(days=20)).isoformat(),
            "notes": "",
        }
        response = signed_in(world.owner).post("/admin/clients/diseasephase/add/", data)
        assert response.status_code == 200
        assert "This phase overlaps the remission phase" in response.content.decode()
        assert snapshot() == before

    def test_a_second_open_phase_is_refused_by_the_database_too(self, world):
        with pytest.raises(IntegrityError), transaction.atomic():
            DiseasePhase.objects.bulk_create(
                [DiseasePhase(client=world.client_a, phase="subacute", started_on=TODAY())]
            )


# --- size


class TestSize:
    def test_a_ten_megabyte_note_is_refused_with_a_clear_page_and_nothing_saved(self, world):
        before = snapshot()
        data = session_post(subjective="x" * (10 * 1024 * 1024))
        response = signed_in(world.maria).post(new_session_url(world.client_a), data)
        assert response.status_code == 400
        page = response.content.decode()
        assert "It was too large" in page and "nothing was saved" in page
        assert snapshot() == before

    @pytest.mark.parametrize("field", ["subjective", "plan", "client_summary"])
    def test_a_note_over_the_limit_is_refused_on_its_field(self, world, field):
        before = snapshot()
        data = session_post(**{field: "x" * (NOTE_MAX_LENGTH + 1)})
        response = signed_in(world.maria).post(new_session_url(world.client_a), data)
        assert response.status_code == 200
        assert errors_of(response)[field] == [
            f"Ensure this value has at most {NOTE_MAX_LENGTH} characters (it has {NOTE_MAX_LENGTH + 1})."
        ]
        assert snapshot() == before

    def test_a_note_at_the_limit_is_stored_exactly(self, world):
        note = ("Long but fine. " * NOTE_MAX_LENGTH)[: NOTE_MAX_LENGTH - 1] + "!"
        response = signed_in(world.maria).post(new_session_url(world.client_a), session_post(subjective=note))
        assert response.status_code == 302
        assert TreatmentSession.objects.latest("pk").subjective == note

    def test_the_session_form_tells_the_browser_the_limit(self, world):
        page = signed_in(world.maria).get(new_session_url(world.client_a)).content.decode()
        assert re.search(rf'name="subjective"[^>]*maxlength="{NOTE_MAX_LENGTH}"', page)

    def test_long_amendment_reasons_phase_notes_and_addresses_are_refused_on_their_field(self, world):
        before = snapshot()
        maria = signed_in(world.maria)
        amend = maria.post(
            f"/sessions/{world.a_signed.pk}/amend/",
            amend_post(world.a_signed, reason="r" * (NOTE_MAX_LENGTH + 1)),
        )
        assert errors_of(amend)["reason"]
        phase = maria.post(
            f"/clients/{world.client_a.pk}/phases/start/",
            {"start-phase": "subacute", "start-started_on": TODAY().isoformat(), "start-notes": "n" * 2001},
        )
        assert errors_of(phase)["notes"]
        profile = maria.post(f"/clients/{world.client_a.pk}/edit/", profile_post(world.client_a, address="a" * 1001))
        assert errors_of(profile)["address"]
        assert snapshot() == before


# --- text that must come back exactly


WORLD_TEXT = "😀 مرحبا שלום — Zoë's “notes” ﷽ 𝄞"


class TestRoundTrip:
    def test_emoji_and_right_to_left_text_round_trip_through_the_session_form(self, world):
        fields = {name: f"{name}: {WORLD_TEXT}" for name in ("subjective", "objective", "assessment", "plan")}
        fields["client_summary"] = WORLD_TEXT
        maria = signed_in(world.maria)
        assert maria.post(new_session_url(world.client_a), session_post(**fields)).status_code == 302
        saved = TreatmentSession.objects.latest("pk")
        assert {name: getattr(saved, name) for name in fields} == fields
        page = maria.get(f"/sessions/{saved.pk}/").content.decode()
        assert all(escape(value) in page for value in fields.values())
        # And back through the edit form unchanged.
        edit = maria.get(f"/sessions/{saved.pk}/edit/")
        assert edit.context["form"]["plan"].value() == fields["plan"]

    def test_emoji_and_right_to_left_text_round_trip_through_the_profile_form(self, world):
        a = world.client_a
        text = {"first_name": "😀 مرحبا", "last_name": "שלום Zoë", "preferred_name": "𝄞", "address": WORLD_TEXT}
        maria = signed_in(world.maria)
        assert maria.post(f"/clients/{a.pk}/edit/", profile_post(a, **text)).status_code == 302
        a.refresh_from_db()
        assert {name: getattr(a, name) for name in text} == text
        assert escape(text["address"]) in maria.get(f"/clients/{a.pk}/").content.decode()

    def test_right_to_left_text_round_trips_through_the_portal_and_its_export(self, world):
        me = signed_in(world.client_a.user)
        assert me.post("/portal/today/", {"pain": "3", "fatigue": "4", "note": WORLD_TEXT}).status_code == 302
        assert SelfReport.objects.get(client=world.client_a, recorded_on=TODAY()).note == WORLD_TEXT
        exported = me.get("/portal/export/self_reports.csv").content.decode("utf-8")
        assert WORLD_TEXT in exported


# --- NUL bytes


NUL = "before\x00after"


class TestNulBytes:
    def test_a_nul_byte_in_a_session_note_gets_a_message(self, world):
        before = snapshot()
        response = signed_in(world.maria).post(new_session_url(world.client_a), session_post(subjective=NUL))
        assert response.status_code == 200
        assert errors_of(response)["subjective"] == ["Null characters are not allowed."]
        assert snapshot() == before

    @pytest.mark.parametrize("field", ["first_name", "address", "physician_name"])
    def test_a_nul_byte_in_the_profile_gets_a_message(self, world, field):
        before = snapshot()
        response = signed_in(world.maria).post(
            f"/clients/{world.client_a.pk}/edit/", profile_post(world.client_a, **{field: NUL})
        )
        assert response.status_code == 200
        assert errors_of(response)[field] == ["Null characters are not allowed."]
        assert snapshot() == before

    def test_a_nul_byte_in_other_forms_gets_a_message(self, world):
        before = snapshot()
        maria = signed_in(world.maria)
        amend = maria.post(f"/sessions/{world.a_signed.pk}/amend/", amend_post(world.a_signed, reason=NUL))
        assert errors_of(amend)["reason"] == ["Null characters are not allowed."]
        phase = maria.post(
            f"/clients/{world.client_a.pk}/phases/start/",
            {"start-phase": "subacute", "start-started_on": TODAY().isoformat(), "start-notes": NUL},
        )
        assert errors_of(phase)["notes"] == ["Null characters are not allowed."]
        report = signed_in(world.client_a.user).post("/portal/today/", {"pain": "1", "fatigue": "1", "note": NUL})
        assert report.status_code == 400
        assert errors_of(report)["note"] == ["Null characters are not allowed."]
        assert snapshot() == before

    def test_a_nul_byte_at_sign_in_is_a_failed_sign_in(self, world):
        response = BrowserClient().post("/accounts/login/", {"username": "maria\x00", "password": "x"})
        assert response.status_code == 200
        assert "Null characters are not allowed." in response.content.decode()

    def test_a_nul_byte_in_a_search_finds_nothing_and_breaks_nothing(self, world):
        maria = signed_in(world.maria)
        response = maria.get("/clients/", {"q": "Zeph\x00"})
        assert response.status_code == 200
        assert "Zephyrine" in response.content.decode()  # the NUL is dropped, the rest still searches
        owner = signed_in(world.owner)
        for model in ("clients/client", "clients/diseasephase", "treatment_sessions/treatmentsession"):
            assert owner.get(f"/admin/{model}/", {"q": "Zeph\x00"}).status_code == 200, model

    @pytest.mark.parametrize(
        "address",
        [
            "/admin/practice/auditevent/?actor=%00",
            "/admin/practice/auditevent/?object_type=%00",
            "/admin/practice/auditevent/?q=%00",
            "/admin/clients/client/?current_phase=%00&ms_type=%00",
            "/admin/treatment_sessions/treatmentsession/?status=%00&q=a%00b",
            "/admin/autocomplete/?app_label=clients&model_name=diseasephase&field_name=client&term=%00",
            "/admin/autocomplete/?app_label=treatment_sessions&model_name=treatmentsession&field_name=client&term=Zeph%00",
        ],
    )
    def test_a_nul_byte_in_an_admin_filter_or_search_is_dropped(self, world, address):
        response = signed_in(world.owner).get(address)
        assert response.status_code == 200, address

    def test_a_nul_byte_in_an_address_is_a_404(self, world):
        assert signed_in(world.client_a.user).get("/portal/export/record%00.json").status_code == 404


# --- script payloads


SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = f"{SCRIPT}{IMG}"
RAW_PARTS = ("<script>alert(1)", "<img src=x onerror")


def _fitting(model, name: str) -> str:
    """The whole payload after the field's name, or as much of it as the column holds (phone numbers: 40)."""
    limit = model._meta.get_field(name).max_length or 10_000
    for value in (f"{name} {PAYLOAD}", PAYLOAD, SCRIPT):
        if len(value) <= limit:
            return value
    raise AssertionError(name)


@pytest.fixture
def hostile(world):
    """Client A's record with a script payload in every free-text field, and in the names of the things it uses."""
    a = world.client_a
    text_fields = [
        "first_name",
        "last_name",
        "preferred_name",
        "phone",
        "address",
        "emergency_contact_name",
        "emergency_contact_relationship",
        "emergency_contact_phone",
        "physician_name",
        "physician_phone",
        "neurologist_name",
        "neurologist_phone",
    ]
    Client.objects.filter(pk=a.pk).update(**{name: _fitting(Client, name) for name in text_fields})
    a.phases.update(notes=f"phase {PAYLOAD}")
    SelfReport.objects.filter(client=a).update(note=f"self {PAYLOAD}")
    Technique.objects.filter(slug="swedish").update(name=f"Swedish {PAYLOAD}")
    User.objects.filter(pk=world.maria.pk).update(first_name=f"Maria {PAYLOAD}")
    session = TreatmentSession.objects.create(
        client=a,
        therapist=world.maria,
        started_at=timezone.now() - dt.timedelta(days=1),
        pain_before=7,
        fatigue_before=6,
        pain_after=3,
        fatigue_after=4,
        **{
            name: f"{name} {PAYLOAD}"
            for name in ("subjective", "objective", "assessment", "plan", "client_summary", "safety_override_reason")
        },
    )
    TechniqueUse.objects.create(
        session=session, technique=Technique.objects.get(slug="swedish"), body_region="neck", pressure="light"
    )
    TreatmentSession.objects.filter(pk=session.pk).update(
        status=SessionStatus.SIGNED, signed_at=timezone.now(), signed_by=world.maria
    )
    session.refresh_from_db()
    session_amend(session=session, author=world.maria, reason=f"reason {PAYLOAD}", changes={"plan": f"plan2 {PAYLOAD}"})
    return session


def _assert_escaped(text: str, where: str) -> None:
    for raw in RAW_PARTS:
        assert raw not in text, f"{where}: {raw!r} is not escaped"


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


class TestScriptPayloads:
    def test_every_therapist_page_shows_the_payloads_escaped(self, world, hostile):
        a = world.client_a
        maria = signed_in(world.maria)
        pages = [
            "/clients/",
            f"/clients/{a.pk}/",
            f"/clients/{a.pk}/edit/",
            f"/clients/{a.pk}/phases/start/",
            f"/clients/{a.pk}/phases/end/",
            f"/clients/{a.pk}/sessions/new/",
            f"/sessions/{hostile.pk}/",
            f"/sessions/{hostile.pk}/amend/",
            f"/sessions/{world.a_draft.pk}/edit/",
            f"/clients/{a.pk}/trends/?range=all",
        ]
        for url in pages:
            response = maria.get(url)
            assert response.status_code == 200, url
            _assert_escaped(response.content.decode(), url)
        # The payload is there, escaped: the page shows what was typed, not nothing.
        record = maria.get(f"/clients/{a.pk}/").content.decode()
        assert escape("address " + PAYLOAD) in record
        session_page = maria.get(f"/sessions/{hostile.pk}/").content.decode()
        assert escape(f"subjective {PAYLOAD}") in session_page
        assert escape(f"reason {PAYLOAD}") in session_page

    def test_the_trend_chart_data_is_inert_json(self, world, hostile):
        page = signed_in(world.maria).get(f"/clients/{world.client_a.pk}/trends/?range=all").content.decode()
        scripts = re.findall(r'<script id="([^"]+)" type="application/json">(.*?)</script>', page, re.S)
        assert scripts, "the chart's data is passed with json_script"
        data = {name: json.loads(body) for name, body in scripts}
        # The technique's name, decoded intact: the browser gets it as data, never as markup.
        assert f"Swedish {PAYLOAD}" in _strings(data)
        for _name, body in scripts:
            assert "<" not in body

    def test_every_portal_page_and_file_shows_the_payloads_escaped_or_as_data(self, world, hostile):
        me = signed_in(world.client_a.user)
        for url in ("/portal/", "/portal/today/", "/portal/trends/?range=all", "/portal/export/"):
            response = me.get(url)
            assert response.status_code == 200, url
            _assert_escaped(response.content.decode(), url)
        home = me.get("/portal/").content.decode()
        assert escape(f"client_summary {PAYLOAD}") in home
        record = me.get("/portal/export/record.json")
        assert record["Content-Type"].startswith("application/json")
        assert json.loads(record.content)  # data, served as data

    def test_the_admin_shows_the_payloads_escaped(self, world, hostile):
        owner = signed_in(world.owner)
        for url in (
            "/admin/clients/client/",
            f"/admin/clients/client/{world.client_a.pk}/change/",
            f"/admin/treatment_sessions/treatmentsession/{hostile.pk}/change/",
            "/admin/treatment_sessions/sessionamendment/",
        ):
            response = owner.get(url)
            assert response.status_code == 200, url
            _assert_escaped(response.content.decode(), url)

    def test_the_payloads_were_stored_as_typed(self, world, hostile):
        assert Client.objects.get(pk=world.client_a.pk).address == f"address {PAYLOAD}"
        assert hostile.subjective == f"subjective {PAYLOAD}"
