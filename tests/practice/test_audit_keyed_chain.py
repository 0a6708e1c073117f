"""The audit chain is keyed (HMAC, key outside the database), anchored outside it, and survives a removed head.

Tampering is done as a database superuser would: on PostgreSQL the append-only trigger is disabled first.
"""

import hashlib
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from practice import audit
from practice.models import GENESIS_HASH, AuditChainHead, AuditEvent, canonical_bytes
from tests.factories import make_user

pytestmark = pytest.mark.django_db

FIELDS = [name for name in audit.CHAIN_FIELDS if name != "hash"]


def _raw(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _as_database_superuser(statements: list[tuple[str, list]]) -> None:
    if connection.vendor == "postgresql":
        _raw("ALTER TABLE practice_auditevent DISABLE TRIGGER practice_audit_append_only")
        _raw("ALTER TABLE practice_auditchainhead DISABLE TRIGGER USER")
    for sql, params in statements:
        _raw(sql, params)
    if connection.vendor == "postgresql":
        _raw("ALTER TABLE practice_auditevent ENABLE TRIGGER practice_audit_append_only")
        _raw("ALTER TABLE practice_auditchainhead ENABLE TRIGGER USER")


def _chain(count: int = 5) -> list[AuditEvent]:
    user = make_user()
    for n in range(count):
        audit.record(None, audit.READ, actor=user, object_type="client", object_id=n)
    return list(AuditEvent.objects.order_by("sequence"))


def test_hashes_are_keyed_not_plain_sha256():
    event = _chain(1)[0]
    fields = {name: getattr(event, name) for name in FIELDS}
    assert event.hash != hashlib.sha256(canonical_bytes(**fields)).hexdigest()
    with override_settings(PRACTICE_AUDIT_CHAIN_KEY="another-key-of-at-least-thirty-two-chars"):
        assert not audit.verify_database().ok  # the same rows do not verify with another key
    assert audit.verify_database().ok


def test_an_edit_with_every_later_hash_recomputed_without_the_key_is_caught():
    events = _chain(5)
    # The attacker edits event 2 and re-chains 2..5 with plain SHA-256, the best they can do without the key.
    statements, previous = [], events[0].hash
    for event in events[1:]:
        fields = {name: getattr(event, name) for name in FIELDS}
        fields["prev_hash"] = previous
        if event.sequence == 2:
            fields["client_id"] = 99
        digest = hashlib.sha256(canonical_bytes(**fields)).hexdigest()
        statements.append(
            (
                "UPDATE practice_auditevent SET client_id = %s, prev_hash = %s, hash = %s WHERE id = %s",
                [fields["client_id"], previous, digest, event.pk],
            )
        )
        previous = digest
    _as_database_superuser(statements)
    report = audit.verify_database()
    assert (report.ok, report.sequence) == (False, 2)
    assert "event #2 was changed" in report.problem


def test_removing_the_newest_events_and_lowering_the_head_is_caught_by_an_anchor(tmp_path):
    events = _chain(5)
    anchors = tmp_path / "anchors.jsonl"
    call_command("audit_anchor", output=anchors)
    assert json.loads(anchors.read_text())["sequence"] == 5
    _as_database_superuser(
        [
            ("DELETE FROM practice_auditevent WHERE sequence >= 4", []),
            ("UPDATE practice_auditchainhead SET length = 3", []),
        ]
    )
    assert audit.verify_database().ok  # inside the database the shortened chain is consistent...
    with pytest.raises(CommandError, match="event #5, anchored on .*, is missing") as error:
        call_command("verify_audit_chain", anchors=anchors)  # ...the anchor kept outside it is not
    assert error.value.returncode == 1
    assert events[-1].sequence == 5


def test_a_forged_anchor_is_refused(tmp_path):
    _chain(2)
    anchor = audit.anchor_now()
    anchor["hash"] = GENESIS_HASH
    anchors = tmp_path / "anchors.jsonl"
    anchors.write_text(json.dumps(anchor) + "\n")
    with pytest.raises(CommandError, match="not signed with this chain's key"):
        call_command("verify_audit_chain", anchors=anchors)


def test_anchors_of_an_intact_chain_pass(tmp_path, capsys):
    _chain(3)
    anchors = tmp_path / "anchors.jsonl"
    call_command("audit_anchor", output=anchors)
    _chain(2)
    call_command("audit_anchor", output=anchors)
    call_command("verify_audit_chain", anchors=anchors)
    assert "Audit chain intact" in capsys.readouterr().out


def test_a_removed_chain_head_is_rebuilt_from_the_log_recorded_and_reported(client, therapist, capsys):
    _chain(3)
    _as_database_superuser([("DELETE FROM practice_auditchainhead", [])])
    if connection.vendor == "postgresql":
        _raw("TRUNCATE practice_auditchainhead")
    # Audited requests keep working: sign-in included.
    client.force_login(therapist)
    assert client.get("/clients/").status_code == 200
    events = list(AuditEvent.objects.order_by("sequence").values_list("sequence", "action"))
    assert events[3] == (4, audit.CHAIN_HEAD_RESTORED)
    assert [sequence for sequence, _ in events] == list(range(1, len(events) + 1))
    assert AuditChainHead.objects.get().length == len(events)
    report = audit.verify_database()
    assert report.ok and report.incidents == (4,)
    call_command("verify_audit_chain")
    assert "Incident at event #4: the chain head was missing" in capsys.readouterr().err


def test_the_first_event_ever_is_no_incident():
    _chain(1)
    assert audit.verify_database().incidents == ()


def _plain_chain_ok() -> bool:
    previous = GENESIS_HASH
    for event in AuditEvent.objects.order_by("sequence"):
        fields = {name: getattr(event, name) for name in FIELDS}
        if event.prev_hash != previous or hashlib.sha256(canonical_bytes(**fields)).hexdigest() != event.hash:
            return False
        previous = event.hash
    return True


@pytest.mark.django_db(transaction=True)
def test_the_migration_keys_an_existing_plain_chain_and_refuses_a_broken_one():
    _chain(4)
    try:
        call_command("migrate", "practice", "0007", verbosity=0)  # back to the plain SHA-256 chain
        assert _plain_chain_ok() and not audit.verify_database().ok
        call_command("migrate", "practice", verbosity=0)
        assert audit.verify_database().ok and not _plain_chain_ok()

        call_command("migrate", "practice", "0007", verbosity=0)
        _as_database_superuser([("UPDATE practice_auditevent SET client_id = 7 WHERE sequence = 2", [])])
        with pytest.raises(RuntimeError, match="broken at event #2; it is not re-keyed"):
            call_command("migrate", "practice", verbosity=0)
    finally:
        _as_database_superuser([("DELETE FROM practice_auditevent", []), ("DELETE FROM practice_auditchainhead", [])])
        call_command("migrate", verbosity=0)
