"""The schedule in the JSON API v1: session types, rooms and holidays, recurring series
and their sessions, a program's week (seat counts, no names), a session's roster and
attendance for those who run it, weekly clinical hours against the level's minimum,
a patient's schedule, optional enrollment, individual appointments and outreach after
missed sessions. Thin over the same services, selectors and audit rows as the pages.

Records are named by their public ids; a member of staff (a facilitator) by the id of
their staff membership, as `GET /facilitators` lists them. Times are ISO 8601 with
their offset: each session gives its UTC times and the same times in its facility's
zone (`starts_local`, `ends_local`)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, prefetch_related_objects
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import staff_member
from stepwise.api.auth import api_actor
from stepwise.api.permissions import PermissionToken
from stepwise.api.schemas import ClinicalIn, ErrorOut
from stepwise.care.chart import patient_for
from stepwise.care.models import Program
from stepwise.care.selectors import current_stay_of, program_get
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound, ValidationFailed, allowed_values
from stepwise.core.ids import public_id_or_404
from stepwise.core.models import Facility
from stepwise.core.roles import Permission, role_can
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient, Task
from stepwise.scheduling import rules, selectors
from stepwise.scheduling.models import (
    ATTENDED_STATUSES,
    Attendance,
    AttendanceStatus,
    Closure,
    Enrollment,
    OutreachAttempt,
    OutreachMethod,
    OutreachOutcome,
    Room,
    Session,
    SessionMode,
    SessionSeries,
    SessionType,
)
from stepwise.scheduling.services.attendance import Mark, attendance_record
from stepwise.scheduling.services.common import CATEGORY, may_run, zone_of
from stepwise.scheduling.services.enrollment import (
    appointment_book,
    enroll_optional,
    enrollment_end,
    enrollment_get,
)
from stepwise.scheduling.services.outreach import OUTREACH, outreach_attempt_record
from stepwise.scheduling.services.series import (
    FACILITATOR_ROLES,
    SeriesPlan,
    closure_add,
    room_create,
    series_create,
    series_end,
    series_get,
    session_cancel,
    session_get,
    session_move,
)
from stepwise.scheduling.services.types import session_type_save

router = Router(tags=["scheduling"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}

NOTE = 4000  # the longest free text taken in a note
# Days outside these are typing mistakes (and a day near date.max cannot be counted on from).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
TAKEN = [(s.value, s.label) for s in AttendanceStatus if s != AttendanceStatus.EXPECTED]


def _allowed(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


def _in_range(day: date) -> bool:
    return FIRST_DAY <= day <= LAST_DAY


# ---------------------------------------------------------------------------
# Records named by the path: in the actor's organization or 404 (the same for a
# foreign and an unknown id), checked before the body is read.


def _facility_of(actor: Actor, facility_id: str) -> Facility:
    facility = Facility.objects.filter(
        organization_id=actor.organization_id, public_id=public_id_or_404(facility_id)
    ).first()
    if facility is None:
        raise NotFound()
    return facility


def _series_of(actor: Actor, series_id: str) -> SessionSeries:
    return series_get(actor, public_id_or_404(series_id))


def _session_of(actor: Actor, session_id: str) -> Session:
    return session_get(actor, public_id_or_404(session_id))


def _enrollment_of(actor: Actor, enrollment_id: str) -> Enrollment:
    return enrollment_get(actor, public_id_or_404(enrollment_id))


class ScheduleToken(PermissionToken):
    """A PermissionToken for paths that name a program, a facility, a series, a session
    or an enrollment: the record must be in the actor's organization (else 404), and an
    enrollment's patient within the actor's reach for the permission (care team),
    checked before the body is read, as PermissionToken does for a patient id."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = super().authenticate(request, token)
        if actor is None:
            return None
        path = request.resolver_match.kwargs if request.resolver_match else {}
        if "program_id" in path:
            program_get(actor, str(path["program_id"]))
        if "facility_id" in path:
            _facility_of(actor, str(path["facility_id"]))
        if "series_id" in path:
            _series_of(actor, str(path["series_id"]))
        if "session_id" in path:
            _session_of(actor, str(path["session_id"]))
        if "enrollment_id" in path:
            enrollment = _enrollment_of(actor, str(path["enrollment_id"]))
            require_patient_access(actor, self.permission, enrollment.patient, category=CATEGORY)
        return actor


def on_schedule(permission: Permission) -> ScheduleToken:
    return ScheduleToken(permission)


# ---------------------------------------------------------------------------
# Records named in the body: unknown is a 422 on that field, not a 404 of the URL.


def _program(actor: Actor, public_id: uuid.UUID, field: str = "program") -> Program:
    try:
        return program_get(actor, public_id)
    except NotFound:
        raise ValidationFailed({field: "No program with this id in your organization."}) from None


def _session_type(actor: Actor, public_id: uuid.UUID) -> SessionType:
    found = SessionType.objects.filter(
        organization_id=actor.organization_id, public_id=public_id
    ).first()
    if found is None:
        raise ValidationFailed({"session_type": "No session type with this id here."})
    return found


def _room(actor: Actor, public_id: uuid.UUID | None) -> Room | None:
    if public_id is None:
        return None
    found = Room.objects.filter(organization_id=actor.organization_id, public_id=public_id).first()
    if found is None:
        raise ValidationFailed({"room": "No room with this id in your organization."})
    return found


