"""What every withdrawal write needs: the patient's open stay, the facility zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound, ValidationFailed
from stepwise.patients.models import Patient

# Audit categories (core.models.CATEGORY_DATA_CLASS): both are Part 2 data.
OBSERVATIONS = "withdrawal"
MEDICATIONS = "medications"


def same_org(actor: Actor, patient: Patient) -> None:
    if patient.organization_id != actor.organization_id:
        raise NotFound()


def open_stay(patient: Patient, field: str = "patient") -> Stay:
    """The patient's open stay, with its program, facility and episode."""
    stay = (
        Stay.objects.filter(
            organization_id=patient.organization_id,
            episode__patient=patient,
            ended_at__isnull=True,
        )
        .select_related("program__facility", "episode")
        .first()
    )
    if stay is None:
        raise ValidationFailed(
            {field: "The patient is not in a program now; admit them before charting this."}
        )
    return stay


def zone_of(stay: Stay) -> ZoneInfo:
    return ZoneInfo(stay.program.facility.time_zone)


def not_before_stay(stay: Stay, at: datetime, field: str) -> None:
    if at < stay.started_at:
        raise ValidationFailed(
            {field: f"The stay began {stay.started_at:%Y-%m-%d %H:%M} UTC; give a later time."}
        )
