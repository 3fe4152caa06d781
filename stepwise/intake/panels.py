"""What the admissions line adds to the chart: the call that led to the patient's
admission, with what it captured (triage, situation, screening, payer)."""

from __future__ import annotations

from django.db.models import Prefetch

from stepwise.care.panels import ChartPanel, register_chart_panel
from stepwise.core.actor import Actor
from stepwise.intake.models import Inquiry, Screening
from stepwise.patients.models import Patient


def intake_panel(actor: Actor, patient: Patient) -> ChartPanel | None:
    """The patient's latest call that became an admission; three queries when there is
    one, one when there is none."""
    inquiry = (
        Inquiry.objects.filter(organization_id=actor.organization_id, patient=patient)
        .select_related("answered_by", "episode")
        .prefetch_related(
            "substances",
            Prefetch(
                "screenings",
                queryset=Screening.objects.select_related("suggested_program").order_by(
                    "-screened_at", "-id"
                ),
            ),
        )
        .order_by("-received_at", "-id")
        .first()
    )
    if inquiry is None:
        return None
    screenings = list(inquiry.screenings.all())
    return ChartPanel(
        "intake/_chart_panel.html",
        {"inquiry": inquiry, "screening": screenings[0] if screenings else None},
    )


def register() -> None:
    register_chart_panel(5, "intake", intake_panel)
