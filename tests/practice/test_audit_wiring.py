"""Every read and write of a clinical record leaves exactly the expected event in the audit trail.

Reads: the client record, a session, the trend page and CSV, the portal's pages and downloads, the admin's
change pages. Writes: sessions created, changed, signed and amended; profiles changed; clients archived and
restored; phases started and ended; self-reports; invitations. Refusals: another therapist's client or
session is a 404 that leaves an ACCESS_DENIED event (and the same 404 as an address where nothing exists,
which leaves none). No event carries health data.
"""

import datetime as dt
import re

import pytest
from django.core import mail
from django.test import Client as BrowserClient
from django.utils import timezone

from clients.models import Client, SelfReport
from practice import audit
from practice.models import AuditChainHead, AuditEvent
from sessions.models import SessionAmendment, SessionStatus, TreatmentSession
from tests.factories import make_client, make_session
from tests.practice.world import A_MARKERS, B_MARKERS, amend_post, build_world, profile_post, session_post

pytestmark = pytest.mark.django_db

OK, DENIED, FAILED = audit.OK, audit.DENIED, audit.FAILED


@pytest.fixture
def world():
    return build_world()


def _head() -> int:
    return AuditChainHead.objects.filter(pk=1).values_list("length", flat=True).first() or 0


class Recorder:
    """Runs requests as one person and returns the events each request added, in order."""

    def __init__(self, user=None):
        self.browser = BrowserClient()
        self.user = user
        if user is not None:
            self.browser.force_login(user)

    def _events(self, since: int) -> list[tuple]:
        rows = AuditEvent.objects.filter(sequence__gt=since).order_by("sequence")
        return list(rows.values_list("action", "object_type", "object_id", "client_id", "outcome", "actor_username"))

    def get(self, url: str, expected_status: int = 200, **query) -> list[tuple]:
        since = _head()
        self.response = self.browser.get(url, query)
        assert self.response.status_code == expected_status, (url, self.response.status_code)
        return self._events(since)

    def post(self, url: str, data: dict | None = None, expected_status: int = 302) -> list[tuple]:
        since = _head()
        self.response = self.browser.post(url, data or {})
        context = getattr(self.response, "context", None) or {}
        errors = [context[name].errors for name in ("form", "adminform") if name in context]
        assert self.response.status_code == expected_status, (url, self.response.status_code, errors)
        return self._events(since)


def event(action, object_type, obj_id, client_id, who, outcome=OK) -> tuple:
    return (action, object_type, "" if obj_id is None else str(obj_id), client_id, outcome, who)


# --- reads


class TestTherapistReads:
    def test_opening_the_client_record_is_one_read_of_the_client(self, world):
        a = world.client_a
        assert Recorder(world.maria).get(f"/clients/{a.pk}/") == [event("read", "client", a.pk, a.pk, "maria")]

    def test_opening_a_session_is_one_read_of_the_session(self, world):
        s = world.a_signed
        expected = [event("read", "session", s.pk, world.client_a.pk, "maria")]
        assert Recorder(world.maria).get(f"/sessions/{s.pk}/") == expected

    def test_the_trend_page_is_a_read_and_its_csv_an_export(self, world):
        a, maria = world.client_a, Recorder(world.maria)
        assert maria.get(f"/clients/{a.pk}/trends/") == [event("read", "trends", a.pk, a.pk, "maria")]
        assert maria.get(f"/clients/{a.pk}/trends.csv") == [event("export", "trends_csv", a.pk, a.pk, "maria")]

    @pytest.mark.parametrize("page", ["edit/", "phases/start/", "phases/end/", "sessions/new/"])
    def test_forms_about_a_client_are_reads_of_the_client(self, world, page):
        a = world.client_a
        assert Recorder(world.maria).get(f"/clients/{a.pk}/{page}") == [event("read", "client", a.pk, a.pk, "maria")]

    @pytest.mark.parametrize(("session", "page"), [("a_draft", "edit/"), ("a_signed", "amend/")])
    def test_forms_about_a_session_are_reads_of_the_session(self, world, session, page):
        s = getattr(world, session)
        expected = [event("read", "session", s.pk, world.client_a.pk, "maria")]
        assert Recorder(world.maria).get(f"/sessions/{s.pk}/{page}") == expected

    def test_a_form_shown_again_with_errors_is_a_read_and_nothing_else(self, world):
        a = world.client_a
        events = Recorder(world.maria).post(f"/clients/{a.pk}/edit/", {"first_name": ""}, expected_status=200)
        assert events == [event("read", "client", a.pk, a.pk, "maria")]

    def test_the_caseload_is_not_a_read_of_each_client(self, world):
        assert Recorder(world.maria).get("/clients/") == []


