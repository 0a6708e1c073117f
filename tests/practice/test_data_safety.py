import datetime as dt
import os
import shutil
import subprocess
import uuid

import psycopg
import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from psycopg.rows import dict_row

from clients.models import Client, ClinicalRecordDeletionError, DiseasePhase, SelfReport
from clients.services import self_report_record
from practice import audit
from practice.history import HistoryRowLockedError, history_recorded_by_app
from practice.models import AuditEvent, record_history
from sessions.models import SessionAmendment, SignedSessionLockedError, Technique, TechniqueUse, TreatmentSession
from sessions.services import session_amend, session_sign
from tests.factories import make_phase, make_session

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="PostgreSQL only: triggers and pg_dump/pg_restore do not exist on SQLite (ORM guards are tested on both)",
)


@pytest.fixture
def records(client_a, therapist):
    """A signed session with techniques and an amendment, a draft with techniques, and a self-report."""
    signed = make_session(client_a, therapist, signed=True, uses=[("swedish", "upper_back", "light")])
    draft = make_session(client_a, therapist, uses=[("reiki", "head", "light"), ("swedish", "calf_left", "light")])
    amendment = session_amend(session=signed, author=therapist, reason="Wrong score", changes={"pain_after": 2})
    report = SelfReport.objects.create(client=client_a, pain=3, fatigue=4)
    return {"signed": signed, "draft": draft, "amendment": amendment, "report": report, "client": client_a}


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


class TestApplicationGuards:
    """What the application refuses on every database."""

    @pytest.mark.parametrize("model", [Client, DiseasePhase, SelfReport, TreatmentSession, SessionAmendment])
    def test_no_clinical_queryset_can_delete(self, records, model):
        count = model.objects.count()
        # A savepoint per refused write: the refusal rolls back whatever the delete had begun.
        with pytest.raises(ClinicalRecordDeletionError), transaction.atomic():
            model.objects.all().delete()
        assert model.objects.count() == count > 0

    def test_amendments_and_self_reports_refuse_delete_one_by_one(self, records):
        with pytest.raises(ClinicalRecordDeletionError):
            records["amendment"].delete()
        with pytest.raises(ClinicalRecordDeletionError), transaction.atomic():
            SessionAmendment.objects.filter(pk=records["amendment"].pk).delete()
        with pytest.raises(ClinicalRecordDeletionError):
            records["report"].delete()

    def test_a_signed_session_cannot_be_saved(self, records):
        signed = TreatmentSession.objects.get(pk=records["signed"].pk)
        signed.pain_before = 9
        with pytest.raises(SignedSessionLockedError):
            signed.save()
        assert TreatmentSession.objects.get(pk=signed.pk).pain_before == 5

    def test_a_signed_sessions_techniques_cannot_change_or_go(self, records):
        use = TechniqueUse.objects.get(session=records["signed"])
        use.pressure = "deep"
        with pytest.raises(SignedSessionLockedError):
            use.save()
        with pytest.raises(SignedSessionLockedError), transaction.atomic():
            use.delete()
        with pytest.raises(SignedSessionLockedError), transaction.atomic():
            records["signed"].technique_uses.all().delete()
        assert TechniqueUse.objects.get(pk=use.pk).pressure == "light"

    def test_no_technique_can_be_added_to_a_signed_session(self, records):
        signed = records["signed"]
        with pytest.raises(SignedSessionLockedError), transaction.atomic():
            TechniqueUse.objects.create(
                session=signed, technique=Technique.objects.get(slug="reiki"), body_region="head", pressure="light"
            )
        assert TechniqueUse.objects.filter(session=signed).count() == 1

    def test_a_history_row_cannot_be_changed(self, records):
        past = Client.history.model.objects.filter(id=records["client"].pk).earliest()
        past.first_name = "Rewritten"
        with pytest.raises(HistoryRowLockedError):
            past.save()
        assert Client.history.model.objects.get(pk=past.pk).first_name != "Rewritten"

    def test_a_drafts_techniques_can_be_replaced_cheaply(self, records, django_assert_num_queries):
        draft = records["draft"]
        # Select the rows (they carry their session, so no status query each), then delete them.
        with django_assert_num_queries(2):
            draft.technique_uses.all().delete()
        assert not TechniqueUse.objects.filter(session=draft).exists()

    def test_an_amendment_cannot_be_edited(self, records):
        amendment = records["amendment"]
        amendment.reason = "Something else"
        with pytest.raises(SignedSessionLockedError):
            amendment.save()
        assert SessionAmendment.objects.get(pk=amendment.pk).reason == "Wrong score"


