"""What the plan services share: the audit category, access, locks, the draft-only
rule, the patient's day and the review interval in force."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime
from typing import Any

from django.utils import timezone

from stepwise.care.models import EpisodeStatus
from stepwise.care.selectors import current_stay_of, patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.plans.models import (
    IMMUTABLE,
    PlanSettings,
    PlanVersion,
    ProgramReviewInterval,
    TreatmentPlan,
    VersionStatus,
)
from stepwise.plans.rules import review
from stepwise.scheduling.models import SessionType

CATEGORY = "plans"


def same_org(actor: Actor, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != actor.organization_id:
            raise NotFound()


def require_write(actor: Actor, patient: Patient) -> None:
    """A treating clinician on the care team (or the director) writes the plan."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.PLAN_WRITE, patient, category=CATEGORY)


def lock_plan(plan: TreatmentPlan) -> TreatmentPlan:
    """The plan row, locked: every write to a plan or its versions takes it first, so
    two writes to one plan happen one after the other. Only the plan's row is locked:
    a transition holds the episode's and then takes the plan's (the level-of-care hook)."""
    return (
        TreatmentPlan.objects.select_for_update(of=("self",))
        .select_related("episode")
        .get(pk=plan.pk)
    )


def require_open_episode(plan: TreatmentPlan) -> None:
    if plan.episode.status != EpisodeStatus.OPEN:
        raise Conflict("The episode was discharged: its plan is closed and kept as it was.")


def locked_draft(plan: TreatmentPlan, version: PlanVersion | None = None) -> PlanVersion:
    """The plan's draft, locked (the plan's lock is held). With `version`, that version
    must be the draft: a signed one is never changed."""
    draft = PlanVersion.objects.select_for_update().filter(plan=plan, status=VersionStatus.DRAFT)
    if version is not None:
        draft = draft.filter(pk=version.pk)
    found = draft.first()
    if found is None:
        if version is not None and version.status != VersionStatus.DRAFT:
            raise Conflict(IMMUTABLE)
        raise Conflict("This plan has no draft: start a review to make a new version.")
    return found


def local_day(patient: Patient, at: datetime | None = None) -> date:
    """The day it is (or was at `at`) where the patient is treated."""
    zone = zoneinfo.ZoneInfo(patient_time_zone(patient))
    return (at or timezone.now()).astimezone(zone).date()


def interval_for_patient(patient: Patient) -> int:
    """Days between reviews: the patient's current program's own, or the organization's."""
    stay = current_stay_of(patient)
    program_days = None
    if stay is not None:
        program_days = (
            ProgramReviewInterval.objects.filter(program_id=stay.program_id)
            .values_list("review_interval_days", flat=True)
            .first()
        )
    organization_days = (
        PlanSettings.objects.filter(organization_id=patient.organization_id)
        .values_list("review_interval_days", flat=True)
        .first()
    )
    return review.interval_for(organization_days, program_days)


def session_types_of(organization_id: int) -> dict[str, SessionType]:
    return {t.code: t for t in SessionType.objects.filter(organization_id=organization_id)}


def audit_plan(
    actor: Actor,
    version: PlanVersion,
    patient: Patient,
    *,
    action: str = AuditAction.UPDATE,
    detail: dict[str, Any] | None = None,
) -> None:
    audit_record(
        action=action,
        actor=actor,
        patient_public_id=patient.public_id,
        category=CATEGORY,
        object_type="plan_version",
        object_id=version.public_id,
        detail={"version": version.number, "status": version.status, **(detail or {})},
    )
