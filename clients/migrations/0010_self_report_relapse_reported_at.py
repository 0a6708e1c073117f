"""When a check-in first read as a possible relapse (``SelfReport.relapse_reported_at``), the relapse stop's time.

Before this the stop was timed by ``updated_at``, which any re-save of the day's entry moves. Existing possible
relapses get their ``updated_at``, the best time known, so a stop standing now still stands after the upgrade.
"""

from django.db import migrations, models
from django.db.models import F


def backfill(apps, schema_editor):
    SelfReport = apps.get_model("clients", "SelfReport")
    SelfReport.objects.filter(triage="possible_relapse").update(relapse_reported_at=F("updated_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("clients", "0009_relapse_dismissal"),
    ]

    operations = [
        migrations.AddField(
            model_name="selfreport",
            name="relapse_reported_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        # Going back drops the column, so there is nothing to undo.
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