class TestChangeHistory:
    def test_every_save_of_a_client_keeps_the_past_state(self, client_a):
        before = timezone.now()
        client_a.heat_sensitive = False
        client_a.save()
        client_a.archive()
        history = list(client_a.history.order_by("history_date", "history_id"))
        assert [h.history_type for h in history] == ["+", "~", "~"]
        assert history[0].heat_sensitive is True and history[-1].archived_at is not None
        assert client_a.history.as_of(before).heat_sensitive is True

    def test_a_second_how_i_feel_today_keeps_the_first_in_the_history(self, client_a):
        self_report_record(client=client_a, pain=6, fatigue=7, note="Rough night")
        self_report_record(client=client_a, pain=2, fatigue=3, note="Better after lunch")
        report = SelfReport.objects.get(client=client_a)
        kept = list(report.history.order_by("history_date").values_list("pain", "fatigue", "note", "history_type"))
        assert kept == [(6, 7, "Rough night", "+"), (2, 3, "Better after lunch", "~")]

    def test_phase_and_session_changes_are_kept(self, client_a, therapist):
        phase = client_a.phases.get()
        phase.ended_on = timezone.localdate()
        phase.save()
        make_phase(client_a, "acute_flare", started_on=timezone.localdate())
        session = make_session(client_a, therapist)
        session.pain_before = 7
        session.save()
        assert [h.history_type for h in phase.history.order_by("history_date")] == ["+", "~"]
        assert list(session.history.order_by("history_date").values_list("pain_before", flat=True)) == [5, 7]

    def test_the_admin_records_who_made_the_change(self, client, owner, client_a):
        client.force_login(owner)
        client.post(
            "/admin/clients/client/", {"action": "archive_clients", "_selected_action": [client_a.pk]}, follow=True
        )
        latest = Client.history.model.objects.filter(id=client_a.pk).latest()
        assert latest.history_user == owner
        assert latest.archived_at is not None

    def test_signing_goes_around_save_so_its_state_is_recorded_explicitly(self, client_a, therapist):
        session = make_session(client_a, therapist, pain_after=2, fatigue_after=3)
        # Marked as recorded by the application, or PostgreSQL's trigger records it too (test_history_capture).
        with history_recorded_by_app(TreatmentSession):
            session_sign(session=session, user=therapist)
        assert session.history.count() == 1  # update() is invisible to django-simple-history
        record_history(session, user=therapist, reason="signed")
        latest = TreatmentSession.history.model.objects.filter(id=session.pk).latest()
        assert (latest.status, latest.history_user, latest.history_change_reason) == ("signed", therapist, "signed")

    def test_owners_can_read_the_history_in_the_admin(self, client, owner, client_a):
        client_a.save()
        client.force_login(owner)
        response = client.get("/admin/practice/historicalclient/", {"client_id": client_a.pk})
        assert response.status_code == 200
        assert response.content.decode().count(f"#{client_a.pk}<") == 2


