"""Residence drug tests: urine drug screens (recovery) collected at the house. The
screen is recovery's; the residence says where it was taken and lists those of a
residency on its page."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.urls import reverse

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.patients.models import Patient
from stepwise.recovery.selectors import screens_of
from stepwise.recovery.services.screens import RESIDENCY_SETTING
from stepwise.residences.models import Residency

# The residency page shows this many; the patient's recovery page shows them all.
SHOWN = 10


def residency_label(patient: Patient, residency_id: uuid.UUID) -> str | None:
    """Where a residence screen was taken, if the residency is this patient's."""
    residency = (
        Residency.objects.filter(
            organization_id=patient.organization_id, patient=patient, public_id=residency_id
        )
        .select_related("bed__house__residence")
        .first()
    )
    if residency is None:
        return None
    bed = residency.bed
    return f"{bed.house.residence.name}, {bed.house.name}, bed {bed.label}"


def screens_section(actor: Actor, residency: Residency) -> ChartPanel:
    """The screens taken during this residency: two queries (screens, their results)."""
    patient = residency.patient
    found = list(
        screens_of(patient).filter(setting=RESIDENCY_SETTING, setting_id=residency.public_id)[
            :SHOWN
        ]
    )
    query = urlencode({"setting": RESIDENCY_SETTING, "setting_id": str(residency.public_id)})
    return ChartPanel(
        "residences/_screens_section.html",
        {
            "patient": patient,
            "screens": found,
            "record_url": f"{reverse('recovery:screen_new', args=[patient.public_id])}?{query}",
            "is_open": residency.moved_out_at is None,
        },
    )
