"""The unit's eMAR: physicians order, nurses chart each dose, and the safety rules
stand between an order and a dangerous first dose unless a physician overrides them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from stepwise.care.models import Episode, Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import CLOCK_SKEW, event_time
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.withdrawal import order_sets, selectors
from stepwise.withdrawal.models import (
    Administration,
    AdministrationOutcome,
    FollowupResult,
    MedicationOrder,
    OrderStatus,
    RecordStatus,
    SafetyOverride,
)
from stepwise.withdrawal.rules import formulary, schedule
from stepwise.withdrawal.rules import safety as rules
from stepwise.withdrawal.rules.thresholds import COWS_RECENCY_MINUTES
from stepwise.withdrawal.services.common import (
    MEDICATIONS,
    mark_in_error,
    open_stay,
    same_org,
    zone_of,
)

# A single dose above this is a typing mistake (the largest ordinary one is XR-NTX 380 mg).
MAX_DOSE_MG = Decimal(1000)
MAX_DAILY_MG = Decimal(10000)
# An order may start up to a week ahead (a taper planned for tomorrow) and run a year.
MAX_START_AHEAD = timedelta(days=7)
MAX_LENGTH = timedelta(days=366)
# Rules checked when ordering; the first-dose rules are checked when a dose is given
# and overridden on the order then.
CHECKED_AT_ORDER = frozenset({"R-MTD-1"})
# A course of buprenorphine or naltrexone interrupted this long starts again: the
# first-dose rule applies once more (tolerance and receptor occupancy have changed).
RESTART_AFTER = timedelta(hours=72)
# A low-dose induction starts small; larger first doses are a standard induction.
LOW_DOSE_MAX_MG = Decimal(1)
# A scheduled dose may be charted from this long before its time.
EARLY_WINDOW = timedelta(hours=1)


class SafetyBlocked(Conflict):
    """A safety rule stops this action; the verdicts say why and what would satisfy it."""

    def __init__(self, verdicts: list[rules.Verdict]) -> None:
        named = "; ".join(f"{v.rule}: {' '.join(v.needs)}" for v in verdicts)
        super().__init__(f"Blocked by a safety rule. {named}")
        self.verdicts = verdicts


@dataclass(frozen=True)
class OrderInput:
    drug: str
    dose_mg: Decimal
    route: str
    frequency: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    prn_indication: str = ""
    max_daily_mg: Decimal | None = None
    taper: list[schedule.TaperStep] = field(default_factory=list)
    bup_start: str = ""
    rationale: str = ""
    instructions: str = ""
    order_set: str = ""


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def order_errors(data: OrderInput, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    info = formulary.DRUGS_BY_CODE.get(data.drug)
    if info is None:
        errors["drug"] = "Allowed values: " + ", ".join(formulary.DRUGS_BY_CODE) + "."
    elif data.route not in info.routes:
        errors["route"] = f"{info.name} is given: " + ", ".join(r.value for r in info.routes) + "."
    freq = schedule.FREQUENCIES_BY_CODE.get(data.frequency)
    if freq is None:
        errors["frequency"] = "Allowed values: " + ", ".join(schedule.FREQUENCIES_BY_CODE) + "."
    if not Decimal(0) < data.dose_mg <= MAX_DOSE_MG:
        errors["dose_mg"] = f"Give a dose above 0 and at most {MAX_DOSE_MG} mg."
    if freq is not None and freq.is_prn and not data.prn_indication.strip():
        errors["prn_indication"] = "An as-needed order needs its indication (what it is for)."
    if data.max_daily_mg is not None and data.max_daily_mg < data.dose_mg:
        errors["max_daily_mg"] = "The daily maximum cannot be below one dose."
    if data.taper:
        taper_error = schedule.taper_errors(data.taper)
        if taper_error:
            errors["taper"] = taper_error
        elif freq is not None and (freq.is_prn or freq.once):
            errors["taper"] = "A taper needs a scheduled frequency, not as-needed or once."
    is_bup = info is not None and info.safety is formulary.SafetyGroup.BUPRENORPHINE
    if is_bup and data.bup_start not in rules.BuprenorphineStart.__members__.values():
        errors["bup_start"] = (
            "Choose the induction: " + ", ".join(s.value for s in rules.BuprenorphineStart) + "."
        )
    if not is_bup and data.bup_start:
        errors["bup_start"] = "Only buprenorphine orders have an induction type."
    if is_bup and data.bup_start == rules.BuprenorphineStart.LOW_DOSE:
        first = data.taper[0].dose_mg if data.taper else data.dose_mg
        if first > LOW_DOSE_MAX_MG:
            errors["dose_mg"] = (
                f"A low-dose induction starts at {LOW_DOSE_MAX_MG} mg or less; for a larger "
                "first dose choose a standard induction, which waits for withdrawal."
            )
        if not data.rationale.strip():
            errors["rationale"] = (
                "Name the low-dose protocol followed and why (it does not wait for withdrawal)."
            )
    for name, value in (("starts_at", data.starts_at), ("ends_at", data.ends_at)):
        if value is not None and timezone.is_naive(value):
            errors[name] = "Give the time with its time zone."
    if "starts_at" in errors or "ends_at" in errors:
        return errors
    starts = data.starts_at or now
    if starts > now + MAX_START_AHEAD:
        errors["starts_at"] = "An order may start at most 7 days ahead."
    if data.ends_at is not None and data.ends_at <= starts:
        errors["ends_at"] = "The order must end after it starts."
    elif data.ends_at is not None and data.ends_at - starts > MAX_LENGTH:
        errors["ends_at"] = "An order runs at most a year; write a new one after that."
    if data.max_daily_mg is not None and data.max_daily_mg > MAX_DAILY_MG:
        errors["max_daily_mg"] = f"At most {MAX_DAILY_MG} mg."
    if any(step.dose_mg > MAX_DOSE_MG for step in data.taper):
        errors["taper"] = f"A taper step's dose is at most {MAX_DOSE_MG} mg."
    if len(data.prn_indication) > 200:
        errors["prn_indication"] = "At most 200 characters."
    return errors


def _methadone_verdict(
    order_or_data: MedicationOrder | OrderInput,
    reads: selectors.RuleReads,
    dose: Decimal,
) -> rules.Verdict:
    first_day, given = reads.methadone_first_day()
    return rules.methadone_dose(
        program_otp_certified=reads.stay.program.otp_certified,
        program_name=reads.stay.program.name,
        first_day=first_day,
        given_first_day_mg=given,
        dose_mg=dose,
        rationale=order_or_data.rationale,
        th=reads.thresholds,
    )


def _check_overrides_given(overrides: Mapping[str, str]) -> None:
    for rule, reason in overrides.items():
        if rule not in rules.RULE_TITLES:
            raise ValidationFailed(
                {"overrides": "Allowed rules: " + ", ".join(rules.RULE_TITLES) + "."}
            )
        if rule not in CHECKED_AT_ORDER:
            raise ValidationFailed(
                {
                    "overrides": "Only R-MTD-1 is checked when ordering. R-BUP-1 and R-NTX-1 "
                    "are checked when a dose is given; override them on the order then."
                }
            )
        if not reason.strip():
            raise ValidationFailed(
                {f"overrides.{rule}": "An override needs the physician's reason."}
            )


def order_create(
    actor: Actor,
    patient: Patient,
    data: OrderInput,
    *,
    overrides: Mapping[str, str] | None = None,
) -> MedicationOrder:
    """A physician's order. Methadone is checked now (R-MTD-1: the program, and the
    planned first-day total); the first-dose rules are checked when a dose is given."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICATION_ORDER, patient, category=MEDICATIONS)
    overrides = dict(overrides or {})
    _check_overrides_given(overrides)
    now = timezone.now()
    errors = order_errors(data, now)
    if errors:
        raise ValidationFailed(errors)
    stay = open_stay(patient)
    starts = data.starts_at or now
    if starts < stay.started_at - CLOCK_SKEW:
        raise ValidationFailed({"starts_at": "An order cannot start before the current stay."})
    ends = data.ends_at
    if data.taper:
        zone = zone_of(stay)
        first_day = starts.astimezone(zone).date()
        last = first_day + timedelta(days=schedule.taper_length_days(data.taper))
        ends = schedule.local_instant(last, datetime.min.time(), zone)
    verdicts: list[rules.Verdict] = []
    if formulary.drug(data.drug).safety is formulary.SafetyGroup.METHADONE:
        # Checked again at each dose against what was actually given.
        first_dose, first_frequency = (
            (data.taper[0].dose_mg, data.taper[0].frequency or data.frequency)
            if data.taper
            else (data.dose_mg, data.frequency)
        )
        planned = schedule.planned_daily_total(first_frequency, first_dose)
        verdicts.append(_methadone_verdict(data, selectors.RuleReads(stay, starts), planned))
    refused = [v for v in verdicts if v.blocked and v.rule not in overrides]
    if refused:
        _audit_blocked(actor, None, refused, patient=patient, action=AuditAction.ORDER)
        raise SafetyBlocked(refused)
    with transaction.atomic():
        order = MedicationOrder.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            episode=stay.episode,
            stay=stay,
            drug=data.drug,
            dose_mg=data.dose_mg,
            route=data.route,
            frequency=data.frequency,
            prn_indication=data.prn_indication.strip(),
            max_daily_mg=data.max_daily_mg,
            taper=[
                {
                    "days": s.days,
                    "dose_mg": str(s.dose_mg),
                    **({"frequency": s.frequency} if s.frequency else {}),
                }
                for s in data.taper
            ],
            bup_start=data.bup_start,
            rationale=data.rationale.strip(),
            instructions=data.instructions.strip(),
            order_set=data.order_set,
            starts_at=starts,
            ends_at=ends,
            ordered_by_id=actor.user_id,
        )
        made = [
            _override_create(actor, order, v, overrides[v.rule], now)
            for v in verdicts
            if v.blocked and v.rule in overrides
        ]
        audit_record(
            action=AuditAction.ORDER,
            actor=actor,
            patient_public_id=patient.public_id,
            category=MEDICATIONS,
            object_type="medication_order",
            object_id=order.public_id,
            detail={
                "drug": order.drug,
                "dose_mg": str(order.dose_mg),
                "frequency": order.frequency,
                **({"bup_start": order.bup_start} if order.bup_start else {}),
                **({"order_set": order.order_set} if order.order_set else {}),
                **({"overrides": [o.rule for o in made]} if made else {}),
            },
        )
    return order


