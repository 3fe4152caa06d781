"""How often plans are reviewed: the organization's interval and a program's own
(a day program every 14 days, say). A change applies from the next signing."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from stepwise.care.models import Program
from stepwise.core.models import Organization, TenantScoped, TimeStamped
from stepwise.plans.rules import review


def _interval_range(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(
            review_interval_days__gte=review.INTERVAL_MIN,
            review_interval_days__lte=review.INTERVAL_MAX,
        ),
        name=name,
    )


class PlanSettings(TimeStamped):
    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="plan_settings"
    )
    review_interval_days = models.PositiveSmallIntegerField(default=review.INTERVAL_DEFAULT)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [_interval_range("plansettings_interval_range")]

    def __str__(self) -> str:
        return f"Plan settings of {self.organization_id}"


class ProgramReviewInterval(TenantScoped):
    """A program's own review interval, instead of the organization's."""

    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, related_name="plan_review_interval"
    )
    review_interval_days = models.PositiveSmallIntegerField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["program_id"]
        constraints = [_interval_range("programreviewinterval_range")]

    def __str__(self) -> str:
        return f"Review every {self.review_interval_days} days in program {self.program_id}"
