from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("treatment_sessions", "0006_body_regions_chest_abdomen")]

    operations = [
        migrations.AddIndex(
            model_name="treatmentsession",
            index=models.Index(
                condition=models.Q(("status", "draft")), fields=["started_at"], name="session_draft_started_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="treatmentsession",
            index=models.Index(
                condition=models.Q(("safety_override_reason", ""), _negated=True),
                fields=["started_at"],
                name="session_override_started_idx",
            ),
        ),
    ]
