"""Scoped reads of a patient's recovery: the count of days, relapse events with their
response, drug screens with their readings, and what is open on worklists."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet

from stepwise.care.chart import patient_access, record_read
from stepwise.care.recovery import RecoveryTime, recovery_time
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.core.roles import Permission, sees_all_patients
from stepwise.patients.access import cared_for
from stepwise.patients.models import Patient
from stepwise.recovery.models import (
    DrugScreen,
    RelapseEvent,
    RelapseStatus,
    ResponseItem,
    ScreenResult,
    ScreenStatus,
)
from stepwise.recovery.rules import relapse as relapse_rules
from stepwise.recovery.services.common import CATEGORY, local_day, patient_zone, record_start
from stepwise.withdrawal.models import MedicationOrder, OrderStatus

Row = TypeVar("Row", RelapseEvent, DrugScreen)

# Screens shown on the chart and the recovery page; older ones stay in the record.
RECENT_SCREENS = 20

# A Stepwise MOUD order and the medication a screen expects from it.
_ORDER_MEDICATION = {
    "buprenorphine": "buprenorphine",
    "buprenorphine_naloxone": "buprenorphine",
    "buprenorphine_xr": "buprenorphine",
    "methadone": "methadone",
    "naltrexone": "naltrexone",
    "naltrexone_xr": "naltrexone",
}


def events_of(patient: Patient) -> QuerySet[RelapseEvent]:
    return (
        RelapseEvent.objects.filter(organization_id=patient.organization_id, patient=patient)
        .select_related("recorded_by", "confirmed_by", "closed_by")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ResponseItem.objects.select_related("settled_by").order_by("id"),
            )
        )
        .order_by("-used_on", "-created_at")
    )


def screens_of(patient: Patient) -> QuerySet[DrugScreen]:
    return (
        DrugScreen.objects.filter(organization_id=patient.organization_id, patient=patient)
        .select_related("collected_by")
        .prefetch_related(Prefetch("results", queryset=ScreenResult.objects.order_by("id")))
        .order_by("-collected_at", "-id")
    )


def recovery_time_of(
    patient: Patient, events: list[RelapseEvent], now: datetime, zone: ZoneInfo
) -> RecoveryTime:
    """Days since the last confirmed use and the longest stretch, from the events given,
    on the facility's calendar. A read never fails: a day of use after today (entered
    from another zone's clock) waits until its day comes."""
    today = local_day(now, zone)
    uses = [
        e.used_on
        for e in events
        if e.status == RelapseStatus.CONFIRMED and e.used_on is not None and e.used_on <= today
    ]
    start = min([record_start(patient, zone), *uses, today])
    return recovery_time(start, uses, today)


@dataclass(frozen=True)
class Recovery:
    patient: Patient
    time: RecoveryTime
    events: list[RelapseEvent]
    screens: list[DrugScreen]

    @property
    def proposed(self) -> list[RelapseEvent]:
        return [e for e in self.events if e.status == RelapseStatus.PROPOSED]

    @property
    def open_responses(self) -> list[RelapseEvent]:
        return [
            e
            for e in self.events
            if e.status == RelapseStatus.CONFIRMED and any(i.is_open for i in e.items.all())
        ]


def recovery_of(patient: Patient, now: datetime) -> Recovery:
    """The facility's zone, the record's start, events with their items, screens with
    their results: a fixed number of queries however much is on record."""
    zone = patient_zone(patient)
    events = list(events_of(patient))
    screens = list(screens_of(patient)[:RECENT_SCREENS])
    return Recovery(patient, recovery_time_of(patient, events, now, zone), events, screens)


def recovery_read(actor: Actor, public_id: uuid.UUID | str, now: datetime) -> Recovery:
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    found = recovery_of(patient, now)
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="recovery",
        object_id=patient.public_id,
        detail={"events": str(len(found.events)), "screens": str(len(found.screens))},
    )
    return found


