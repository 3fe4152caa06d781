"""The named writes that move a plan from version to version: sign the draft (it
becomes the active version, the one before is superseded, what changed is stored
and the next review is scheduled), start a review (a new draft copied from the
active version, with what led to it and why), and record the patient's signature."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.patients.models import Patient, Task, TaskStatus
from stepwise.patients.tasks import task_close
from stepwise.plans.models import (
    PatientSignature,
    PlanVersion,
    ReviewTrigger,
    TreatmentPlan,
    VersionStatus,
)
from stepwise.plans.rules import content as rules
from stepwise.plans.rules import diff, review
from stepwise.plans.services.common import (
    audit_plan,
    interval_for_patient,
    local_day,
    lock_plan,
    locked_draft,
    require_open_episode,
    require_write,
    same_org,
    session_types_of,
)
from stepwise.plans.services.drafts import ReviewReason, reason_errors
from stepwise.plans.store import content_of, contents_write

# The task a change of level of care raises, closed when the review is signed.
REVIEW_TASK = "plan_review"
# The record a trigger's source names, when the caller names only its id.
SOURCE_TYPES: dict[str, str] = {
    ReviewTrigger.RELAPSE.value: "relapse_event",
    ReviewTrigger.LEVEL_OF_CARE.value: "stay",
}
_SOURCE_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
STAY_NOT_OF_EPISODE = "That stay is not one of this episode's stays."
NAME_MAX = 200
REASON_MAX = 1000


def version_sign(actor: Actor, version: PlanVersion) -> PlanVersion:
    """Sign the draft: it becomes the plan in force and its text is final. Needs at
    least one problem with a goal, an objective and an intervention, and the
    patient's words. The next review is due after the interval of the patient's
    program (or the organization's)."""
    same_org(actor, version)
    patient = version.plan.patient
    require_write(actor, patient)
    with transaction.atomic():
        plan = lock_plan(version.plan)
        require_open_episode(plan)
        draft = locked_draft(plan, version)
        content = content_of(draft)
        errors = rules.sign_errors(content)
        if errors:
            raise ValidationFailed(errors)
        active = (
            PlanVersion.objects.select_for_update()
            .filter(plan=plan, status=VersionStatus.ACTIVE)
            .first()
        )
        summary = diff.summary(content_of(active) if active else None, content)
        now = timezone.now()
        interval = interval_for_patient(patient)
        due = review.review_due_on(
            signed_at=now, signed_on=local_day(patient, now), interval_days=interval
        )
        if active is not None:
            active.status = VersionStatus.SUPERSEDED
            active.superseded_at = now
            active.save(update_fields=["status", "superseded_at", "updated_at"])
        draft.status = VersionStatus.ACTIVE
        draft.signed_at = now
        draft.signed_by_id = actor.user_id
        draft.change_summary = summary
        draft.review_interval_days = interval
        draft.review_due_on = due
        draft.save()
        plan.last_signed_at = now
        plan.review_due_on = due
        plan.level_changed_at = None
        plan.level_changed_to = ""
        plan.save(
            update_fields=[
                "last_signed_at",
                "review_due_on",
                "level_changed_at",
                "level_changed_to",
                "updated_at",
            ]
        )
        detail: dict[str, Any] = {"review_due_on": due.isoformat()}
        if active is not None:
            detail["supersedes"] = active.number
        closed = _close_review_tasks(actor, patient, draft)
        if closed:
            detail["tasks_closed"] = closed
        if _settle_relapse_response(actor, draft):
            detail["relapse_response"] = "plan_review done"
        audit_plan(actor, draft, patient, detail=detail)
    draft.plan = plan
    plan.patient = patient
    return draft


def _close_review_tasks(actor: Actor, patient: Patient, version: PlanVersion) -> int:
    """The signed review does what a change of level of care asked for."""
    tasks = list(
        Task.objects.filter(
            organization_id=patient.organization_id,
            patient=patient,
            kind=REVIEW_TASK,
            status=TaskStatus.OPEN,
        ).select_related("patient")
    )
    for task in tasks:
        task_close(
            actor, task, status=TaskStatus.DONE, note=f"Plan version {version.number} signed."
        )
    return len(tasks)


def _settle_relapse_response(actor: Actor, version: PlanVersion) -> bool:
    """A revision made for a relapse settles the relapse response's plan review."""
    if version.trigger != ReviewTrigger.RELAPSE or version.source_type != "relapse_event":
        return False
    if version.source_id is None:
        return False
    # The recovery app sits beside plans; imported here, when a relapse asks for it.
    from stepwise.recovery.services.relapse import response_item_settle

    settled = response_item_settle(
        actor,
        version.plan.patient,
        event_public_id=version.source_id,
        item="plan_review",
        evidence_type="plan_version",
        evidence_id=version.public_id,
        note=f"Treatment plan revised (version {version.number})",
    )
    return settled is not None


def _relapse_of(patient: Patient, public_id: uuid.UUID) -> bool:
    from stepwise.recovery.selectors import is_relapse_of

    return is_relapse_of(patient, public_id)


def _stay_of(plan: TreatmentPlan, public_id: uuid.UUID) -> bool:
    """Whether the stay is one of the plan's episode (so of its patient and its
    organization). Another organization's stay is simply not found: the refusal is
    the same as for an id that names nothing."""
    return Stay.objects.filter(
        organization_id=plan.organization_id, episode_id=plan.episode_id, public_id=public_id
    ).exists()


def _source(trigger: str, source_type: str, source_id: uuid.UUID | None) -> tuple[str, str]:
    """The source's type (named, or implied by the trigger), or a message why not."""
    source_type = source_type.strip()
    if source_id is None:
        return ("", "") if not source_type else ("", "Give the source record's id, or no type.")
    if not source_type:
        source_type = SOURCE_TYPES.get(trigger, "")
    if not source_type:
        return "", "Name what kind of record the source is (for example relapse_event)."
    if not _SOURCE_TYPE.match(source_type):
        return "", "A source type is lower-case letters, digits and _ (up to 40)."
    return source_type, ""


def review_start(
    actor: Actor,
    plan: TreatmentPlan,
    *,
    trigger: str,
    why: str,
    source_type: str = "",
    source_id: uuid.UUID | None = None,
) -> PlanVersion:
    """Start a review: a new draft copied from the active version (same items, same
    keys), saying what led to it (a scheduled review, a change of level of care, a
    relapse, the patient's request, other), the record that did, and why."""
    same_org(actor, plan)
    patient = plan.patient
    require_write(actor, patient)
    errors = reason_errors(ReviewReason(trigger, why))
    kind, problem = _source(trigger, source_type, source_id)
    if problem:
        errors["source_type" if source_id is not None else "source_id"] = problem
    elif kind == "relapse_event" and source_id is not None and not _relapse_of(patient, source_id):
        errors["source_id"] = "That relapse is not one of this patient's."
    elif kind == "stay" and source_id is not None and not _stay_of(plan, source_id):
        errors["source_id"] = STAY_NOT_OF_EPISODE
    if errors:
        raise ValidationFailed(errors)
    session_types = session_types_of(actor.organization_id)
    with transaction.atomic():
        locked = lock_plan(plan)
        require_open_episode(locked)
        versions = PlanVersion.objects.select_for_update().filter(plan=locked)
        active = versions.filter(status=VersionStatus.ACTIVE).first()
        draft = versions.filter(status=VersionStatus.DRAFT).first()
        if active is None:
            raise Conflict("The plan has no signed version to review yet: sign the draft first.")
        if draft is not None:
            raise Conflict(
                f"A review is already in progress (draft version {draft.number}): "
                "finish and sign it first."
            )
        # Counted without FOR UPDATE (PostgreSQL refuses it with an aggregate); the
        # plan's lock already keeps other writes out.
        numbers = PlanVersion.objects.filter(plan=locked).aggregate(n=Max("number"))
        number = (numbers["n"] or 0) + 1
        new = PlanVersion.objects.create(
            organization_id=actor.organization_id,
            plan=locked,
            number=number,
            author_id=actor.user_id,
            based_on=active,
            patient_words=active.patient_words,
            trigger=trigger,
            source_type=kind,
            source_id=source_id,
            why=rules.clean_text(why),
        )
        contents_write(new, rules.copy_for_review(content_of(active)), session_types)
        audit_plan(
            actor,
            new,
            patient,
            action=AuditAction.CREATE,
            detail={"trigger": trigger, "based_on": active.number},
        )
    new.plan = locked
    locked.patient = patient
    return new


def _signature_errors(
    patient: Patient, signature: str, name: str, on: date | None, reason: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if signature not in PatientSignature.values:
        return {"signature": f"Allowed values: {rules.allowed(dict(PatientSignature.choices))}."}
    if signature == PatientSignature.SIGNED:
        if not name.strip():
            errors["name"] = "Type the patient's full name as they signed."
        elif len(name.strip()) > NAME_MAX:
            errors["name"] = f"At most {NAME_MAX} characters."
        if on is None:
            errors["on"] = "Give the day the patient signed."
        elif on > local_day(patient) or on < rules.DATE_MIN:
            errors["on"] = "The day the patient signed cannot be in the future."
    if signature == PatientSignature.DECLINED:
        if not reason.strip():
            errors["reason"] = "Say why the patient declined to sign (in their words if you can)."
        elif len(reason.strip()) > REASON_MAX:
            errors["reason"] = f"At most {REASON_MAX} characters."
    return errors


def patient_signature_record(
    actor: Actor,
    version: PlanVersion,
    *,
    signature: str,
    name: str = "",
    on: date | None = None,
    reason: str = "",
) -> PlanVersion:
    """The patient's signature of a version: their typed full name and the day, or
    that they declined to sign and why. A draft's may change; an active version's is
    recorded once, when the clinician signed before the patient did."""
    same_org(actor, version)
    patient = version.plan.patient
    require_write(actor, patient)
    errors = _signature_errors(patient, signature, name, on, reason)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        lock_plan(version.plan)
        locked = PlanVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status == VersionStatus.SUPERSEDED:
            raise Conflict("This version was replaced by a later one; it takes no signature.")
        if locked.status == VersionStatus.ACTIVE and not locked.awaits_patient_signature:
            raise Conflict("The patient's signature of this version is already recorded.")
        if locked.status == VersionStatus.ACTIVE and signature == PatientSignature.NOT_YET:
            raise ValidationFailed({"signature": "Record the signature or that they declined."})
        signed = signature == PatientSignature.SIGNED
        declined = signature == PatientSignature.DECLINED
        locked.patient_signature = signature
        locked.patient_signed_name = name.strip() if signed else ""
        locked.patient_signed_on = on if signed else None
        locked.patient_declined_reason = reason.strip() if declined else ""
        recorded = signature != PatientSignature.NOT_YET
        locked.patient_signature_by_id = actor.user_id if recorded else None
        locked.patient_signature_at = timezone.now() if recorded else None
        locked.save()
        audit_plan(actor, locked, patient, detail={"patient_signature": signature})
    locked.plan = version.plan
    return locked
