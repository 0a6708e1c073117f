import time

from django.core.management.base import BaseCommand
from django.db import connection

from outcomes.glance import forget_outcomes_headline
from outcomes.models import TechniqueClient, TechniqueWeek, TherapistWeek, Visit, VisitTechnique
from outcomes.storage import visits_rebuild_all


class Command(BaseCommand):
    help = "Rebuild the outcomes report's stored visits from every signed session (after bulk loads or upgrades)."

    def handle(self, *args, **options) -> None:
        began = time.monotonic()
        stored = visits_rebuild_all()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            # Fresh statistics for the planner, and the visibility map that lets the report's covering indexes
            # answer without reading the rows (autovacuum would get there, minutes later).
            with connection.cursor() as cursor:
                for model in (Visit, VisitTechnique, TechniqueWeek, TechniqueClient, TherapistWeek):
                    cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
        forget_outcomes_headline()  # the admin index's cached headline was read from the old rows
        self.stdout.write(f"Outcomes rebuilt: {stored} visits in {time.monotonic() - began:.1f} s.")
