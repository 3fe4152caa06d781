"""What withdrawal management adds to the chart: the stay's flowsheet, medications,
medical admission and discharge bundle, for a patient in (or last in) a detox unit."""

from __future__ import annotations

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from stepwise.care.models import Stay
from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.patients.models import Patient
from stepwise.withdrawal import selectors
from stepwise.withdrawal.flowsheet import stay_for_flowsheet
from stepwise.withdrawal.models import BundleItem
from stepwise.withdrawal.rules import bundle


def withdrawal_panel(actor: Actor, patient: Patient) -> ChartPanel | None:
    stay = stay_for_flowsheet(patient)
    if stay is None or not stay.program.is_withdrawal_management:
        return None
    done, last_use_known = _bundle_done_and_last_use_known(stay)
    return ChartPanel(
        "withdrawal/_chart_panel.html",
        {
            "stay": stay,
            "bundle_done": done,
            "bundle_total": len(bundle.Item),
            "patient": patient,
            # Only whether the open stay lacks a last use (its time is on the flowsheet):
            # the induction rules' missing input is seen from the chart.
            "last_use_missing": stay.ended_at is None and not last_use_known,
        },
    )


def _bundle_done_and_last_use_known(stay: Stay) -> tuple[int, bool]:
    """How many bundle items the stay has, and whether a last use is known in it: one
    query, so the chart costs the same whatever the patient's stays."""
    bundle_done = (
        BundleItem.objects.filter(organization_id=stay.organization_id, stay_id=OuterRef("pk"))
        .order_by()
        .values("stay_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    admission_use, reported_use = selectors.last_use_subqueries(stay.organization_id)
    done, *last_uses = (
        Stay.objects.filter(pk=stay.pk)
        .annotate(
            bundle_done=Coalesce(Subquery(bundle_done), 0),
            admission_use=admission_use,
            reported_use=reported_use,
        )
        .values_list("bundle_done", "admission_use", "reported_use")
        .get()
    )
    return done, any(at is not None for at in last_uses)
