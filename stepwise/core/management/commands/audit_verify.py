from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stepwise.core.audit import AnchorPoint, audit_verify, load_anchor
from stepwise.core.models import AuditEvent


class Command(BaseCommand):
    help = "Recompute the audit log's hash chains and name the first broken row of each."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            metavar="FILE",
            help="An anchor file from `stepwise audit_anchor`: also check that every "
            "anchored row is still there with its hash and that its chain goes on from it.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        anchors = self._anchors(options["anchor"]) if options["anchor"] else None
        breaks = audit_verify(anchors)
        if breaks:
            for found in breaks:
                self.stderr.write(f"BROKEN {found}")
            raise CommandError(f"Audit log verification failed: {len(breaks)} broken chain(s).")
        self.stdout.write(f"Audit log intact: {AuditEvent.objects.count()} rows verified.")
        if anchors is not None:
            self.stdout.write(f"Anchor matches: {len(anchors)} chain(s) continue from it.")

    def _anchors(self, path: str) -> dict[int, AnchorPoint]:
        try:
            return load_anchor(json.loads(Path(path).read_text()))
        except OSError as exc:
            raise CommandError(f"Cannot read the anchor file: {exc}") from None
        except ValueError as exc:  # includes JSON syntax errors
            raise CommandError(f"{path}: {exc}") from None
