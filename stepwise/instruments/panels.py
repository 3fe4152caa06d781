"""What this app adds to the chart: the latest score of each instrument, and links
from an alert to the response that raised it."""

from __future__ import annotations

from django.urls import reverse

from stepwise.care.panels import ChartPanel, register_chart_panel
from stepwise.core.actor import Actor
from stepwise.instruments.selectors import latest_by_instrument
from stepwise.patients.alerts import register_alert_source
from stepwise.patients.models import Alert, Patient


def assessments_panel(actor: Actor, patient: Patient) -> ChartPanel:
    return ChartPanel("instruments/_chart_panel.html", {"summaries": latest_by_instrument(patient)})


def assessment_link(alert: Alert) -> str:
    return reverse(
        "instruments:detail",
        kwargs={"public_id": alert.patient.public_id, "assessment_id": alert.source_id},
    )


def register() -> None:
    register_chart_panel(20, "assessments", assessments_panel)
    register_alert_source("assessment", assessment_link)
