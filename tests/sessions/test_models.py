import datetime as dt

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from clients.models import ClinicalRecordDeletionError
from sessions.models import (
    SessionAmendment,
    SessionStatus,
    SignedSessionLockedError,
    Technique,
    TechniqueUse,
    TreatmentSession,
)
from sessions.services import amended_values, session_amend, session_sign
from tests.factories import make_client, make_session


class ScoresForm(forms.ModelForm):
    class Meta:
        model = TreatmentSession
        fields = [
            "started_at",
            "duration_minutes",
            "setting",
            "pain_before",
            "pain_after",
            "fatigue_before",
            "fatigue_after",
        ]


@pytest.fixture
def session(client_a, therapist):
    return make_session(client_a, therapist, uses=[("swedish", "upper_back", "moderate")])


@pytest.mark.django_db
class TestTechniqueCatalogue:
    NAMED_IN_DESIGN = [
        "swedish",
        "reflexology",
        "light-acupressure",
        "shiatsu",
        "reiki",
        "trager",
        "feldenkrais",
        "range-of-motion",
        "aromatherapy",
        "hot-stone",
        "deep-tissue",
        "rolfing",
    ]

    def test_every_technique_named_in_the_design_is_seeded(self):
        assert set(self.NAMED_IN_DESIGN) <= set(Technique.objects.values_list("slug", flat=True))

    @pytest.mark.parametrize("slug", ["hot-stone", "deep-tissue", "rolfing"])
    def test_harmful_techniques_are_marked_avoid_with_a_reason(self, slug):
        technique = Technique.objects.get(slug=slug)
        assert technique.guidance == "avoid"
        assert len(technique.reason) > 30

    def test_hot_stone_uses_heat_and_swedish_does_not(self):
        assert Technique.objects.get(slug="hot-stone").uses_heat
        assert not Technique.objects.get(slug="swedish").uses_heat

    def test_advised_techniques_are_recommended(self):
        for slug in ["swedish", "reflexology", "reiki", "trager", "range-of-motion"]:
            assert Technique.objects.get(slug=slug).guidance == "recommended"

    def test_every_technique_explains_its_guidance(self):
        assert not Technique.objects.filter(reason="").exists()


@pytest.mark.django_db
class TestScores:
    def valid_data(self, **overrides):
        data = {
            "started_at": "2025-01-10 10:00",
            "duration_minutes": 60,
            "setting": "clinic",
            "pain_before": 5,
            "pain_after": 3,
            "fatigue_before": 6,
            "fatigue_after": 4,
        }
        data.update(overrides)
        return data

    def test_valid_scores_pass_the_form(self):
        assert ScoresForm(data=self.valid_data()).is_valid()

    @pytest.mark.parametrize("field", ["pain_before", "pain_after", "fatigue_before", "fatigue_after"])
    @pytest.mark.parametrize("value", [11, -1, "4.5", "high"])
    def test_form_refuses_a_bad_score(self, field, value):
        form = ScoresForm(data=self.valid_data(**{field: value}))
        assert not form.is_valid()
        assert field in form.errors

    def test_before_scores_are_required(self):
        form = ScoresForm(data=self.valid_data(pain_before="", fatigue_before=""))
        assert set(form.errors) == {"pain_before", "fatigue_before"}

    @pytest.mark.parametrize("field", ["pain_before", "pain_after", "fatigue_before", "fatigue_after"])
    def test_full_clean_refuses_eleven(self, session, field):
        setattr(session, field, 11)
        with pytest.raises(ValidationError) as excinfo:
            session.full_clean()
        assert field in excinfo.value.message_dict

    @pytest.mark.parametrize("field", ["pain_before", "pain_after", "fatigue_before", "fatigue_after"])
    def test_database_refuses_eleven(self, session, field):
        with pytest.raises(IntegrityError), transaction.atomic():
            TreatmentSession.objects.filter(pk=session.pk).update(**{field: 11})

    def test_database_refuses_a_missing_before_score(self, client_a, therapist):
        with pytest.raises(IntegrityError), transaction.atomic():
            TreatmentSession.objects.create(client=client_a, therapist=therapist, pain_before=None, fatigue_before=3)


