"""Change history of clients, phases and sessions, including writes that go around save().

On PostgreSQL a trigger (practice migration 0004) records every UPDATE; the application marks the UPDATEs
it records itself (practice.history), so each change is exactly one history row.
"""

import pytest
from django.db import connection, transaction
from django.db.models.signals import pre_save
from django.utils import timezone

from clients.models import Client
from sessions.models import SessionStatus, TreatmentSession
from sessions.services import session_sign
from tests.factories import make_session
from tests.practice.world import session_post

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: SQLite has no triggers, so only save() and record_history() write history there",
)


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _tracked_state(record, model) -> dict:
    return {field.attname: getattr(record, field.attname) for field in model.history.model.tracked_fields}


@pytest.fixture
def draft(client_a, therapist):
    return make_session(client_a, therapist, pain_after=2, fatigue_after=3)


class TestOnEveryDatabase:
    def test_an_ordinary_save_is_one_history_row_and_costs_no_extra_query(self, client_a, django_assert_num_queries):
        before = client_a.history.count()
        client_a.email = "alice@example.org"
        with django_assert_num_queries(2):  # the UPDATE and django-simple-history's INSERT, on both databases
            client_a.save()
        assert client_a.history.count() == before + 1
        latest = client_a.history.latest()
        assert (latest.email, latest.history_type, latest.history_change_reason) == ("alice@example.org", "~", None)


@postgresql_only
class TestPostgresqlCapturesUpdatesAroundSave:
    @pytest.mark.parametrize(
        ("record", "field", "value"),
        [("client", "email", "new@example.org"), ("phase", "notes", "Worse in the heat."), ("draft", "plan", "Calves")],
    )
    def test_a_queryset_update_is_one_history_row_with_the_new_values(self, client_a, draft, record, field, value):
        instance = {"client": client_a, "phase": client_a.phases.get(), "draft": draft}[record]
        model = type(instance)
        before = instance.history.count()
        assert model.objects.filter(pk=instance.pk).update(**{field: value}) == 1
        instance.refresh_from_db()
        assert instance.history.count() == before + 1
        latest = instance.history.latest()
        assert getattr(latest, field) == value
        assert (latest.history_type, latest.history_change_reason, latest.history_user_id) == (
            "~",
            "database update",
            None,
        )
        assert _tracked_state(latest, model) == _tracked_state(instance, model)

    def test_an_update_that_changes_nothing_adds_no_row(self, client_a):
        before = client_a.history.count()
        Client.objects.filter(pk=client_a.pk).update(email=client_a.email)
        assert client_a.history.count() == before

    def test_a_bulk_update_of_many_rows_is_one_history_row_each(self, client_a, therapist):
        sessions = [make_session(client_a, therapist) for _ in range(3)]
        TreatmentSession.objects.filter(pk__in=[s.pk for s in sessions]).update(plan="Rest")
        for session in sessions:
            assert list(session.history.values_list("history_type", "plan")) == [("~", "Rest"), ("+", "")]

    def test_saves_are_recorded_once_by_the_application(self, client_a, draft):
        phase = client_a.phases.get()
        counts = [client_a.history.count(), phase.history.count(), draft.history.count()]
        client_a.archive()  # save(update_fields=...)
        phase.notes = "Stable"
        phase.save()
        draft.plan = "Stretch"
        draft.save()
        assert [client_a.history.count(), phase.history.count(), draft.history.count()] == [c + 1 for c in counts]
        assert client_a.history.latest().history_change_reason is None

    def test_signing_a_session_on_its_page_is_one_history_row_with_the_user(self, client, therapist, draft):
        client.force_login(therapist)
        before = draft.history.count()
        response = client.post(f"/sessions/{draft.pk}/sign/")
        assert response.status_code == 302
        assert draft.history.count() == before + 1
        latest = TreatmentSession.history.model.objects.filter(id=draft.pk).latest()
        assert (latest.status, latest.history_user, latest.history_change_reason) == ("signed", therapist, "Signed")

    def test_editing_a_draft_on_its_page_is_one_history_row_with_the_user(self, client, therapist, draft):
        client.force_login(therapist)
        before = draft.history.count()
        response = client.post(f"/sessions/{draft.pk}/edit/", session_post(version=draft.version, plan="Calves"))
        assert response.status_code == 302
        assert draft.history.count() == before + 1
        latest = draft.history.latest()
        assert (latest.plan, latest.history_user, latest.history_change_reason) == ("Calves", therapist, "Draft edited")

    def test_signing_outside_the_page_is_still_recorded_by_the_database(self, therapist, draft):
        before = draft.history.count()
        session_sign(session=draft, user=therapist)
        assert draft.history.count() == before + 1
        latest = draft.history.latest()
        assert (latest.status, latest.history_change_reason) == (SessionStatus.SIGNED, "database update")

    def test_a_raw_sql_update_is_one_row_attributed_to_the_user_in_the_setting(self, client_a, owner):
        before = client_a.history.count()
        with transaction.atomic():
            _raw("SELECT set_config('practice.history_user_id', %s, true)", [str(owner.pk)])
            _raw("UPDATE clients_client SET phone = %s WHERE id = %s", ["0123 456", client_a.pk])
        assert client_a.history.count() == before + 1
        latest = Client.history.model.objects.filter(id=client_a.pk).latest()
        assert (latest.phone, latest.history_user, latest.history_change_reason) == (
            "0123 456",
            owner,
            "database update",
        )

    def test_a_refused_save_does_not_hide_the_next_update(self, client_a):
        def refuse(sender, **kwargs):
            raise RuntimeError("refused")

        pre_save.connect(refuse, sender=Client, dispatch_uid="test_refuse_client_save")
        try:
            with pytest.raises(RuntimeError):
                client_a.save()
        finally:
            pre_save.disconnect(dispatch_uid="test_refuse_client_save", sender=Client)
        before = client_a.history.count()
        Client.objects.filter(pk=client_a.pk).update(phone="999")
        assert client_a.history.count() == before + 1
        assert client_a.history.latest().history_change_reason == "database update"

    def test_the_client_history_shows_every_past_state_in_order(self, client_a):
        moments = []
        for email in ("one@example.org", "two@example.org", "three@example.org", "four@example.org"):
            if email.startswith("two"):
                Client.objects.filter(pk=client_a.pk).update(email=email)
            elif email.startswith("three"):
                _raw("UPDATE clients_client SET email = %s WHERE id = %s", [email, client_a.pk])
            else:
                client_a.email = email
                client_a.save()
            moments.append(timezone.now())
        history = list(client_a.history.order_by("history_date", "history_id"))
        assert [(h.history_type, h.email) for h in history] == [
            ("+", ""),
            ("~", "one@example.org"),
            ("~", "two@example.org"),
            ("~", "three@example.org"),
            ("~", "four@example.org"),
        ]
        assert [client_a.history.as_of(moment).email for moment in moments] == [
            "one@example.org",
            "two@example.org",
            "three@example.org",
            "four@example.org",
        ]
