import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from clients.models import Client, ClinicalRecordDeletionError, DiseasePhase, Phase, PhaseTimeline
from clients.selectors import phase_on
from sessions.models import TreatmentSession
from sessions.safety import client_alerts
from tests.factories import make_client, make_phase, make_session

D = dt.date


@pytest.mark.django_db
class TestClientProfile:
    @pytest.mark.parametrize("edss", ["0", "1.0", "1.5", "6.5", "10.0"])
    def test_valid_edss_scores_are_accepted(self, edss):
        client = make_client(edss=Decimal(edss))
        client.full_clean()

    @pytest.mark.parametrize("edss", ["0.5", "10.5", "3.2", "-1"])
    def test_invalid_edss_is_refused_by_validation(self, edss):
        client = make_client()
        client.edss = Decimal(edss)
        with pytest.raises(ValidationError) as excinfo:
            client.full_clean()
        assert "edss" in excinfo.value.message_dict

    def test_invalid_edss_is_refused_by_the_database(self):
        client = make_client()
        with pytest.raises(IntegrityError), transaction.atomic():
            Client.objects.filter(pk=client.pk).update(edss=Decimal("0.5"))

    def test_unknown_body_region_is_refused(self):
        client = make_client(reduced_sensation_regions=["left_wing"])
        with pytest.raises(ValidationError) as excinfo:
            client.full_clean()
        assert "reduced_sensation_regions" in excinfo.value.message_dict

    def test_known_regions_conditions_and_goals_validate(self):
        client = make_client(
            reduced_sensation_regions=["foot_left", "hand_right"],
            pressure_sore_regions=["lower_back"],
            conditions_needing_clearance=["osteoporosis"],
            goals=["pain", "sleep"],
        )
        client.full_clean()

    def test_heat_sensitive_by_default(self):
        assert make_client().heat_sensitive is True

    def test_diagnosis_year_in_future_is_refused(self):
        client = make_client(diagnosis_year=dt.date.today().year + 1)
        with pytest.raises(ValidationError):
            client.full_clean()

    def test_needs_clearance_until_a_physician_clears(self):
        # The clearance rule's one home is the safety screen's client alerts.
        client = make_client(conditions_needing_clearance=["heart_disease"])
        assert "clearance_missing" in {finding.code for finding in client_alerts(client, None)}
        client.physician_clearance_on = dt.date.today()
        assert "clearance_missing" not in {finding.code for finding in client_alerts(client, None)}

    def test_clients_are_archived_never_deleted(self):
        client = make_client()
        with pytest.raises(ClinicalRecordDeletionError):
            client.delete()
        with pytest.raises(ClinicalRecordDeletionError):
            Client.objects.filter(pk=client.pk).delete()
        client.archive()
        assert Client.objects.archived().filter(pk=client.pk).exists()
        assert not Client.objects.active().filter(pk=client.pk).exists()
        client.unarchive()
        assert Client.objects.active().filter(pk=client.pk).exists()

    def test_cared_for_by_scopes_therapists_and_not_owners(self, owner, therapist, other_therapist, client_a, client_b):
        assert list(Client.objects.cared_for_by(therapist)) == [client_a]
        assert list(Client.objects.cared_for_by(other_therapist)) == [client_b]
        assert set(Client.objects.cared_for_by(owner)) == {client_a, client_b}

    def test_cared_for_by_gives_clients_nothing(self, client_a, client_b):
        assert not Client.objects.cared_for_by(client_a.user).exists()


