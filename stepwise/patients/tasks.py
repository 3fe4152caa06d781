"""Follow-up tasks on a patient: raised by the apps above inside their own write,
closed by someone on the care team with a note."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, Role, sees_all_patients
from stepwise.patients.access import cared_for, require_patient_access
from stepwise.patients.models import CareTeamMember, Patient, Task, TaskStatus

CATEGORY = "chart"


def task_raise(
    actor: Actor | None,
    patient: Patient,
    *,
    kind: str,
    title: str,
    due_at: datetime,
    source_type: str,
    source_id: uuid.UUID,
    detail: str = "",
    for_role: str = "",
) -> Task:
    """Open a task, or return the one of this kind already open for the same source.
    Call inside the caller's transaction; its audit row covers the task."""
    existing = Task.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        source_id=source_id,
        status=TaskStatus.OPEN,
    ).first()
    if existing is not None:
        return existing
    return Task.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        title=title,
        detail=detail,
        due_at=due_at,
        source_type=source_type,
        source_id=source_id,
        for_role=for_role,
        created_by_id=actor.user_id if actor else None,
    )


def task_cancel_from_source(patient: Patient, *, source_id: uuid.UUID, kind: str, note: str) -> int:
    """Cancel an open task whose reason has gone (a test result came back negative)."""
    return Task.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        source_id=source_id,
        status=TaskStatus.OPEN,
    ).update(status=TaskStatus.CANCELLED, closed_at=timezone.now(), close_note=note)


def outreach_role(patient: Patient) -> str:
    """Who an outreach task is for: the case manager's worklist when the care team has
    an active one; otherwise blank (the whole care team's), so it always reaches someone."""
    has_case_manager = CareTeamMember.objects.filter(
        patient=patient,
        user__memberships__organization_id=patient.organization_id,
        user__memberships__role=Role.CASE_MANAGER,
        user__memberships__is_active=True,
    ).exists()
    return Role.CASE_MANAGER if has_case_manager else ""


def task_done_from_source(
    actor: Actor, patient: Patient, *, source_id: uuid.UUID, kind: str, note: str
) -> int:
    """Close as done an open task whose work was recorded where it belongs (the relapse
    outreach, recorded on the relapse's response). Call inside the caller's transaction."""
    return Task.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        source_id=source_id,
        status=TaskStatus.OPEN,
    ).update(
        status=TaskStatus.DONE,
        closed_at=timezone.now(),
        closed_by_id=actor.user_id,
        close_note=note,
    )


def task_get(actor: Actor, public_id: uuid.UUID | str) -> Task:
    try:
        return Task.objects.select_related("patient").get(
            organization_id=actor.organization_id, public_id=public_id
        )
    except (Task.DoesNotExist, ValueError):
        raise NotFound() from None


def task_close(actor: Actor, task: Task, *, status: str, note: str) -> Task:
    """Mark a task done or cancelled, saying what was done."""
    require_patient_access(actor, Permission.CARE_WRITE, task.patient, category=CATEGORY)
    errors: dict[str, str] = {}
    if status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
        errors["status"] = "Allowed values: done, cancelled."
    if not note.strip():
        errors["note"] = "Say what was done (or why it is no longer needed)."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Task.objects.select_for_update().get(pk=task.pk)
        if locked.status != TaskStatus.OPEN:
            raise Conflict("This task is already closed.")
        locked.status = status
        locked.closed_at = timezone.now()
        locked.closed_by_id = actor.user_id
        locked.close_note = note.strip()
        locked.save(update_fields=["status", "closed_at", "closed_by", "close_note", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=task.patient.public_id,
            category=CATEGORY,
            object_type="task",
            object_id=locked.public_id,
            detail={"kind": locked.kind, "status": status},
        )
    return locked


def open_tasks_for_patient(patient: Patient) -> list[Task]:
    return list(
        Task.objects.filter(
            organization_id=patient.organization_id, patient=patient, status=TaskStatus.OPEN
        )
    )


# Where a kind of task is worked (the outreach page of the schedule); the apps above
# register a link when they load.
TaskLink = Callable[[Task], str]
_TASK_LINKS: dict[str, TaskLink] = {}


def register_task_link(kind: str, link: TaskLink) -> None:
    _TASK_LINKS[kind] = link


@dataclass(frozen=True)
class TaskView:
    task: Task
    url: str


def task_view(task: Task) -> TaskView:
    link = _TASK_LINKS.get(task.kind)
    return TaskView(task, link(task) if link else "")


def worklist_tasks(actor: Actor, now: datetime) -> list[TaskView]:
    """Open tasks of the patients the actor looks after (everyone for the director);
    a task meant for one role (outreach for the case manager) only on that role's list,
    until the care team has no one active in that role: then the whole team's, so a task
    never waits on someone who has left the team."""
    patients = Patient.objects.filter(organization_id=actor.organization_id)
    tasks = Task.objects.filter(organization_id=actor.organization_id, status=TaskStatus.OPEN)
    if not sees_all_patients(actor.role):
        patients = cared_for(actor, patients, now)
        role_on_team = CareTeamMember.objects.filter(
            organization_id=OuterRef("organization_id"),
            patient_id=OuterRef("patient_id"),
            user__memberships__organization_id=OuterRef("organization_id"),
            user__memberships__role=OuterRef("for_role"),
            user__memberships__is_active=True,
        )
        tasks = tasks.filter(Q(for_role="") | Q(for_role=actor.role) | ~Exists(role_on_team))
    found = tasks.filter(patient__in=patients).select_related("patient").order_by("due_at", "id")
    return [task_view(task) for task in found]