@pytest.mark.django_db
class TestSigning:
    def test_signing_needs_after_scores(self, session, therapist):
        with pytest.raises(ValidationError) as excinfo:
            session_sign(session=session, user=therapist)
        assert set(excinfo.value.message_dict) == {"pain_after", "fatigue_after"}
        session.refresh_from_db()
        assert session.status == SessionStatus.DRAFT

    def test_database_refuses_a_signed_session_without_after_scores(self, session, therapist):
        with pytest.raises(IntegrityError), transaction.atomic():
            TreatmentSession.objects.filter(pk=session.pk).update(
                status="signed", signed_at=timezone.now(), signed_by=therapist
            )

    def test_signing_records_who_and_when_and_locks(self, session, therapist):
        session.pain_after, session.fatigue_after = 2, 3
        session.save()
        signed = session_sign(session=session, user=therapist)
        assert signed.status == SessionStatus.SIGNED
        assert signed.signed_by == therapist
        assert signed.signed_at is not None
        signed.pain_after = 9
        with pytest.raises(SignedSessionLockedError):
            signed.save()
        assert TreatmentSession.objects.get(pk=session.pk).pain_after == 2

    def test_signing_a_stale_copy_is_a_conflict(self, session, therapist):
        session.pain_after, session.fatigue_after = 2, 3
        session.save()
        stale = TreatmentSession.objects.get(pk=session.pk)
        session.plan = "Changed by someone else"
        session.version += 1
        session.save()
        with pytest.raises(ValidationError) as excinfo:
            session_sign(session=stale, user=therapist)
        assert "Someone else" in str(excinfo.value)

    def test_sessions_are_never_deleted(self, session):
        with pytest.raises(ClinicalRecordDeletionError):
            session.delete()
        with pytest.raises(ClinicalRecordDeletionError):
            TreatmentSession.objects.filter(pk=session.pk).delete()

    def test_technique_rows_need_a_valid_region(self, session):
        use = TechniqueUse(session=session, technique=Technique.objects.first(), body_region="", pressure="light")
        with pytest.raises(ValidationError) as excinfo:
            use.full_clean()
        assert "body_region" in excinfo.value.message_dict


@pytest.mark.django_db
class TestAmendments:
    @pytest.fixture
    def signed(self, client_a, therapist):
        return make_session(client_a, therapist, signed=True, pain_after=3, plan="Weekly")

    def test_amendment_leaves_the_signed_original_intact(self, signed, therapist):
        amendment = session_amend(
            session=signed, author=therapist, reason="Typo in the score", changes={"pain_after": 4}
        )
        signed.refresh_from_db()
        assert signed.pain_after == 3
        assert amendment.changes == {"pain_after": {"from": 3, "to": 4}}
        assert amended_values(signed)["pain_after"] == 4

    def test_successive_amendments_chain_from_the_latest_value(self, signed, therapist):
        session_amend(session=signed, author=therapist, reason="First", changes={"plan": "Fortnightly"})
        second = session_amend(session=signed, author=therapist, reason="Second", changes={"plan": "Monthly"})
        assert second.changes["plan"] == {"from": "Fortnightly", "to": "Monthly"}
        assert SessionAmendment.objects.filter(session=signed).count() == 2

    def test_amendment_needs_a_reason(self, signed, therapist):
        with pytest.raises(ValidationError):
            session_amend(session=signed, author=therapist, reason="  ", changes={"plan": "x"})
        assert not signed.amendments.exists()

    @pytest.mark.parametrize("changes", [{"pain_after": 11}, {"client": 1}, {}, {"pain_after": None}])
    def test_bad_amendments_are_refused(self, signed, therapist, changes):
        with pytest.raises(ValidationError):
            session_amend(session=signed, author=therapist, reason="Fix", changes=changes)
        assert not signed.amendments.exists()

    def test_drafts_are_not_amended(self, session, therapist):
        with pytest.raises(ValidationError):
            session_amend(session=session, author=therapist, reason="Fix", changes={"plan": "x"})


@pytest.mark.django_db
def test_future_session_with_after_scores_is_refused(therapist):
    session = TreatmentSession(
        client=make_client(therapists=[therapist]),
        therapist=therapist,
        started_at=timezone.now() + dt.timedelta(days=2),
        pain_before=3,
        pain_after=2,
        fatigue_before=3,
        fatigue_after=2,
    )
    with pytest.raises(ValidationError) as excinfo:
        session.full_clean()
    assert "started_at" in excinfo.value.message_dict
