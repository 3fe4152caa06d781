"""A short entry of the time of last opioid use during a withdrawal-management stay:
back on the unit after a relapse the episode's medical admission speaks of an
earlier stay, and the induction and naltrexone rules need the use since."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from stepwise.care.models import Episode, Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import Permission, role_can
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.withdrawal.models import LastUseReport, LastUseSource
from stepwise.withdrawal.rules import last_use as rules
from stepwise.withdrawal.services.common import (
    OBSERVATIONS,
    mark_in_error,
    not_before_stay,
    open_stay,
    same_org,
    zone_of,
)

OBJECT_TYPE = "last_use_report"
# Who may withdraw someone else's report: a report may be what holds back a first
# buprenorphine or naltrexone dose, and withdrawing it lets the dose through as an
# override would, so it takes the role that may override a safety rule.
WITHDRAW_OTHERS = Permission.SAFETY_OVERRIDE
NOT_YOURS = (
    "Only the author of this report or a physician may mark it entered in error: "
    "withdrawing a last use can let a first buprenorphine or naltrexone dose through. "
    "Ask its author or a physician."
)


def last_use_record(
    actor: Actor,
    patient: Patient,
    *,
    substance: str,
    last_use_at: datetime,
    source: str,
    note: str = "",
    at: datetime | None = None,
) -> LastUseReport:
    """Record when the patient last used an opioid, as told by `source`, on the open
    withdrawal-management stay; the safety rules and the board read it from then on."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICAL_WRITE, patient, category=OBSERVATIONS)
    errors: dict[str, str] = {}
    recorded = _checked_time(at, "recorded_at", errors)
    used = _checked_time(last_use_at, "last_use_at", errors)  # aware, not in the future
    if message := rules.substance_error(substance):
        errors["substance"] = message
    if source not in LastUseSource.values:
        errors["source"] = "Allowed values: " + ", ".join(LastUseSource.values) + "."
    if message := rules.note_error(note):
        errors["note"] = message
    if errors or recorded is None or used is None:
        raise ValidationFailed(errors)
    with transaction.atomic():
        # A first buprenorphine or naltrexone dose is judged on the reports under the
        # same lock (administration_record): a report and a dose do not interleave.
        stay = _locked_stay(patient)
        if not stay.program.is_withdrawal_management:
            raise ValidationFailed(
                {
                    "patient": f"{stay.program.name} is not a withdrawal-management program; "
                    "record the last use in the medical admission assessment."
                }
            )
        not_before_stay(stay, recorded, "recorded_at")
        errors = rules.time_errors(
            last_use_at=used,
            stay_started_at=stay.started_at,
            zone=zone_of(stay),
            back_dated_to=recorded if at is not None else None,
        )
        if errors:
            raise ValidationFailed(errors)
        row = LastUseReport.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            stay=stay,
            substance=substance,
            last_use_at=used,
            source=source,
            note=note.strip(),
            recorded_at=recorded,
            recorded_by_id=actor.user_id,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=OBSERVATIONS,
            object_type=OBJECT_TYPE,
            object_id=row.public_id,
            detail={"source": source},
        )
    return row


def _locked_stay(patient: Patient) -> Stay:
    """The open stay, read again under its episode's lock (the lock comes first, as in
    care's transitions and the eMAR's guarded doses)."""
    seen = open_stay(patient)
    Episode.objects.select_for_update().get(pk=seen.episode_id)
    stay = open_stay(patient)
    if stay.pk != seen.pk:
        raise Conflict("The patient's stay changed meanwhile; try again.")
    return stay


def _checked_time(at: datetime | None, field: str, errors: dict[str, str]) -> datetime | None:
    """The time as event_time gives it; a refusal joins the other fields' errors."""
    try:
        return event_time(at, field)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None


def may_withdraw(actor: Actor, row: LastUseReport) -> bool:
    """Whether the actor may mark this report entered in error: its author, or someone
    allowed to override a safety rule (a withdrawn wait lets a first dose through)."""
    return row.recorded_by_id == actor.user_id or role_can(actor.role, WITHDRAW_OTHERS)


def last_use_mark_in_error(actor: Actor, row: LastUseReport, *, reason: str) -> LastUseReport:
    """A mistaken report stays on the record, struck through; the rules stop reading it.
    Its author may withdraw it; anyone else must be allowed to override a safety rule
    (a physician), since a withdrawn wait lets a first dose through."""
    patient = row.patient
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICAL_WRITE, patient, category=OBSERVATIONS)
    if not may_withdraw(actor, row):
        with transaction.atomic():
            audit_record(
                action=AuditAction.ACCESS_DENIED,
                actor=actor,
                patient_public_id=patient.public_id,
                category=OBSERVATIONS,
                object_type=OBJECT_TYPE,
                object_id=row.public_id,
                outcome=AuditOutcome.DENIED,
                detail={"permission": str(WITHDRAW_OTHERS), "why": "not the author"},
            )
        raise AccessDenied(NOT_YOURS)
    with transaction.atomic():
        # Under the lock a first dose is judged with (see last_use_record).
        Episode.objects.select_for_update().get(pk=row.stay.episode_id)
        return mark_in_error(
            actor,
            row,
            patient,
            reason=reason,
            permission=Permission.MEDICAL_WRITE,
            category=OBSERVATIONS,
            object_type=OBJECT_TYPE,
        )
