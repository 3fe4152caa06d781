"""Residence drug tests: urine drug screens (recovery) collected at the house. The
screen is recovery's; the residence says where it was taken and lists those of a
residency on its page."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission, needs_care_relationship, role_can
from stepwise.patients.access import AccessBasis, care_basis
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


def _chart_reader(actor: Actor, patient: Patient) -> bool:
    """Whether the actor reads this patient's chart: a facility-wide role, or the care
    team (one query). Residence staff manage beds, not charts: a drug test (and the
    MOUD its expected analytes reveal) is for those who may read the chart. Not under
    an emergency access: the residency page's read is not marked as one (the chart's
    reads are), so those tests are read from the chart."""
    if not role_can(actor.role, Permission.CHART_READ):
        return False
    if not needs_care_relationship(actor.role, Permission.CHART_READ):
        return True
    return care_basis(actor, patient, timezone.now()) is AccessBasis.CARE_TEAM


def screens_section(actor: Actor, residency: Residency) -> ChartPanel | None:
    """The screens taken during this residency, for those who read the patient's chart
    (None for other residence staff: not even that a test was taken). At most three
    queries: the care team (treating roles), the screens, their results."""
    patient = residency.patient
    if not _chart_reader(actor, patient):
        return None
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
            # Recording needs the recovery write; the chart access is settled above
            # (the same care relationship, or a facility-wide role).
            "can_record": role_can(actor.role, Permission.RECOVERY_WRITE),
        },
    )