def _one_read(
    actor: Actor,
    public_id: uuid.UUID | str,
    object_id: uuid.UUID | str,
    *,
    permission: Permission,
    rows_of: Callable[[Patient], QuerySet[Row]],
    object_type: str,
) -> Row:
    """One of the patient's rows, read and audited; another patient's is not found."""
    patient, basis = patient_access(actor, public_id, permission=permission, category=CATEGORY)
    row = rows_of(patient).filter(public_id=public_id_or_404(object_id)).first()
    if row is None:
        raise NotFound()
    row.patient = patient
    record_read(
        actor, patient, basis, category=CATEGORY, object_type=object_type, object_id=row.public_id
    )
    return row


def relapse_read(
    actor: Actor,
    public_id: uuid.UUID | str,
    event_id: uuid.UUID | str,
    *,
    permission: Permission = Permission.CHART_READ,
) -> RelapseEvent:
    return _one_read(
        actor,
        public_id,
        event_id,
        permission=permission,
        rows_of=events_of,
        object_type="relapse_event",
    )


def screen_read(
    actor: Actor,
    public_id: uuid.UUID | str,
    screen_id: uuid.UUID | str,
    *,
    permission: Permission = Permission.CHART_READ,
) -> DrugScreen:
    return _one_read(
        actor,
        public_id,
        screen_id,
        permission=permission,
        rows_of=screens_of,
        object_type="drug_screen",
    )


def is_relapse_of(patient: Patient, public_id: uuid.UUID) -> bool:
    return RelapseEvent.objects.filter(
        organization_id=patient.organization_id, patient=patient, public_id=public_id
    ).exists()


def proposal_of_screen(screen: DrugScreen) -> RelapseEvent | None:
    return RelapseEvent.objects.filter(
        organization_id=screen.organization_id,
        source_type="drug_screen",
        source_id=screen.public_id,
    ).first()


def prescribed_medications(patient: Patient) -> list[str]:
    """What the patient is on from Stepwise's own active MOUD orders, to pre-fill a
    screen's medication list (outside prescriptions are ticked by the collector)."""
    drugs = MedicationOrder.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        status=OrderStatus.ACTIVE,
        drug__in=list(_ORDER_MEDICATION),
    ).values_list("drug", flat=True)
    return sorted({_ORDER_MEDICATION[d] for d in drugs})


def last_screen_medications(patient: Patient) -> list[str]:
    last = (
        DrugScreen.objects.filter(organization_id=patient.organization_id, patient=patient)
        .exclude(status=ScreenStatus.ENTERED_IN_ERROR)
        .order_by("-collected_at")
        .values_list("medications", flat=True)
        .first()
    )
    return list(last or [])


@dataclass(frozen=True)
class WorklistRelapse:
    event: RelapseEvent
    open_items: list[ResponseItem]
    overdue: bool


def worklist_relapses(actor: Actor, now: datetime) -> list[WorklistRelapse]:
    """Proposals to confirm and responses with open items, of the actor's patients
    (everyone for the director). Two queries."""
    patients = Patient.objects.filter(organization_id=actor.organization_id)
    if not sees_all_patients(actor.role):
        patients = cared_for(actor, patients, now)
    events = (
        RelapseEvent.objects.filter(organization_id=actor.organization_id, patient__in=patients)
        .filter(
            Q(status=RelapseStatus.PROPOSED)
            | Q(status=RelapseStatus.CONFIRMED, items__state=relapse_rules.State.OPEN)
        )
        .distinct()
        .select_related("patient")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=ResponseItem.objects.filter(state=relapse_rules.State.OPEN).order_by("id"),
            )
        )
        .order_by("created_at", "id")
    )
    found = []
    for event in events:
        items = list(event.items.all())
        overdue = any(i.due_at is not None and i.due_at < now for i in items)
        found.append(WorklistRelapse(event, items, overdue))
    return found
