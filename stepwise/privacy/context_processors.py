"""What waits for the privacy officer's review, shown in the navigation of reviewers."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from stepwise.core.models import Organization
from stepwise.core.roles import Permission, role_can


def reviews_waiting(request: HttpRequest) -> dict[str, Any]:
    member = getattr(request, "membership", None)
    if member is None or not role_can(member.role, Permission.PRIVACY_REVIEW):
        return {}

    def counts() -> dict[str, int]:
        # One query for both queues, run only when a page shows them.
        found = (
            Organization.objects.filter(pk=member.organization_id)
            .annotate(
                # distinct: the two joins would otherwise multiply each other's rows.
                emergency_access=Count(
                    "breakglassaccess",
                    filter=Q(breakglassaccess__reviewed_at__isnull=True),
                    distinct=True,
                ),
                releases=Count(
                    "disclosure", filter=Q(disclosure__review_state="pending"), distinct=True
                ),
            )
            .values("emergency_access", "releases")
            .first()
        )
        if found is None:
            return {"emergency_access": 0, "releases": 0}
        return {"emergency_access": found["emergency_access"], "releases": found["releases"]}

    return {"reviews_waiting": SimpleLazyObject(counts)}
