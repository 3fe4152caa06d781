"""Endpoints of the JSON API v1. Each calls the same selectors and services as the pages."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from stepwise.api.auth import api_actor
from stepwise.api.permissions import requires
from stepwise.api.schemas import (
    AdmitIn,
    DischargeIn,
    EpisodeOut,
    ErrorOut,
    PatientIn,
    PatientListItem,
    PatientOut,
    PatientPage,
    PlannedEndIn,
    ProgramOut,
    StayOut,
    TimelineOut,
    TransitionIn,
)
from stepwise.care.chart import (
    episode_for,
    episode_timeline_read,
    patient_for,
    patient_list_page,
    patient_record_read,
)
from stepwise.care.models import Episode, Program, Stay
from stepwise.care.selectors import open_stay, program_get, programs_of
from stepwise.care.services import (
    episode_admit,
    episode_discharge,
    stay_plan_end,
    stay_transition,
)
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient
from stepwise.patients.services import PatientData, patient_create

router = Router()

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


def _program(actor: Actor, public_id: uuid.UUID, field: str) -> Program:
    """A program named in the body: unknown is a 422 on that field, not a 404 of the URL."""
    try:
        return program_get(actor, public_id)
    except NotFound:
        raise ValidationFailed({field: "No program with this id in your organization."}) from None


@router.get(
    "/programs",
    response={200: list[ProgramOut], **READ_ERRORS},
    tags=["programs"],
    auth=requires(Permission.CENSUS_READ),
)
def list_programs(request: HttpRequest) -> list[Program]:
    """The organization's active programs, to admit and transfer into."""
    return list(programs_of(api_actor(request)))


@router.post(
    "/patients",
    response={201: PatientOut, **ERRORS},
    tags=["patients"],
    auth=requires(Permission.PATIENT_CREATE),
)
def create_patient(request: HttpRequest, payload: PatientIn) -> tuple[int, Patient]:
    """Register a patient. Coded fields take TEDS codes; -9 means unknown."""
    return 201, patient_create(api_actor(request), PatientData(**payload.dict()))


@router.get(
    "/patients",
    response={200: PatientPage, **READ_ERRORS},
    tags=["patients"],
    auth=requires(Permission.PATIENT_LIST),
)
def list_patients(
    request: HttpRequest,
    q: Query[str] = "",
    page: Query[int] = 1,
) -> dict[str, object]:
    """List or search patients by name, date of birth (YYYY-MM-DD) or record number."""
    found, rows = patient_list_page(api_actor(request), q, page, settings.PATIENTS_PER_PAGE)
    return {
        "count": found.paginator.count,
        "page": found.number,
        "pages": found.paginator.num_pages,
        "results": [
            PatientListItem(
                id=row.patient.public_id,
                mrn=row.patient.mrn,
                given_name=row.patient.given_name,
                family_name=row.patient.family_name,
                date_of_birth=row.patient.date_of_birth,
                current_program=row.stay.program.name if row.stay else None,
                current_level=row.stay.program.asam_level if row.stay else None,
            )
            for row in rows
        ],
    }


@router.get(
    "/patients/{patient_id}",
    response={200: PatientOut, **READ_ERRORS},
    tags=["patients"],
    auth=requires(Permission.CHART_READ),
)
def read_patient(request: HttpRequest, patient_id: str) -> Patient:
    return patient_record_read(api_actor(request), patient_id)


@router.post(
    "/patients/{patient_id}/admit",
    response={201: EpisodeOut, **ERRORS},
    tags=["episodes"],
    auth=requires(Permission.CARE_WRITE),
)
def admit(request: HttpRequest, patient_id: str, payload: AdmitIn) -> tuple[int, Episode]:
    """Open an episode with its first stay. 409 if the beds are full or an episode is open."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.CARE_WRITE)
    program = _program(actor, payload.program, "program")
    episode = episode_admit(
        actor, patient, program, at=payload.admitted_at, referral_source=payload.referral_source
    )
    return 201, episode


@router.post(
    "/episodes/{episode_id}/transition",
    response={201: StayOut, **ERRORS},
    tags=["episodes"],
    auth=requires(Permission.CARE_WRITE),
)
def transition(request: HttpRequest, episode_id: str, payload: TransitionIn) -> tuple[int, Stay]:
    """Close the current stay and open the next: step_down, step_up or transfer, with a reason."""
    actor = api_actor(request)
    episode = episode_for(actor, episode_id, permission=Permission.CARE_WRITE)
    to_program = _program(actor, payload.to_program, "to_program")
    stay = stay_transition(
        actor, episode, to_program, kind=payload.kind, reason=payload.reason, at=payload.at
    )
    return 201, stay


@router.post(
    "/episodes/{episode_id}/discharge",
    response={200: EpisodeOut, **ERRORS},
    tags=["episodes"],
    auth=requires(Permission.CARE_WRITE),
)
def discharge(request: HttpRequest, episode_id: str, payload: DischargeIn) -> Episode:
    """Close the episode with a TEDS reason for discharge (1-7)."""
    actor = api_actor(request)
    episode = episode_for(actor, episode_id, permission=Permission.CARE_WRITE)
    return episode_discharge(
        actor, episode, reason=payload.reason, at=payload.at, note=payload.note
    )


@router.post(
    "/episodes/{episode_id}/planned-end",
    response={200: StayOut, **ERRORS},
    tags=["episodes"],
    auth=requires(Permission.CARE_WRITE),
)
def planned_end(request: HttpRequest, episode_id: str, payload: PlannedEndIn) -> Stay:
    """Set or clear the day the patient is planned to leave the current program."""
    actor = api_actor(request)
    episode = episode_for(actor, episode_id, permission=Permission.CARE_WRITE)
    if not episode.is_open:
        raise Conflict("This episode is discharged; it has no current stay to plan.")
    return stay_plan_end(actor, open_stay(episode), on=payload.planned_end_on)


@router.get(
    "/episodes/{episode_id}/timeline",
    response={200: TimelineOut, **READ_ERRORS},
    tags=["episodes"],
    auth=requires(Permission.CHART_READ),
)
def timeline(request: HttpRequest, episode_id: str) -> dict[str, object]:
    actor = api_actor(request)
    found = episode_timeline_read(actor, episode_id, timezone.now())
    return {"episode": found.episode, "stays": found.stays, "events": found.events}
