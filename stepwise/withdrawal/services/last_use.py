"""A short entry of the time of last opioid use during a withdrawal-management stay:
back on the unit after a relapse the episode's medical admission speaks of an
earlier stay, and the induction and naltrexone rules need the use since."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
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
)

OBJECT_TYPE = "last_use_report"


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
    if errors or recorded is None or used is None:
        raise ValidationFailed(errors)
    stay = open_stay(patient)
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
        back_dated_to=recorded if at is not None else None,
    )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
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


def _checked_time(at: datetime | None, field: str, errors: dict[str, str]) -> datetime | None:
    """The time as event_time gives it; a refusal joins the other fields' errors."""
    try:
        return event_time(at, field)
    except ValidationFailed as exc:
        errors.update(exc.errors)
        return None


def last_use_mark_in_error(actor: Actor, row: LastUseReport, *, reason: str) -> LastUseReport:
    """A mistaken report stays on the record, struck through; the rules stop reading it."""
    return mark_in_error(
        actor,
        row,
        row.patient,
        reason=reason,
        permission=Permission.MEDICAL_WRITE,
        category=OBSERVATIONS,
        object_type=OBJECT_TYPE,
    )
