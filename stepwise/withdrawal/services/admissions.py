"""The medical admission assessment: recorded by the nurse or physician on arrival,
reviewed by a physician; its findings go to the problem list (dimension 2) and open
follow-up tasks."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.patients.problems import problem_note
from stepwise.patients.tasks import task_raise
from stepwise.withdrawal.models import MedicalAdmission, RecordStatus
from stepwise.withdrawal.rules import admission as rules
from stepwise.withdrawal.services.common import OBSERVATIONS, not_before_stay, open_stay, same_org

# Follow-ups from the admission are due within a day (urgent findings also raise an
# error message on the page at once).
TASK_DUE = timedelta(days=1)
BIOMEDICAL = 2  # ASAM dimension 2


def medical_admission_record(
    actor: Actor,
    patient: Patient,
    data: rules.MedicalAdmissionData,
    *,
    recorded_at: datetime | None = None,
) -> MedicalAdmission:
    """Store the assessment for the current stay (replacing an earlier one of the
    episode), note its problems and open its follow-up tasks."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICAL_WRITE, patient, category=OBSERVATIONS)
    at = event_time(recorded_at, "recorded_at")
    errors = rules.data_errors(data, timezone.now())
    if errors:
        raise ValidationFailed(errors)
    stay = open_stay(patient)
    not_before_stay(stay, at, "recorded_at")
    found = rules.findings(data)
    with transaction.atomic():
        previous = (
            MedicalAdmission.objects.select_for_update(of=("self",))
            .filter(
                organization_id=actor.organization_id,
                episode=stay.episode,
                status=RecordStatus.FINAL,
                replaced_by__isnull=True,
            )
            .order_by("-id")
            .first()
        )
        try:
            # Two entries at once on SQLite both see the same one to replace.
            with transaction.atomic():
                row = MedicalAdmission.objects.create(
                    organization_id=actor.organization_id,
                    patient=patient,
                    stay=stay,
                    episode=stay.episode,
                    recorded_at=at,
                    recorded_by_id=actor.user_id,
                    data=rules.to_json(data),
                    last_opioid_use_at=rules.last_opioid_use(data),
                    findings={
                        "d2": list(found.d2),
                        "urgent": list(found.urgent),
                        "problems": [p.title for p in found.problems],
                        "tasks": [t.title for t in found.tasks],
                    },
                    replaces=previous,
                )
        except IntegrityError:
            raise Conflict(
                "Another entry replaced this assessment just now; reload and try again."
            ) from None
        noted = 0
        for problem in found.problems:
            _, new = problem_note(
                actor,
                patient,
                key=problem.key,
                title=problem.title,
                code=problem.code,
                asam_dimension=BIOMEDICAL,
                at=at,
                source_type="medical_admission",
                source_id=row.public_id,
            )
            noted += new
        for task in found.tasks:
            task_raise(
                actor,
                patient,
                kind=task.kind,
                title=task.title,
                detail=task.detail,
                due_at=at + TASK_DUE,
                source_type="medical_admission",
                source_id=stay.episode.public_id,  # one open task per episode, not per revision
            )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=OBSERVATIONS,
            object_type="medical_admission",
            object_id=row.public_id,
            detail={
                "problems_noted": noted,
                "follow_ups_found": len(found.tasks),
                **({"replaces": str(previous.public_id)} if previous else {}),
            },
        )
    return row


def medical_admission_review(
    actor: Actor, row: MedicalAdmission, *, note: str = ""
) -> MedicalAdmission:
    """The physician's review of the nurse's admission assessment."""
    same_org(actor, row.patient)
    require_patient_access(actor, Permission.MEDICAL_REVIEW, row.patient, category=OBSERVATIONS)
    with transaction.atomic():
        locked = MedicalAdmission.objects.select_for_update().get(pk=row.pk)
        replaced = MedicalAdmission.objects.filter(replaces=locked).exists()
        if locked.status != RecordStatus.FINAL or replaced:
            raise Conflict("This assessment was replaced or marked in error.")
        if locked.reviewed_at is not None:
            raise Conflict("This assessment is already reviewed.")
        locked.reviewed_by_id = actor.user_id
        locked.reviewed_at = timezone.now()
        locked.review_note = note.strip()
        locked.save(update_fields=["reviewed_by", "reviewed_at", "review_note", "updated_at"])
        audit_record(
            action=AuditAction.REVIEW,
            actor=actor,
            patient_public_id=row.patient.public_id,
            category=OBSERVATIONS,
            object_type="medical_admission",
            object_id=locked.public_id,
        )
    return locked
