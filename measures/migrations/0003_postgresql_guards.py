"""On PostgreSQL, keep submitted questionnaires and their amendments as they were, below the application.

SQLite has no triggers; there the same rules hold in the ORM (measures.models.connect_guards).
"""

from django.db import migrations

LOCK_FUNCTION = """
CREATE OR REPLACE FUNCTION measures_lock_submitted_questionnaire() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status = 'submitted' THEN
        RAISE EXCEPTION 'UPDATE on % refused: the questionnaire is submitted; corrections are amendments',
            TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;
"""


def create_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(LOCK_FUNCTION, params=None)
    schema_editor.execute(
        "CREATE TRIGGER measures_lock_submitted BEFORE UPDATE ON measures_questionnaireresponse "
        "FOR EACH ROW EXECUTE FUNCTION measures_lock_submitted_questionnaire();"
    )
    for table in ("measures_questionnaireresponse", "measures_questionnaireamendment"):
        schema_editor.execute(
            f"CREATE TRIGGER measures_never_delete BEFORE DELETE ON {table} FOR EACH ROW "
            "EXECUTE FUNCTION practice_refuse_write('clinical records are archived, never deleted');"
        )
    schema_editor.execute(
        "CREATE TRIGGER measures_amendment_unchanged BEFORE UPDATE ON measures_questionnaireamendment "
        "FOR EACH ROW EXECUTE FUNCTION practice_refuse_write('an amendment is never changed');"
    )


def drop_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS measures_amendment_unchanged ON measures_questionnaireamendment;")
    for table in ("measures_questionnaireresponse", "measures_questionnaireamendment"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS measures_never_delete ON {table};")
    schema_editor.execute("DROP TRIGGER IF EXISTS measures_lock_submitted ON measures_questionnaireresponse;")
    schema_editor.execute("DROP FUNCTION IF EXISTS measures_lock_submitted_questionnaire();")


class Migration(migrations.Migration):
    dependencies = [
        ("measures", "0002_seed_instruments"),
        # practice_refuse_write() is created there.
        ("practice", "0003_postgresql_guards"),
    ]

    operations = [migrations.RunPython(create_guards, drop_guards)]
