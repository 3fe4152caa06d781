"""What the schedule adds to the layers below when it loads: enrollment that follows
stays, and the default session types of every new organization."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.urls import reverse

from stepwise.care.exits import StayExit, register_stay_exit, register_stay_start
from stepwise.care.panels import register_chart_panel, register_worklist_section
from stepwise.core.models import Organization
from stepwise.patients.models import Task
from stepwise.patients.tasks import register_task_link


def _no_check(leaving: StayExit) -> None:
    """Leaving a program is never refused for the schedule's sake."""


def _new_organization(
    sender: type[Organization], instance: Organization, created: bool, **_: Any
) -> None:
    if created:
        from stepwise.scheduling.services.types import ensure_default_types

        ensure_default_types(instance.pk)


def _outreach_page(task: Task) -> str:
    return reverse("scheduling:outreach", args=[task.patient.public_id])


def register() -> None:
    from stepwise.scheduling import panels
    from stepwise.scheduling.services import enrollment

    register_stay_start("scheduling.enrollment", enrollment.enroll_for_stay)
    register_stay_exit("scheduling.enrollment", _no_check, enrollment.end_for_stay)
    register_worklist_section(40, "scheduling.hours", panels.hours_short_section)
    register_chart_panel(22, "scheduling", panels.schedule_panel)
    register_task_link("outreach", _outreach_page)
    post_save.connect(_new_organization, sender=Organization, dispatch_uid="scheduling.types")
