"""On PostgreSQL, every UPDATE of a client, phase or session lands in the change history.

django-simple-history sees only ``save()``. An AFTER UPDATE trigger on each of the three tables also
records ``queryset.update()``, ``bulk_update()`` and raw SQL: one history row per changed row, type "~",
reason "database update", the time of the write, and the user in the ``practice.history_user_id``
setting if one is set (``SET practice.history_user_id = '7'`` before a hand-made fix).

UPDATEs the application records itself start with the marker of ``practice.history`` (saves, and
updates followed by ``record_history()``): the trigger leaves those alone, so a change is recorded once.
Rows that did not change add nothing.

The history row is built from the updated row by column name (``jsonb_populate_record``), so a field
later added to a model and its history model is copied without touching this trigger. SQLite gets no
trigger; there, code that updates around ``save()`` calls ``record_history()``.
"""

from django.db import migrations

MARKER = "/* practice:history-recorded-by-app */"  # practice.history.HISTORY_BY_APP_MARKER, without the space

CAPTURE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION practice_capture_history() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    history_table text := TG_ARGV[0];
BEGIN
    IF strpos(coalesce(current_query(), ''), '{MARKER}') > 0 THEN
        RETURN NULL;  -- the application writes this history row itself, with the user and the reason
    END IF;
    EXECUTE format('INSERT INTO %I SELECT * FROM jsonb_populate_record(NULL::%I, $1)', history_table, history_table)
    USING to_jsonb(NEW) || jsonb_build_object(
        'history_id', nextval(pg_get_serial_sequence(history_table, 'history_id')),
        -- The wall clock, not the transaction start: history is ordered by time, and the application
        -- stamps its own rows with the time of the write.
        'history_date', clock_timestamp(),
        'history_type', '~',
        'history_change_reason', 'database update',
        'history_user_id', NULLIF(current_setting('practice.history_user_id', true), '')::bigint
    );
    RETURN NULL;
END
$$;
"""

# (tracked table, history table)
TABLES = [
    ("clients_client", "practice_historicalclient"),
    ("clients_diseasephase", "practice_historicaldiseasephase"),
    ("treatment_sessions_treatmentsession", "practice_historicaltreatmentsession"),
]


def create_capture(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(CAPTURE_FUNCTION, params=None)  # params=None: '%' belongs to format(), not a placeholder
    for table, history_table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER practice_capture_history AFTER UPDATE ON {table} FOR EACH ROW "
            f"WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION practice_capture_history('{history_table}');"
        )


def drop_capture(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, _ in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS practice_capture_history ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS practice_capture_history();")


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0003_postgresql_guards"),
    ]

    operations = [migrations.RunPython(create_capture, drop_capture)]