def _facilitator(actor: Actor, public_id: uuid.UUID) -> int:
    """The user id of the member of staff with this membership id."""
    member = staff_member(actor.organization_id, public_id)
    if member is None:
        raise ValidationFailed(
            {"facilitator": "No member of staff with this id here (see GET /facilitators)."}
        )
    return member.user_id


def _monday(week: date | None, zone: ZoneInfo) -> date:
    """The Monday of the week of `week` (default: this week in the facility's zone)."""
    if week is None:
        return rules.week_start(timezone.now().astimezone(zone).date())
    if not _in_range(week):
        raise ValidationFailed({"week": "Give a day between 1900 and 2199."})
    return rules.week_start(week)


# ---------------------------------------------------------------------------
# Shapes


class ScheduleIn(ClinicalIn):
    """A request body of the schedule: as any clinical body, and an unknown field is
    refused by name (a misspelt `minute` must not be dropped silently), as is a day
    outside 1900-2199."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _day_in_range(cls, value: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime) and not _in_range(value):
            raise PydanticCustomError("date_range", "Give a day between 1900 and 2199.")
        return value


class Ref(Schema):
    id: uuid.UUID
    name: str


class StaffRef(Schema):
    id: uuid.UUID | None = Field(
        description="The staff membership id, as `facilitator` takes it (GET /facilitators)"
    )
    username: str
    name: str


class FacilitatorOut(StaffRef):
    role: str


class SessionTypeOut(Schema):
    id: uuid.UUID
    code: str
    name: str
    mode: str = Field(description=_allowed(SessionMode.values))
    default_minutes: int
    counts_clinical: bool = Field(description="Counts toward the weekly clinical hours")
    is_active: bool


class RoomOut(Schema):
    id: uuid.UUID
    facility: uuid.UUID
    name: str
    seats: int | None
    is_active: bool


class FacilityOut(Schema):
    id: uuid.UUID
    name: str
    time_zone: str
    rooms: list[RoomOut]


class ClosureOut(Schema):
    id: uuid.UUID
    facility: uuid.UUID
    on: date
    name: str


class TypeRef(Schema):
    id: uuid.UUID
    code: str
    name: str
    mode: str
    counts_clinical: bool


class SeriesOut(Schema):
    id: uuid.UUID
    program: Ref
    session_type: TypeRef
    title: str
    facilitator: StaffRef
    room: Ref | None
    capacity: int | None
    rule: str = Field(description="RFC 5545 recurrence rule over the facility's wall clock")
    start_time: str = Field(description="HH:MM in the facility's zone")
    minutes: int
    first_day: date
    last_day: date | None
    is_core: bool = Field(description="Core: every patient of the program is seated")
    time_zone: str
    generated_through: date = Field(description="Sessions exist as rows up to this day")
    enrolled: int = Field(description="Open enrollments (how many, no names)")


class SessionOut(Schema):
    id: uuid.UUID
    title: str
    program: Ref
    series: uuid.UUID | None = Field(description="Null for a one-off (an appointment)")
    occurrence_on: date | None = Field(description="The series' day this occurrence is for")
    session_type: TypeRef
    facilitator: StaffRef
    room: Ref | None
    capacity: int | None
    starts_at: datetime
    ends_at: datetime
    starts_local: datetime = Field(description="The start in the facility's zone")
    ends_local: datetime
    time_zone: str
    minutes: int
    status: str = Field(description="scheduled or cancelled")
    cancel_reason: str
    moved_from: datetime | None
    seats: int = Field(description="Patients seated (counts only)")
    taken: int = Field(description="Seats whose attendance is taken")
    attended: int = Field(description="Present, late or left early")


class SeatOut(Schema):
    patient: uuid.UUID
    name: str
    mrn: str
    status: str = Field(description="expected (not taken yet), " + _allowed(dict(TAKEN)))
    status_label: str
    minutes_attended: int | None
    recorded_by: str | None
    recorded_at: datetime | None


class SessionDetailOut(SessionOut):
    roster: list[SeatOut] | None = Field(
        description="Members with their attendance, for those who run the session (its "
        "facilitator, the program's staff, the director); null for anyone else"
    )


class DayOut(Schema):
    on: date
    closed: str = Field(description="The holiday's name when the facility is closed")
    sessions: list[SessionOut]


class WeekOut(Schema):
    program: Ref
    time_zone: str
    week_start: date = Field(description="The Monday of the week")
    days: list[DayOut]


class PatientWeekOut(Schema):
    patient: uuid.UUID
    name: str
    mrn: str
    stay: uuid.UUID
    minimum_hours: float | None
    scheduled_hours: float
    attended_hours: float
    remaining_hours: float = Field(description="Scheduled and not yet over")
    shortfall_hours: float
    status: str = Field(description=_allowed(s.value for s in rules.IntensityStatus))


class NotTakenOut(Schema):
    id: uuid.UUID
    title: str
    starts_at: datetime
    starts_local: datetime


class IntensityOut(Schema):
    program: Ref
    level: str
    time_zone: str
    week_start: date
    minimum_hours: int | None = Field(description="The level's adult minimum a week")
    patients: list[PatientWeekOut]
    short: int = Field(description="Patients who cannot reach the minimum this week")
    sessions_not_taken: list[NotTakenOut] = Field(
        description="Past sessions of the week with attendance nobody took"
    )


class PatientSeatOut(Schema):
    session: uuid.UUID
    title: str
    session_type: str
    program: Ref
    facilitator: str
    room: str | None
    starts_at: datetime
    ends_at: datetime
    starts_local: datetime
    ends_local: datetime
    session_status: str
    cancel_reason: str
    attendance: str
    minutes_attended: int | None


class SeriesRef(Schema):
    id: uuid.UUID
    title: str
    program: Ref


class EnrollmentOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    series: SeriesRef
    kind: str = Field(description="core (with the stay) or optional (by choice)")
    started_at: datetime
    ended_at: datetime | None
    end_reason: str


class WeekHoursOut(Schema):
    week_start: date
    minimum_hours: float | None
    scheduled_hours: float
    attended_hours: float
    remaining_hours: float
    shortfall_hours: float
    status: str


class OptionalSeriesOut(Schema):
    id: uuid.UUID
    title: str
    session_type: str
    rule: str
    start_time: str
    minutes: int


class StayRef(Schema):
    id: uuid.UUID
    program: Ref
    level: str
    started_at: datetime


class ScheduleOut(Schema):
    patient: uuid.UUID
    stay: StayRef | None = Field(description="The current stay; null when not in a program")
    upcoming: list[PatientSeatOut]
    past: list[PatientSeatOut] = Field(description="The last eight weeks, newest first")
    enrollments: list[EnrollmentOut]
    weeks: list[WeekHoursOut] = Field(description="Four weeks back and this one, oldest first")
    optional_series: list[OptionalSeriesOut] = Field(
        description="Optional series of the current program the patient may choose"
    )


class OutreachOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    task: uuid.UUID | None
    at: datetime
    method: str
    outcome: str
    note: str
    by: str


def _ref(obj: Any) -> dict[str, Any]:
    return {"id": obj.public_id, "name": obj.name}


def _type_ref(kind: SessionType) -> dict[str, Any]:
    return {
        "id": kind.public_id,
        "code": kind.code,
        "name": kind.name,
        "mode": kind.mode,
        "counts_clinical": kind.counts_clinical,
    }


def _staff(organization_id: int, user_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """Staff references by user id, in one query."""
    members = Membership.objects.filter(
        organization_id=organization_id, user_id__in=set(user_ids)
    ).select_related("user")
    return {
        m.user_id: {
            "id": m.public_id,
            "username": m.user.get_username(),
            "name": m.user.get_full_name() or m.user.get_username(),
        }
        for m in members
    }


def _staff_ref(staff: dict[int, dict[str, Any]], user_id: int) -> dict[str, Any]:
    return staff.get(user_id) or {"id": None, "username": "", "name": "Former member of staff"}


def _counts(session: Session) -> dict[str, int]:
    """Seat counts: the selectors' annotations when present, else one query."""
    if hasattr(session, "seats"):
        return {
            "seats": session.seats,
            "taken": getattr(session, "taken", 0),
            "attended": getattr(session, "came", 0),
        }
    found = Attendance.objects.filter(session=session).aggregate(
        seats=Count("id"),
        taken=Count("id", filter=~Q(status=AttendanceStatus.EXPECTED)),
        attended=Count("id", filter=Q(status__in=ATTENDED_STATUSES)),
    )
    return {k: int(v or 0) for k, v in found.items()}


