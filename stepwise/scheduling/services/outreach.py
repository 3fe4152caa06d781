"""Outreach after missed sessions: a task for the case manager, raised by Stepwise
itself (attendance taken, or the sweep), and the history of tries to reach the patient."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient, Task, TaskStatus
from stepwise.patients.tasks import outreach_role, task_raise
from stepwise.scheduling.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceStatus,
    OutreachAttempt,
    OutreachMethod,
    OutreachOutcome,
    SessionStatus,
)
from stepwise.scheduling.services.common import CATEGORY, settings_of

OUTREACH = "outreach"
SWEEPER = "stepwise (missed-session sweep)"


def raise_outreach(
    actor: Actor | None, patient: Patient, *, stay: Stay | None, now: datetime, why: str
) -> Task:
    """Open an outreach task for the case manager, or add to the one already open for
    this stay. Call inside the caller's transaction."""
    due = now + timedelta(hours=settings_of(patient.organization_id).outreach_due_hours)
    source = stay.public_id if stay else patient.public_id
    task = task_raise(
        actor,
        patient,
        kind=OUTREACH,
        title="Reach out after missed sessions",
        detail=why,
        due_at=due,
        source_type="stay" if stay else "patient",
        source_id=source,
        for_role=outreach_role(patient),
    )
    if why not in task.detail:
        task.detail = f"{task.detail}; {why}" if task.detail else why
        task.save(update_fields=["detail", "updated_at"])
    audit_record(
        action=AuditAction.CREATE,
        actor=actor,
        actor_username="" if actor else SWEEPER,
        organization_id=patient.organization_id,
        patient_public_id=patient.public_id,
        category=CATEGORY,
        object_type="task",
        object_id=task.public_id,
        detail={"kind": OUTREACH, "why": why},
    )
    return task


def outreach_sweep(organization_id: int, now: datetime | None = None) -> int:
    """Raise outreach for each patient of an ambulatory program who had sessions in the
    last days (the setting) and attended none of them. Run by the scheduled sweep, so
    no one has to remember to look. Returns how many tasks it raised."""
    now = now or timezone.now()
    days = settings_of(organization_id).days_without_attendance
    since = now - timedelta(days=days)
    # Only sessions whose attendance was taken: one nobody took is shown to the program
    # as "attendance not taken", not counted against the patient.
    seats = Attendance.objects.filter(
        organization_id=organization_id,
        patient_id=OuterRef("episode__patient_id"),
        session__status=SessionStatus.SCHEDULED,
        session__starts_at__gte=since,
        session__ends_at__lte=now,
    ).exclude(status=AttendanceStatus.EXPECTED)
    # Raised already for this stay: open, or opened or closed within the window (a task
    # the case manager closed is not raised again for the same quiet days).
    open_task = Task.objects.filter(
        organization_id=organization_id,
        patient_id=OuterRef("episode__patient_id"),
        kind=OUTREACH,
        source_id=OuterRef("public_id"),
    ).filter(Q(status=TaskStatus.OPEN) | Q(created_at__gte=since) | Q(closed_at__gte=since))
    quiet = (
        Stay.objects.filter(
            organization_id=organization_id,
            ended_at__isnull=True,
            program__is_24_hour=False,
            started_at__lte=since,
        )
        .annotate(
            had_sessions=Exists(seats),
            attended=Exists(seats.filter(status__in=ATTENDED_STATUSES)),
            already=Exists(open_task),
        )
        .filter(had_sessions=True, attended=False, already=False)
        .select_related("episode__patient", "program")
    )
    raised = 0
    for stay in quiet:
        with transaction.atomic():
            raise_outreach(
                None,
                stay.episode.patient,
                stay=stay,
                now=now,
                why=f"no session attended in {days} days ({stay.program.name})",
            )
        raised += 1
    return raised


def outreach_attempt_record(
    actor: Actor,
    patient: Patient,
    *,
    method: str,
    outcome: str,
    note: str = "",
    task: Task | None = None,
    at: datetime | None = None,
) -> OutreachAttempt:
    """One try to reach the patient (the contact history the case manager works from)."""
    if patient.organization_id != actor.organization_id:
        from stepwise.core.errors import NotFound

        raise NotFound()
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    errors: dict[str, str] = {}
    if method not in OutreachMethod.values:
        errors["method"] = f"Allowed values: {allowed_values(OutreachMethod.choices)}."
    if outcome not in OutreachOutcome.values:
        errors["outcome"] = f"Allowed values: {allowed_values(OutreachOutcome.choices)}."
    when = at or timezone.now()
    if timezone.is_naive(when):
        errors["at"] = "Give the time with its time zone."
    elif when > timezone.now() + timedelta(minutes=5):
        errors["at"] = "The time cannot be in the future."
    if task is not None and (task.patient_id != patient.pk or task.kind != OUTREACH):
        errors["task"] = "This task is not this patient's outreach."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        if task is not None and Task.objects.get(pk=task.pk).status != TaskStatus.OPEN:
            raise Conflict("This outreach task is already closed.")
        attempt = OutreachAttempt.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            task=task,
            at=when,
            method=method,
            outcome=outcome,
            note=note.strip(),
            by_id=actor.user_id,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="outreach_attempt",
            object_id=attempt.public_id,
            detail={"method": method, "outcome": outcome},
        )
    return attempt