class TestPortalReads:
    def test_my_sessions_is_a_read_of_my_record(self, world):
        a = world.client_a
        assert Recorder(a.user).get("/portal/") == [event("read", "client", a.pk, a.pk, "aqx_portal")]

    def test_my_trends_is_a_read(self, world):
        a = world.client_a
        assert Recorder(a.user).get("/portal/trends/") == [event("read", "trends", a.pk, a.pk, "aqx_portal")]

    def test_the_self_report_form_is_a_read_of_todays_entry(self, world):
        a = world.client_a
        assert Recorder(a.user).get("/portal/today/") == [event("read", "self_report", None, a.pk, "aqx_portal")]

    def test_the_list_of_downloads_is_not_a_read(self, world):
        # It names the files and counts the entries; the files themselves are exports.
        assert Recorder(world.client_a.user).get("/portal/export/") == []

    @pytest.mark.parametrize(
        ("address", "object_type"),
        [
            ("my-record.zip", "record_zip"),
            ("sessions.csv", "sessions_csv"),
            ("phases.csv", "phases_csv"),
            ("self_reports.csv", "self_reports_csv"),
            ("trends.csv", "trends_csv"),
            ("record.json", "record_json"),
        ],
    )
    def test_each_download_is_one_export(self, world, address, object_type):
        a = world.client_a
        events = Recorder(a.user).get(f"/portal/export/{address}")
        assert events == [event("export", object_type, a.pk, a.pk, "aqx_portal")]

    def test_an_unknown_download_is_a_plain_404_without_an_event(self, world):
        assert Recorder(world.client_a.user).get("/portal/export/passwords.txt", expected_status=404) == []


class TestAdminReads:
    @pytest.mark.parametrize(
        ("path", "object_type", "pick"),
        [
            ("clients/client", "client", lambda w: w.client_a),
            ("clients/diseasephase", "phase", lambda w: w.client_a.phases.get()),
            ("treatment_sessions/treatmentsession", "session", lambda w: w.a_signed),
            ("treatment_sessions/treatmentsession", "session", lambda w: w.a_draft),
            ("treatment_sessions/sessionamendment", "amendment", lambda w: w.a_signed.amendments.get()),
        ],
    )
    def test_opening_a_clinical_change_page_is_a_read(self, world, path, object_type, pick):
        obj = pick(world)
        events = Recorder(world.owner).get(f"/admin/{path}/{obj.pk}/change/")
        assert events == [event("read", object_type, obj.pk, world.client_a.pk, "owner")]

    def test_lists_and_the_add_page_are_not_reads_of_a_record(self, world):
        owner = Recorder(world.owner)
        assert owner.get("/admin/clients/client/") == []
        assert owner.get("/admin/treatment_sessions/treatmentsession/add/") == []


# --- writes


