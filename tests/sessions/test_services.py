"""The writes of a treatment session, called directly: create, update, sign and amend."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from sessions.models import DRAFT_FIELDS, SessionAmendment, SessionStatus, TechniqueUse, TreatmentSession
from sessions.safety import PlannedUse
from sessions.services import EditConflict, session_amend, session_create, session_sign, session_update
from tests import factories

pytestmark = pytest.mark.django_db


def planned(*rows) -> list[PlannedUse]:
    return [PlannedUse(factories.technique(slug), region, pressure) for slug, region, pressure in rows]


def draft_values(**changes) -> dict:
    values = {
        "started_at": timezone.now() - dt.timedelta(hours=2),
        "duration_minutes": 45,
        "setting": "home",
        "room_temperature_c": None,
        "pain_before": 6,
        "fatigue_before": 5,
        "pain_after": None,
        "fatigue_after": None,
        "subjective": "Stiff calves.",
        "objective": "",
        "assessment": "",
        "plan": "",
        "client_summary": "Gentle work on the calves.",
        "safety_override_reason": "",
    }
    assert set(values) == set(DRAFT_FIELDS)
    values.update(changes)
    return values


def rows_of(session) -> list[tuple[str, str, str]]:
    return sorted(session.technique_uses.values_list("technique__slug", "body_region", "pressure"))


@pytest.fixture
def draft(client_a, therapist):
    return factories.make_session(client_a, therapist, uses=[("swedish", "upper_back", "moderate")])


# --- create ------------------------------------------------------------------------------


def test_create_saves_a_draft_with_its_rows(client_a, therapist):
    uses = planned(("swedish", "calf_left", "light"), ("reflexology", "foot_left", "light"))
    session = session_create(client=client_a, therapist=therapist, values=draft_values(), uses=uses)
    stored = TreatmentSession.objects.get(pk=session.pk)
    assert (stored.client, stored.therapist, stored.status, stored.version) == (
        client_a,
        therapist,
        SessionStatus.DRAFT,
        1,
    )
    assert (stored.setting, stored.duration_minutes, stored.pain_before, stored.subjective) == (
        "home",
        45,
        6,
        "Stiff calves.",
    )
    assert rows_of(stored) == [("reflexology", "foot_left", "light"), ("swedish", "calf_left", "light")]
    assert stored.history.count() == 1


def test_create_refuses_invalid_values_and_saves_nothing(client_a, therapist):
    with pytest.raises(ValidationError) as excinfo:
        session_create(client=client_a, therapist=therapist, values=draft_values(pain_before=11), uses=planned())
    assert "pain_before" in excinfo.value.message_dict
    future = timezone.now() + dt.timedelta(days=2)
    with pytest.raises(ValidationError) as excinfo:
        session_create(
            client=client_a,
            therapist=therapist,
            values=draft_values(started_at=future, pain_after=2, fatigue_after=2),
            uses=planned(),
        )
    assert "started_at" in excinfo.value.message_dict
    assert not TreatmentSession.objects.exists()


def test_create_writes_only_the_fields_of_a_draft(client_a, therapist):
    with pytest.raises(ValueError, match="status"):
        session_create(client=client_a, therapist=therapist, values=draft_values(status="signed"), uses=planned())
    assert not TreatmentSession.objects.exists()


# --- update ------------------------------------------------------------------------------


def test_update_writes_the_values_replaces_the_rows_and_bumps_the_version(draft):
    saved = session_update(
        session=draft,
        version=1,
        values=draft_values(plan="Stretch next time."),
        uses=planned(("shiatsu", "neck", "light")),
        user=draft.therapist,
    )
    assert (saved.version, saved.plan, saved.setting) == (2, "Stretch next time.", "home")
    assert rows_of(saved) == [("shiatsu", "neck", "light")]
    assert TreatmentSession.objects.get(pk=draft.pk).version == 2


def test_update_without_rows_keeps_the_stored_ones(draft):
    stored = list(draft.technique_uses.values_list("pk", flat=True))
    saved = session_update(session=draft, version=1, values={"plan": "Notes only."}, uses=None, user=draft.therapist)
    assert (saved.version, saved.plan) == (2, "Notes only.")
    assert list(saved.technique_uses.values_list("pk", flat=True)) == stored


def test_every_update_bumps_the_version(draft):
    first = session_update(
        session=draft,
        version=1,
        values={"plan": "One"},
        uses=planned(("swedish", "neck", "light")),
        user=draft.therapist,
    )
    second = session_update(
        session=first,
        version=2,
        values={"plan": "Two"},
        uses=planned(("swedish", "neck", "light")),
        user=draft.therapist,
    )
    assert (second.version, second.plan) == (3, "Two")


def test_update_from_a_stale_version_is_a_conflict_and_changes_nothing(draft):
    session_update(
        session=draft,
        version=1,
        values={"plan": "Saved first."},
        uses=planned(("swedish", "neck", "light")),
        user=draft.therapist,
    )
    with pytest.raises(EditConflict):
        session_update(
            session=draft,
            version=1,
            values={"plan": "Saved second."},
            uses=planned(("reiki", "head", "light")),
            user=draft.therapist,
        )
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert (stored.version, stored.plan) == (2, "Saved first.")
    assert rows_of(stored) == [("swedish", "neck", "light")]


def test_update_of_a_session_signed_meanwhile_is_a_conflict(draft, therapist):
    TreatmentSession.objects.filter(pk=draft.pk).update(pain_after=2, fatigue_after=2)
    draft.refresh_from_db()
    session_sign(session=draft, user=therapist)
    with pytest.raises(EditConflict):
        session_update(
            session=draft, version=draft.version, values={"plan": "Too late."}, uses=planned(), user=draft.therapist
        )
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert stored.plan == ""
    assert rows_of(stored) == [("swedish", "upper_back", "moderate")]


def test_update_refuses_invalid_values_and_changes_nothing(draft):
    with pytest.raises(ValidationError):
        session_update(session=draft, version=1, values={"duration_minutes": 1}, uses=planned(), user=draft.therapist)
    stored = TreatmentSession.objects.get(pk=draft.pk)
    assert (stored.version, stored.duration_minutes) == (1, 60)
    assert TechniqueUse.objects.filter(session=draft).count() == 1


def test_update_may_hand_a_draft_to_another_therapist(draft, other_therapist):
    saved = session_update(
        session=draft,
        version=1,
        values={"therapist": other_therapist},
        uses=planned(("swedish", "neck", "light")),
        user=draft.therapist,
    )
    assert saved.therapist == other_therapist


# --- sign --------------------------------------------------------------------------------


def test_sign_locks_the_draft_and_bumps_the_version(draft, therapist):
    TreatmentSession.objects.filter(pk=draft.pk).update(pain_after=2, fatigue_after=3)
    draft.refresh_from_db()
    signed = session_sign(session=draft, user=therapist)
    assert (signed.status, signed.signed_by, signed.version) == (SessionStatus.SIGNED, therapist, 2)
    assert signed.signed_at is not None


def test_sign_of_a_stale_copy_is_a_conflict(draft, therapist):
    TreatmentSession.objects.filter(pk=draft.pk).update(pain_after=2, fatigue_after=3)
    draft.refresh_from_db()
    session_update(
        session=draft,
        version=1,
        values={"plan": "Edited."},
        uses=planned(("swedish", "neck", "light")),
        user=draft.therapist,
    )
    with pytest.raises(ValidationError) as excinfo:
        session_sign(session=draft, user=therapist)
    assert excinfo.value.code == "conflict"
    assert TreatmentSession.objects.get(pk=draft.pk).status == SessionStatus.DRAFT


# --- amend -------------------------------------------------------------------------------


def test_amend_records_the_correction_beside_the_signed_original(client_a, therapist):
    signed = factories.make_session(client_a, therapist, signed=True, pain_after=3)
    version = signed.version
    amendment = session_amend(session=signed, author=therapist, reason="Typo.", changes={"pain_after": "4"})
    assert amendment.changes == {"pain_after": {"from": 3, "to": 4}}
    assert (amendment.author, amendment.reason) == (therapist, "Typo.")
    stored = TreatmentSession.objects.get(pk=signed.pk)
    # The signed row never changes, its version included.
    assert (stored.pain_after, stored.version) == (3, version)
    assert SessionAmendment.objects.filter(session=signed).count() == 1


def test_amend_refuses_a_draft(draft, therapist):
    with pytest.raises(ValidationError):
        session_amend(session=draft, author=therapist, reason="Fix.", changes={"plan": "x"})
    assert not SessionAmendment.objects.exists()