def _session(session: Session, staff: dict[int, dict[str, Any]], zone: ZoneInfo) -> dict[str, Any]:
    """A session in the facility's zone, from a session with its type, room, program
    and series loaded."""
    return {
        "id": session.public_id,
        "title": session.title,
        "program": _ref(session.program),
        "series": session.series.public_id if session.series else None,
        "occurrence_on": session.occurrence_on,
        "session_type": _type_ref(session.session_type),
        "facilitator": _staff_ref(staff, session.facilitator_id),
        "room": _ref(session.room) if session.room else None,
        "capacity": session.capacity,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "starts_local": session.starts_at.astimezone(zone),
        "ends_local": session.ends_at.astimezone(zone),
        "time_zone": zone.key,
        "minutes": session.minutes,
        "status": session.status,
        "cancel_reason": session.calendar_reason,
        "moved_from": session.moved_from,
        **_counts(session),
    }


def _seat(row: Attendance) -> dict[str, Any]:
    return {
        "patient": row.patient.public_id,
        "name": row.patient.display_name,
        "mrn": row.patient.mrn,
        "status": row.status,
        "status_label": row.get_status_display(),
        "minutes_attended": row.minutes_attended,
        "recorded_by": row.recorded_by.get_username() if row.recorded_by else None,
        "recorded_at": row.recorded_at,
    }


def _session_read(
    actor: Actor, public_id: uuid.UUID, *, with_roster: bool = True
) -> dict[str, Any]:
    """A session as it stands; with its roster (an audited read) when the actor runs it
    (null otherwise), unless `with_roster` is false."""
    session = (
        Session.objects.filter(organization_id=actor.organization_id, public_id=public_id)
        .select_related("program__facility", "session_type", "room", "series")
        .first()
    )
    if session is None:
        raise NotFound()
    staff = _staff(actor.organization_id, [session.facilitator_id])
    body = _session(session, staff, zone_of(session.program))
    if with_roster:
        runs = role_can(actor.role, Permission.SESSION_RUN) and may_run(actor, session)
        roster = selectors.session_roster(actor, session) if runs else None
        body["roster"] = [_seat(r) for r in roster] if roster is not None else None
        if roster is not None:
            body["cancel_reason"] = session.cancel_reason
    return body