class TestSessionWrites:
    def test_logging_a_session_is_one_create(self, world):
        a = world.client_a
        events = Recorder(world.maria).post(f"/clients/{a.pk}/sessions/new/", session_post())
        new = TreatmentSession.objects.filter(client=a).latest("pk")
        assert events == [event("create", "session", new.pk, a.pk, "maria")]

    def test_saving_a_draft_is_one_change_and_a_history_row(self, world):
        draft = world.a_draft
        data = session_post(version=draft.version, plan="Stretch the calves next time.")
        events = Recorder(world.maria).post(f"/sessions/{draft.pk}/edit/", data)
        assert events == [event("change", "session", draft.pk, world.client_a.pk, "maria")]
        latest = draft.history.order_by("-history_date", "-history_id").first()
        assert (latest.plan, latest.history_user_id, latest.history_change_reason) == (
            "Stretch the calves next time.",
            world.maria.pk,
            "Draft edited",
        )

    def test_signing_is_one_sign_and_a_history_row(self, world):
        draft = world.a_draft
        events = Recorder(world.maria).post(f"/sessions/{draft.pk}/sign/")
        assert events == [event("sign", "session", draft.pk, world.client_a.pk, "maria")]
        latest = draft.history.order_by("-history_date", "-history_id").first()
        assert (latest.status, latest.history_change_reason) == (SessionStatus.SIGNED, "Signed")

    def test_a_refused_signature_is_one_failed_sign(self, world):
        unfinished = make_session(world.client_a, world.maria)  # no after-scores yet
        events = Recorder(world.maria).post(f"/sessions/{unfinished.pk}/sign/")
        assert events == [event("sign", "session", unfinished.pk, world.client_a.pk, "maria", FAILED)]
        unfinished.refresh_from_db()
        assert unfinished.status == SessionStatus.DRAFT

    def test_amending_is_one_amend_of_the_new_amendment(self, world):
        signed = world.a_signed
        events = Recorder(world.maria).post(f"/sessions/{signed.pk}/amend/", amend_post(signed))
        amendment = SessionAmendment.objects.filter(session=signed).latest("pk")
        assert events == [event("amend", "amendment", amendment.pk, world.client_a.pk, "maria")]


class TestClientWrites:
    def test_saving_the_profile_is_one_change(self, world):
        a = world.client_a
        events = Recorder(world.maria).post(f"/clients/{a.pk}/edit/", profile_post(a, phone="01632 960123"))
        assert events == [event("change", "client", a.pk, a.pk, "maria")]

    def test_starting_a_phase_is_one_phase_change_of_the_new_phase(self, world):
        a = world.client_a
        data = {"start-phase": "subacute", "start-started_on": timezone.localdate().isoformat()}
        events = Recorder(world.maria).post(f"/clients/{a.pk}/phases/start/", data)
        new = a.phases.get(ended_on__isnull=True)
        assert new.phase == "subacute"
        assert events == [event("phase_change", "phase", new.pk, a.pk, "maria")]

    def test_ending_a_phase_is_one_phase_change_of_that_phase(self, world):
        a = world.client_a
        current = a.phases.get()
        data = {"end-ended_on": timezone.localdate().isoformat()}
        events = Recorder(world.maria).post(f"/clients/{a.pk}/phases/end/", data)
        assert events == [event("phase_change", "phase", current.pk, a.pk, "maria")]

    def test_archiving_and_restoring_in_the_admin_is_one_event_per_client(self, world):
        a, b = world.client_a, world.client_b
        owner = Recorder(world.owner)
        archive = {"action": "archive_clients", "_selected_action": [a.pk, b.pk]}
        events = owner.post("/admin/clients/client/", archive)
        assert sorted(events) == sorted(
            [event("archive", "client", a.pk, a.pk, "owner"), event("archive", "client", b.pk, b.pk, "owner")]
        )
        # Archiving again changes nothing, so it records nothing.
        assert owner.post("/admin/clients/client/", archive) == []
        restore = {"action": "unarchive_clients", "_selected_action": [a.pk], "archived": "all"}
        assert owner.post("/admin/clients/client/?archived=all", restore) == [
            event("change", "client", a.pk, a.pk, "owner")
        ]
        assert Client.objects.archived().get() == b

    def test_saving_a_client_in_the_admin_is_one_change(self, world):
        a = world.client_a
        owner = Recorder(world.owner)
        owner.get(f"/admin/clients/client/{a.pk}/change/")
        data = _admin_post_data(owner.response) | {"phone": "01632 960555"}
        events = owner.post(f"/admin/clients/client/{a.pk}/change/", data)
        assert events == [event("change", "client", a.pk, a.pk, "owner")]
        a.refresh_from_db()
        assert a.phone == "01632 960555"

    def test_adding_a_phase_in_the_admin_is_one_create(self, world):
        b = world.client_b
        data = {
            "client": b.pk,
            "phase": "acute_flare",
            "started_on": (timezone.localdate() - dt.timedelta(days=200)).isoformat(),
            "ended_on": (timezone.localdate() - dt.timedelta(days=100)).isoformat(),
            "notes": "",
        }
        events = Recorder(world.owner).post("/admin/clients/diseasephase/add/", data)
        new = b.phases.get(phase="acute_flare")
        assert events == [event("create", "phase", new.pk, b.pk, "owner")]


