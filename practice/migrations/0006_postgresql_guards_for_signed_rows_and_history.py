"""On PostgreSQL, close what migration 0003 left open below the application:

- a technique row cannot be added to a signed session (0003 refused only changes and deletions);
  a session loaded already signed gets its rows in the same transaction from a bulk loader that
  lifts this one trigger for that transaction (devtools), never from the application;
- change history rows are never changed (0003 refused only their deletion);
- self-reports get a change history like the other clinical records (django-simple-history for
  saves, migration 0005; the capture trigger of 0004 for UPDATEs around save()), never deleted.

SQLite has no triggers; there the same rules hold in the ORM (sessions.signals, practice.history).
"""

from django.db import migrations

USE_INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION practice_refuse_use_of_signed_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM treatment_sessions_treatmentsession
               WHERE id = NEW.session_id AND status = 'signed') THEN
        RAISE EXCEPTION 'INSERT on % refused: the session is signed; corrections are amendments',
            TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
"""

HISTORY_TABLES = [
    "practice_historicalclient",
    "practice_historicaldiseasephase",
    "practice_historicalselfreport",
    "practice_historicaltreatmentsession",
]


def create_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(USE_INSERT_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER practice_no_use_for_signed_session BEFORE INSERT ON treatment_sessions_techniqueuse "
        "FOR EACH ROW EXECUTE FUNCTION practice_refuse_use_of_signed_session();"
    )
    for table in HISTORY_TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER practice_history_unchanged BEFORE UPDATE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION practice_refuse_write('a change history row is never changed');"
        )
    schema_editor.execute(
        "CREATE TRIGGER practice_never_delete_practice_historicalselfreport BEFORE DELETE "
        "ON practice_historicalselfreport FOR EACH ROW "
        "EXECUTE FUNCTION practice_refuse_write('clinical records are archived, never deleted');"
    )
    schema_editor.execute(
        "CREATE TRIGGER practice_capture_history AFTER UPDATE ON clients_selfreport FOR EACH ROW "
        "WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION practice_capture_history('practice_historicalselfreport');"
    )


def drop_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS practice_capture_history ON clients_selfreport;")
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS practice_never_delete_practice_historicalselfreport ON practice_historicalselfreport;"
    )
    for table in HISTORY_TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS practice_history_unchanged ON {table};")
    schema_editor.execute(
        "DROP TRIGGER IF EXISTS practice_no_use_for_signed_session ON treatment_sessions_techniqueuse;"
    )
    schema_editor.execute("DROP FUNCTION IF EXISTS practice_refuse_use_of_signed_session();")


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0005_history_of_self_reports"),
        ("treatment_sessions", "0004_order_by_foreign_key_id"),
        ("clients", "0004_order_by_foreign_key_id"),
    ]

    operations = [migrations.RunPython(create_guards, drop_guards)]
