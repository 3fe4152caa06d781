"""What the aftercare services share: the settings in force, the organization check,
who outreach goes to, and whether the patient is in structured care now."""

from __future__ import annotations

from typing import Any

from stepwise.aftercare.models import AftercarePlan, AftercareSettings
from stepwise.care import rules as care_rules
from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.configuration import settings_stored
from stepwise.core.errors import NotFound
from stepwise.patients.models import Patient

CATEGORY = "aftercare"
SETTINGS_CATEGORY = "system"
SWEEPER = "stepwise (aftercare sweep)"
# Task kinds: a missed check-in, and a patient who left care without an active plan.
OUTREACH = "aftercare_outreach"
PLAN_TASK = "aftercare_plan"


def settings_of(organization_id: int) -> AftercareSettings:
    """The stored settings, or the defaults (unsaved) when none are stored."""
    return settings_stored(AftercareSettings, organization_id)


def same_org(actor: Actor, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != actor.organization_id:
            raise NotFound()


def open_stay_of(patient: Patient) -> Stay | None:
    return (
        Stay.objects.filter(
            organization_id=patient.organization_id,
            episode__patient=patient,
            ended_at__isnull=True,
        )
        .select_related("program__facility")
        .first()
    )


def in_structured_care(stay: Stay | None) -> bool:
    """In a program now, other than continuing care (aftercare itself): check-ins wait
    until the patient leaves it."""
    return stay is not None and stay.program.asam_level != care_rules.CONTINUING_CARE


def plan_of(patient: Patient, *, lock: bool = False) -> AftercarePlan | None:
    found = AftercarePlan.objects.filter(organization_id=patient.organization_id, patient=patient)
    if lock:
        found = found.select_for_update()
    return found.first()
