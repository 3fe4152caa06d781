"""Recording a check-in: how the patient is doing, craving, any use since the last one
(which proposes a relapse event), supports attended. A missed check-in recorded late
closes its outreach task: the patient was reached."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, Checkin, CheckinMethod, CheckinStatus
from stepwise.aftercare.rules import checkin as rules
from stepwise.aftercare.rules.schedule import local_day
from stepwise.aftercare.services.common import CATEGORY, OUTREACH, same_org
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, NotFound, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient, Task, TaskStatus
from stepwise.patients.tasks import task_close
from stepwise.recovery.services.relapse import relapse_propose


def _who(user: object) -> str:
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "username", "someone"))


def _reached(actor: Actor, row: Checkin) -> int:
    """Close the open outreach task of a missed check-in now recorded."""
    tasks = Task.objects.filter(
        organization_id=row.organization_id,
        patient_id=row.patient_id,
        kind=OUTREACH,
        source_id=row.public_id,
        status=TaskStatus.OPEN,
    ).select_related("patient")
    for task in tasks:
        task_close(actor, task, status=TaskStatus.DONE, note="Reached: the check-in was recorded.")
    return len(tasks)


def _propose_relapse(actor: Actor, patient: Patient, row: Checkin) -> None:
    """Use reported at a check-in: a relapse event for a clinician to confirm or
    dismiss (recovery's own response follows from there)."""
    what = ", ".join(row.substance_labels) or "substance not said"
    when = f", last on {row.used_on:%Y-%m-%d}" if row.used_on else ""
    note = f"Reported at the aftercare check-in of {row.due_on:%Y-%m-%d} ({what}{when})."
    if row.note:
        note = f"{note} {row.note}"
    event = relapse_propose(
        actor,
        patient,
        source="checkin",
        source_type="aftercare_checkin",
        source_id=row.public_id,
        used_on=row.used_on,
        substances=list(row.substances),
        note=note,
    )
    row.relapse_id = event.public_id
    row.save(update_fields=["relapse_id", "updated_at"])


def checkin_record(
    actor: Actor,
    plan: AftercarePlan,
    report: rules.Report,
    *,
    method: str,
    checkin: Checkin | None = None,
    at: datetime | None = None,
) -> Checkin:
    """Record a check-in: the one due (or missed) that `checkin` names, or an
    unscheduled one (the patient called) when it names none."""
    patient = plan.patient
    same_org(actor, plan, checkin)
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    happened = event_time(at, "at")
    today = local_day(timezone.now(), plan.time_zone)
    errors = rules.report_errors(report, today)
    if method not in CheckinMethod.values:
        errors["method"] = f"Allowed values: {allowed_values(CheckinMethod.choices)}."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = AftercarePlan.objects.select_for_update().get(pk=plan.pk)
        if locked.status != "active":
            raise Conflict(
                "Check-ins are recorded on an active plan: "
                + (
                    "the patient ended this one; restart it with them first."
                    if locked.is_ended
                    else "go through the plan with the patient and record the review first."
                )
            )
        if happened < locked.started_at:
            raise ValidationFailed(
                {
                    "at": f"The plan was started {locked.started_at:%Y-%m-%d %H:%M} UTC; give a later time."
                }
            )
        was = ""
        if checkin is None:
            row = Checkin(
                organization_id=locked.organization_id,
                plan=locked,
                patient_id=locked.patient_id,
                due_on=local_day(happened, locked.time_zone),
                scheduled=False,
                time_zone=locked.time_zone,
            )
        else:
            row = (
                Checkin.objects.select_for_update(of=("self",))
                .select_related("recorded_by")
                .get(pk=checkin.pk)
            )
            if row.plan_id != locked.pk:
                raise NotFound()
            was = row.status
            if row.status == CheckinStatus.DONE:
                raise Conflict(
                    f"This check-in was already recorded by {_who(row.recorded_by)} on "
                    f"{row.recorded_at:%Y-%m-%d %H:%M} UTC."
                )
            if row.status == CheckinStatus.CANCELLED:
                raise Conflict(f"This check-in is no longer due ({row.cancelled_why}).")
            if row.due_on > today + timedelta(days=rules.EARLY_DAYS):
                raise ValidationFailed(
                    {
                        "checkin": f"This check-in is due on {row.due_on:%Y-%m-%d}; record it "
                        "nearer the day, or record an unscheduled check-in."
                    }
                )
        row.method = method
        row.status = CheckinStatus.DONE
        row.happened_at = happened
        row.recorded_at = timezone.now()
        row.recorded_by_id = actor.user_id
        row.wellbeing = report.wellbeing
        row.craving = report.craving
        row.used = report.used
        row.substances = list(report.substances) if report.used else []
        row.used_on = report.used_on if report.used else None
        row.supports_attended = [s.strip() for s in report.supports_attended if s.strip()]
        row.note = report.note.strip()
        row.save()
        closed = _reached(actor, row) if was == CheckinStatus.MISSED else 0
        if report.used:
            _propose_relapse(actor, patient, row)
        audit_record(
            action=AuditAction.CREATE if checkin is None else AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="aftercare_checkin",
            object_id=row.public_id,
            detail={
                "status": [was or "unscheduled", CheckinStatus.DONE],
                "used": report.used,
                **({"relapse_proposed": str(row.relapse_id)} if row.relapse_id else {}),
                **({"tasks_closed": closed} if closed else {}),
            },
        )
    return row
