"""What recovery adds to the chart and the worklist."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.patients.models import Patient
from stepwise.recovery.selectors import recovery_of, worklist_relapses

# Events and screens the chart shows; the recovery page shows them all.
CHART_EVENTS = 3
CHART_SCREENS = 3


def recovery_panel(actor: Actor, patient: Patient) -> ChartPanel:
    """Four queries, whatever the number of events and screens."""
    found = recovery_of(patient, timezone.now())
    return ChartPanel(
        "recovery/_chart_panel.html",
        {
            "patient": patient,
            "recovery": found,
            "events": found.events[:CHART_EVENTS],
            "screens": found.screens[:CHART_SCREENS],
        },
    )


def relapse_section(actor: Actor, now: datetime) -> ChartPanel | None:
    """Proposals to confirm and responses still open, of the actor's patients."""
    relapses = worklist_relapses(actor, now)
    if not relapses:
        return None
    return ChartPanel("recovery/_worklist.html", {"relapses": relapses})