def _series(series: SessionSeries, actor: Actor) -> dict[str, Any]:
    staff = _staff(actor.organization_id, [series.facilitator_id])
    return {
        "id": series.public_id,
        "program": _ref(series.program),
        "session_type": _type_ref(series.session_type),
        "title": series.title,
        "facilitator": _staff_ref(staff, series.facilitator_id),
        "room": _ref(series.room) if series.room else None,
        "capacity": series.capacity,
        "rule": series.rule,
        "start_time": series.start_time.strftime("%H:%M"),
        "minutes": series.minutes,
        "first_day": series.first_day,
        "last_day": series.last_day,
        "is_core": series.is_core,
        "time_zone": series.program.facility.time_zone,
        "generated_through": series.generated_through,
        "enrolled": Enrollment.objects.filter(series=series, ended_at__isnull=True).count(),
    }


def _enrollment(row: Enrollment, patient: Patient) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "patient": patient.public_id,
        "series": {
            "id": row.series.public_id,
            "title": row.series.title,
            "program": _ref(row.series.program),
        },
        "kind": row.kind,
        "started_at": row.started_at,
        "ended_at": row.ended_at,
        "end_reason": row.end_reason,
    }


def _enrollment_read(enrollment: Enrollment) -> dict[str, Any]:
    row = (
        Enrollment.objects.filter(pk=enrollment.pk)
        .select_related("patient", "series__program")
        .get()
    )
    return _enrollment(row, row.patient)


def _hours(intensity: rules.WeekIntensity) -> dict[str, Any]:
    return {
        "minimum_hours": intensity.minimum_hours,
        "scheduled_hours": intensity.scheduled_hours,
        "attended_hours": intensity.attended_hours,
        "remaining_hours": round(intensity.remaining_minutes / 60, 1),
        "shortfall_hours": intensity.shortfall_hours,
        "status": intensity.status.value,
    }


# ---------------------------------------------------------------------------
# Session types, facilities and their rooms, holidays, facilitators


@router.get(
    "/session-types",
    response={200: list[SessionTypeOut], **READ_ERRORS},
    auth=on_schedule(Permission.SCHEDULE_READ),
)
def list_session_types(request: HttpRequest) -> list[dict[str, Any]]:
    """The organization's session types (retired ones too, with is_active false)."""
    actor = api_actor(request)
    kinds = SessionType.objects.filter(organization_id=actor.organization_id).order_by("name")
    return [_type_out(k) for k in kinds]


def _type_out(kind: SessionType) -> dict[str, Any]:
    return {
        "id": kind.public_id,
        "code": kind.code,
        "name": kind.name,
        "mode": kind.mode,
        "default_minutes": kind.default_minutes,
        "counts_clinical": kind.counts_clinical,
        "is_active": kind.is_active,
    }


class SessionTypeIn(ScheduleIn):
    code: str = Field(
        max_length=200, description="Letters, digits and _ (up to 40); it never changes"
    )
    name: str = Field(max_length=200, description="Up to 100 characters")
    mode: str = Field(description=_allowed(SessionMode.values) + "; a type keeps its mode")
    default_minutes: int = Field(description="5 to 600")
    counts_clinical: bool = Field(True, description="Counts toward the weekly clinical hours")
    is_active: bool = Field(True, description="False retires the type")


@router.post(
    "/session-types",
    response={200: SessionTypeOut, 201: SessionTypeOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_MANAGE),
)
def save_session_type(request: HttpRequest, payload: SessionTypeIn) -> tuple[int, dict[str, Any]]:
    """Add a session type (201), or change the one with this code (200): its name,
    minutes, whether it counts as clinical hours, or retire it. 409 on a change of mode."""
    actor = api_actor(request)
    existed = SessionType.objects.filter(
        organization_id=actor.organization_id, code=payload.code.strip().lower()
    ).exists()
    kind = session_type_save(actor, **payload.dict())
    return (200 if existed else 201), _type_out(kind)


@router.get(
    "/facilities",
    response={200: list[FacilityOut], **READ_ERRORS},
    auth=on_schedule(Permission.SCHEDULE_READ),
)
def list_facilities(request: HttpRequest) -> list[dict[str, Any]]:
    """The organization's facilities (sites) with their time zones and rooms."""
    actor = api_actor(request)
    facilities = list(
        Facility.objects.filter(organization_id=actor.organization_id).order_by("name")
    )
    rooms: dict[int, list[dict[str, Any]]] = {f.pk: [] for f in facilities}
    for room in Room.objects.filter(organization_id=actor.organization_id).order_by("name"):
        rooms[room.facility_id].append(_room_out(room, facilities))
    return [
        {"id": f.public_id, "name": f.name, "time_zone": f.time_zone, "rooms": rooms[f.pk]}
        for f in facilities
    ]


def _room_out(room: Room, facilities: Iterable[Facility]) -> dict[str, Any]:
    facility = next(f for f in facilities if f.pk == room.facility_id)
    return {
        "id": room.public_id,
        "facility": facility.public_id,
        "name": room.name,
        "seats": room.seats,
        "is_active": room.is_active,
    }


