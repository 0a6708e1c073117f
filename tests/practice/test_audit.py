import threading

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.urls import reverse

from practice import audit
from practice.models import GENESIS_HASH, AuditChainHead, AuditEvent, AuditLogImmutableError
from sessions.services import session_amend
from tests.factories import PASSWORD, make_session, make_user

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL only: SQLite has no triggers or concurrent writers here"
)


def _request(user=None, ip="203.0.113.7"):
    request = RequestFactory().get("/", REMOTE_ADDR=ip)
    request.user = user
    return request


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class TestSignInEvents:
    def test_sign_in_through_the_form_records_who_and_from_where(self, client, therapist):
        response = client.post(
            reverse("login"), {"username": "maria", "password": PASSWORD}, REMOTE_ADDR="198.51.100.4"
        )
        assert response.status_code == 302
        event = AuditEvent.objects.get(action=audit.LOGIN)
        assert (event.actor_id, event.actor_username, event.outcome) == (therapist.pk, "maria", audit.OK)
        assert event.ip_address == "198.51.100.4"
        assert event.client_id is None

    def test_failed_sign_in_keeps_the_typed_name_but_no_account_and_no_password(self, client, therapist):
        client.post(reverse("login"), {"username": "maria", "password": "wrong-password-123"})
        event = AuditEvent.objects.get()
        assert event.action == audit.LOGIN_FAILED
        assert event.outcome == audit.FAILED
        assert event.actor_id is None
        assert event.actor_username == "maria"
        assert b"wrong-password-123" not in event.canonical()

    def test_sign_out_records_an_event_for_the_person_leaving(self, client, therapist):
        client.force_login(therapist)
        client.post(reverse("logout"))
        event = AuditEvent.objects.filter(action=audit.LOGOUT).get()
        assert event.actor_id == therapist.pk


class TestRecord:
    def test_a_client_is_its_own_client(self, client_a, therapist):
        event = audit.record(_request(therapist), audit.READ, obj=client_a)
        assert (event.object_type, event.object_id, event.client_id) == ("client", str(client_a.pk), client_a.pk)
        assert (event.actor_id, event.actor_username, event.ip_address) == (therapist.pk, "maria", "203.0.113.7")

    def test_sessions_phases_and_amendments_point_at_their_client(self, client_a, therapist):
        session = make_session(client_a, therapist, signed=True)
        phase = client_a.phases.get()
        amendment = session_amend(session=session, author=therapist, reason="Typo", changes={"pain_after": 2})
        request = _request(therapist)
        assert audit.record(request, audit.SIGN, obj=session).object_type == "session"
        assert audit.record(request, audit.PHASE_CHANGE, obj=phase).object_type == "phase"
        assert audit.record(request, audit.AMEND, obj=amendment).object_type == "amendment"
        assert set(AuditEvent.objects.values_list("client_id", flat=True)) == {client_a.pk}

    def test_explicit_values_win_over_derived_ones(self, client_a, therapist):
        event = audit.record(
            _request(therapist), audit.EXPORT, obj=client_a, object_type="trends_csv", outcome=audit.OK
        )
        assert (event.object_type, event.client_id) == ("trends_csv", client_a.pk)

    def test_refused_access_is_recorded_without_an_object(self, therapist, client_b):
        event = audit.record(
            _request(therapist), audit.ACCESS_DENIED, object_type="client", object_id=client_b.pk, outcome=audit.DENIED
        )
        assert (event.object_id, event.outcome, event.client_id) == (str(client_b.pk), "denied", None)

    def test_anonymous_and_requestless_events_have_no_actor(self, db):
        from django.contrib.auth.models import AnonymousUser

        assert audit.record(_request(AnonymousUser()), audit.READ, object_type="page").actor_id is None
        event = audit.record(None, audit.CHANGE, object_type="system")
        assert (event.actor_id, event.ip_address) == (None, "")

    def test_an_unknown_action_or_outcome_is_refused(self, therapist):
        with pytest.raises(ValueError):
            audit.record(_request(therapist), "peek")
        with pytest.raises(ValueError):
            audit.record(_request(therapist), audit.READ, outcome="maybe")

    def test_recording_costs_three_queries_on_either_database(self, client_a, therapist, django_assert_num_queries):
        request = _request(therapist)
        audit.record(request, audit.READ, obj=client_a)
        with django_assert_num_queries(3):
            audit.record(request, audit.READ, obj=client_a)


