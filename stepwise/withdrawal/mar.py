"""The medication administration record of one patient's current stay: active
orders with today's doses, the safety rules' view of a first dose right now, the
doses charted and the effectiveness checks due."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from stepwise.care.chart import patient_access, record_read
from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission, role_can
from stepwise.patients.models import Patient
from stepwise.withdrawal import selectors
from stepwise.withdrawal.board import DoseDue, dose_state, dose_window, order_doses
from stepwise.withdrawal.flowsheet import stay_for_flowsheet
from stepwise.withdrawal.models import (
    Administration,
    MedicationOrder,
    OrderStatus,
    RecordStatus,
    SafetyOverride,
)
from stepwise.withdrawal.order_sets import AvailableSet, available_sets
from stepwise.withdrawal.rules import due, formulary
from stepwise.withdrawal.rules.safety import Verdict
from stepwise.withdrawal.services.medications import safety_verdicts, standing_overrides

CATEGORY = "medications"
HISTORY = timedelta(hours=72)


@dataclass(frozen=True)
class ScheduledSlot:
    """One scheduled dose of today: charted already, or still due."""

    due_at: datetime
    dose_mg: object
    charted: Administration | None
    state: due.DueState | None


@dataclass(frozen=True)
class MarOrder:
    order: MedicationOrder
    slots: list[ScheduledSlot] = field(default_factory=list)
    readiness: list[Verdict] = field(default_factory=list)
    last_given: Administration | None = None
    # Rules a physician's override covers for a dose now, by rule.
    overridden: dict[str, SafetyOverride] = field(default_factory=dict)

    @property
    def uncharted(self) -> list[DoseDue]:
        return [
            DoseDue(self.order, s.due_at, s.dose_mg, s.state)  # type: ignore[arg-type]
            for s in self.slots
            if s.charted is None and s.state is not None
        ]


@dataclass(frozen=True)
class Mar:
    patient: Patient
    stay: Stay | None
    zone: ZoneInfo
    orders: list[MarOrder]
    stopped: list[MedicationOrder]
    history: list[Administration]
    followups: list[tuple[Administration, due.Due]]
    # The sets the unit offers, read only for someone who may order them.
    order_sets: list[AvailableSet] = field(default_factory=list)

    @property
    def is_open(self) -> bool:
        return self.stay is not None and self.stay.ended_at is None


def mar_read(actor: Actor, public_id: uuid.UUID | str, now: datetime) -> Mar:
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    stay = stay_for_flowsheet(patient)
    zone = ZoneInfo(stay.program.facility.time_zone) if stay else ZoneInfo("UTC")
    orders: list[MarOrder] = []
    stopped: list[MedicationOrder] = []
    history: list[Administration] = []
    followups: list[tuple[Administration, due.Due]] = []
    if stay is not None:
        all_orders = list(
            MedicationOrder.objects.filter(organization_id=patient.organization_id, stay=stay)
            .select_related("ordered_by", "stopped_by")
            .prefetch_related("overrides__overridden_by")
        )
        history = list(
            Administration.objects.filter(
                organization_id=patient.organization_id, stay=stay, at__gte=now - HISTORY
            )
            .select_related("order", "given_by", "followup_by", "override")
            .order_by("-at", "-id")
        )
        window_start, window_end = dose_window(now, zone)
        charted_by_slot: dict[tuple[int, datetime], Administration] = {
            (a.order_id, a.scheduled_for): a
            for a in Administration.objects.filter(
                organization_id=patient.organization_id,
                stay=stay,
                status=RecordStatus.FINAL,
                scheduled_for__gte=window_start,
                scheduled_for__lt=window_end,
            ).select_related("given_by")
            if a.scheduled_for is not None
        }
        given_by_order: dict[int, Administration] = {}
        for row in sorted(history, key=lambda a: a.at):
            if row.outcome == "given" and row.status == RecordStatus.FINAL:
                given_by_order[row.order_id] = row
        # Every open check of the stay, however old (the board shows the same).
        followups = [
            (row, due.followup_state(row.followup_due_at, now))
            for row in Administration.objects.filter(
                organization_id=patient.organization_id,
                stay=stay,
                followup_due_at__isnull=False,
                followup_at__isnull=True,
                status=RecordStatus.FINAL,
            )
            .select_related("order")
            .order_by("followup_due_at")
            if row.followup_due_at is not None
        ]
        first_dose_groups = _groups_started(stay)
        reads = selectors.RuleReads(stay, now)
        for order in all_orders:
            if order.status != OrderStatus.ACTIVE:
                stopped.append(order)
                continue
            slots = [
                ScheduledSlot(
                    d.due_at,
                    d.dose_mg,
                    charted_by_slot.get((order.pk, d.due_at)),
                    None if (order.pk, d.due_at) in charted_by_slot else dose_state(d.due_at, now),
                )
                for d in order_doses(order, window_start, window_end, zone)
            ]
            group = order.drug_info.safety
            readiness: list[Verdict] = []
            if group is not formulary.SafetyGroup.NONE and (
                group is formulary.SafetyGroup.METHADONE or group not in first_dose_groups
            ):
                readiness = safety_verdicts(order, stay, now, order.dose_mg, reads)
            orders.append(
                MarOrder(
                    order,
                    slots,
                    readiness,
                    given_by_order.get(order.pk),
                    standing_overrides(order, now) if readiness else {},
                )
            )
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="medication_record",
        object_id=stay.public_id if stay else patient.public_id,
    )
    offered = (
        available_sets(stay.program)
        if stay is not None
        and stay.ended_at is None
        and role_can(actor.role, Permission.MEDICATION_ORDER)
        else []
    )
    return Mar(patient, stay, zone, orders, stopped, history, followups, offered)


def _groups_started(stay: Stay) -> set[formulary.SafetyGroup]:
    """Safety groups whose first dose was already given in the episode."""
    drugs = set(
        Administration.objects.filter(
            organization_id=stay.organization_id,
            order__episode_id=stay.episode_id,
            outcome="given",
            status=RecordStatus.FINAL,
        ).values_list("order__drug", flat=True)
    )
    return {formulary.drug(code).safety for code in drugs}


def order_of(actor: Actor, patient: Patient, order_id: uuid.UUID) -> MedicationOrder | None:
    return (
        MedicationOrder.objects.filter(
            organization_id=actor.organization_id, patient=patient, public_id=order_id
        )
        .select_related("stay__program__facility", "stay__episode", "patient")
        .first()
    )


def order_slots_open(order: MedicationOrder, now: datetime) -> list[DoseDue]:
    """Today's scheduled doses of one order not yet charted (for the chart-a-dose form)."""
    zone = ZoneInfo(order.stay.program.facility.time_zone)
    window_start, window_end = dose_window(now, zone)
    charted = set(
        Administration.objects.filter(
            order=order, status=RecordStatus.FINAL, scheduled_for__isnull=False
        ).values_list("scheduled_for", flat=True)
    )
    return [
        DoseDue(order, d.due_at, d.dose_mg, dose_state(d.due_at, now))
        for d in order_doses(order, window_start, window_end, zone)
        if d.due_at not in charted
    ]
