"""Creates the Owner and Therapist groups with their model permissions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

# Nobody gets a delete permission on a clinical record: they are archived, never deleted.
OWNER_PERMISSIONS = {
    "clients": {"client": ["add", "change", "view"], "diseasephase": ["add", "change", "view"]},
    "treatment_sessions": {
        "technique": ["add", "change", "view"],
        "treatmentsession": ["add", "change", "view"],
        "techniqueuse": ["add", "change", "view"],
        "sessionamendment": ["view"],
    },
    "auth": {"user": ["add", "change", "view"], "group": ["view"]},
}
THERAPIST_PERMISSIONS = {
    "clients": {"client": ["change", "view"], "diseasephase": ["add", "change", "view"]},
    "treatment_sessions": {
        "technique": ["view"],
        "treatmentsession": ["add", "change", "view"],
        "techniqueuse": ["add", "change", "view"],
        "sessionamendment": ["add", "view"],
    },
}
ROLES = {"Owner": OWNER_PERMISSIONS, "Therapist": THERAPIST_PERMISSIONS}


def create_roles(apps, schema_editor):
    # Permissions are normally created after migrate; make sure they exist now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, grants in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [
            (app_label, f"{action}_{model}")
            for app_label, models in grants.items()
            for model, actions in models.items()
            for action in actions
        ]
        permissions = [
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
            for app_label, codename in codenames
        ]
        group.permissions.set(permissions)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("clients", "0002_phase_exclusion_constraint"),
        ("treatment_sessions", "0002_seed_techniques"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