@dataclass(frozen=True)
class SetPlaced:
    """What placing an order set did: the orders written, and the lines left out
    because the stay already has that medication (or another alpha-2 agonist)."""

    name: str
    orders: list[MedicationOrder]
    skipped: list[str]


def _skip_reason(drug: str, active: set[str]) -> str:
    info = formulary.drug(drug)
    if drug in active:
        return f"{info.name}: already ordered in this stay"
    if drug in formulary.ALPHA2_AGONISTS and active & formulary.ALPHA2_AGONISTS:
        other = formulary.drug(sorted(active & formulary.ALPHA2_AGONISTS)[0]).name
        return f"{info.name}: {other} is already ordered (two alpha-2 agonists add up)"
    return ""


def order_set_apply(
    actor: Actor,
    patient: Patient,
    *,
    key: str = order_sets.DEFAULT_KEY,
    starts_at: datetime | None = None,
) -> SetPlaced:
    """Order the lines of one of the sets the patient's unit offers, in one
    transaction (all or none). A medication the stay already has is left out and
    named: a second as-needed order would escape the first one's spacing and 24-hour
    maximum, which are counted per order."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICATION_ORDER, patient, category=MEDICATIONS)
    program = open_stay(patient).program
    offered = order_sets.available_sets(program)
    chosen = next((s for s in offered if s.key == key), None)
    if chosen is None:
        allowed = ", ".join(f"{s.key} ({s.name})" for s in offered) or "none"
        raise ValidationFailed(
            {"order_set": f"{program.name} offers no such order set. Allowed values: {allowed}."}
        )
    allowed_drugs = {d.code for d in formulary.ORDER_SET_DRUGS}
    if any(line.drug not in allowed_drugs for line in chosen.lines):
        raise ValidationFailed(
            {"order_set": f"{chosen.name} holds MOUD; order MOUD on its own so its check is seen."}
        )
    now = timezone.now()
    with transaction.atomic():
        stay = open_stay(patient)
        # Two physicians placing sets at once must see each other's orders.
        Episode.objects.select_for_update().get(pk=stay.episode_id)
        active = set(
            MedicationOrder.objects.filter(
                organization_id=patient.organization_id, stay=stay, status=OrderStatus.ACTIVE
            )
            .exclude(ends_at__lte=now)
            .values_list("drug", flat=True)
        )
        orders: list[MedicationOrder] = []
        skipped: list[str] = []
        for line in chosen.lines:
            reason = _skip_reason(line.drug, active)
            if reason:
                skipped.append(reason)
                continue
            active.add(line.drug)
            orders.append(
                order_create(
                    actor,
                    patient,
                    OrderInput(
                        drug=line.drug,
                        dose_mg=Decimal(line.dose_mg),
                        route=line.route,
                        frequency=line.frequency,
                        prn_indication=line.prn_indication,
                        max_daily_mg=Decimal(line.max_daily_mg) if line.max_daily_mg else None,
                        order_set=chosen.name,
                        starts_at=starts_at,
                    ),
                )
            )
        if not orders:
            raise Conflict(f"Nothing of {chosen.name} was ordered: " + "; ".join(skipped) + ".")
    return SetPlaced(chosen.name, orders, skipped)


def order_stop(actor: Actor, order: MedicationOrder, *, reason: str) -> MedicationOrder:
    same_org(actor, order.patient)
    require_patient_access(actor, Permission.MEDICATION_ORDER, order.patient, category=MEDICATIONS)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the order stops."})
    with transaction.atomic():
        locked = MedicationOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.ACTIVE:
            raise Conflict("This order is no longer active.")
        now = timezone.now()
        locked.status = OrderStatus.STOPPED
        locked.stopped_at = now
        locked.stopped_by_id = actor.user_id
        locked.stop_reason = reason.strip()
        if locked.ends_at is None or locked.ends_at > now:
            locked.ends_at = max(now, locked.starts_at + timedelta(seconds=1))
        locked.save(
            update_fields=[
                "status",
                "stopped_at",
                "stopped_by",
                "stop_reason",
                "ends_at",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.ORDER_STOP,
            actor=actor,
            patient_public_id=order.patient.public_id,
            category=MEDICATIONS,
            object_type="medication_order",
            object_id=locked.public_id,
            detail={"drug": locked.drug},
        )
    return locked


def safety_verdicts(
    order: MedicationOrder,
    stay: Stay,
    at: datetime,
    dose: Decimal,
    reads: selectors.RuleReads | None = None,
) -> list[rules.Verdict]:
    """The rules that apply to giving this dose of this order at `at`. Checking several
    orders of one stay at one moment, pass the same `reads`."""
    group = order.drug_info.safety
    if group is formulary.SafetyGroup.NONE:
        return []
    reads = reads or selectors.RuleReads(stay, at)
    zone = zone_of(stay)
    if group is formulary.SafetyGroup.METHADONE:
        return [_methadone_verdict(order, reads, dose)]
    earlier = [d for d in reads.given(group) if d.at < at]
    if earlier and at - earlier[-1].at <= RESTART_AFTER:
        return []  # a continuing course: only its start is guarded
    if group is formulary.SafetyGroup.BUPRENORPHINE:
        parsed = reads.admission.parsed() if reads.admission else None
        window = timedelta(minutes=COWS_RECENCY_MINUTES)
        return [
            rules.buprenorphine_first_dose(
                at=at,
                start=rules.BuprenorphineStart(
                    order.bup_start or rules.BuprenorphineStart.STANDARD
                ),
                last_uses=reads.last_uses,
                cows=[c for c in reads.cows if c.at >= at - window],
                on_buprenorphine=bool(parsed and parsed.on_buprenorphine),
                fentanyl_exposure=reads.fentanyl_exposure,
                th=reads.thresholds,
                zone=zone,
            )
        ]
    return [
        rules.naltrexone_start(
            at=at,
            last_uses=reads.last_uses,
            challenge=reads.challenge,
            cows=reads.cows,
            th=reads.thresholds,
            zone=zone,
        )
    ]


def _override_create(
    actor: Actor, order: MedicationOrder, verdict: rules.Verdict, reason: str, at: datetime
) -> SafetyOverride:
    override = SafetyOverride.objects.create(
        organization_id=actor.organization_id,
        order=order,
        patient=order.patient,
        rule=verdict.rule,
        reason=reason.strip(),
        saw=list(verdict.saw),
        needs=list(verdict.needs),
        overridden_by_id=actor.user_id,
        overridden_at=at,
    )
    audit_record(
        action=AuditAction.SAFETY_OVERRIDE,
        actor=actor,
        patient_public_id=order.patient.public_id,
        category=MEDICATIONS,
        object_type="safety_override",
        object_id=override.public_id,
        detail={"rule": verdict.rule, "order": str(order.public_id)},
    )
    return override


def override_record(
    actor: Actor, order: MedicationOrder, *, rule: str, reason: str, at: datetime | None = None
) -> SafetyOverride:
    """A physician decides to go ahead against a rule that blocks this order now. The
    override stores what the rule saw and covers the order for that rule."""
    same_org(actor, order.patient)
    require_patient_access(actor, Permission.SAFETY_OVERRIDE, order.patient, category=MEDICATIONS)
    when = event_time(at, "at")
    if rule not in rules.RULE_TITLES:
        raise ValidationFailed({"rule": "Allowed values: " + ", ".join(rules.RULE_TITLES) + "."})
    if not reason.strip():
        raise ValidationFailed({"reason": "An override needs the physician's clinical reason."})
    with transaction.atomic():
        locked = MedicationOrder.objects.select_for_update().get(pk=order.pk)
        if locked.status != OrderStatus.ACTIVE:
            raise Conflict("This order is no longer active.")
        stay = open_stay(order.patient)
        verdicts = {
            v.rule: v for v in safety_verdicts(locked, stay, when, _dose_for(locked, None, stay))
        }
        verdict = verdicts.get(rule)
        if verdict is None or not verdict.blocked:
            raise Conflict(f"{rule} does not block this order now; no override is needed.")
        if rule in standing_overrides(locked, when):
            raise Conflict(f"{rule} is already overridden for this order.")
        return _override_create(actor, locked, verdict, reason, when)


# A first-dose override speaks for the situation the physician saw: it covers doses
# given within this time, not a restart days later after new use. A methadone
# override (the program's certification) covers its order.
FIRST_DOSE_OVERRIDE_FOR = timedelta(hours=24)


def standing_overrides(order: MedicationOrder, at: datetime) -> dict[str, SafetyOverride]:
    """The order's overrides that cover a dose given at `at`, by rule."""
    standing: dict[str, SafetyOverride] = {}
    for override in order.overrides.all():
        if override.rule in CHECKED_AT_ORDER or (
            timedelta(hours=-1) <= at - override.overridden_at <= FIRST_DOSE_OVERRIDE_FOR
        ):
            standing[override.rule] = override
    return standing


