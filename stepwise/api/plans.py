"""Treatment plans in the JSON API v1: a patient's plan (the version in force with
each objective's progress from notes, the draft, every version's summary), one
version, and the writes: start the plan, save the draft's contents, sign it, start a
review, record the patient's signature. Thin over the same services, selectors and
audit rows as the pages.

Items carry a `key` that stays the same through the plan's versions: send the keys
back when saving a draft (an item without one is new); progress recorded in notes
follows an objective's key."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja import Field, Router, Schema

from stepwise.api.auth import api_actor
from stepwise.api.permissions import requires
from stepwise.api.schemas import ClinicalIn, ErrorOut
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, NotFound
from stepwise.core.roles import Permission
from stepwise.plans.models import PlanVersion, TreatmentPlan
from stepwise.plans.rules import content as rules
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.plans.selectors import (
    ObjectiveRow,
    PlanForWrite,
    PlanTree,
    plan_for_write,
    plan_read,
    version_page,
    version_tree,
)
from stepwise.plans.services.drafts import ReviewReason, draft_save, plan_start
from stepwise.plans.services.versions import (
    patient_signature_record,
    review_start,
    version_sign,
)

router = Router(tags=["plans"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}
KEY = "Stays the same through the plan's versions; leave empty for a new item"


# ---------------------------------------------------------------------------
# Shapes


class InterventionIn(ClinicalIn):
    key: uuid.UUID | None = Field(None, description=KEY)
    kind: str = Field(description="session, medication, referral or other")
    responsible_role: str = Field(
        description="counselor, case_manager, nurse, physician, director or patient"
    )
    session_type: str = Field("", description="Sessions: the session type's code")
    sessions_per_week: int | None = Field(None, description="Sessions: how many a week, 1-28")
    medication: str = Field("", description='Medication: "buprenorphine continued with prescriber"')
    referral_to: str = Field("", description="Referral: to whom")
    referral_for: str = Field("", description="Referral: for what")
    detail: str = Field("", description="Other: what it is; a short note for the others")


class ObjectiveIn(ClinicalIn):
    key: uuid.UUID | None = Field(None, description=KEY)
    statement: str = Field(description="Measurable: who does what, how often, how checked")
    target_on: date | None = Field(None, description="The target date (needed)")
    status: str = Field("open", description="open, met, revised or discontinued")


class GoalIn(ClinicalIn):
    key: uuid.UUID | None = Field(None, description=KEY)
    statement: str
    objectives: list[ObjectiveIn] = Field(default_factory=list)
    interventions: list[InterventionIn] = Field(default_factory=list)


class ProblemIn(ClinicalIn):
    key: uuid.UUID | None = Field(None, description=KEY)
    dimension: int = Field(description="ASAM dimension (3rd edition), 1-6")
    statement: str
    goals: list[GoalIn] = Field(default_factory=list)
    interventions: list[InterventionIn] = Field(
        default_factory=list, description="Interventions for the problem as a whole"
    )


class DraftIn(ClinicalIn):
    patient_words: str = Field(
        "", description="What the patient wants from treatment, in their own words"
    )
    problems: list[ProblemIn] = Field(default_factory=list)
    trigger: str | None = Field(
        None,
        description="A review only: scheduled, level_of_care, relapse, patient_request or "
        "other (with why); left out, the draft keeps its own",
    )
    why: str | None = Field(None, description="A review only: why the plan is revised")


class ReviewIn(ClinicalIn):
    trigger: str = Field(description="scheduled, level_of_care, relapse, patient_request or other")
    why: str = Field(description="Why the plan is revised; kept with the new version")
    source_type: str = Field(
        "", description="The kind of record that led to it (relapse_event, stay...)"
    )
    source_id: uuid.UUID | None = Field(
        None,
        description="That record's public id: a relapse event of the patient's, or a stay "
        "of the plan's episode (level_of_care)",
    )


class PatientSignatureIn(ClinicalIn):
    signature: str = Field(description="signed, declined, or not_yet (a draft only)")
    name: str = Field("", description="Signed: the full name as the patient typed it")
    on: date | None = Field(None, description="Signed: the day")
    reason: str = Field("", description="Declined: why")


class InterventionOut(Schema):
    key: uuid.UUID
    kind: str
    description: str = Field(description="The intervention in one line")
    responsible_role: str
    session_type: str
    sessions_per_week: int | None
    medication: str
    referral_to: str
    referral_for: str
    detail: str


class RatingOut(Schema):
    at: datetime
    rating: str = Field(description="progressing, no_change, regressed or met")
    kind: str = Field(description="individual or group (this patient's entry)")
    note: uuid.UUID


class ProgressOut(Schema):
    notes: int = Field(description="Signed notes that addressed the objective")
    latest: str | None
    last_addressed_at: datetime | None
    ratings: list[RatingOut] = Field(description="Newest first")


class ObjectiveOut(Schema):
    key: uuid.UUID
    number: str = Field(description='"1.2.1": problem 1, goal 2, objective 1')
    statement: str
    target_on: date
    status: str
    overdue: bool = Field(description="In progress and past its target date")
    progress: ProgressOut | None = Field(description="From signed notes; null for a draft")


class GoalOut(Schema):
    key: uuid.UUID
    number: str
    statement: str
    objectives: list[ObjectiveOut]
    interventions: list[InterventionOut]


class ProblemOut(Schema):
    key: uuid.UUID
    number: str
    dimension: int
    dimension_name: str
    statement: str
    goals: list[GoalOut]
    interventions: list[InterventionOut]


class PatientSignatureOut(Schema):
    status: str = Field(description="not_yet, signed or declined")
    name: str
    on: date | None
    declined_reason: str


class VersionSummaryOut(Schema):
    id: uuid.UUID
    number: int
    status: str = Field(description="draft, active (signed, in force) or superseded")
    signed_at: datetime | None
    signed_by: str | None
    trigger: str = Field(description="Empty for version 1; what led to a review")
    why: str
    change_summary: list[str] = Field(description="What changed, set when signed")


class VersionOut(VersionSummaryOut):
    author: str | None
    created_at: datetime
    superseded_at: datetime | None
    review_interval_days: int | None
    review_due_on: date | None = Field(description="As signed (see the plan's for changes)")
    source_type: str
    source_id: uuid.UUID | None
    patient_words: str
    patient_signature: PatientSignatureOut
    problems: list[ProblemOut]


class PlanInfoOut(Schema):
    id: uuid.UUID
    episode: uuid.UUID
    episode_open: bool
    review_due_on: date | None = Field(
        description="When the review is due, brought forward by a change of level of care"
    )
    level_changed_to: str = Field(description="The program moved to since the last signing")
    level_changed_at: datetime | None


class PlanOut(Schema):
    plan: PlanInfoOut | None = Field(description="Null when the patient has no plan")
    active: VersionOut | None = Field(description="The version in force")
    draft: VersionOut | None = Field(description="The version being written")
    versions: list[VersionSummaryOut] = Field(description="Newest first")


# ---------------------------------------------------------------------------
# Serialising


def _name(user: AbstractBaseUser | None) -> str | None:
    return None if user is None else str(user.get_username())


def _intervention(item: Intervention) -> dict[str, Any]:
    return {
        "key": item.key,
        "kind": item.kind,
        "description": item.describe(),
        "responsible_role": item.responsible_role,
        "session_type": item.session_type,
        "sessions_per_week": item.sessions_per_week,
        "medication": item.medication,
        "referral_to": item.referral_to,
        "referral_for": item.referral_for,
        "detail": item.detail,
    }


def _objective(row: ObjectiveRow, with_progress: bool) -> dict[str, Any]:
    progress = None
    if with_progress:
        progress = {
            "notes": row.progress.count,
            "latest": row.progress.latest,
            "last_addressed_at": row.progress.last_at,
            "ratings": [
                {"at": n.at, "rating": n.rating, "kind": n.kind, "note": n.note_id}
                for n in row.notes
            ],
        }
    o = row.objective
    return {
        "key": o.key,
        "number": row.number,
        "statement": o.statement,
        "target_on": o.target_on,
        "status": o.status,
        "overdue": row.overdue,
        "progress": progress,
    }


def _summary(version: PlanVersion) -> dict[str, Any]:
    return {
        "id": version.public_id,
        "number": version.number,
        "status": version.status,
        "signed_at": version.signed_at,
        "signed_by": _name(version.signed_by),
        "trigger": version.trigger,
        "why": version.why,
        "change_summary": list(version.change_summary),
    }


def _version(tree: PlanTree) -> dict[str, Any]:
    version = tree.version
    with_progress = not version.is_draft
    return {
        **_summary(version),
        "author": _name(version.author),
        "created_at": version.created_at,
        "superseded_at": version.superseded_at,
        "review_interval_days": version.review_interval_days,
        "review_due_on": version.review_due_on,
        "source_type": version.source_type,
        "source_id": version.source_id,
        "patient_words": version.patient_words,
        "patient_signature": {
            "status": version.patient_signature,
            "name": version.patient_signed_name,
            "on": version.patient_signed_on,
            "declined_reason": version.patient_declined_reason,
        },
        "problems": [
            {
                "key": p.problem.key,
                "number": p.number,
                "dimension": p.problem.dimension,
                "dimension_name": p.problem.dimension_name,
                "statement": p.problem.statement,
                "interventions": [_intervention(i) for i in p.interventions],
                "goals": [
                    {
                        "key": g.goal.key,
                        "number": g.number,
                        "statement": g.goal.statement,
                        "objectives": [_objective(o, with_progress) for o in g.objectives],
                        "interventions": [_intervention(i) for i in g.interventions],
                    }
                    for g in p.goals
                ],
            }
            for p in tree.problems
        ],
    }


def _plan_info(plan: TreatmentPlan) -> dict[str, Any]:
    return {
        "id": plan.public_id,
        "episode": plan.episode.public_id,
        "episode_open": plan.episode.is_open,
        "review_due_on": plan.review_due_on,
        "level_changed_to": plan.level_changed_to,
        "level_changed_at": plan.level_changed_at,
    }


# ---------------------------------------------------------------------------
# Input to the rules' plain data


def _key(key: uuid.UUID | None) -> uuid.UUID:
    return key or rules.new_key()


def _intervention_in(item: InterventionIn) -> Intervention:
    return Intervention(
        key=_key(item.key),
        kind=item.kind,
        responsible_role=item.responsible_role,
        session_type=item.session_type,
        sessions_per_week=item.sessions_per_week,
        medication=item.medication,
        referral_to=item.referral_to,
        referral_for=item.referral_for,
        detail=item.detail,
    )


def _content(payload: DraftIn) -> Content:
    return Content(
        patient_words=payload.patient_words,
        problems=tuple(
            Problem(
                key=_key(p.key),
                dimension=p.dimension,
                statement=p.statement,
                interventions=tuple(_intervention_in(i) for i in p.interventions),
                goals=tuple(
                    Goal(
                        key=_key(g.key),
                        statement=g.statement,
                        objectives=tuple(
                            Objective(
                                key=_key(o.key),
                                statement=o.statement,
                                target_on=o.target_on,
                                status=o.status,
                            )
                            for o in g.objectives
                        ),
                        interventions=tuple(_intervention_in(i) for i in g.interventions),
                    )
                    for g in p.goals
                ),
            )
            for p in payload.problems
        ),
    )


# ---------------------------------------------------------------------------
# Operations


def _written(version: PlanVersion, target: PlanForWrite) -> dict[str, Any]:
    return _version(version_tree(version, target.patient))


def _target(actor: Actor, patient_id: str) -> PlanForWrite:
    return plan_for_write(actor, patient_id, Permission.PLAN_WRITE)


def _draft_of(target: PlanForWrite) -> PlanVersion:
    if target.plan is None:
        raise NotFound("This patient has no treatment plan; start it first.")
    draft = target.draft
    if draft is None:
        raise Conflict("This plan has no draft: start a review to make a new version.")
    return draft


@router.get(
    "/patients/{patient_id}/plan",
    response={200: PlanOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_plan(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """The patient's current treatment plan (their open episode's, else the newest):
    the version in force with each objective's progress from signed notes, the draft
    being written, and every version's summary. All null and empty without a plan."""
    found = plan_read(api_actor(request), patient_id)
    return {
        "plan": _plan_info(found.plan) if found.plan else None,
        "active": _version(found.active) if found.active else None,
        "draft": _version(found.draft) if found.draft else None,
        "versions": [_summary(v) for v in found.versions],
    }


