"""Consents: agreeing by typed name to the current version, withdrawing, and records that never change."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from clients.intake import consent_agree, consent_text_add, consent_withdraw
from clients.models import Consent, ConsentKind, ConsentText, ConsentWithdrawal, RecordLockedError
from clients.selectors import consent_history, consents_needed, current_consent
from practice.records import ClinicalRecordDeletionError

pytestmark = pytest.mark.django_db

TREATMENT, DATA_USE = ConsentKind.TREATMENT, ConsentKind.DATA_USE
postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="triggers are PostgreSQL's")


@pytest.fixture
def texts(owner):
    return {
        TREATMENT: consent_text_add(kind=TREATMENT, text="I agree to massage.", created_by=owner),
        DATA_USE: consent_text_add(kind=DATA_USE, text="The practice keeps my record.", created_by=owner),
    }


def test_versions_count_up_per_kind_and_the_newest_is_current(owner, texts):
    second = consent_text_add(kind=TREATMENT, text="  I agree to massage, version two. ", created_by=owner)
    assert (texts[TREATMENT].version, second.version, texts[DATA_USE].version) == (1, 2, 1)
    assert second.text == "I agree to massage, version two."
    assert ConsentText.objects.current(TREATMENT) == second
    assert ConsentText.objects.current(DATA_USE) == texts[DATA_USE]
    with pytest.raises(ValidationError):
        consent_text_add(kind=TREATMENT, text="   ", created_by=owner)


def test_agreeing_records_name_version_and_time(client_a, texts):
    consent = consent_agree(client=client_a, kind=TREATMENT, typed_name="  Alice   Ashby ", recorded_by=client_a.user)
    assert consent.typed_name == "Alice Ashby"
    assert consent.consent_text == texts[TREATMENT]
    assert abs(consent.agreed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=1)
    assert current_consent(client_a, TREATMENT) == consent
    assert current_consent(client_a, DATA_USE) is None
    assert consents_needed(client_a) == [DATA_USE]


def test_agreeing_twice_to_the_same_version_makes_one_record(client_a, texts):
    first = consent_agree(client=client_a, kind=TREATMENT, typed_name="Alice Ashby", recorded_by=client_a.user)
    again = consent_agree(client=client_a, kind=TREATMENT, typed_name="Alice Ashby", recorded_by=client_a.user)
    assert first == again
    assert Consent.objects.count() == 1


def test_a_blank_name_or_a_missing_text_is_refused(client_a, owner):
    with pytest.raises(ValidationError, match="not written this consent"):
        consent_agree(client=client_a, kind=TREATMENT, typed_name="Alice", recorded_by=None)
    consent_text_add(kind=TREATMENT, text="I agree.", created_by=owner)
    with pytest.raises(ValidationError, match="Type your full name"):
        consent_agree(client=client_a, kind=TREATMENT, typed_name=" x ", recorded_by=None)
    assert not Consent.objects.exists()


def test_a_new_version_asks_again(client_a, owner, texts):
    old = consent_agree(client=client_a, kind=TREATMENT, typed_name="Alice Ashby", recorded_by=None)
    consent_text_add(kind=TREATMENT, text="New wording.", created_by=owner)
    assert current_consent(client_a, TREATMENT) is None
    assert TREATMENT in consents_needed(client_a)
    new = consent_agree(client=client_a, kind=TREATMENT, typed_name="Alice Ashby", recorded_by=None)
    assert new != old and current_consent(client_a, TREATMENT) == new
    assert [c.consent_text.version for c in consent_history(client_a)] == [2, 1]


def test_the_data_use_consent_can_be_withdrawn_and_given_again(client_a, texts):
    consent = consent_agree(client=client_a, kind=DATA_USE, typed_name="Alice Ashby", recorded_by=None)
    withdrawal = consent_withdraw(consent=consent, typed_name="Alice Ashby", recorded_by=client_a.user)
    assert withdrawal.consent == consent
    assert current_consent(client_a, DATA_USE) is None
    with pytest.raises(ValidationError, match="withdrawn already"):
        consent_withdraw(consent=consent, typed_name="Alice Ashby", recorded_by=client_a.user)
    again = consent_agree(client=client_a, kind=DATA_USE, typed_name="Alice Ashby", recorded_by=None)
    assert again != consent and current_consent(client_a, DATA_USE) == again


def test_consent_to_treatment_is_not_withdrawn_from_the_portal(client_a, texts):
    consent = consent_agree(client=client_a, kind=TREATMENT, typed_name="Alice Ashby", recorded_by=None)
    with pytest.raises(ValidationError, match="telling your therapist"):
        consent_withdraw(consent=consent, typed_name="Alice Ashby", recorded_by=client_a.user)
    assert not ConsentWithdrawal.objects.exists()


def test_the_orm_never_changes_or_deletes_consent_records(client_a, texts):
    consent = consent_agree(client=client_a, kind=DATA_USE, typed_name="Alice Ashby", recorded_by=None)
    withdrawal = consent_withdraw(consent=consent, typed_name="Alice Ashby", recorded_by=None)
    text = texts[DATA_USE]
    for record in (text, consent, withdrawal):
        with pytest.raises(RecordLockedError):
            record.save()
        with pytest.raises(ClinicalRecordDeletionError):
            record.delete()
    for model in (ConsentText, Consent, ConsentWithdrawal):
        with pytest.raises(RecordLockedError):
            model.objects.update(pk=1)
        with pytest.raises(ClinicalRecordDeletionError):
            model.objects.all().delete()
    consent.refresh_from_db()
    assert consent.typed_name == "Alice Ashby"


@postgresql_only
@pytest.mark.parametrize("table", ["clients_consenttext", "clients_consent", "clients_consentwithdrawal"])
def test_postgresql_refuses_changing_or_deleting_consent_records(client_a, texts, table):
    consent = consent_agree(client=client_a, kind=DATA_USE, typed_name="Alice Ashby", recorded_by=None)
    consent_withdraw(consent=consent, typed_name="Alice Ashby", recorded_by=None)
    column = {"clients_consenttext": "text", "clients_consent": "typed_name"}.get(table, "typed_name")
    for sql in (f"UPDATE {table} SET {column} = 'rewritten'", f"DELETE FROM {table}"):
        with pytest.raises(DatabaseError, match="never changed or deleted"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} = 'rewritten'")
        assert cursor.fetchone()[0] == 0