def _dose_for(order: MedicationOrder, scheduled_for: datetime | None, stay: Stay) -> Decimal:
    if scheduled_for is None:
        return order.dose_mg
    doses = schedule.scheduled_doses(
        frequency_code=order.frequency,
        dose_mg=order.dose_mg,
        taper=order.taper_steps,
        starts_at=order.starts_at,
        ends_at=order.ends_at,
        window_start=scheduled_for,
        window_end=scheduled_for + timedelta(seconds=1),
        zone=zone_of(stay),
    )
    if not doses:
        raise ValidationFailed(
            {"scheduled_for": "That is not a scheduled dose time of this order."}
        )
    return doses[0].dose_mg


def _audit_blocked(
    actor: Actor,
    order: MedicationOrder | None,
    verdicts: list[rules.Verdict],
    *,
    patient: Patient | None = None,
    action: str = AuditAction.ADMINISTER,
) -> None:
    """A refusal by a safety rule is itself part of the record."""
    target = patient or (order.patient if order else None)
    assert target is not None
    with transaction.atomic():
        audit_record(
            action=action,
            actor=actor,
            patient_public_id=target.public_id,
            category=MEDICATIONS,
            object_type="medication_order",
            object_id=order.public_id if order else "",
            outcome=AuditOutcome.DENIED,
            detail={"blocked_by": [v.rule for v in verdicts]},
        )


