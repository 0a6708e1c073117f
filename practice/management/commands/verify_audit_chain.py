"""Walk the audit trail in order and report the first broken link; exit 1 when the chain is broken."""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from practice.audit import verify_database


class Command(BaseCommand):
    help = "Check that no audit event was changed, removed or inserted after it was written."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchors",
            type=Path,
            help="A file of anchors written by `manage.py audit_anchor` (one JSON object a line), kept outside "
            "the database: every anchored event must still be there, unchanged.",
        )

    def handle(self, *args: Any, anchors: Path | None = None, **options: Any) -> None:
        report = verify_database(_read_anchors(anchors) if anchors else ())
        for sequence in report.incidents:
            self.stderr.write(
                self.style.WARNING(
                    f"Incident at event #{sequence}: the chain head was missing and was rebuilt from the log. "
                    "Someone removed it (for example with TRUNCATE); find out who."
                )
            )
        if not report.ok:
            raise CommandError(f"Audit chain broken after {report.checked} good events: {report.problem}", returncode=1)
        self.stdout.write(
            self.style.SUCCESS(f"Audit chain intact: {report.checked} events. Newest hash: {report.last_hash}")
        )


def _read_anchors(path: Path) -> list[dict[str, Any]]:
    try:
        lines = path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]
    except (OSError, ValueError) as error:
        raise CommandError(f"Cannot read the anchors in {path}: {error}") from error