class RoomIn(ScheduleIn):
    name: str = Field(max_length=200, description="Up to 100 characters, unique in the facility")
    seats: int | None = Field(None, description="1 to 500, or null")


@router.post(
    "/facilities/{facility_id}/rooms",
    response={201: RoomOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_MANAGE),
)
def create_room(
    request: HttpRequest, facility_id: str, payload: RoomIn
) -> tuple[int, dict[str, Any]]:
    """Add a room to a facility; 409 when it has a room of that name."""
    actor = api_actor(request)
    facility = _facility_of(actor, facility_id)
    room = room_create(actor, facility, name=payload.name, seats=payload.seats)
    return 201, _room_out(room, [facility])


class ClosureIn(ScheduleIn):
    on: date = Field(description="The facility-local day it is closed")
    name: str = Field(max_length=200, description="e.g. Thanksgiving (up to 100 characters)")


@router.post(
    "/facilities/{facility_id}/closures",
    response={201: ClosureOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_MANAGE),
)
def add_closure(
    request: HttpRequest, facility_id: str, payload: ClosureIn
) -> tuple[int, dict[str, Any]]:
    """Close a facility for a day (a holiday): its sessions that day are cancelled with
    the holiday's name, and series skip it. 409 when it is closed that day already or
    attendance was taken for a session that day."""
    actor = api_actor(request)
    facility = _facility_of(actor, facility_id)
    closure: Closure = closure_add(actor, facility, on=payload.on, name=payload.name)
    return 201, {
        "id": closure.public_id,
        "facility": facility.public_id,
        "on": closure.on,
        "name": closure.name,
    }


