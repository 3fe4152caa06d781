"""What the recovery services share: the audit category, settings, the record's start."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.db.models import F, Subquery

from stepwise.care.models import Episode, Stay
from stepwise.core.actor import Actor
from stepwise.core.configuration import settings_stored
from stepwise.core.errors import NotFound
from stepwise.core.models import Facility
from stepwise.patients.models import Patient
from stepwise.recovery.models import RecoverySettings

CATEGORY = "recovery"


def same_org(actor: Actor, *objects: object) -> None:
    for obj in objects:
        if getattr(obj, "organization_id", None) != actor.organization_id:
            raise NotFound()


def settings_of(organization_id: int) -> RecoverySettings:
    """The stored settings, or the defaults (unsaved) when none are stored."""
    return settings_stored(RecoverySettings, organization_id)


def patient_zone(patient: Patient) -> ZoneInfo:
    """The calendar days of use are counted on: the facility of the patient's current
    (or last) stay, or the organization's first facility when they were never in care.
    One query, in care or not, so the pages that show it cost the same either way."""
    stays = Stay.objects.filter(
        organization_id=patient.organization_id, episode__patient_id=patient.pk
    ).order_by(F("ended_at").desc(nulls_first=True), "-started_at")
    found = (
        Facility.objects.filter(organization_id=patient.organization_id)
        .order_by("name", "id")
        .annotate(stay_zone=Subquery(stays.values("program__facility__time_zone")[:1]))
        .values_list("stay_zone", "time_zone")
        .first()
    )
    if found is None:  # an organization without a facility yet
        return ZoneInfo("UTC")
    return ZoneInfo(found[0] or found[1])


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
