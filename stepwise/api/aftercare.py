"""Aftercare in the JSON API v1: a patient's aftercare plan and its check-ins. Read
the plan, start it, save its sections, record its review with the patient, end it
(the patient's choice) or restart it, list and record check-ins. Thin over the same
services, selectors and audit rows as the pages."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from stepwise.aftercare.models import AftercarePlan, Checkin
from stepwise.aftercare.rules import checkin as checkin_rules
from stepwise.aftercare.rules import plan as plan_rules
from stepwise.aftercare.selectors import (
    PlanView,
    checkins_read,
    plan_for_write,
    plan_page_read,
)
from stepwise.aftercare.services.checkins import checkin_record
from stepwise.aftercare.services.plans import (
    plan_activate,
    plan_end,
    plan_restart,
    plan_sections_save,
    plan_start,
)
from stepwise.api.auth import api_actor
from stepwise.api.permissions import requires
from stepwise.api.schemas import ClinicalIn, ErrorOut, InputSchema
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient

router = Router(tags=["aftercare"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# ---------------------------------------------------------------------------
# Shapes


class SupportIO(InputSchema):
    kind: str = Field(
        description="therapist, support_group, medication (continuation with the "
        "prescriber), sober_living, family_therapy or other"
    )
    group: str = Field("", description="For a support group: na, aa, smart or other")
    name: str = Field(description="The therapist, the meeting, the prescriber, the house")
    contact: str = Field("", description="Phone")
    schedule: str = Field("", description="When and how often, e.g. 'Tuesdays 19:00, weekly'")
    next_on: date | None = Field(None, description="The next appointment, when one is booked")


class PersonIO(InputSchema):
    who: str = Field(description="A name or a short description")
    relationship: str = Field(description="codependent, enabler, supplier or other")


class ContactIO(InputSchema):
    name: str
    relationship: str = Field("", description="In the patient's words: sister, sponsor")
    phone: str


class PlanOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    status: str = Field(description="draft, active (reviewed with the patient) or ended")
    revision: int = Field(description="Counts changes; send it back to refuse a save over another")
    started_at: datetime
    started_by: str
    reviewed_at: datetime | None
    reviewed_by: str | None
    review_note: str
    ended_on: date | None
    end_reason: str
    supports: list[SupportIO]
    triggers: list[str]
    people_to_avoid: list[PersonIO]
    coping_strategies: list[str]
    warning_signs: list[str]
    emergency_contacts: list[ContactIO]
    crisis_steps: list[str]
    checkins_from: date | None = Field(description="First day of the check-in schedule, if running")
    checkin_schedule: str = Field(description="The taper in plain words")
    checkin_method: str


class AftercareOut(Schema):
    patient: uuid.UUID
    plan: PlanOut | None = Field(description="Null until a plan is started")
    crisis_lines: list[str] = Field(
        description="What every crisis plan shows: 988, the program's 24/7 line, 911"
    )
    crisis_note: str = Field(
        description="When no 24/7 line is set and the plan's steps say to call it, what "
        "the page and the printed copy say instead (call or text 988); empty otherwise"
    )


class SectionsIn(ClinicalIn):
    """The sections to save, each whole (its entries replace the earlier ones, which
    the history keeps); a section left out is unchanged."""

    revision: int | None = Field(
        None, description="The plan's revision you read; a save over a later change is 409"
    )
    supports: list[SupportIO] | None = None
    triggers: list[str] | None = None
    people_to_avoid: list[PersonIO] | None = None
    coping_strategies: list[str] | None = None
    warning_signs: list[str] | None = None
    emergency_contacts: list[ContactIO] | None = None
    crisis_steps: list[str] | None = None


class ReviewIn(ClinicalIn):
    reviewed_at: datetime | None = Field(None, description="When it was gone through; default now")
    note: str = Field("", description="Who took part")


class EndIn(ClinicalIn):
    reason: str = Field(description="The patient's reason, in their words")
    ended_on: date | None = Field(None, description="The day the patient chose; default today")


class RestartIn(ClinicalIn):
    note: str = ""


class CheckinOut(Schema):
    id: uuid.UUID
    due_on: date
    scheduled: bool
    method: str = Field(description="phone, portal or in_person")
    status: str = Field(description="due, done, missed or cancelled (no longer due)")
    missed_at: datetime | None
    happened_at: datetime | None
    recorded_by: str | None
    wellbeing: int | None = Field(description="1 struggling a lot ... 5 doing very well")
    wellbeing_label: str
    craving: int | None
    used: bool | None
    substances: list[int] = Field(description="TEDS substance codes")
    used_on: date | None
    supports_attended: list[str]
    note: str


class CheckinsOut(Schema):
    upcoming: list[CheckinOut]
    missed: list[CheckinOut]
    done: list[CheckinOut]


class CheckinIn(ClinicalIn):
    checkin: uuid.UUID | None = Field(
        None, description="The due or missed check-in this records; none: an unscheduled one"
    )
    method: str = Field(description="phone, portal or in_person")
    at: datetime | None = Field(None, description="When it took place; default now")
    wellbeing: int = Field(
        description="; ".join(f"{v} {t.lower()}" for v, t in checkin_rules.WELLBEING)
    )
    craving: int = Field(description="0 (none) to 10 (the worst)")
    used: bool = Field(description="Any use since the last check-in")
    substances: list[int] = Field(default_factory=list, description="TEDS codes, when used")
    used_on: date | None = Field(None, description="The day of use, when known")
    supports_attended: list[str] = Field(default_factory=list)
    note: str = ""


# ---------------------------------------------------------------------------
# Serialising


def _name(user: AbstractBaseUser | None) -> str | None:
    return None if user is None else str(user.get_username())


def _plan(plan: AftercarePlan) -> dict[str, Any]:
    view = PlanView.of(plan)
    stored = {s.value: getattr(plan, s.value) for s in plan_rules.Section}
    return {
        "id": plan.public_id,
        "patient": plan.patient.public_id,
        "status": plan.status,
        "revision": plan.revision,
        "started_at": plan.started_at,
        "started_by": _name(plan.started_by),
        "reviewed_at": plan.reviewed_at,
        "reviewed_by": _name(plan.reviewed_by),
        "review_note": plan.review_note,
        "ended_on": plan.ended_on,
        "end_reason": plan.end_reason,
        **stored,
        "checkins_from": plan.checkins_from,
        "checkin_schedule": view.schedule_text,
        "checkin_method": plan.checkin_method,
    }


def _checkin(row: Checkin) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "due_on": row.due_on,
        "scheduled": row.scheduled,
        "method": row.method,
        "status": row.status,
        "missed_at": row.missed_at,
        "happened_at": row.happened_at,
        "recorded_by": _name(row.recorded_by) if row.recorded_by_id else None,
        "wellbeing": row.wellbeing,
        "wellbeing_label": row.wellbeing_label,
        "craving": row.craving,
        "used": row.used,
        "substances": list(row.substances or []),
        "used_on": row.used_on,
        "supports_attended": list(row.supports_attended or []),
        "note": row.note,
    }


def _writable(request: HttpRequest, patient_id: str) -> tuple[Actor, Patient, AftercarePlan]:
    actor = api_actor(request)
    patient, plan = plan_for_write(actor, patient_id)
    if plan is None:
        raise Conflict("No aftercare plan yet: start one (POST /patients/{id}/aftercare).")
    return actor, patient, plan


def _fresh(actor: Actor, patient_id: str) -> dict[str, Any]:
    plan = plan_for_write(actor, patient_id)[1]
    assert plan is not None
    return _plan(plan)


# ---------------------------------------------------------------------------
# The plan


@router.get(
    "/patients/{patient_id}/aftercare",
    response={200: AftercareOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_aftercare(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """The patient's aftercare plan (null until started) and the crisis lines it shows,
    as the plan's page and printed copy show them."""
    actor = api_actor(request)
    page = plan_page_read(actor, patient_id)
    crisis = page.crisis_lines(actor.organization.name)
    return {
        "patient": page.patient.public_id,
        "plan": _plan(page.plan) if page.plan else None,
        "crisis_lines": list(crisis.lines),
        "crisis_note": crisis.note,
    }