class TestAppendOnly:
    @pytest.fixture
    def event(self, therapist):
        return audit.record(_request(therapist), audit.READ, object_type="client", object_id=1, client_id=1)

    def test_an_event_cannot_be_saved_again(self, event):
        event.outcome = audit.DENIED
        with pytest.raises(AuditLogImmutableError):
            event.save()
        assert AuditEvent.objects.get().outcome == audit.OK

    def test_an_event_cannot_be_deleted(self, event):
        with pytest.raises(AuditLogImmutableError):
            event.delete()
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.all().delete()
        assert AuditEvent.objects.count() == 1

    def test_querysets_cannot_update_or_bulk_write(self, event):
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.update(outcome=audit.DENIED)
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.bulk_update([event], ["outcome"])
        with pytest.raises(AuditLogImmutableError):
            AuditEvent.objects.bulk_create([AuditEvent(action=audit.READ)])

    def test_an_event_made_by_hand_is_refused(self, event):
        forged = AuditEvent(sequence=2, action=audit.READ, prev_hash=event.hash, hash="f" * 64)
        with pytest.raises(AuditLogImmutableError):
            forged.save()
        assert AuditEvent.objects.count() == 1

    @on_postgresql
    def test_postgresql_refuses_update_and_delete_from_the_applications_own_sql(self, event):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("UPDATE practice_auditevent SET outcome = 'denied'")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _raw("DELETE FROM practice_auditevent")
        with pytest.raises(DatabaseError, match="only grows"), transaction.atomic():
            _raw("UPDATE practice_auditchainhead SET length = 0")
        assert AuditEvent.objects.get().outcome == audit.OK


def _chain(user, n: int = 4) -> list[AuditEvent]:
    request = _request(user)
    return [audit.record(request, audit.READ, object_type="client", object_id=i, client_id=i) for i in range(1, n + 1)]


def _as_attacker_with_ddl_rights(sql: str, params=()) -> None:
    """Tamper with the log. On PostgreSQL the trigger refuses, so the attacker disables it first."""
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            _raw(sql, params)
        _raw("ALTER TABLE practice_auditevent DISABLE TRIGGER practice_audit_append_only")
    _raw(sql, params)


class TestChain:
    def test_events_are_numbered_and_chained(self, therapist):
        events = _chain(therapist)
        assert [e.sequence for e in events] == [1, 2, 3, 4]
        assert events[0].prev_hash == GENESIS_HASH
        assert all(later.prev_hash == earlier.hash for earlier, later in zip(events, events[1:], strict=False))
        assert AuditChainHead.objects.get().length == 4
        assert audit.verify_database().ok

    def test_the_verifier_finds_an_edited_event(self, therapist):
        events = _chain(therapist)
        _as_attacker_with_ddl_rights("UPDATE practice_auditevent SET client_id = 99 WHERE id = %s", [events[1].pk])
        report = audit.verify_database()
        assert (report.ok, report.sequence, report.checked) == (False, 2, 1)
        assert "event #2 was changed" in report.problem

    def test_the_verifier_finds_an_edit_whose_hash_was_recomputed(self, therapist):
        events = _chain(therapist)
        forged = AuditEvent.objects.get(pk=events[1].pk)
        forged.client_id = 99
        forged.hash = forged.compute_hash()
        _as_attacker_with_ddl_rights(
            "UPDATE practice_auditevent SET client_id = 99, hash = %s WHERE id = %s", [forged.hash, forged.pk]
        )
        report = audit.verify_database()
        assert report.sequence == 3
        assert "does not follow the event before it" in report.problem

    def test_the_verifier_finds_a_removed_event(self, therapist):
        events = _chain(therapist)
        _as_attacker_with_ddl_rights("DELETE FROM practice_auditevent WHERE id = %s", [events[1].pk])
        report = audit.verify_database()
        assert report.sequence == 3
        assert "event #2 is missing" in report.problem

    def test_the_verifier_finds_the_newest_event_removed(self, therapist):
        events = _chain(therapist)
        _as_attacker_with_ddl_rights("DELETE FROM practice_auditevent WHERE id = %s", [events[-1].pk])
        report = audit.verify_database()
        assert not report.ok
        assert "chain head records 4 events but 3 were found" in report.problem

    def test_the_command_reports_intact_and_broken_chains(self, therapist, capsys):
        events = _chain(therapist, 3)
        call_command("verify_audit_chain")
        assert "Audit chain intact: 3 events." in capsys.readouterr().out
        _as_attacker_with_ddl_rights("UPDATE practice_auditevent SET action = 'login' WHERE id = %s", [events[0].pk])
        with pytest.raises(CommandError, match="event #1 was changed") as error:
            call_command("verify_audit_chain")
        assert error.value.returncode == 1

    def test_an_empty_log_is_intact(self, db):
        assert audit.verify_database().ok


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_appenders_never_fork_the_chain():
    user = make_user("concurrent")
    errors = []

    def append_some() -> None:
        try:
            for i in range(10):
                audit.record(None, audit.READ, actor=user, object_type="client", object_id=i)
        except Exception as exc:  # pragma: no cover - shown in the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append_some) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert AuditEvent.objects.count() == 60
    report = audit.verify_database()
    assert report.ok, report.problem
    assert report.checked == 60
    assert User.objects.filter(username="concurrent").exists()


