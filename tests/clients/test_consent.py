"""Consents: agreeing by typed name to the current version, withdrawing, and records that never change."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

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


# --- the owner's admin: new versions, never a change (issue 15, G6)


def test_the_owner_adds_consent_text_versions_in_the_admin_and_cannot_change_one(client, owner, therapist):
    client.force_login(owner)
    add = reverse("admin:clients_consenttext_add")
    for wording in ("I agree to massage.", "I agree to massage, at home too."):
        response = client.post(add, {"kind": TREATMENT, "text": wording})
        assert response.status_code == 302, response.content.decode()[:2000]
    first, second = ConsentText.objects.of_kind(TREATMENT).order_by("version")
    assert (first.version, first.text, first.created_by) == (1, "I agree to massage.", owner)
    assert (second.version, second.text, second.created_by) == (2, "I agree to massage, at home too.", owner)
    # "Add a version" starts from the current wording, to edit rather than retype.
    assert "I agree to massage, at home too.</textarea>" in client.get(f"{add}?kind={TREATMENT}").content.decode()
    change = reverse("admin:clients_consenttext_change", args=[first.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="text"' not in page.content.decode()  # read only
    assert client.post(change, {"kind": TREATMENT, "text": "Rewritten."}).status_code == 403
    first.refresh_from_db()
    assert first.text == "I agree to massage." and ConsentText.objects.count() == 2
    client.force_login(therapist)
    assert client.post(add, {"kind": TREATMENT, "text": "Mine."}).status_code in (302, 403)
    assert ConsentText.objects.count() == 2
