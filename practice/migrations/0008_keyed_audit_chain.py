"""Key the audit trail's hash chain: each event's hash becomes an HMAC with a key kept outside the database.

Events written before this migration were chained with plain SHA-256, which anyone who can rewrite the
database can recompute. The existing chain is verified as it was written, then re-chained with the key,
so that from now on the whole trail, old events included, only verifies with the key. A chain that is
already broken is not re-keyed (that would hide the break): the migration stops and says where it broke,
for someone to investigate (``manage.py verify_audit_chain`` before upgrading shows the same).

On PostgreSQL the append-only trigger is lifted for this transaction only (DDL is transactional).
"""

import hashlib

from django.db import migrations

from practice.audit import CHAIN_FIELDS
from practice.models import GENESIS_HASH, canonical_bytes, chain_hash

COLUMNS = ("id", *CHAIN_FIELDS)


def _plain(canonical: bytes) -> str:
    return hashlib.sha256(canonical).hexdigest()


def _rechain(schema_editor, verify_with, write_with) -> None:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM practice_auditevent ORDER BY sequence")
        rows = [dict(zip(COLUMNS, row, strict=True)) for row in cursor.fetchall()]
    if not rows:
        return
    updates = []
    previous_old, previous_new = GENESIS_HASH, GENESIS_HASH
    for row in rows:
        fields = {name: row[name] for name in COLUMNS if name not in ("id", "hash")}
        if connection.vendor != "postgresql" and isinstance(fields["time"], str):
            fields["time"] = connection.ops.convert_datetimefield_value(fields["time"], None, connection)
        if row["prev_hash"] != previous_old or verify_with(canonical_bytes(**fields)) != row["hash"]:
            raise RuntimeError(
                f"The audit chain is broken at event #{row['sequence']}; it is not re-keyed. "
                "Run manage.py verify_audit_chain and investigate before upgrading."
            )
        previous_old = row["hash"]
        fields["prev_hash"] = previous_new
        previous_new = write_with(canonical_bytes(**fields))
        updates.append((fields["prev_hash"], previous_new, row["id"]))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE practice_auditevent DISABLE TRIGGER practice_audit_append_only")
        cursor.executemany("UPDATE practice_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", updates)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE practice_auditevent ENABLE TRIGGER practice_audit_append_only")


def key_the_chain(apps, schema_editor):
    _rechain(schema_editor, verify_with=_plain, write_with=chain_hash)


def unkey_the_chain(apps, schema_editor):
    _rechain(schema_editor, verify_with=chain_hash, write_with=_plain)


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0007_audit_username_index"),
    ]

    operations = [migrations.RunPython(key_the_chain, unkey_the_chain)]
