from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from stepwise.core.audit import audit_anchor


class Command(BaseCommand):
    help = (
        "Print (or write to a file) the last hash and row count of every audit chain, as "
        "JSON to keep outside the database; `stepwise audit_verify --anchor FILE` checks it."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output", "-o", metavar="FILE", help="Write here instead of printing."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            anchor = audit_anchor()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        text = json.dumps(anchor, indent=2) + "\n"
        if not options["output"]:
            self.stdout.write(text, ending="")
            return
        path = Path(options["output"])
        # Written beside the target and renamed, so a crash never leaves half an anchor.
        partial = path.with_name(f".{path.name}.partial")
        try:
            partial.write_text(text)
            partial.replace(path)
        except OSError as exc:
            raise CommandError(f"Cannot write the anchor: {exc}") from None
        self.stdout.write(
            f"Anchored {len(anchor['chains'])} chain(s), {anchor['rows']} rows, to {path}."
        )