class TestAuditAdmin:
    URL = "/admin/practice/auditevent/"

    @pytest.fixture
    def events(self, therapist, other_therapist, client_a, client_b):
        audit.record(_request(therapist), audit.READ, obj=client_a)
        audit.record(_request(therapist), audit.EXPORT, obj=client_a, object_type="trends_csv")
        audit.record(_request(other_therapist), audit.READ, obj=client_b)
        return AuditEvent.objects.all()

    def _rows(self, response) -> int:
        return response.content.decode().count('<th class="field-time')

    def test_owners_filter_by_client_actor_action_and_date(self, client, owner, events, client_a):
        client.force_login(owner)
        by_client = client.get(self.URL, {"client_id": client_a.pk})
        assert by_client.status_code == 200
        assert self._rows(by_client) == 2
        assert f"Ashby, Alice (#{client_a.pk})" in by_client.content.decode()
        assert self._rows(client.get(self.URL, {"actor": "james"})) == 1
        assert self._rows(client.get(self.URL, {"action__exact": "export"})) == 1
        today = events.first().time
        dated = client.get(self.URL, {"time__year": today.year, "time__month": today.month, "time__day": today.day})
        assert self._rows(dated) == 4  # the three above and the owner's own sign-in
        assert self._rows(client.get(self.URL, {"time__year": 2001})) == 0
        assert self._rows(client.get(self.URL, {"client_id": "not-a-number"})) == 0

    def test_the_list_costs_the_same_queries_however_long_it_is(
        self, client, owner, events, therapist, django_assert_num_queries
    ):
        from django.test.utils import CaptureQueriesContext

        client.force_login(owner)
        with CaptureQueriesContext(connection) as few:
            client.get(self.URL)
        for _ in range(20):
            audit.record(_request(therapist), audit.READ, object_type="client", object_id=1, client_id=1)
        with django_assert_num_queries(len(few.captured_queries)):
            client.get(self.URL)

    def test_nobody_adds_changes_or_deletes_events_in_the_admin(self, client, owner, events):
        client.force_login(owner)
        event = events.first()
        count = AuditEvent.objects.count()
        assert client.get(f"{self.URL}add/").status_code == 403
        page = client.get(f"{self.URL}{event.pk}/change/")
        assert page.status_code == 200 and 'name="outcome"' not in page.content.decode()
        assert client.post(f"{self.URL}{event.pk}/change/", {"outcome": "denied"}).status_code == 403
        assert client.post(f"{self.URL}{event.pk}/delete/", {"post": "yes"}).status_code == 403
        client.post(self.URL, {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"})
        assert AuditEvent.objects.count() == count
        assert audit.verify_database().ok

    def test_only_owners_see_the_audit_log(self, client, therapist, events):
        staff_without_role = make_user("helpdesk", is_staff=True)
        client.force_login(staff_without_role)
        assert client.get(self.URL).status_code == 403
        client.force_login(therapist)
        assert client.get(self.URL)["Location"].startswith("/admin/login/")

    def test_a_clients_admin_page_links_to_who_has_looked_at_the_record(self, client, owner, client_a):
        client.force_login(owner)
        page = client.get(f"/admin/clients/client/{client_a.pk}/change/").content.decode()
        assert f'href="{self.URL}?client_id={client_a.pk}"' in page
        assert f'href="/admin/practice/historicalclient/?client_id={client_a.pk}"' in page


def test_the_admin_mixin_records_reads_and_changes_of_clinical_records(rf, owner, client_a):
    from django.contrib import admin

    from clients.admin import ClientAdmin
    from clients.models import Client

    assert issubclass(ClientAdmin, audit.AuditedAdminMixin)
    model_admin = ClientAdmin(Client, admin.site)
    request = rf.get(f"/admin/clients/client/{client_a.pk}/change/", REMOTE_ADDR="192.0.2.1")
    request.user = owner
    assert model_admin.change_view(request, str(client_a.pk)).status_code == 200
    model_admin.log_change(request, client_a, "Changed heat sensitivity.")
    events = list(AuditEvent.objects.order_by("sequence").values_list("action", "object_type", "client_id", "actor_id"))
    assert events == [(audit.READ, "client", client_a.pk, owner.pk), (audit.CHANGE, "client", client_a.pk, owner.pk)]
