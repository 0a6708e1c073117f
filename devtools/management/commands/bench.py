from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.bench import DEFAULT_AUDIT_EVENTS, run_bench
from devtools.bench.report import format_markdown, format_table, read_json, write_json


class Command(BaseCommand):
    help = (
        "Time every page against the configured database: median and 95th percentile server time, queries, "
        "and the ratio to an empty view and to a raw SQL fetch of the page's rows. Prepares the clients and "
        "users it needs inside the data set (seed it first, e.g. seed_demo --clients 10000 --years 10)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--repeat", type=int, default=20, help="Timed requests per page (default 20).")
        parser.add_argument("--warmup", type=int, default=2, help="Untimed requests first (default 2).")
        parser.add_argument("--json", metavar="PATH", help="Also write the figures to this JSON file.")
        parser.add_argument("--only", default="", help="Only pages whose name contains this text.")
        parser.add_argument(
            "--audit-events",
            type=int,
            default=DEFAULT_AUDIT_EVENTS,
            help="Grow the audit log to this many events first (PostgreSQL; default 1,000,000; 0 to leave it).",
        )
        parser.add_argument(
            "--markdown-from",
            metavar="PATH",
            help="Measure nothing: print the README's Markdown table of a run saved with --json.",
        )
        parser.add_argument(
            "--skip-admin-options",
            action="store_true",
            help="Leave out the admin changelists' every filter, sort, search and drill-down (about 200 pages).",
        )

    def handle(
        self,
        *args,
        repeat: int,
        warmup: int,
        json: str | None,
        only: str,
        audit_events: int,
        skip_admin_options: bool,
        markdown_from: str | None,
        **options,
    ) -> None:
        if markdown_from:
            self.stdout.write(format_markdown(read_json(markdown_from)))
            return
        if repeat < 1 or warmup < 0:
            raise CommandError("--repeat must be at least 1 and --warmup at least 0.")
        report = run_bench(
            repeat=repeat,
            warmup=warmup,
            only=only,
            audit_events=audit_events,
            admin_options=not skip_admin_options,
            log=self.stderr.write,
        )
        self.stdout.write(format_table(report))
        if json:
            write_json(report, json)
            self.stdout.write(f"\nFigures written to {json}.")
