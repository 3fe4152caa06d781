"""What the hourly sweep does for one organization: keep every running schedule made
ahead to the horizon, and mark each check-in missed once its grace has passed, with
an outreach task so that a miss reaches a person within a day. Safe to run again at
any time: a check-in is marked missed once, and its task raised once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, Checkin, CheckinStatus, PlanStatus
from stepwise.aftercare.rules.schedule import HORIZON, local_day, missed_after
from stepwise.aftercare.services.common import (
    CATEGORY,
    OUTREACH,
    SWEEPER,
    settings_of,
)
from stepwise.aftercare.services.schedule import schedule_extend
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction
from stepwise.patients.tasks import outreach_role, task_raise


@dataclass(frozen=True)
class SweepResult:
    made: int  # check-ins made ahead
    missed: int  # check-ins marked missed, each with its outreach task


def _extend_schedules(organization_id: int, now: datetime) -> int:
    # A plan's horizon is in its own zone's days (at most a day from UTC's): one lagging
    # by more than that is extended, so each plan is looked at about once a day.
    lagging = AftercarePlan.objects.filter(
        organization_id=organization_id, status=PlanStatus.ACTIVE, checkins_from__isnull=False
    ).filter(
        Q(checkins_through__isnull=True)
        | Q(checkins_through__lt=now.date() + HORIZON - timedelta(days=1))
    )
    made = 0
    for plan in lagging.only("pk"):
        with transaction.atomic():
            locked = (
                AftercarePlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)
            )
            added = schedule_extend(locked, local_day(now, locked.time_zone))
            if added:
                audit_record(
                    action=AuditAction.UPDATE,
                    actor_username=SWEEPER,
                    organization_id=locked.organization_id,
                    patient_public_id=locked.patient.public_id,
                    category=CATEGORY,
                    object_type="aftercare_plan",
                    object_id=locked.public_id,
                    detail={"checkins_made": added},
                )
            made += added
    return made


def _mark_missed(checkin: Checkin, now: datetime) -> bool:
    with transaction.atomic():
        row = (
            Checkin.objects.select_for_update()
            .select_related("patient")
            .filter(pk=checkin.pk, status=CheckinStatus.DUE)
            .first()
        )
        if row is None:
            return False  # recorded (or marked) meanwhile
        row.status = CheckinStatus.MISSED
        row.missed_at = now
        row.save(update_fields=["status", "missed_at", "updated_at"])
        patient = row.patient
        task = task_raise(
            None,
            patient,
            kind=OUTREACH,
            title="Aftercare check-in missed: reach the patient",
            detail=(
                f"The {row.get_method_display().lower()} check-in due "
                f"{row.due_on:%a %Y-%m-%d} was not recorded."
            ),
            due_at=now,
            source_type="aftercare_checkin",
            source_id=row.public_id,
            for_role=outreach_role(patient),
        )
        audit_record(
            action=AuditAction.UPDATE,
            actor_username=SWEEPER,
            organization_id=row.organization_id,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="aftercare_checkin",
            object_id=row.public_id,
            detail={
                "status": [CheckinStatus.DUE, CheckinStatus.MISSED],
                "task": str(task.public_id),
            },
        )
    return True


def aftercare_sweep(organization_id: int, now: datetime | None = None) -> SweepResult:
    now = now or timezone.now()
    made = _extend_schedules(organization_id, now)
    grace = settings_of(organization_id).grace_hours
    # Nothing due after today (in any zone) can be past its grace yet.
    candidates = Checkin.objects.filter(
        organization_id=organization_id, status=CheckinStatus.DUE, due_on__lte=now.date()
    ).only("pk", "due_on", "time_zone")
    missed = sum(
        1
        for checkin in candidates
        if now >= missed_after(checkin.due_on, checkin.time_zone, grace)
        and _mark_missed(checkin, now)
    )
    return SweepResult(made=made, missed=missed)
