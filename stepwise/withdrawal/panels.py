"""What withdrawal management adds to the chart: the stay's flowsheet, medications,
medical admission and discharge bundle, for a patient in (or last in) a detox unit."""

from __future__ import annotations

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.patients.models import Patient
from stepwise.withdrawal.flowsheet import stay_for_flowsheet
from stepwise.withdrawal.models import BundleItem
from stepwise.withdrawal.rules import bundle


def withdrawal_panel(actor: Actor, patient: Patient) -> ChartPanel | None:
    stay = stay_for_flowsheet(patient)
    if stay is None or not stay.program.is_withdrawal_management:
        return None
    done = BundleItem.objects.filter(organization_id=patient.organization_id, stay=stay).count()
    return ChartPanel(
        "withdrawal/_chart_panel.html",
        {"stay": stay, "bundle_done": done, "bundle_total": len(bundle.Item), "patient": patient},
    )
