"""What withdrawal management adds to the layers below when it loads: the discharge
bundle's check on every stay exit, alert links and chart panels."""

from __future__ import annotations

from django.urls import reverse

from stepwise.care.exits import register_exit_preparation, register_stay_exit
from stepwise.care.panels import register_chart_panel
from stepwise.patients.alerts import register_alert_source
from stepwise.patients.models import Alert


def _vitals_link(alert: Alert) -> str:
    return reverse("withdrawal:flowsheet", kwargs={"public_id": alert.patient.public_id})


def register() -> None:
    from stepwise.withdrawal import demo, panels
    from stepwise.withdrawal.services import discharge

    register_stay_exit("withdrawal.discharge_bundle", discharge.check_exit, discharge.on_exit)
    register_exit_preparation("withdrawal.discharge_bundle", demo.complete_bundle_before_leaving)
    register_alert_source("vitals", _vitals_link)
    register_chart_panel(15, "withdrawal", panels.withdrawal_panel)
