"""Keep aftercare check-ins made ahead, and mark missed ones with an outreach task.
Run it from cron every hour; it is safe to run again at any time."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from stepwise.aftercare.services.sweep import aftercare_sweep
from stepwise.core.models import Organization


class Command(BaseCommand):
    help = (
        "Make aftercare check-ins ahead and raise outreach for check-ins missed past their grace."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        failed: list[str] = []
        for organization in Organization.objects.order_by("pk"):
            # One organization's trouble must not stop the others' outreach.
            try:
                result = aftercare_sweep(organization.pk, now)
            except Exception as exc:
                failed.append(f"{organization.slug}: {exc}")
                continue
            self.stdout.write(
                f"{organization.slug}: {result.made} check-ins made ahead, "
                f"{result.missed} missed (outreach raised)"
            )
        if failed:
            raise CommandError("The aftercare sweep failed for " + "; ".join(failed))
