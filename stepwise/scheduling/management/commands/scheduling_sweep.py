"""Keep every series generated ahead and raise outreach for patients who stopped
coming. Run it from cron (hourly is plenty); it is safe to run again at any time."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from stepwise.care.selectors import organization_time_zone
from stepwise.core.models import Organization
from stepwise.scheduling.services.outreach import outreach_sweep
from stepwise.scheduling.services.series import extend_all


class Command(BaseCommand):
    help = "Generate sessions up to the horizon and raise outreach after a week without attendance."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        failed: list[str] = []
        for organization in Organization.objects.order_by("pk"):
            # One organization's trouble must not stop the others' outreach.
            try:
                today = now.astimezone(ZoneInfo(organization_time_zone(organization.pk))).date()
                made = extend_all(organization.pk, today)
                raised = outreach_sweep(organization.pk, now)
            except Exception as exc:
                failed.append(f"{organization.slug}: {exc}")
                continue
            self.stdout.write(
                f"{organization.slug}: {made} sessions generated, {raised} outreach tasks raised"
            )
        if failed:
            raise CommandError("The sweep failed for " + "; ".join(failed))