def _prn_limits(order: MedicationOrder, at: datetime, dose: Decimal) -> dict[str, str]:
    freq = order.frequency_info
    assert freq.prn_every_hours is not None
    errors: dict[str, str] = {}
    spacing = timedelta(hours=freq.prn_every_hours)
    following = selectors.next_given(order, at)
    if following is not None and following.at - at < spacing:
        errors["at"] = (
            f"A dose of this order is charted at {timezone.localtime(following.at):%H:%M}; "
            f"doses must be {freq.prn_every_hours} h apart."
        )
    last = selectors.last_given(order, at)
    if last is not None and at - last.at < spacing:
        next_at = last.at + timedelta(hours=freq.prn_every_hours)
        errors["at"] = (
            f"Last given {timezone.localtime(last.at):%H:%M}; this order allows one dose every "
            f"{freq.prn_every_hours} h, so the next from {timezone.localtime(next_at):%H:%M}."
        )
    if order.max_daily_mg is not None:
        given = selectors.given_in_last_day(order, at)
        if given + dose > order.max_daily_mg:
            errors["dose_mg"] = (
                f"{given.normalize():f} mg given in the last 24 h; another "
                f"{dose.normalize():f} mg would pass the order's maximum of "
                f"{order.max_daily_mg.normalize():f} mg."
            )
    return errors