@pytest.mark.django_db
class TestDiseasePhases:
    def test_overlapping_phase_is_refused_by_validation_with_a_clear_message(self):
        client = make_client()
        make_phase(client, Phase.REMISSION, D(2024, 1, 1), D(2024, 3, 1))
        clash = DiseasePhase(client=client, phase=Phase.ACUTE_FLARE, started_on=D(2024, 2, 1), ended_on=D(2024, 2, 10))
        with pytest.raises(ValidationError) as excinfo:
            clash.full_clean()
        assert "overlaps the remission phase from 01 Jan 2024 to 01 Mar 2024" in str(excinfo.value)

    def test_adjacent_phases_are_allowed(self):
        client = make_client()
        make_phase(client, Phase.REMISSION, D(2024, 1, 1), D(2024, 3, 1))
        flare = DiseasePhase(client=client, phase=Phase.ACUTE_FLARE, started_on=D(2024, 3, 1), ended_on=D(2024, 3, 15))
        flare.full_clean()
        flare.save()
        earlier = DiseasePhase(client=client, phase=Phase.SUBACUTE, started_on=D(2023, 12, 1), ended_on=D(2024, 1, 1))
        earlier.full_clean()

    def test_other_clients_phases_do_not_clash(self):
        make_phase(make_client(), Phase.REMISSION, D(2024, 1, 1))
        other = DiseasePhase(client=make_client(), phase=Phase.REMISSION, started_on=D(2024, 1, 1))
        other.full_clean()

    def test_new_open_phase_overlaps_an_open_one(self):
        client = make_client()
        make_phase(client, Phase.REMISSION, D(2024, 1, 1))
        with pytest.raises(ValidationError):
            DiseasePhase(client=client, phase=Phase.ACUTE_FLARE, started_on=D(2024, 6, 1)).full_clean()

    def test_phase_that_ends_before_it_starts_is_refused(self):
        phase = DiseasePhase(
            client=make_client(), phase=Phase.REMISSION, started_on=D(2024, 3, 1), ended_on=D(2024, 2, 1)
        )
        with pytest.raises(ValidationError) as excinfo:
            phase.full_clean()
        assert "ended_on" in excinfo.value.message_dict

    def test_database_refuses_an_end_before_the_start(self):
        with pytest.raises(IntegrityError), transaction.atomic():
            DiseasePhase.objects.create(
                client=make_client(), phase="remission", started_on=D(2024, 3, 1), ended_on=D(2024, 3, 1)
            )

    def test_database_refuses_two_open_phases(self):
        client = make_client()
        make_phase(client, Phase.REMISSION, D(2024, 1, 1))
        with pytest.raises(IntegrityError), transaction.atomic():
            DiseasePhase.objects.create(client=client, phase=Phase.ACUTE_FLARE, started_on=D(2024, 6, 1))

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="exclusion constraints exist only on PostgreSQL")
    def test_postgresql_refuses_overlapping_closed_phases(self):
        client = make_client()
        make_phase(client, Phase.REMISSION, D(2024, 1, 1), D(2024, 3, 1))
        with pytest.raises(IntegrityError), transaction.atomic():
            DiseasePhase.objects.create(
                client=client, phase="acute_flare", started_on=D(2024, 2, 1), ended_on=D(2024, 2, 9)
            )
        # Adjacent is still fine at the database level.
        DiseasePhase.objects.create(
            client=client, phase="acute_flare", started_on=D(2024, 3, 1), ended_on=D(2024, 3, 9)
        )

    def test_phases_are_never_deleted(self):
        phase = make_phase(make_client())
        with pytest.raises(ClinicalRecordDeletionError):
            phase.delete()


@pytest.mark.django_db
class TestPhaseOnDate:
    @pytest.fixture
    def history(self):
        client = make_client()
        make_phase(client, Phase.REMISSION, D(2024, 1, 1), D(2024, 3, 1))
        make_phase(client, Phase.ACUTE_FLARE, D(2024, 3, 1), D(2024, 3, 15))
        make_phase(client, Phase.SUBACUTE, D(2024, 3, 15), D(2024, 4, 20))
        # A gap with no phase recorded, then the current remission.
        make_phase(client, Phase.REMISSION, D(2024, 5, 1))
        return client

    @pytest.mark.parametrize(
        "day, expected",
        [
            (D(2023, 12, 31), None),
            (D(2024, 1, 1), Phase.REMISSION),
            (D(2024, 2, 29), Phase.REMISSION),
            (D(2024, 3, 1), Phase.ACUTE_FLARE),  # the day a phase ends belongs to the next
            (D(2024, 3, 14), Phase.ACUTE_FLARE),
            (D(2024, 3, 15), Phase.SUBACUTE),
            (D(2024, 4, 19), Phase.SUBACUTE),
            (D(2024, 4, 20), None),
            (D(2024, 5, 1), Phase.REMISSION),
            (D(2030, 1, 1), Phase.REMISSION),  # an open phase lasts
        ],
    )
    def test_timeline_answers_phase_on_date_at_band_edges(self, history, day, expected, django_assert_num_queries):
        # The in-memory timeline and the SQL rule are twins: both answer the same at every edge.
        with django_assert_num_queries(1):
            timeline = PhaseTimeline(DiseasePhase.objects.for_client(history))
        found = timeline.phase_on(day)
        assert (found.phase if found else None) == expected
        on_date = DiseasePhase.objects.for_client(history).on_date(day).first()
        assert (on_date.phase if on_date else None) == expected
        assert phase_on(history, day) == expected

    def test_sessions_carry_their_phase_in_one_query(self, history, therapist, django_assert_num_queries):
        days = [D(2024, 2, 1), D(2024, 3, 1), D(2024, 3, 20), D(2024, 4, 25), D(2024, 6, 1)]
        for day in days:
            started = dt.datetime.combine(day, dt.time(10), tzinfo=dt.UTC)
            make_session(history, therapist, started_at=started)
        with django_assert_num_queries(1):
            phases = list(
                TreatmentSession.objects.for_client(history)
                .with_phase()
                .order_by("started_at")
                .values_list("phase_on_date", flat=True)
            )
        assert phases == ["remission", "acute_flare", "subacute", None, "remission"]

    def test_current_phase_is_the_open_one(self, history):
        client = Client.objects.with_current_phase().get(pk=history.pk)
        assert client.current_phase == Phase.REMISSION
        assert DiseasePhase.objects.for_client(history).current().get().started_on == D(2024, 5, 1)
