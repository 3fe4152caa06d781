"""What notes add to the chart: the patient's latest notes, group notes showing the
shared narrative's start and the patient's own entry only."""

from __future__ import annotations

from stepwise.care.panels import ChartPanel, register_chart_panel
from stepwise.core.actor import Actor
from stepwise.notes.selectors import chart_notes
from stepwise.patients.models import Patient


def notes_panel(actor: Actor, patient: Patient) -> ChartPanel:
    """Two queries, whatever the number of notes (none included)."""
    return ChartPanel(
        "notes/_chart_panel.html", {"notes": chart_notes(actor, patient), "patient": patient}
    )


def register() -> None:
    register_chart_panel(25, "notes", notes_panel)
