"""On PostgreSQL, the database itself refuses overlapping phases of one client.

SQLite cannot express this; there model validation (DiseasePhase.clean) and the
one-open-phase unique constraint hold the rule.
"""

from django.db import migrations

CREATE = """
CREATE EXTENSION IF NOT EXISTS btree_gist;
ALTER TABLE clients_diseasephase
    ADD CONSTRAINT phase_no_overlap_per_client
    EXCLUDE USING gist (
        client_id WITH =,
        daterange(started_on, ended_on, '[)') WITH &&
    );
"""
DROP = "ALTER TABLE clients_diseasephase DROP CONSTRAINT IF EXISTS phase_no_overlap_per_client;"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("clients", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
