from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from stepwise.core.audit import audit_verify
from stepwise.core.models import AuditEvent


class Command(BaseCommand):
    help = "Recompute the audit log's hash chains and name the first broken row of each."

    def handle(self, *args: Any, **options: Any) -> None:
        breaks = audit_verify()
        if breaks:
            for found in breaks:
                self.stderr.write(f"BROKEN {found}")
            raise CommandError(f"Audit log verification failed: {len(breaks)} broken chain(s).")
        self.stdout.write(f"Audit log intact: {AuditEvent.objects.count()} rows verified.")
