"""What the recovery services share: the audit category, settings, the record's start."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from stepwise.care.models import Episode
from stepwise.care.selectors import patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.patients.models import Patient
from stepwise.recovery.models import RecoverySettings

CATEGORY = "recovery"


def same_org(actor: Actor, *objects: object) -> None:
    for obj in objects:
        if getattr(obj, "organization_id", None) != actor.organization_id:
            raise NotFound()


def settings_of(organization_id: int) -> RecoverySettings:
    found, _ = RecoverySettings.objects.get_or_create(organization_id=organization_id)
    return found


def patient_zone(patient: Patient) -> ZoneInfo:
    """The calendar days of use are counted on: the patient's facility's."""
    return ZoneInfo(patient_time_zone(patient))


def local_day(at: datetime, zone: ZoneInfo) -> date:
    return at.astimezone(zone).date()


def record_start(patient: Patient, zone: ZoneInfo) -> date:
    """The day the patient's recovery record starts: the first admission, or the day
    they came to the program when they were never admitted."""
    first = (
        Episode.objects.filter(organization_id=patient.organization_id, patient=patient)
        .order_by("admitted_at")
        .values_list("admitted_at", flat=True)
        .first()
    )
    return local_day(first if first is not None else patient.created_at, zone)
