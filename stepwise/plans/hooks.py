"""What the treatment plan adds to the apps around it when it loads: a change of
level of care makes the review due that day (with a task for the care team), the
chart shows the plan, the worklist the reviews due, and note forms offer the
patient's objectives."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from stepwise.care.exits import StayStart, register_stay_start
from stepwise.care.panels import register_chart_panel, register_worklist_section
from stepwise.notes.objectives import register_objective_source
from stepwise.patients.models import Task
from stepwise.patients.tasks import register_task_link, task_raise
from stepwise.plans.models import PlanVersion, TreatmentPlan, VersionStatus
from stepwise.plans.rules import review
from stepwise.plans.services.versions import REVIEW_TASK
from stepwise.recovery.links import register_response_link
from stepwise.recovery.models import RelapseEvent
from stepwise.recovery.rules.relapse import Item as RelapseItem

# How long the care team has to review the plan after a change of level of care.
REVIEW_TASK_DUE = timedelta(days=1)


def level_of_care_changed(start: StayStart) -> dict[str, Any] | None:
    """Care's stay-start hook: a transition to another program within the episode
    makes the review of the plan in force due that day, and asks the care team for
    it. A stay back-dated before the last signing is already in the plan."""
    stay = start.stay
    if stay.sequence <= 1:
        return None
    plan = (
        TreatmentPlan.objects.select_for_update()
        .filter(organization_id=stay.organization_id, episode_id=stay.episode_id)
        .first()
    )
    if plan is None or plan.last_signed_at is None or plan.review_due_on is None:
        return None
    if stay.started_at <= plan.last_signed_at:
        return None
    program = stay.program
    zone = zoneinfo.ZoneInfo(program.facility.time_zone)
    interval = (
        PlanVersion.objects.filter(plan=plan, status=VersionStatus.ACTIVE)
        .values_list("review_interval_days", flat=True)
        .first()
    ) or review.INTERVAL_DEFAULT
    due = review.review_due_on(
        signed_at=plan.last_signed_at,
        signed_on=plan.last_signed_at.astimezone(zone).date(),
        interval_days=interval,
        level_changes=[(stay.started_at, stay.started_at.astimezone(zone).date())],
    )
    plan.review_due_on = min(due, plan.review_due_on)
    plan.level_changed_at = stay.started_at
    plan.level_changed_to = program.name
    plan.save(update_fields=["review_due_on", "level_changed_at", "level_changed_to", "updated_at"])
    patient = stay.episode.patient
    task_raise(
        start.actor,
        patient,
        kind=REVIEW_TASK,
        title=f"Review the treatment plan: level of care changed to {program.name}",
        due_at=max(stay.started_at, timezone.now()) + REVIEW_TASK_DUE,
        source_type="stay",
        source_id=stay.public_id,
        detail=f"{program.name} ({program.level_display}) since "
        f"{stay.started_at.astimezone(zone):%Y-%m-%d}.",
    )
    return {"plan_review_due": plan.review_due_on.isoformat()}


def _plan_page(task: Task) -> str:
    return reverse("plans:plan", args=[task.patient.public_id])


def _review_after_relapse(event: RelapseEvent) -> str:
    """The relapse response's plan-review item starts a review that names the relapse;
    signing it records the item."""
    query = urlencode({"trigger": "relapse", "source": str(event.public_id)})
    return f"{reverse('plans:review', args=[event.patient.public_id])}?{query}"


def register() -> None:
    from stepwise.plans import panels
    from stepwise.plans.selectors import current_objectives

    register_stay_start("plans.level_of_care", level_of_care_changed)
    register_chart_panel(24, "plans", panels.plan_panel)
    register_worklist_section(30, "plans.reviews", panels.reviews_due_section)
    register_task_link(REVIEW_TASK, _plan_page)
    register_objective_source("plans", current_objectives)
    register_response_link(RelapseItem.PLAN_REVIEW, _review_after_relapse)