def _admin_post_data(response) -> dict:
    """The admin change form as the browser would post it back, inlines included."""
    data = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms += [formset.management_form, *formset.forms]
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None or value is False:
                continue
            if value is True:
                data[bound.html_name] = "on"
            elif isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            else:
                formatted = bound.field.widget.format_value(bound.field.prepare_value(value))
                if isinstance(formatted, list):  # selects format their value as a list
                    formatted = formatted[0] if formatted else ""
                data[bound.html_name] = "" if formatted is None else str(formatted)
    return data


class TestPortalWrites:
    def test_todays_entry_is_a_create_then_a_change(self, world):
        a = world.client_a
        me = Recorder(a.user)
        events = me.post("/portal/today/", {"pain": "3", "fatigue": "4", "note": ""})
        report = SelfReport.objects.get(client=a, recorded_on=timezone.localdate())
        assert events == [event("create", "self_report", report.pk, a.pk, "aqx_portal")]
        events = me.post("/portal/today/", {"pain": "2", "fatigue": "4", "note": ""})
        assert events == [event("change", "self_report", report.pk, a.pk, "aqx_portal")]


class TestInvitations:
    @pytest.fixture
    def carla(self, world):
        return make_client(therapists=[world.maria], first_name="Carla", last_name="Chen", email="carla@example.org")

    def test_an_invitation_is_one_create_of_the_portal_account(self, world, carla):
        events = Recorder(world.maria).post(f"/portal/invite/{carla.pk}/")
        carla.refresh_from_db()
        assert events == [event("create", "portal_account", carla.user_id, carla.pk, "maria")]

    def test_a_refused_invitation_is_one_failed_create(self, world):
        a = world.client_a  # already has an account
        events = Recorder(world.maria).post(f"/portal/invite/{a.pk}/")
        assert events == [event("create", "portal_account", None, a.pk, "maria", FAILED)]

    def test_inviting_from_the_admin_records_each_client(self, world, carla):
        data = {"action": "invite_to_portal", "_selected_action": [carla.pk, world.client_a.pk]}
        events = Recorder(world.owner).post("/admin/clients/client/", data)
        carla.refresh_from_db()
        assert sorted(events) == sorted(
            [
                event("create", "portal_account", carla.user_id, carla.pk, "owner"),
                event("create", "portal_account", None, world.client_a.pk, "owner", FAILED),
            ]
        )

    def test_accepting_is_a_sign_in_and_a_change_of_the_account(self, world, carla):
        Recorder(world.maria).post(f"/portal/invite/{carla.pk}/")
        path = re.search(r"(/portal/welcome/\S+/\S+/)", mail.outbox[-1].body).group(1)
        stranger = Recorder()
        set_password = stranger.browser.get(path)["Location"]
        password = "a-calm-river-in-spring"
        events = stranger.post(set_password, {"new_password1": password, "new_password2": password})
        carla.refresh_from_db()
        username = carla.user.username
        assert events == [
            event("login", "", None, None, username),
            event("change", "portal_account", carla.user_id, carla.pk, username),
        ]


# --- refusals