@postgresql_only
class TestPostgresqlTriggers:
    """The database refuses what the application refuses, for SQL that goes around the ORM."""

    @pytest.mark.parametrize(
        "table",
        [
            "clients_client",
            "clients_diseasephase",
            "clients_selfreport",
            "treatment_sessions_treatmentsession",
            "treatment_sessions_sessionamendment",
            "practice_historicalclient",
            "practice_historicaldiseasephase",
            "practice_historicaltreatmentsession",
            "practice_historicalselfreport",
        ],
    )
    def test_clinical_rows_cannot_be_deleted(self, records, table):
        with pytest.raises(DatabaseError, match="never deleted"), transaction.atomic():
            _raw(f"DELETE FROM {table}")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table}")
            assert cursor.fetchone()[0] > 0

    def test_a_signed_session_row_cannot_change_at_all(self, records):
        for assignment in ["pain_before = 9", "subjective = 'rewritten'", "status = 'draft'", "signed_at = now()"]:
            with pytest.raises(DatabaseError, match="session is signed"), transaction.atomic():
                _raw(
                    f"UPDATE treatment_sessions_treatmentsession SET {assignment} WHERE id = %s", [records["signed"].pk]
                )
        # Writing the same values changes nothing and is allowed.
        _raw(
            "UPDATE treatment_sessions_treatmentsession SET pain_before = pain_before WHERE id = %s",
            [records["signed"].pk],
        )

    def test_drafts_can_be_edited_and_signed(self, records, therapist):
        draft = records["draft"]
        _raw(
            "UPDATE treatment_sessions_treatmentsession SET pain_after = 2, fatigue_after = 3 WHERE id = %s", [draft.pk]
        )
        draft.refresh_from_db()
        session_sign(session=draft, user=therapist)
        assert TreatmentSession.objects.get(pk=draft.pk).is_signed

    def test_a_signed_sessions_techniques_are_locked_and_a_drafts_are_not(self, records):
        signed_use = TechniqueUse.objects.get(session=records["signed"])
        for sql in [
            "UPDATE treatment_sessions_techniqueuse SET pressure = 'deep' WHERE id = %s",
            "DELETE FROM treatment_sessions_techniqueuse WHERE id = %s",
        ]:
            with pytest.raises(DatabaseError, match="session is signed"), transaction.atomic():
                _raw(sql, [signed_use.pk])
        draft_use = TechniqueUse.objects.filter(session=records["draft"]).first()
        with pytest.raises(DatabaseError, match="session is signed"), transaction.atomic():
            _raw(
                "UPDATE treatment_sessions_techniqueuse SET session_id = %s WHERE id = %s",
                [records["signed"].pk, draft_use.pk],
            )
        _raw("UPDATE treatment_sessions_techniqueuse SET pressure = 'moderate' WHERE id = %s", [draft_use.pk])
        _raw("DELETE FROM treatment_sessions_techniqueuse WHERE session_id = %s", [records["draft"].pk])
        assert TechniqueUse.objects.filter(session=records["signed"]).count() == 1

    def test_no_technique_row_can_be_added_to_a_signed_session(self, records):
        technique_id = Technique.objects.get(slug="reiki").pk
        with pytest.raises(DatabaseError, match="session is signed"), transaction.atomic():
            _raw(
                "INSERT INTO treatment_sessions_techniqueuse (session_id, technique_id, body_region, pressure) "
                "VALUES (%s, %s, 'head', 'light')",
                [records["signed"].pk, technique_id],
            )
        with pytest.raises(DatabaseError, match="session is signed"), transaction.atomic():
            TechniqueUse.objects.bulk_create(
                [TechniqueUse(session=records["signed"], technique_id=technique_id, body_region="head")]
            )
        _raw(
            "INSERT INTO treatment_sessions_techniqueuse (session_id, technique_id, body_region, pressure) "
            "VALUES (%s, %s, 'neck', 'light')",
            [records["draft"].pk, technique_id],
        )
        assert TechniqueUse.objects.filter(session=records["signed"]).count() == 1

    @pytest.mark.parametrize(
        "table",
        [
            "practice_historicalclient",
            "practice_historicaldiseasephase",
            "practice_historicalselfreport",
            "practice_historicaltreatmentsession",
        ],
    )
    def test_history_rows_cannot_be_updated(self, records, table):
        with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
            _raw(f"UPDATE {table} SET history_change_reason = 'rewritten'")

    def test_a_self_report_updated_around_save_is_kept_in_the_history(self, records):
        report = records["report"]
        _raw("UPDATE clients_selfreport SET pain = 9 WHERE id = %s", [report.pk])
        latest = report.history.latest()
        assert (latest.pain, latest.history_change_reason) == (9, "database update")

    def test_amendments_cannot_be_rewritten(self, records):
        with pytest.raises(DatabaseError, match="never changed"), transaction.atomic():
            _raw("UPDATE treatment_sessions_sessionamendment SET reason = 'other'")

    def test_clients_and_phases_can_still_be_updated(self, records):
        _raw("UPDATE clients_client SET heat_sensitive = false")
        _raw("UPDATE clients_diseasephase SET notes = 'checked'")
        assert not Client.objects.get(pk=records["client"].pk).heat_sensitive

    def test_the_triggers_are_installed_by_the_migration(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'practice\\_%%' AND NOT tgisinternal")
            # The guards of 0003, the history capture of 0004, and 0006's: no rows for a signed session,
            # four history tables unchanged, self-report history never deleted and captured.
            assert cursor.fetchone()[0] == 14 + 3 + 1 + 4 + 2


PROJECT_TABLES = sorted(
    model._meta.db_table
    for config in ("clients", "treatment_sessions", "practice", "auth")
    for model in apps.get_app_config(config).get_models()
)


def _counts(cursor) -> dict[str, int]:
    counts = {}
    for table in PROJECT_TABLES:
        cursor.execute(f'SELECT count(*) FROM "{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _connect(dbname: str) -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=dbname,
        user=settings["USER"],
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        password=settings["PASSWORD"] or None,
        autocommit=True,
    )


def _pg_env() -> dict[str, str]:
    settings = connection.settings_dict
    env = dict(os.environ)
    env.update(PGHOST=settings["HOST"] or "", PGPORT=str(settings["PORT"] or ""), PGUSER=settings["USER"] or "")
    if settings["PASSWORD"]:
        env["PGPASSWORD"] = settings["PASSWORD"]
    return env


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_a_scratch_database_with_every_row_and_a_valid_chain(client_a, therapist, tmp_path):
    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "PostgreSQL client tools are needed"
    session = make_session(client_a, therapist, signed=True, uses=[("swedish", "upper_back", "light")])
    make_session(client_a, therapist, started_at=timezone.now() - dt.timedelta(days=8))
    session_amend(session=session, author=therapist, reason="Typo", changes={"pain_after": 1})
    SelfReport.objects.create(client=client_a, pain=2, fatigue=3)
    for action in (audit.READ, audit.SIGN, audit.EXPORT):
        audit.record(None, action, actor=therapist, obj=session)
    source = connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        expected = _counts(cursor)
    assert expected["practice_auditevent"] == AuditEvent.objects.count() >= 3
    assert expected["treatment_sessions_sessionamendment"] == 1

    dump = tmp_path / "practice.dump"
    env = _pg_env()
    subprocess.run(["pg_dump", "--format=custom", f"--file={dump}", source], check=True, env=env)
    scratch = f"{source}_restore_{uuid.uuid4().hex[:8]}"
    with _connect("postgres") as admin:
        admin.execute(f'CREATE DATABASE "{scratch}"')
    try:
        subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={scratch}", str(dump)], check=True, env=env
        )
        with _connect(scratch) as restored, restored.cursor(row_factory=dict_row) as cursor:
            assert _counts(restored.cursor()) == expected
            cursor.execute(f"SELECT {', '.join(audit.CHAIN_FIELDS)} FROM practice_auditevent ORDER BY sequence")
            events = cursor.fetchall()
            cursor.execute("SELECT length FROM practice_auditchainhead WHERE id = 1")
            head = cursor.fetchone()["length"]
            report = audit.verify_chain(events, expected_length=head)
            assert report.ok, report.problem
            assert report.checked == expected["practice_auditevent"]
            # The restored copy keeps its guards.
            with pytest.raises(psycopg.errors.RestrictViolation):
                cursor.execute("DELETE FROM practice_auditevent")
    finally:
        with _connect("postgres") as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
