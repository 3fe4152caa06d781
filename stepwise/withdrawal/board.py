"""The unit board: every bed of a withdrawal-management program, who is in it, and
what is due, computed from the record at the moment of asking.

A fixed number of queries however many beds: each kind of row is read once for the
whole unit and grouped in Python.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Min

from stepwise.care.models import Program, Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction
from stepwise.core.roles import sees_all_patients
from stepwise.instruments.models import Assessment
from stepwise.instruments.selectors import latest_scores_since
from stepwise.patients.access import cared_for
from stepwise.patients.models import Alert, AlertStatus, Patient
from stepwise.withdrawal import selectors
from stepwise.withdrawal.models import (
    Administration,
    AdministrationOutcome,
    BundleItem,
    MedicationOrder,
    OrderStatus,
    RecordStatus,
    VitalSigns,
)
from stepwise.withdrawal.rules import bundle, due, formulary, schedule
from stepwise.withdrawal.rules.safety import BuprenorphineStart
from stepwise.withdrawal.rules.thresholds import UnitSchedule

# A scheduled dose not charted stays on the board until it is charted (given, held or
# refused), for up to a week; nothing due quietly drops off at midnight.
LOOK_BACK = timedelta(days=7)
BUPRENORPHINE_DRUGS = [
    d.code for d in formulary.DRUGS if d.safety is formulary.SafetyGroup.BUPRENORPHINE
]
INDUCTIONS = [BuprenorphineStart.STANDARD.value, BuprenorphineStart.LOW_DOSE.value]


@dataclass(frozen=True)
class DoseDue:
    order: MedicationOrder
    due_at: datetime
    dose_mg: Decimal
    state: due.DueState

    @property
    def overdue(self) -> bool:
        return self.state is due.DueState.OVERDUE


def dose_state(due_at: datetime, now: datetime) -> due.DueState:
    if now > due_at + schedule.OVERDUE_AFTER:
        return due.DueState.OVERDUE
    if now >= due_at - due.DUE_SOON:
        return due.DueState.DUE
    return due.DueState.SCHEDULED


@dataclass(frozen=True)
class BedRow:
    bed: int | None
    stay: Stay | None = None
    visible: bool = True
    last_cows: Assessment | None = None
    last_use_at: datetime | None = None
    cows_due: due.Due | None = None
    vitals_due: due.Due | None = None
    induction: bool = False
    alerts: list[Alert] = field(default_factory=list)
    doses: list[DoseDue] = field(default_factory=list)
    followups: list[tuple[Administration, due.Due]] = field(default_factory=list)
    bundle_done: int = 0
    hours_admitted: float | None = None
    hours_since_use: float | None = None
    # For a bed whose patient the actor does not care for: only that something needs
    # acting on (the unit must not miss an alarm), never who or what.
    hidden_critical: bool = False
    hidden_overdue: int = 0

    @property
    def patient(self) -> Patient | None:
        return self.stay.episode.patient if self.stay else None

    @property
    def occupied(self) -> bool:
        return self.stay is not None

    @property
    def reassessment(self) -> due.Due | None:
        """The sooner of the COWS and vitals reassessments."""
        dues = [d for d in (self.cows_due, self.vitals_due) if d is not None]
        return min(dues, key=lambda d: d.due_at) if dues else None

    @property
    def overdue_count(self) -> int:
        if not self.visible:
            return self.hidden_overdue
        return (
            sum(1 for d in (self.cows_due, self.vitals_due) if d and d.overdue)
            + sum(1 for d in self.doses if d.overdue)
            + sum(1 for _, d in self.followups if d.overdue)
        )

    @property
    def critical(self) -> bool:
        return self.hidden_critical or any(a.severity == "critical" for a in self.alerts)

    @property
    def bundle_total(self) -> int:
        return len(bundle.Item)


@dataclass(frozen=True)
class Board:
    program: Program
    rows: list[BedRow]
    now: datetime
    zone: ZoneInfo
    schedule: UnitSchedule

    @property
    def occupied(self) -> int:
        return sum(1 for r in self.rows if r.occupied)

    @property
    def overdue(self) -> int:
        return sum(r.overdue_count for r in self.rows)

    @property
    def critical(self) -> int:
        return sum(1 for r in self.rows if r.critical)


def withdrawal_programs(actor: Actor) -> list[Program]:
    return [
        p
        for p in Program.objects.filter(organization_id=actor.organization_id, is_active=True)
        .select_related("facility")
        .order_by("facility__name", "name")
        if p.is_withdrawal_management
    ]


def _latest(rows: list[tuple[int, datetime, object]]) -> dict[int, object]:
    latest: dict[int, tuple[datetime, object]] = {}
    for key, at, value in rows:
        if key not in latest or at > latest[key][0]:
            latest[key] = (at, value)
    return {k: v for k, (_, v) in latest.items()}


def board_read(actor: Actor, program: Program, now: datetime) -> Board:
    """The board of one unit. Treating roles see who is in a bed only for patients
    they care for; the bed still shows as occupied."""
    zone = ZoneInfo(program.facility.time_zone)
    unit = selectors.unit_schedule_for(program)
    stays = list(
        Stay.objects.filter(
            organization_id=actor.organization_id, program=program, ended_at__isnull=True
        )
        .select_related("episode__patient")
        .order_by("bed_number", "started_at")
    )
    patient_ids = [s.episode.patient_id for s in stays]
    visible_ids = set(patient_ids)
    if not sees_all_patients(actor.role):
        visible_ids = set(
            cared_for(actor, Patient.objects.filter(pk__in=patient_ids), now).values_list(
                "pk", flat=True
            )
        )
    # Facts of every bed: a hidden bed still says that something is overdue or critical.
    facts = _unit_facts(actor, stays, now, zone, unit)

    rows: list[BedRow] = []
    by_bed = {s.bed_number: s for s in stays if s.bed_number is not None}
    unnumbered = [s for s in stays if s.bed_number is None]
    capacity = program.bed_capacity or 0
    for bed in range(1, max(capacity, max(by_bed, default=0)) + 1):
        stay = by_bed.get(bed)
        rows.append(_row(bed, stay, facts, visible_ids))
    rows += [_row(None, s, facts, visible_ids) for s in unnumbered]
    return Board(program, rows, now, zone, unit)


def board_read_audited(actor: Actor, program: Program, now: datetime) -> Board:
    """The board with its audit row: one read naming the patients shown."""
    board = board_read(actor, program, now)
    shown = [str(r.patient.public_id) for r in board.rows if r.visible and r.patient]
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category="withdrawal",
            object_type="unit_board",
            object_id=program.public_id,
            detail={"patients": shown},
        )
    return board


def _row(bed: int | None, stay: Stay | None, facts: _Facts, visible_ids: set[int]) -> BedRow:
    if stay is None:
        return BedRow(bed)
    row = _full_row(bed, stay, facts)
    if stay.episode.patient_id not in visible_ids:
        return BedRow(
            bed,
            stay,
            visible=False,
            hidden_critical=row.critical,
            hidden_overdue=row.overdue_count,
        )
    return row


def _full_row(bed: int | None, stay: Stay, facts: _Facts) -> BedRow:
    return BedRow(
        bed,
        stay,
        last_cows=facts.last_cows.get(stay.episode.patient_id),
        last_use_at=facts.last_use.get(stay.pk),
        cows_due=facts.cows_due[stay.pk],
        vitals_due=facts.vitals_due[stay.pk],
        induction=facts.induction[stay.pk],
        alerts=facts.alerts.get(stay.episode.patient_id, []),
        doses=facts.doses.get(stay.pk, []),
        followups=facts.followups.get(stay.pk, []),
        bundle_done=facts.bundle_done.get(stay.pk, 0),
        hours_admitted=_hours(facts.now - stay.episode.admitted_at),
        hours_since_use=_hours(facts.now - last_use)
        if (last_use := facts.last_use.get(stay.pk))
        else None,
    )


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 1)


@dataclass
class _Facts:
    now: datetime
    last_cows: dict[int, Assessment]
    last_use: dict[int, datetime]
    cows_due: dict[int, due.Due]
    vitals_due: dict[int, due.Due]
    induction: dict[int, bool]
    alerts: dict[int, list[Alert]]
    doses: dict[int, list[DoseDue]]
    followups: dict[int, list[tuple[Administration, due.Due]]]
    bundle_done: dict[int, int]


def _unit_facts(
    actor: Actor, stays: list[Stay], now: datetime, zone: ZoneInfo, unit: UnitSchedule
) -> _Facts:
    org = actor.organization_id
    patient_ids = [s.episode.patient_id for s in stays]
    episode_ids = [s.episode_id for s in stays]

    # Only scores of each patient's own stay.
    last_cows = latest_scores_since(
        org,
        {s.episode.patient_id: s.started_at for s in stays},
        "cows",
        now + timedelta(minutes=5),
    )
    vitals_at = _latest(
        [
            (v["stay_id"], v["observed_at"], v["observed_at"])
            for v in VitalSigns.objects.filter(
                organization_id=org, stay__in=stays, status=RecordStatus.FINAL
            ).values("stay_id", "observed_at")
        ]
    )
    # The last use from this stay's own medical admission or last-use reports (an
    # earlier stay's says nothing about use since, as the rules hold too).
    last_use = selectors.last_use_by_stay(org, stays)
    orders = list(
        MedicationOrder.objects.filter(
            organization_id=org, stay__in=stays, status=OrderStatus.ACTIVE
        ).order_by("starts_at", "id")
    )
    first_bup = dict(
        Administration.objects.filter(
            organization_id=org,
            order__episode_id__in=episode_ids,
            order__drug__in=BUPRENORPHINE_DRUGS,
            outcome=AdministrationOutcome.GIVEN,
            status=RecordStatus.FINAL,
        )
        .values("order__episode_id")
        .annotate(first=Min("at"))
        .values_list("order__episode_id", "first")
    )
    window_start, window_end = dose_window(now, zone)
    charted: set[tuple[int, datetime]] = set(
        Administration.objects.filter(
            organization_id=org,
            order__in=orders,
            status=RecordStatus.FINAL,
            scheduled_for__gte=window_start,
            scheduled_for__lt=window_end,
        ).values_list("order_id", "scheduled_for")  # type: ignore[arg-type]  # scheduled_for is set by the filter
    )
    followups: dict[int, list[tuple[Administration, due.Due]]] = defaultdict(list)
    for given in Administration.objects.filter(
        organization_id=org,
        stay__in=stays,
        followup_due_at__isnull=False,
        followup_at__isnull=True,
        status=RecordStatus.FINAL,
    ).select_related("order"):
        if given.followup_due_at is not None:  # always, by the filter
            followups[given.stay_id].append((given, due.followup_state(given.followup_due_at, now)))
    alerts: dict[int, list[Alert]] = defaultdict(list)
    for alert in Alert.objects.filter(
        organization_id=org, patient_id__in=patient_ids, status=AlertStatus.OPEN
    ).order_by("severity", "-last_raised_at"):
        alerts[alert.patient_id].append(alert)
    bundle_counts: dict[int, int] = defaultdict(int)
    for stay_id in BundleItem.objects.filter(organization_id=org, stay__in=stays).values_list(
        "stay_id", flat=True
    ):
        bundle_counts[stay_id] += 1

    orders_by_stay: dict[int, list[MedicationOrder]] = defaultdict(list)
    for order in orders:
        orders_by_stay[order.stay_id].append(order)
    cows_due: dict[int, due.Due] = {}
    vitals_due: dict[int, due.Due] = {}
    induction: dict[int, bool] = {}
    doses: dict[int, list[DoseDue]] = {}
    for stay in stays:
        inductions = [
            o.starts_at
            for o in orders_by_stay[stay.pk]
            if o.drug in BUPRENORPHINE_DRUGS and o.bup_start in INDUCTIONS
        ]
        induction[stay.pk] = due.in_induction(
            induction_ordered_at=min(inductions) if inductions else None,
            first_dose_at=first_bup.get(stay.episode_id),
            now=now,
        )
        interval = due.reassessment_interval(unit, induction[stay.pk])
        cows = last_cows.get(stay.episode.patient_id)
        cows_due[stay.pk] = due.reassessment_due(
            what="COWS",
            last_at=cows.observed_at if cows else None,
            stay_started_at=stay.started_at,
            interval=interval,
            now=now,
        )
        last_vitals = vitals_at.get(stay.pk)
        vitals_due[stay.pk] = due.reassessment_due(
            what="Vital signs",
            last_at=last_vitals if isinstance(last_vitals, datetime) else None,
            stay_started_at=stay.started_at,
            interval=interval,
            now=now,
        )
        doses[stay.pk] = doses_due(
            orders_by_stay[stay.pk], charted, window_start, window_end, now, zone
        )
    return _Facts(
        now=now,
        last_cows=last_cows,
        last_use=last_use,
        cows_due=cows_due,
        vitals_due=vitals_due,
        induction=induction,
        alerts=alerts,
        doses=doses,
        followups=followups,
        bundle_done=bundle_counts,
    )


def day_start(now: datetime, zone: ZoneInfo) -> datetime:
    local_day = now.astimezone(zone).date()
    return schedule.local_instant(local_day, datetime.min.time(), zone)


def doses_due(
    orders: list[MedicationOrder],
    charted: set[tuple[int, datetime]],
    window_start: datetime,
    window_end: datetime,
    now: datetime,
    zone: ZoneInfo,
) -> list[DoseDue]:
    """Scheduled doses in the window not yet charted (given, held or refused)."""
    found: list[DoseDue] = []
    for order in orders:
        for dose in order_doses(order, window_start, window_end, zone):
            if (order.pk, dose.due_at) in charted:
                continue
            found.append(DoseDue(order, dose.due_at, dose.dose_mg, dose_state(dose.due_at, now)))
    return sorted(found, key=lambda d: d.due_at)


def order_doses(
    order: MedicationOrder, window_start: datetime, window_end: datetime, zone: ZoneInfo
) -> list[schedule.ScheduledDose]:
    """One order's scheduled doses in a window, from its frequency and taper."""
    return schedule.scheduled_doses(
        frequency_code=order.frequency,
        dose_mg=order.dose_mg,
        taper=order.taper_steps,
        starts_at=order.starts_at,
        ends_at=order.ends_at,
        window_start=window_start,
        window_end=window_end,
        zone=zone,
    )


def dose_window(now: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The doses a unit shows: today's (the facility's day), and any earlier one still
    not charted (within a week)."""
    start = day_start(now, zone)
    return min(now - LOOK_BACK, start), start + timedelta(days=1)
