"""What recovery adds to the layers below when it loads."""

from __future__ import annotations

from django.urls import reverse

from stepwise.care.panels import register_chart_panel, register_worklist_section
from stepwise.patients.models import Task
from stepwise.patients.tasks import register_task_link
from stepwise.recovery.services.relapse import OUTREACH_TASK, REVIEW_TASK


def _event_page(task: Task) -> str:
    return reverse("recovery:relapse", args=[task.patient.public_id, task.source_id])


def register() -> None:
    from stepwise.recovery import panels

    register_chart_panel(18, "recovery", panels.recovery_panel)
    register_worklist_section(30, "recovery.relapses", panels.relapse_section)
    register_task_link(REVIEW_TASK, _event_page)
    register_task_link(OUTREACH_TASK, _event_page)