def administration_record(
    actor: Actor,
    order: MedicationOrder,
    *,
    outcome: str,
    at: datetime | None = None,
    scheduled_for: datetime | None = None,
    reason: str = "",
) -> Administration:
    """A nurse charts a dose: given, held or refused with a reason. A given dose passes
    the safety rules first, or a physician's override for the rule that blocks it; a
    refusal by a rule is audited."""
    try:
        return _administration_record(
            actor, order, outcome=outcome, at=at, scheduled_for=scheduled_for, reason=reason
        )
    except SafetyBlocked as blocked:
        _audit_blocked(actor, order, blocked.verdicts)
        raise


def _administration_record(
    actor: Actor,
    order: MedicationOrder,
    *,
    outcome: str,
    at: datetime | None = None,
    scheduled_for: datetime | None = None,
    reason: str = "",
) -> Administration:
    patient = order.patient
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICATION_ADMINISTER, patient, category=MEDICATIONS)
    when = event_time(at, "at")
    if outcome not in AdministrationOutcome.values:
        raise ValidationFailed({"outcome": "Allowed values: given, held, refused."})
    if outcome != AdministrationOutcome.GIVEN and not reason.strip():
        raise ValidationFailed({"reason": f"Say why the dose was {outcome}."})
    with transaction.atomic():
        if order.drug_info.safety is not formulary.SafetyGroup.NONE:
            # A first dose and methadone's first-day total are judged on the doses of
            # every order of the episode: one guarded dose at a time per episode (care
            # locks the episode first too, so the order of locks is the same).
            Episode.objects.select_for_update().get(pk=order.episode_id)
        locked = MedicationOrder.objects.select_for_update().get(pk=order.pk)
        stay = open_stay(patient)
        _check_order_running(locked, when, stay)
        if locked.is_prn and scheduled_for is not None:
            raise ValidationFailed({"scheduled_for": "An as-needed order has no scheduled times."})
        if not locked.is_prn and scheduled_for is None:
            raise ValidationFailed({"scheduled_for": "Choose which scheduled dose this is."})
        dose = _dose_for(locked, scheduled_for, stay)
        if scheduled_for is not None and when < scheduled_for - EARLY_WINDOW:
            raise ValidationFailed(
                {"at": "A scheduled dose can be charted from one hour before its time."}
            )
        safety: dict[str, Any] = {}
        override: SafetyOverride | None = None
        if outcome == AdministrationOutcome.GIVEN:
            if locked.is_prn:
                limits = _prn_limits(locked, when, dose)
                if limits:
                    raise ValidationFailed(limits)
            verdicts = safety_verdicts(locked, stay, when, dose)
            overrides = standing_overrides(locked, when)
            blocked = [v for v in verdicts if v.blocked and v.rule not in overrides]
            if blocked:
                raise SafetyBlocked(blocked)
            for v in verdicts:
                used = overrides.get(v.rule) if v.blocked else None
                override = used or override
                safety[v.rule] = {
                    "allowed": v.allowed,
                    "saw": list(v.saw),
                    **({"override": str(used.public_id)} if used else {}),
                }
        if (
            scheduled_for is not None
            and Administration.objects.filter(
                order=locked, scheduled_for=scheduled_for, status=RecordStatus.FINAL
            ).exists()
        ):
            raise Conflict("This scheduled dose is already charted.")
        followup = None
        if outcome == AdministrationOutcome.GIVEN and locked.is_prn:
            unit = selectors.unit_schedule_for(stay.program)
            followup = when + timedelta(minutes=unit.prn_followup_minutes)
        row = Administration.objects.create(
            organization_id=actor.organization_id,
            order=locked,
            patient=patient,
            stay=stay,
            scheduled_for=scheduled_for,
            at=when,
            outcome=outcome,
            reason=reason.strip(),
            dose_mg=dose if outcome == AdministrationOutcome.GIVEN else None,
            given_by_id=actor.user_id,
            safety=safety,
            override=override,
            followup_due_at=followup,
        )
        audit_record(
            action=AuditAction.ADMINISTER,
            actor=actor,
            patient_public_id=patient.public_id,
            category=MEDICATIONS,
            object_type="administration",
            object_id=row.public_id,
            detail={
                "order": str(locked.public_id),
                "drug": locked.drug,
                "outcome": outcome,
                **({"rules": sorted(safety)} if safety else {}),
                **({"override": str(override.public_id)} if override else {}),
            },
        )
    return row


