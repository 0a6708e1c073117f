"""On PostgreSQL, the database itself keeps the audit trail append-only and clinical records intact.

The application already refuses these writes (model and queryset guards, practice.signals, a
read-only admin); the triggers also stop SQL that goes around the ORM:

- audit events can be neither changed nor deleted, and the chain head only grows;
- clients, phases, self-reports, sessions, amendments and their change history are never deleted;
- amendments are never changed;
- a signed session row cannot change at all (signing updates a draft row, so it passes);
- the techniques of a signed session cannot be changed or removed.

TRUNCATE fires no row triggers: the test runner's flush still works, and so does a restore.
SQLite gets no triggers: its flush deletes rows one by one, and its table rebuilds during
migrations would silently drop them.
"""

from django.db import migrations

REFUSE_FUNCTION = """
CREATE OR REPLACE FUNCTION practice_refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % refused: %', TG_OP, TG_TABLE_NAME, TG_ARGV[0]
        USING ERRCODE = 'restrict_violation';
END
$$;
"""

TECHNIQUE_USE_FUNCTION = """
CREATE OR REPLACE FUNCTION practice_lock_signed_technique_use() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM treatment_sessions_treatmentsession
               WHERE id = OLD.session_id AND status = 'signed')
       OR (TG_OP = 'UPDATE' AND EXISTS (SELECT 1 FROM treatment_sessions_treatmentsession
                                        WHERE id = NEW.session_id AND status = 'signed')) THEN
        RAISE EXCEPTION '% on % refused: the session is signed; corrections are amendments',
            TG_OP, TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RETURN OLD;
    END IF;
    RETURN NEW;
END
$$;
"""

NEVER_DELETED = [
    "clients_client",
    "clients_diseasephase",
    "clients_selfreport",
    "treatment_sessions_treatmentsession",
    "treatment_sessions_sessionamendment",
    "practice_historicalclient",
    "practice_historicaldiseasephase",
    "practice_historicaltreatmentsession",
]

# (trigger name, table, timing and events, optional WHEN condition, function call)
TRIGGERS = [
    (
        "practice_audit_append_only",
        "practice_auditevent",
        "BEFORE UPDATE OR DELETE",
        "",
        "practice_refuse_write('audit events are append-only')",
    ),
    (
        "practice_audit_head_kept",
        "practice_auditchainhead",
        "BEFORE DELETE",
        "",
        "practice_refuse_write('the audit chain head is kept')",
    ),
    (
        "practice_audit_head_grows",
        "practice_auditchainhead",
        "BEFORE UPDATE",
        "NEW.length < OLD.length OR NEW.id <> OLD.id",
        "practice_refuse_write('the audit chain only grows')",
    ),
    *(
        (
            f"practice_never_delete_{table}",
            table,
            "BEFORE DELETE",
            "",
            "practice_refuse_write('clinical records are archived, never deleted')",
        )
        for table in NEVER_DELETED
    ),
    (
        "practice_amendment_unchanged",
        "treatment_sessions_sessionamendment",
        "BEFORE UPDATE",
        "",
        "practice_refuse_write('an amendment is never changed; record another one')",
    ),
    (
        "practice_signed_session_locked",
        "treatment_sessions_treatmentsession",
        "BEFORE UPDATE",
        "OLD.status = 'signed' AND OLD.* IS DISTINCT FROM NEW.*",
        "practice_refuse_write('the session is signed; corrections are amendments')",
    ),
    (
        "practice_signed_technique_use_locked",
        "treatment_sessions_techniqueuse",
        "BEFORE UPDATE OR DELETE",
        "",
        "practice_lock_signed_technique_use()",
    ),
]


def create_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(REFUSE_FUNCTION, params=None)  # params=None: '%' is PL/pgSQL, not a placeholder
    schema_editor.execute(TECHNIQUE_USE_FUNCTION, params=None)
    for name, table, events, condition, function in TRIGGERS:
        when = f" WHEN ({condition})" if condition else ""
        schema_editor.execute(
            f"CREATE TRIGGER {name} {events} ON {table} FOR EACH ROW{when} EXECUTE FUNCTION {function};"
        )


def drop_guards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, *_ in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table};")
    schema_editor.execute("DROP FUNCTION IF EXISTS practice_lock_signed_technique_use();")
    schema_editor.execute("DROP FUNCTION IF EXISTS practice_refuse_write();")


class Migration(migrations.Migration):
    dependencies = [
        ("practice", "0002_audit_and_history"),
        ("clients", "0003_self_report"),
        ("treatment_sessions", "0002_seed_techniques"),
    ]

    operations = [migrations.RunPython(create_guards, drop_guards)]
