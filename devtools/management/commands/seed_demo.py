from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from devtools import demo


class Command(BaseCommand):
    help = "Seed a believable demo practice (safe to run again). --clients/--years build large data sets."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--clients", type=int, default=12, help="How many demo clients (default 12).")
        parser.add_argument(
            "--years", type=float, default=None, help="Years of weekly sessions per client (default 1-3)."
        )
        parser.add_argument(
            "--seed", type=int, default=2026, help="Random seed; the same seed gives the same practice."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def handle(self, *args, clients: int, years: float | None, seed: int, no_progress: bool, **options) -> None:
        if clients < 1:
            raise CommandError("--clients must be at least 1.")
        if years is not None and not 0 < years <= 30:
            raise CommandError("--years must be more than 0 and at most 30.")
        with tqdm(total=clients, unit="client", disable=no_progress, file=self.stderr) as bar:
            result = demo.build_demo(clients=clients, years=years, seed=seed, progress=bar.update)
        # Bulk loads bypass the services that keep the outcomes report's stored visits current.
        call_command("rebuild_outcomes", stdout=self.stdout)
        self.stdout.write(
            f"Demo practice ready: {result.clients_created} clients and {result.sessions_created} sessions created, "
            f"{result.clients_existing} clients already there."
        )
        self.stdout.write(
            "\nSign in at http://127.0.0.1:8000/accounts/login/ with password "
            f"{demo.DEMO_PASSWORD!r} as:\n"
            f"  {demo.OWNER_USERNAME:<8} practice owner (admin)\n"
            + "".join(f"  {username:<8} therapist\n" for username, _first, _last in demo.THERAPISTS)
            + f"  {demo.CLIENT_USERNAME:<8} client (portal)\n"
        )