class TestRefusedAccess:
    @pytest.mark.parametrize(
        ("method", "address", "object_type", "pick"),
        [
            ("get", "/clients/{b}/", "client", "client_b"),
            ("get", "/clients/{b}/edit/", "client", "client_b"),
            ("post", "/clients/{b}/phases/start/", "client", "client_b"),
            ("post", "/clients/{b}/phases/end/", "client", "client_b"),
            ("get", "/clients/{b}/sessions/new/", "client", "client_b"),
            ("get", "/clients/{b}/trends/", "client", "client_b"),
            ("get", "/clients/{b}/trends.csv", "client", "client_b"),
            ("post", "/portal/invite/{b}/", "client", "client_b"),
            ("get", "/sessions/{s}/", "session", "b_signed"),
            ("get", "/sessions/{d}/edit/", "session", "b_draft"),
            ("post", "/sessions/{d}/sign/", "session", "b_draft"),
            ("get", "/sessions/{s}/amend/", "session", "b_signed"),
        ],
    )
    def test_another_therapists_record_is_a_404_and_one_denied_event(self, world, method, address, object_type, pick):
        url = address.format(b=world.client_b.pk, s=world.b_signed.pk, d=world.b_draft.pk)
        target = getattr(world, pick)
        maria = Recorder(world.maria)
        events = getattr(maria, method)(url, expected_status=404)
        assert events == [event("access_denied", object_type, target.pk, world.client_b.pk, "maria", DENIED)]

    def test_an_address_where_nothing_exists_is_the_same_404_without_an_event(self, world):
        maria = Recorder(world.maria)
        maria.get(f"/clients/{world.client_b.pk}/", expected_status=404)
        refused = _without_csrf_tokens(maria.response.content)
        assert maria.get("/clients/987654/", expected_status=404) == []
        assert _without_csrf_tokens(maria.response.content) == refused
        assert maria.get("/sessions/987654/", expected_status=404) == []
        assert _without_csrf_tokens(maria.response.content) == refused

    def test_a_client_on_a_therapist_page_is_a_denied_page(self, world):
        a = world.client_a
        events = Recorder(a.user).get(f"/clients/{a.pk}/", expected_status=404)
        assert events == [event("access_denied", "page", "clients:detail", None, "aqx_portal", DENIED)]

    def test_a_therapist_in_the_portal_is_a_denied_page(self, world):
        events = Recorder(world.maria).get("/portal/export/my-record.zip", expected_status=404)
        assert events == [event("access_denied", "page", "portal:export_zip", None, "maria", DENIED)]

    def test_anonymous_visitors_are_sent_to_sign_in_without_an_event(self, world):
        assert Recorder().get(f"/clients/{world.client_a.pk}/", expected_status=302) == []


def _without_csrf_tokens(page: bytes) -> bytes:
    # The 404 page has the sign-out form, whose token is masked afresh for every response.
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b'name="csrfmiddlewaretoken"', page)


# --- what the log holds


# Everything the records hold but the portal usernames: an actor's username is what the log is for.
HEALTH_AND_NAME_MARKERS = [m for m in A_MARKERS.all + B_MARKERS.all if not m.endswith("_portal")]


def test_no_event_holds_health_data(world):
    """After a day's work on both records, the log names ids and kinds of things, nothing more."""
    a, b = world.client_a, world.client_b
    maria, james, owner = Recorder(world.maria), Recorder(world.james), Recorder(world.owner)
    maria.get(f"/clients/{a.pk}/")
    maria.get(f"/clients/{b.pk}/", expected_status=404)
    maria.post(f"/clients/{a.pk}/sessions/new/", session_post(subjective="AQX-SOAP-S again"))
    maria.post(f"/sessions/{world.a_signed.pk}/amend/", amend_post(world.a_signed, reason="AQX-AMEND-REASON"))
    maria.get(f"/clients/{a.pk}/trends.csv")
    james.post(f"/sessions/{world.b_draft.pk}/sign/")
    owner.get(f"/admin/clients/client/{b.pk}/change/")
    me = Recorder(a.user)
    me.post("/portal/today/", {"pain": "3", "fatigue": "4", "note": "AQX-SELF-NOTE today"})
    me.get("/portal/export/my-record.zip")
    Recorder().browser.post("/accounts/login/", {"username": "Zephyrine Quillfeather", "password": "x"})
    events = list(AuditEvent.objects.all())
    assert len(events) >= 12
    words = re.compile(r"^[a-z_:]*$")
    for e in events:
        text = e.canonical().decode()
        for marker in HEALTH_AND_NAME_MARKERS:
            # A name typed into the sign-in form is kept as typed: that is what a failed sign-in records.
            if e.action != audit.LOGIN_FAILED:
                assert marker not in text, (e, marker)
        assert words.match(e.object_type), e
        assert e.object_id == "" or e.object_id.isdigit() or words.match(e.object_id), e
    assert audit.verify_database().ok


def test_event_times_are_utc(world):
    Recorder(world.maria).get(f"/clients/{world.client_a.pk}/")
    latest = AuditEvent.objects.latest()
    assert latest.time.utcoffset() == dt.timedelta(0)