def _check_order_running(order: MedicationOrder, at: datetime, stay: Stay) -> None:
    if order.status != OrderStatus.ACTIVE:
        raise Conflict("This order is no longer active; ask the physician for a new one.")
    if order.stay_id != stay.pk:
        raise Conflict("This order belongs to an earlier stay; ask the physician to reorder.")
    if at < order.starts_at - EARLY_WINDOW or (order.ends_at is not None and at >= order.ends_at):
        raise ValidationFailed({"at": "The order is not running at that time."})


def followup_record(
    actor: Actor,
    administration: Administration,
    *,
    result: str,
    note: str = "",
    at: datetime | None = None,
) -> Administration:
    """How well an as-needed dose worked, checked when it came due."""
    checked_at = event_time(at, "at")
    same_org(actor, administration.patient)
    require_patient_access(
        actor, Permission.MEDICAL_WRITE, administration.patient, category=MEDICATIONS
    )
    if result not in FollowupResult.values:
        raise ValidationFailed({"result": "Allowed values: effective, partly, not_effective."})
    with transaction.atomic():
        locked = Administration.objects.select_for_update().get(pk=administration.pk)
        if locked.status != RecordStatus.FINAL:
            raise Conflict("This dose was marked entered in error.")
        if locked.followup_due_at is None:
            raise Conflict("This dose has no effectiveness check.")
        if locked.followup_at is not None:
            raise Conflict("The effectiveness check is already recorded.")
        if checked_at < locked.at:
            raise ValidationFailed({"at": "The check comes after the dose."})
        locked.followup_at = checked_at
        locked.followup_result = result
        locked.followup_note = note.strip()
        locked.followup_by_id = actor.user_id
        locked.save(
            update_fields=[
                "followup_at",
                "followup_result",
                "followup_note",
                "followup_by",
                "updated_at",
            ]
        )
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=administration.patient.public_id,
            category=MEDICATIONS,
            object_type="administration",
            object_id=locked.public_id,
            detail={"followup": result},
        )
    return locked


def administration_mark_in_error(
    actor: Actor, administration: Administration, *, reason: str
) -> Administration:
    """A dose charted by mistake stays on the record, struck through, with the reason."""
    return mark_in_error(
        actor,
        administration,
        administration.patient,
        reason=reason,
        permission=Permission.MEDICATION_ADMINISTER,
        category=MEDICATIONS,
        object_type="administration",
    )
