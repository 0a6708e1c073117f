"""Print (or append to a file) a signed anchor of the audit chain's newest event, to keep outside the database.

Run it on a schedule (cron, a systemd timer) and keep the lines where the database's users cannot write:
``verify_audit_chain --anchors FILE`` then detects removed or rewritten events up to the newest anchor.
"""

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from practice.audit import anchor_now


class Command(BaseCommand):
    help = "Write a signed anchor of the newest audit event (JSON, one line) to stdout or append it to --output."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="Append the anchor to this file instead of printing it.")

    def handle(self, *args: Any, output: Path | None = None, **options: Any) -> None:
        line = json.dumps(anchor_now(), sort_keys=True)
        if output is None:
            self.stdout.write(line)
            return
        with output.open("a") as file:
            file.write(line + "\n")
        self.stdout.write(f"Anchored the audit chain in {output}.")
