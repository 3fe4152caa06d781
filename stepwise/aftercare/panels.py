"""What aftercare shows on the chart (the plan's state and its check-ins) and on the
worklist (check-ins due or missed)."""

from __future__ import annotations

from datetime import datetime

from stepwise.aftercare.selectors import chart_summary, worklist_checkins
from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission, role_can
from stepwise.patients.models import Patient


def aftercare_panel(actor: Actor, patient: Patient) -> ChartPanel:
    """One query, with or without a plan."""
    return ChartPanel(
        "aftercare/_chart_panel.html", {"plan": chart_summary(actor, patient), "patient": patient}
    )


def checkins_section(actor: Actor, now: datetime) -> ChartPanel | None:
    """For those who record check-ins, when any is due or missed; one query either way."""
    if not role_can(actor.role, Permission.RECOVERY_WRITE):
        return None
    rows = worklist_checkins(actor, now)
    if not rows:
        return None
    return ChartPanel("aftercare/_worklist_checkins.html", {"rows": rows})