@router.get(
    "/facilitators",
    response={200: list[FacilitatorOut], **READ_ERRORS},
    auth=on_schedule(Permission.SCHEDULE_READ),
)
def list_facilitators(request: HttpRequest) -> list[dict[str, Any]]:
    """Active members of staff who may run sessions, with the id `facilitator` takes."""
    actor = api_actor(request)
    members = (
        Membership.objects.filter(
            organization_id=actor.organization_id, is_active=True, role__in=FACILITATOR_ROLES
        )
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
    return [
        {
            "id": m.public_id,
            "username": m.user.get_username(),
            "name": m.user.get_full_name() or m.user.get_username(),
            "role": m.role,
        }
        for m in members
    ]


# ---------------------------------------------------------------------------
# Series


HH_MM = "HH:MM, 24-hour"


def _parse_hh_mm(value: str) -> time | None:
    hours, _, minutes = value.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isascii():
        return None
    if not (hours + minutes).isdigit() or int(hours) > 23 or int(minutes) > 59:
        return None
    return time(int(hours), int(minutes))


class SeriesIn(ScheduleIn):
    session_type: uuid.UUID
    title: str = Field("", max_length=200, description="Default: the type's name (up to 120)")
    weekdays: list[int] | None = Field(
        None, description="0 = Monday ... 6 = Sunday; or give `rule` instead"
    )
    every_weeks: int = Field(1, description="With weekdays: every 1 to 4 weeks")
    rule: str | None = Field(
        None,
        max_length=200,
        description="An RFC 5545 RRULE instead of weekdays: FREQ=DAILY, WEEKLY or MONTHLY, "
        "without DTSTART, UNTIL or COUNT (the days below bound it), e.g. "
        "FREQ=WEEKLY;BYDAY=MO,WE,TH",
    )
    start_time: str = Field(description=HH_MM + ", in the facility's zone", examples=["18:00"])
    minutes: int | None = Field(None, description="5 to 600; default: the type's minutes")
    first_day: date
    last_day: date | None = Field(None, description="Null: runs until ended")
    facilitator: uuid.UUID = Field(description="A staff membership id (GET /facilitators)")
    room: uuid.UUID | None = Field(None, description="A room of the program's facility")
    capacity: int | None = Field(None, description="1 to 200 seats, or null")
    is_core: bool = Field(True, description="Core: every patient of the program is seated")

    @field_validator("start_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        if _parse_hh_mm(value) is None:
            raise PydanticCustomError("time", "Give the time as HH:MM (24-hour), e.g. 18:00.")
        return value


def _rule_of(payload: SeriesIn) -> str:
    if (payload.weekdays is None) == (payload.rule is None):
        message = "Give the weekdays or a rule (RRULE), one of the two."
        raise ValidationFailed({"weekdays": message, "rule": message})
    if payload.rule is not None:
        return payload.rule  # the service names what is wrong with it
    if not 1 <= payload.every_weeks <= 4:
        raise ValidationFailed({"every_weeks": "Repeat every 1 to 4 weeks."})
    try:
        return rules.weekly_rule(payload.weekdays or [], payload.every_weeks)
    except rules.RecurrenceError as exc:
        raise ValidationFailed({"weekdays": str(exc)}) from None


@router.post(
    "/programs/{program_id}/series",
    response={201: SeriesOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_MANAGE),
)
def create_series(
    request: HttpRequest, program_id: str, payload: SeriesIn
) -> tuple[int, dict[str, Any]]:
    """A recurring session of the program, on weekdays or an RRULE over the facility's
    wall clock (18:00 stays 18:00 across daylight-saving changes). Its sessions are
    made ahead to the organization's horizon, cancelled on closed days; a core series
    seats every patient now in the program. 409 when the facilitator or the room is
    already booked at one of its times."""
    actor = api_actor(request)
    program = program_get(actor, program_id)
    rule = _rule_of(payload)
    kind = _session_type(actor, payload.session_type)
    plan = SeriesPlan(
        program=program,
        session_type=kind,
        facilitator_id=_facilitator(actor, payload.facilitator),
        rule=rule,
        start_time=_parse_hh_mm(payload.start_time) or time(0),
        minutes=payload.minutes if payload.minutes is not None else kind.default_minutes,
        first_day=payload.first_day,
        last_day=payload.last_day,
        room=_room(actor, payload.room),
        capacity=payload.capacity,
        title=payload.title,
        is_core=payload.is_core,
    )
    try:
        series = series_create(actor, plan)
    except ValidationFailed as exc:
        if payload.weekdays is not None and "rule" in exc.errors:
            exc.errors["weekdays"] = exc.errors.pop("rule")
        raise
    return 201, _series(series_get(actor, series.public_id), actor)


@router.get(
    "/series/{series_id}",
    response={200: SeriesOut, **READ_ERRORS},
    auth=on_schedule(Permission.SCHEDULE_READ),
)
def read_series(request: HttpRequest, series_id: str) -> dict[str, Any]:
    """A series with its rule and how many are enrolled (no names)."""
    actor = api_actor(request)
    return _series(_series_of(actor, series_id), actor)


class SeriesEndIn(ScheduleIn):
    last_day: date = Field(description="The last facility-local day it runs")


@router.post(
    "/series/{series_id}/end",
    response={200: SeriesOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_MANAGE),
)
def end_series(request: HttpRequest, series_id: str, payload: SeriesEndIn) -> dict[str, Any]:
    """Stop a series after `last_day`: later sessions are cancelled (kept, with the
    reason) and its enrollments end. 409 when attendance is taken for a later session."""
    actor = api_actor(request)
    series_end(actor, _series_of(actor, series_id), last_day=payload.last_day)
    return _series(_series_of(actor, series_id), actor)


# ---------------------------------------------------------------------------
# Sessions


@router.get(
    "/programs/{program_id}/sessions",
    response={200: WeekOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_READ),
)
def program_week(
    request: HttpRequest, program_id: str, week: Query[date | None] = None
) -> dict[str, Any]:
    """The program's sessions of a week, Monday to Sunday in the facility's zone, with
    seat counts and no patient's name. `week`: any day of the week (YYYY-MM-DD);
    default this week."""
    actor = api_actor(request)
    program = program_get(actor, program_id)
    zone = zone_of(program)
    monday = _monday(week, zone)
    days = selectors.program_week(actor, program, monday)
    sessions = [s for day in days for s in day.sessions]
    prefetch_related_objects(sessions, "series")
    staff = _staff(actor.organization_id, {s.facilitator_id for s in sessions})
    return {
        "program": _ref(program),
        "time_zone": zone.key,
        "week_start": monday,
        "days": [
            {
                "on": d.on,
                "closed": d.closed,
                "sessions": [_session(s, staff, zone) for s in d.sessions],
            }
            for d in days
        ],
    }


@router.get(
    "/sessions/{session_id}",
    response={200: SessionDetailOut, **READ_ERRORS},
    auth=on_schedule(Permission.SCHEDULE_READ),
)
def read_session(request: HttpRequest, session_id: str) -> dict[str, Any]:
    """One session with its seat counts; with its roster (names and attendance, an
    audited read) for those who run it."""
    actor = api_actor(request)
    return _session_read(actor, public_id_or_404(session_id))


class CancelIn(ScheduleIn):
    reason: str = Field(max_length=NOTE, description="Why (up to 200 characters)")


@router.post(
    "/sessions/{session_id}/cancel",
    response={200: SessionDetailOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_MANAGE),
)
def cancel_session(request: HttpRequest, session_id: str, payload: CancelIn) -> dict[str, Any]:
    """Cancel one session (its series goes on). 409 when already cancelled or when
    attendance was taken (it took place)."""
    actor = api_actor(request)
    session = session_cancel(actor, _session_of(actor, session_id), reason=payload.reason)
    return _session_read(actor, session.public_id)


class MoveIn(ScheduleIn):
    starts_at: datetime = Field(description="The new start, with its time zone")
    minutes: int | None = Field(None, description="5 to 600; default: as long as before")
    room: uuid.UUID | None = Field(None, description="Default: the same room")
    facilitator: uuid.UUID | None = Field(
        None, description="A staff membership id; default: the same facilitator"
    )


@router.post(
    "/sessions/{session_id}/move",
    response={200: SessionDetailOut, **ERRORS},
    auth=on_schedule(Permission.SCHEDULE_MANAGE),
)
def move_session(request: HttpRequest, session_id: str, payload: MoveIn) -> dict[str, Any]:
    """Move one session to another time (and room or facilitator); the series keeps
    its rule. 409 when the facilitator, the room or a seated patient is busy then."""
    actor = api_actor(request)
    session = _session_of(actor, session_id)
    moved = session_move(
        actor,
        session,
        starts_at=payload.starts_at,
        minutes=payload.minutes,
        room=_room(actor, payload.room),
        facilitator_id=(
            _facilitator(actor, payload.facilitator) if payload.facilitator is not None else None
        ),
    )
    return _session_read(actor, moved.public_id)


class MarkIn(ScheduleIn):
    patient: uuid.UUID
    status: str = Field(description=allowed_values(TAKEN))
    minutes: int | None = Field(
        None,
        description="Minutes attended; default: the whole session when present, 0 when "
        "absent; required for late and left early",
    )


class AttendanceIn(ScheduleIn):
    marks: list[MarkIn] = Field(description="Any members of the session, each once")


@router.post(
    "/sessions/{session_id}/attendance",
    response={200: SessionDetailOut, **ERRORS},
    auth=on_schedule(Permission.SESSION_RUN),
)
def take_attendance(request: HttpRequest, session_id: str, payload: AttendanceIn) -> dict[str, Any]:
    """Record (or correct) attendance for members of the session in one go, from 30
    minutes before it starts; for its facilitator, the program's staff and the
    director. A refusal names each member's field: status_<patient id>,
    minutes_<patient id>, patient_<patient id>; nothing is saved then. Unexcused
    absences in a row raise outreach for the case manager."""
    actor = api_actor(request)
    session = _session_of(actor, session_id)
    seen: set[uuid.UUID] = set()
    for mark in payload.marks:
        if mark.patient in seen:
            raise ValidationFailed({f"patient_{mark.patient}": "Mark each member once."})
        seen.add(mark.patient)
    attendance_record(actor, session, [Mark(m.patient, m.status, m.minutes) for m in payload.marks])
    return _session_read(actor, session.public_id)


# ---------------------------------------------------------------------------
# Weekly clinical hours and a patient's schedule


@router.get(
    "/programs/{program_id}/intensity",
    response={200: IntensityOut, **ERRORS},
    auth=on_schedule(Permission.SESSION_RUN),
)
def program_intensity(
    request: HttpRequest, program_id: str, week: Query[date | None] = None
) -> dict[str, Any]:
    """Every patient now in the program with the week's clinical hours (scheduled,
    attended, still to come) against the level's minimum (e.g. 9 a week in IOP 2.1),
    and past sessions of the week with attendance nobody took. Names patients: for the
    program's staff, its facilitators and the director; audited."""
    actor = api_actor(request)
    program = program_get(actor, program_id)
    zone = zone_of(program)
    monday = _monday(week, zone)
    board = selectors.program_dashboard(actor, program, monday, timezone.now())
    return {
        "program": _ref(program),
        "level": program.asam_level,
        "time_zone": zone.key,
        "week_start": monday,
        "minimum_hours": board.minimum_hours,
        "patients": [
            {
                "patient": w.patient.public_id,
                "name": w.patient.display_name,
                "mrn": w.patient.mrn,
                "stay": w.stay.public_id,
                **_hours(w.intensity),
            }
            for w in board.weeks
        ],
        "short": len(board.short),
        "sessions_not_taken": [
            {
                "id": s.public_id,
                "title": s.title,
                "starts_at": s.starts_at,
                "starts_local": s.starts_at.astimezone(zone),
            }
            for s in board.sessions_not_taken
        ],
    }


def _patient(actor: Actor, patient_id: str, permission: Permission) -> Patient:
    """The patient of the path, behind the care team for the permission (as the token
    checked it before the body was read)."""
    return patient_for(actor, patient_id, permission=permission)


def _patient_seat(row: Attendance) -> dict[str, Any]:
    session = row.session
    zone = zone_of(session.program)
    facilitator = session.facilitator
    return {
        "session": session.public_id,
        "title": session.title,
        "session_type": session.session_type.name,
        "program": _ref(session.program),
        "facilitator": facilitator.get_full_name() or facilitator.get_username(),
        "room": session.room.name if session.room else None,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "starts_local": session.starts_at.astimezone(zone),
        "ends_local": session.ends_at.astimezone(zone),
        "session_status": session.status,
        "cancel_reason": session.cancel_reason,
        "attendance": row.status,
        "minutes_attended": row.minutes_attended,
    }


@router.get(
    "/patients/{patient_id}/schedule",
    response={200: ScheduleOut, **READ_ERRORS},
    auth=on_schedule(Permission.CHART_READ),
)
def patient_schedule(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """A patient's sessions ahead and in the last eight weeks with their attendance,
    enrollments, weekly clinical hours against the current program's minimum, and the
    optional series they may join. Behind the care team; audited."""
    actor = api_actor(request)
    found = selectors.patient_schedule(
        actor, _patient(actor, patient_id, Permission.CHART_READ), timezone.now()
    )
    stay = found.stay
    return {
        "patient": found.patient.public_id,
        "stay": (
            {
                "id": stay.public_id,
                "program": _ref(stay.program),
                "level": stay.program.asam_level,
                "started_at": stay.started_at,
            }
            if stay
            else None
        ),
        "upcoming": [_patient_seat(r) for r in found.upcoming],
        "past": [_patient_seat(r) for r in found.past],
        "enrollments": [_enrollment(e, found.patient) for e in found.enrollments],
        "weeks": [{"week_start": monday, **_hours(i)} for monday, i in found.weeks],
        "optional_series": [
            {
                "id": s.public_id,
                "title": s.title,
                "session_type": s.session_type.name,
                "rule": s.rule,
                "start_time": s.start_time.strftime("%H:%M"),
                "minutes": s.minutes,
            }
            for s in found.optional_series
        ],
    }


# ---------------------------------------------------------------------------
# Enrollment and appointments


class EnrollIn(ScheduleIn):
    series: uuid.UUID = Field(description="An optional series (core ones come with the stay)")


@router.post(
    "/patients/{patient_id}/enrollments",
    response={201: EnrollmentOut, **ERRORS},
    auth=on_schedule(Permission.CARE_WRITE),
)
def enroll(request: HttpRequest, patient_id: str, payload: EnrollIn) -> tuple[int, dict[str, Any]]:
    """Seat the patient in an optional series from now on. 409 when they are already
    in it, when the series is full, or when they are in another session at one of its
    times (the refusal says which)."""
    actor = api_actor(request)
    patient = _patient(actor, patient_id, Permission.CARE_WRITE)
    try:
        series = series_get(actor, payload.series)
    except NotFound:
        raise ValidationFailed({"series": "No series with this id in your organization."}) from None
    return 201, _enrollment_read(enroll_optional(actor, patient, series))


class EnrollmentEndIn(ScheduleIn):
    reason: str = Field(max_length=NOTE, description="Why the patient leaves the series")


@router.post(
    "/enrollments/{enrollment_id}/end",
    response={200: EnrollmentOut, **ERRORS},
    auth=on_schedule(Permission.CARE_WRITE),
)
def end_enrollment(
    request: HttpRequest, enrollment_id: str, payload: EnrollmentEndIn
) -> dict[str, Any]:
    """End an optional enrollment; the patient's later seats in it are freed (taken
    attendance stays). 409 for a core enrollment (it ends with the stay) or one ended."""
    actor = api_actor(request)
    ended = enrollment_end(actor, _enrollment_of(actor, enrollment_id), reason=payload.reason)
    return _enrollment_read(ended)


class AppointmentIn(ScheduleIn):
    session_type: uuid.UUID = Field(description="An individual type (therapy, medical visit)")
    facilitator: uuid.UUID = Field(description="A staff membership id (GET /facilitators)")
    starts_at: datetime = Field(description="With its time zone")
    minutes: int | None = Field(None, description="5 to 600; default: the type's minutes")
    room: uuid.UUID | None = None
    program: uuid.UUID | None = Field(None, description="Default: the patient's current program")


@router.post(
    "/patients/{patient_id}/appointments",
    response={201: SessionOut, **ERRORS},
    auth=on_schedule(Permission.CARE_WRITE),
)
def book_appointment(
    request: HttpRequest, patient_id: str, payload: AppointmentIn
) -> tuple[int, dict[str, Any]]:
    """An individual session between the patient and a member of staff, who joins the
    care team. 409 when the patient, the facilitator or the room is busy then."""
    actor = api_actor(request)
    patient = _patient(actor, patient_id, Permission.CARE_WRITE)
    if payload.program is not None:
        program = _program(actor, payload.program)
    else:
        stay = current_stay_of(patient)
        if stay is None:
            raise ValidationFailed(
                {"program": "The patient is in no program now; name the program."}
            )
        program = stay.program
    session = appointment_book(
        actor,
        patient,
        program=program,
        session_type=_session_type(actor, payload.session_type),
        facilitator_id=_facilitator(actor, payload.facilitator),
        starts_at=payload.starts_at,
        minutes=payload.minutes,
        room=_room(actor, payload.room),
    )
    return 201, _session_read(actor, session.public_id, with_roster=False)


# ---------------------------------------------------------------------------
# Outreach


class OutreachIn(ScheduleIn):
    method: str = Field(description=allowed_values(OutreachMethod.choices))
    outcome: str = Field(description=allowed_values(OutreachOutcome.choices))
    note: str = Field("", max_length=NOTE)
    task: uuid.UUID | None = Field(None, description="The open outreach task it answers")
    at: datetime | None = Field(None, description="With its time zone; default now")


@router.post(
    "/patients/{patient_id}/outreach-attempts",
    response={201: OutreachOut, **ERRORS},
    auth=on_schedule(Permission.CARE_WRITE),
)
def record_outreach(
    request: HttpRequest, patient_id: str, payload: OutreachIn
) -> tuple[int, dict[str, Any]]:
    """One try to reach a patient who stopped coming (the contact history); 409 when
    the outreach task it answers is already closed."""
    actor = api_actor(request)
    patient = _patient(actor, patient_id, Permission.CARE_WRITE)
    task = None
    if payload.task is not None:
        task = Task.objects.filter(
            organization_id=actor.organization_id, public_id=payload.task, kind=OUTREACH
        ).first()
        if task is None:
            raise ValidationFailed({"task": "No outreach task with this id here."})
    attempt: OutreachAttempt = outreach_attempt_record(
        actor,
        patient,
        method=payload.method,
        outcome=payload.outcome,
        note=payload.note,
        task=task,
        at=payload.at,
    )
    return 201, {
        "id": attempt.public_id,
        "patient": patient.public_id,
        "task": task.public_id if task else None,
        "at": attempt.at,
        "method": attempt.method,
        "outcome": attempt.outcome,
        "note": attempt.note,
        "by": actor.username,
    }