@router.get(
    "/patients/{patient_id}/plan/versions/{version_id}",
    response={200: VersionOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_version(request: HttpRequest, patient_id: str, version_id: str) -> dict[str, Any]:
    """One version of one of the patient's plans, as it reads (a signed one never
    changes)."""
    return _version(version_page(api_actor(request), patient_id, version_id).tree)


@router.post(
    "/patients/{patient_id}/plan",
    response={201: VersionOut, **ERRORS},
    auth=requires(Permission.PLAN_WRITE),
)
def start_plan(request: HttpRequest, patient_id: str) -> tuple[int, Any]:
    """Start the plan of the patient's open episode: an empty draft version 1 (409
    without an open episode, or when the episode has its plan)."""
    actor = api_actor(request)
    target = _target(actor, patient_id)
    return 201, _written(plan_start(actor, target.patient), target)


@router.put(
    "/patients/{patient_id}/plan/draft",
    response={200: VersionOut, **ERRORS},
    auth=requires(Permission.PLAN_WRITE),
)
def save_draft(request: HttpRequest, patient_id: str, payload: DraftIn) -> dict[str, Any]:
    """Make the draft's contents exactly these (problems, goals, objectives,
    interventions and the patient's words). 422 names each fault by its path
    ("problems.0.goals.1.objectives.0.target_on"); 409 when there is no draft."""
    actor = api_actor(request)
    target = _target(actor, patient_id)
    draft = _draft_of(target)
    reason = None
    if payload.trigger is not None or payload.why is not None:
        reason = ReviewReason(payload.trigger or "", payload.why or "")
    return _written(draft_save(actor, draft, _content(payload), reason), target)


@router.post(
    "/patients/{patient_id}/plan/sign",
    response={200: VersionOut, **ERRORS},
    auth=requires(Permission.PLAN_WRITE),
)
def sign_draft(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """Sign the draft: it becomes the plan in force, the version before is
    superseded, what changed is stored and the next review scheduled. 422 names what
    is still missing (a problem with a goal, an objective and an intervention; the
    patient's words)."""
    actor = api_actor(request)
    target = _target(actor, patient_id)
    return _written(version_sign(actor, _draft_of(target)), target)


@router.post(
    "/patients/{patient_id}/plan/reviews",
    response={201: VersionOut, **ERRORS},
    auth=requires(Permission.PLAN_WRITE),
)
def start_review(request: HttpRequest, patient_id: str, payload: ReviewIn) -> tuple[int, Any]:
    """Start a review: a new draft copied from the version in force (the same items
    and keys), with what led to it and why. 409 while another review is in progress."""
    actor = api_actor(request)
    target = _target(actor, patient_id)
    if target.plan is None:
        raise NotFound("This patient has no treatment plan; start it first.")
    started = review_start(
        actor,
        target.plan,
        trigger=payload.trigger,
        why=payload.why,
        source_type=payload.source_type,
        source_id=payload.source_id,
    )
    return 201, _written(started, target)


@router.post(
    "/patients/{patient_id}/plan/versions/{version_id}/patient-signature",
    response={200: VersionOut, **ERRORS},
    auth=requires(Permission.PLAN_WRITE),
)
def record_patient_signature(
    request: HttpRequest, patient_id: str, version_id: str, payload: PatientSignatureIn
) -> dict[str, Any]:
    """The patient's signature of a version (typed full name and day), or that they
    declined and why. A draft's may change; a signed version's is recorded once."""
    actor = api_actor(request)
    target = _target(actor, patient_id)
    recorded = patient_signature_record(
        actor,
        target.version(version_id),
        signature=payload.signature,
        name=payload.name,
        on=payload.on,
        reason=payload.reason,
    )
    return _written(recorded, target)
