"""Keep every series generated ahead and raise outreach for patients who stopped
coming. Run it from cron (hourly is plenty); it is safe to run again at any time."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from stepwise.core.models import Organization
from stepwise.scheduling.services.outreach import outreach_sweep
from stepwise.scheduling.services.series import extend_all


class Command(BaseCommand):
    help = "Generate sessions up to the horizon and raise outreach after a week without attendance."

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        for organization in Organization.objects.all():
            made = extend_all(organization.pk, now.date())
            raised = outreach_sweep(organization.pk, now)
            self.stdout.write(
                f"{organization.slug}: {made} sessions generated, {raised} outreach tasks raised"
            )
