"""On PostgreSQL, the database itself keeps consents and submitted intakes as they were given.

The application refuses these writes already (clients.models: ImmutableRecord, Intake.save, never_delete);
the triggers also stop SQL that goes around the ORM, like practice/migrations/0003 and 0006 do for sessions:

- consent texts, consents and withdrawals are never changed or deleted;
- intakes are never deleted, and a submitted intake cannot change except by its review
  (status submitted to reviewed, with reviewed_at, reviewed_by and accepted_fields).

practice_refuse_write() comes from practice/migrations/0003. SQLite gets no triggers (see that migration).
"""

from django.db import migrations

IMMUTABLE_TABLES = ["clients_consenttext", "clients_consent", "clients_consentwithdrawal"]

# Everything the client submitted, compared as one row: the review may change only the other columns.
SUBMITTED_COLUMNS = "id, client_id, answers, step, requested_by_id, requested_at, started_at, submitted_at, created_at"
INTAKE_LOCKED = (
    "OLD.status <> 'in_progress' AND NOT (OLD.status = 'submitted' AND NEW.status = 'reviewed' AND "
    f"ROW({', '.join('NEW.' + c.strip() for c in SUBMITTED_COLUMNS.split(','))}) IS NOT DISTINCT FROM "
    f"ROW({', '.join('OLD.' + c.strip() for c in SUBMITTED_COLUMNS.split(','))}))"
)


def create_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in IMMUTABLE_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER clients_consent_kept BEFORE UPDATE OR DELETE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION practice_refuse_write('consent records are never changed or deleted');"
        )
    schema_editor.execute(
        "CREATE TRIGGER clients_intake_never_deleted BEFORE DELETE ON clients_intake FOR EACH ROW "
        "EXECUTE FUNCTION practice_refuse_write('intakes are part of the record, never deleted');"
    )
    schema_editor.execute(
        f"CREATE TRIGGER clients_intake_submitted_kept BEFORE UPDATE ON clients_intake FOR EACH ROW "
        f"WHEN ({INTAKE_LOCKED}) "
        "EXECUTE FUNCTION practice_refuse_write('a submitted intake is kept as the client sent it');"
    )


def drop_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS clients_intake_submitted_kept ON clients_intake;")
    schema_editor.execute("DROP TRIGGER IF EXISTS clients_intake_never_deleted ON clients_intake;")
    for table in IMMUTABLE_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS clients_consent_kept ON {table};")


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0007_intake_consent_relapse"),
        ("practice", "0003_postgresql_guards"),
    ]

    operations = [migrations.RunPython(create_guards, drop_guards)]
