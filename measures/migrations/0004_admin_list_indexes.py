"""Indexes for the owner's admin list of questionnaires: newest first, whole or by instrument."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0006_admin_filter_indexes"),
        ("measures", "0003_postgresql_guards"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="questionnaireresponse",
            index=models.Index(fields=["started_at"], name="questionnaire_started_idx"),
        ),
        migrations.AddIndex(
            model_name="questionnaireresponse",
            index=models.Index(fields=["instrument", "started_at"], name="questionnaire_instrument_idx"),
        ),
    ]
