"""The bulk seed: a fixed number of statements per batch, no signals, and the same practice whatever the batches."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save
from django.test.utils import CaptureQueriesContext

from clients.models import Client, DiseasePhase
from devtools import demo
from sessions.models import SessionStatus, TechniqueUse, TreatmentSession
from tests.factories import make_session

TODAY = dt.date(2026, 6, 1)


def snapshot() -> list[tuple]:
    return list(
        TreatmentSession.objects.order_by("client__email", "started_at").values_list(
            "client__email", "started_at", "pain_before", "pain_after", "status", "subjective"
        )
    )


@pytest.mark.django_db
class TestBulkSeed:
    def test_a_batch_costs_the_same_queries_whatever_its_size(self):
        with transaction.atomic():
            with CaptureQueriesContext(connection) as few:
                demo.build_demo(clients=2, years=1, today=TODAY, batch_size=50)
            transaction.set_rollback(True)
        with CaptureQueriesContext(connection) as many:
            demo.build_demo(clients=12, years=2, today=TODAY, batch_size=50)
        assert TreatmentSession.objects.count() > 12 * 80
        assert len(many) == len(few)

    def test_sends_no_signals_and_leaves_no_history_until_the_first_edit(self):
        saved = []
        post_save.connect(lambda sender, **kwargs: saved.append(sender), weak=False, dispatch_uid="seed-test")
        try:
            demo.build_demo(clients=4, years=1, today=TODAY)
        finally:
            post_save.disconnect(dispatch_uid="seed-test")
        assert not {TreatmentSession, TechniqueUse, DiseasePhase} & set(saved)
        assert not TreatmentSession.history.exists() and not DiseasePhase.history.exists()
        # The one save: linking demo client 0 to the portal account, a real edit.
        assert list(Client.history.values_list("email", flat=True)) == [demo.demo_email(0)]
        seeded = Client.objects.last()
        seeded.phone = "07700 900123"
        seeded.save()
        assert Client.history.filter(id=seeded.pk).count() == 1

    def test_rows_reference_each_other_and_later_inserts_get_fresh_ids(self, therapist):
        demo.build_demo(clients=5, years=1, today=TODAY, batch_size=2)
        assert not TechniqueUse.objects.exclude(session__in=TreatmentSession.objects.all()).exists()
        assert not TreatmentSession.objects.exclude(client__in=Client.objects.all()).exists()
        assert set(TechniqueUse.objects.values_list("session__client", flat=True)) == set(
            Client.objects.values_list("pk", flat=True)
        )
        highest = TreatmentSession.objects.order_by("-pk").values_list("pk", flat=True).first()
        session = make_session(Client.objects.first(), therapist, uses=[("reiki", "head", "light")])
        assert session.pk > highest

    def test_columns_it_does_not_generate_take_their_model_defaults(self):
        demo.build_demo(clients=2, years=1, today=TODAY)
        session = TreatmentSession.objects.signed().first()
        assert session.version == 1
        assert session.safety_override_reason == ""
        assert session.created_at is not None and session.updated_at is not None
        session.full_clean()

    def test_the_batch_size_does_not_change_the_practice(self):
        with transaction.atomic():
            demo.build_demo(clients=5, years=1, seed=3, today=TODAY, batch_size=2)
            first = snapshot()
            transaction.set_rollback(True)
        demo.build_demo(clients=5, years=1, seed=3, today=TODAY, batch_size=5)
        assert snapshot() == first
        assert any(status == SessionStatus.DRAFT for *_rest, status, _s in first)


@pytest.mark.django_db(transaction=True)
def test_after_a_bulk_load_outside_a_transaction_the_tables_are_vacuumed_so_index_only_scans_stay_index_only():
    if connection.vendor != "postgresql":
        pytest.skip("VACUUM and the visibility map are PostgreSQL's")
    from devtools.bulk import analyze

    analyze(TreatmentSession)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT last_vacuum IS NOT NULL, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = %s",
            [TreatmentSession._meta.db_table],
        )
        assert cursor.fetchone() == (True, True)
