"""What the schedule shows on the worklist (patients short of their level's weekly
clinical hours this week) and on the chart (this week's hours, the next sessions)."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.core.roles import sees_all_patients
from stepwise.patients.access import cared_for
from stepwise.patients.models import Patient
from stepwise.scheduling.selectors import chart_schedule, shortfalls_for


def hours_short_section(actor: Actor, now: datetime) -> ChartPanel | None:
    cared = None
    if not sees_all_patients(actor.role):
        cared = cared_for(actor, Patient.objects.filter(organization_id=actor.organization_id), now)
    short = shortfalls_for(actor, now, cared)
    if not short:
        return None
    return ChartPanel(
        "scheduling/_worklist_hours.html",
        {"weeks": sorted(short, key=lambda w: -w.intensity.shortfall_hours)},
    )


def schedule_panel(actor: Actor, patient: Patient) -> ChartPanel | None:
    found = chart_schedule(actor, patient, timezone.now())
    if found is None:
        return None
    return ChartPanel("scheduling/_chart_panel.html", {"schedule": found, "patient": patient})
