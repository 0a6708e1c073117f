import time

from django.core.management.base import BaseCommand

from outcomes.storage import visits_rebuild_all


class Command(BaseCommand):
    help = "Rebuild the outcomes report's stored visits from every signed session (after bulk loads or upgrades)."

    def handle(self, *args, **options) -> None:
        began = time.monotonic()
        stored = visits_rebuild_all()
        self.stdout.write(f"Outcomes rebuilt: {stored} visits in {time.monotonic() - began:.1f} s.")
