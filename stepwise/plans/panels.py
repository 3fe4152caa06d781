"""What the plan shows on the chart (status, review due, the objectives in progress
with their progress) and on the worklist (reviews due or overdue)."""

from __future__ import annotations

from datetime import datetime

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.patients.models import Patient
from stepwise.plans.selectors import chart_plan, reviews_due


def plan_panel(actor: Actor, patient: Patient) -> ChartPanel:
    return ChartPanel("plans/_chart_panel.html", {"plan": chart_plan(actor, patient)})


def reviews_due_section(actor: Actor, now: datetime) -> ChartPanel | None:
    due = reviews_due(actor, now)
    if not due:
        return None
    return ChartPanel("plans/_worklist_reviews.html", {"reviews": due})
