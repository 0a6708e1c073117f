import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sessions.models import Technique

PROJECT_APPS = ["practice", "treatment_sessions", "clients"]


@pytest.mark.django_db(transaction=True)
def test_project_migrations_are_reversible_to_zero_and_back():
    for app in PROJECT_APPS:
        call_command("migrate", app, "zero", verbosity=0)
    tables = set(connection.introspection.table_names())
    assert "clients_client" not in tables
    assert "treatment_sessions_treatmentsession" not in tables
    call_command("migrate", verbosity=0)
    executor = MigrationExecutor(connection)
    assert not executor.migration_plan(executor.loader.graph.leaf_nodes())
    assert Technique.objects.filter(slug="hot-stone", guidance="avoid").exists()


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


@pytest.mark.django_db
class TestRoles:
    def test_groups_exist_with_no_delete_permission_on_clinical_records(self):
        for name in ["Owner", "Therapist"]:
            group = Group.objects.get(name=name)
            codenames = set(group.permissions.values_list("codename", flat=True))
            assert codenames
            assert not {c for c in codenames if c.startswith("delete_")}

    def test_owner_manages_clients_and_therapists_view_techniques(self):
        owner = set(Group.objects.get(name="Owner").permissions.values_list("codename", flat=True))
        therapist = set(Group.objects.get(name="Therapist").permissions.values_list("codename", flat=True))
        assert {"add_client", "change_client", "add_user", "change_technique"} <= owner
        assert {"view_technique", "add_treatmentsession", "add_diseasephase"} <= therapist
        assert "change_technique" not in therapist
        assert Permission.objects.filter(codename="delete_client").exists()
