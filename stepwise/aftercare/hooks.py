"""What aftercare adds to the layers below when it loads: its rule on every stay exit,
check-ins that follow stays, the exit preparation, the chart panel, the worklist
section and where its tasks are worked."""

from __future__ import annotations

from django.urls import reverse

from stepwise.care.exits import register_exit_preparation, register_stay_exit, register_stay_start
from stepwise.care.panels import register_chart_panel, register_worklist_section
from stepwise.patients.models import Task
from stepwise.patients.tasks import register_task_link


def _checkin_page(task: Task) -> str:
    return reverse("aftercare:checkin", args=[task.patient.public_id, task.source_id])


def _plan_page(task: Task) -> str:
    return reverse("aftercare:plan", args=[task.patient.public_id])


def register() -> None:
    from stepwise.aftercare import exits, panels
    from stepwise.aftercare.services.common import OUTREACH, PLAN_TASK

    register_stay_exit("aftercare.plan", exits.check_exit, exits.on_exit)
    register_stay_start("aftercare.checkins", exits.on_stay_start)
    register_exit_preparation("aftercare.plan", exits.prepare_plan_before_leaving)
    register_chart_panel(30, "aftercare", panels.aftercare_panel)
    register_worklist_section(45, "aftercare.checkins", panels.checkins_section)
    register_task_link(OUTREACH, _checkin_page)
    register_task_link(PLAN_TASK, _plan_page)