@router.post(
    "/patients/{patient_id}/aftercare",
    response={201: PlanOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def start_aftercare(request: HttpRequest, patient_id: str) -> tuple[int, Any]:
    """Start the plan as a draft (409 when the patient has one; an ended one is restarted)."""
    actor = api_actor(request)
    patient, _ = plan_for_write(actor, patient_id)
    plan_start(actor, patient)
    return 201, _fresh(actor, patient_id)


@router.patch(
    "/patients/{patient_id}/aftercare/sections",
    response={200: PlanOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def save_sections(request: HttpRequest, patient_id: str, payload: SectionsIn) -> dict[str, Any]:
    """Save whole sections (422 names each bad entry, e.g. `supports[1].name`)."""
    actor, _, plan = _writable(request, patient_id)
    given = payload.model_dump(exclude_unset=True, exclude={"revision"})
    sections = {name: value for name, value in given.items() if value is not None}
    if not sections:
        raise ValidationFailed({"sections": "Give at least one section to save."})
    plan_sections_save(actor, plan, sections, expected_revision=payload.revision)
    return _fresh(actor, patient_id)


@router.post(
    "/patients/{patient_id}/aftercare/activate",
    response={200: PlanOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def activate_aftercare(request: HttpRequest, patient_id: str, payload: ReviewIn) -> dict[str, Any]:
    """Record the review with the patient (the caller, at `reviewed_at`): the plan is
    active. Needs at least one support (422 names it)."""
    actor, _, plan = _writable(request, patient_id)
    plan_activate(actor, plan, reviewed_at=payload.reviewed_at, note=payload.note)
    return _fresh(actor, patient_id)


@router.post(
    "/patients/{patient_id}/aftercare/end",
    response={200: PlanOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def end_aftercare(request: HttpRequest, patient_id: str, payload: EndIn) -> dict[str, Any]:
    """The patient ends their plan: the day and their reason are kept; check-ins stop."""
    actor, _, plan = _writable(request, patient_id)
    plan_end(actor, plan, reason=payload.reason, ended_on=payload.ended_on)
    return _fresh(actor, patient_id)


@router.post(
    "/patients/{patient_id}/aftercare/restart",
    response={200: PlanOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def restart_aftercare(request: HttpRequest, patient_id: str, payload: RestartIn) -> dict[str, Any]:
    """Take up an ended plan again, as a draft."""
    actor, _, plan = _writable(request, patient_id)
    plan_restart(actor, plan, note=payload.note)
    return _fresh(actor, patient_id)


# ---------------------------------------------------------------------------
# Check-ins


@router.get(
    "/patients/{patient_id}/aftercare/checkins",
    response={200: CheckinsOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def list_checkins(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """Upcoming (soonest first), missed and done (newest first) check-ins."""
    found = checkins_read(api_actor(request), patient_id, timezone.now())
    return {
        "upcoming": [_checkin(c) for c in found.upcoming],
        "missed": [_checkin(c) for c in found.missed],
        "done": [_checkin(c) for c in found.done],
    }


@router.post(
    "/patients/{patient_id}/aftercare/checkins",
    response={201: CheckinOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def record_checkin(request: HttpRequest, patient_id: str, payload: CheckinIn) -> tuple[int, Any]:
    """Record a check-in: the due or missed one named, or an unscheduled one. A report
    of use proposes a relapse event in the same transaction."""
    actor = api_actor(request)
    found = checkins_read(actor, patient_id, timezone.now(), permission=Permission.RECOVERY_WRITE)
    if found.plan is None:
        raise Conflict("No aftercare plan yet: start one and record its review first.")
    checkin = None
    if payload.checkin is not None:
        checkin = next(
            (c for c in [*found.missed, *found.upcoming] if c.public_id == payload.checkin), None
        )
        if checkin is None:
            raise ValidationFailed(
                {"checkin": "No due or missed check-in with this id in this patient's plan."}
            )
    found.plan.patient = found.patient
    report = checkin_rules.Report(
        wellbeing=payload.wellbeing,
        craving=payload.craving,
        used=payload.used,
        substances=tuple(payload.substances),
        used_on=payload.used_on,
        supports_attended=tuple(payload.supports_attended),
        note=payload.note,
    )
    row = checkin_record(
        actor, found.plan, report, method=payload.method, checkin=checkin, at=payload.at
    )
    return 201, _checkin(Checkin.objects.select_related("recorded_by").get(pk=row.pk))
