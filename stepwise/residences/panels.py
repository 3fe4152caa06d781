"""What sober living adds to the layers below: a chart panel (the patient's residence,
bed, linked stay, house rules accepted, recent curfew marks) and vacancies beside the
bed board (counts only)."""

from __future__ import annotations

from datetime import datetime

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission, role_can
from stepwise.patients.models import Patient
from stepwise.residences.selectors import board_vacancies, chart_residence


def residence_panel(actor: Actor, patient: Patient) -> ChartPanel | None:
    """Shown once the patient has lived in a residence; one or two queries."""
    found = chart_residence(actor, patient)
    if found is None:
        return None
    return ChartPanel("residences/_chart_panel.html", {"found": found, "patient": patient})


def vacancies_section(actor: Actor, now: datetime) -> ChartPanel | None:
    """Vacant sober-living beds per house beside the bed board, for roles that read
    residences: one query, no names. Without residences it says so and links to
    where they are set up."""
    if not role_can(actor.role, Permission.RESIDENCE_READ):
        return None
    houses = board_vacancies(actor.organization_id)
    return ChartPanel(
        "residences/_bed_board.html",
        {"houses": houses, "vacant": sum(h.vacant for h in houses)},
    )
