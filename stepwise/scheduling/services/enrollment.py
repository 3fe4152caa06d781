"""Enrollment: a stay in a program seats the patient in the program's core sessions
from the stay's start until it ends; optional series by choice; individual
appointments between a patient and a counselor."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from stepwise.care.exits import StayExit, StayStart
from stepwise.care.models import Program, Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.patients.services import care_team_join
from stepwise.scheduling.models import (
    Attendance,
    AttendanceStatus,
    Enrollment,
    EnrollmentKind,
    Room,
    Session,
    SessionSeries,
    SessionStatus,
    SessionType,
)
from stepwise.scheduling.services.common import CATEGORY, same_org, zone_of
from stepwise.scheduling.services.seats import seat
from stepwise.scheduling.services.series import (
    check_facilitator,
    check_open_day,
    check_room,
    check_staff_and_room,
)


def _running_series(program: Program, at: datetime) -> list[SessionSeries]:
    zone_day = at.astimezone(zone_of(program)).date()
    return list(
        SessionSeries.objects.filter(program=program, is_core=True)
        .filter(Q(last_day__isnull=True) | Q(last_day__gte=zone_day))
        .select_related("program__facility")
    )


def join_facilitator(actor: Actor | None, patient: Patient, user_id: int, why: str) -> None:
    """Whoever runs a patient's session is on their care team: they take attendance
    and write the patient's entry of the group note."""
    from stepwise.accounts.models import Membership

    member = Membership.objects.filter(
        organization_id=patient.organization_id, user_id=user_id, is_active=True
    ).first()
    if member is not None and actor is not None:
        care_team_join(actor, patient, user_id=user_id, role=member.role, why=why)


def _enroll(
    actor: Actor,
    patient: Patient,
    series: SessionSeries,
    *,
    kind: str,
    since: datetime,
    stay: Stay | None,
    strict: bool,
) -> tuple[Enrollment, int, int]:
    enrollment = Enrollment.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        series=series,
        stay=stay,
        kind=kind,
        started_at=since,
        enrolled_by_id=actor.user_id,
    )
    upcoming = list(
        Session.objects.filter(
            series=series, status=SessionStatus.SCHEDULED, starts_at__gte=since
        ).order_by("starts_at")
    )
    seated, left_out = seat(
        patient, upcoming, enrollment=enrollment, zone=zone_of(series.program), strict=strict
    )
    join_facilitator(actor, patient, series.facilitator_id, "facilitates a session of the patient")
    return enrollment, seated, left_out


def enroll_for_stay(start: StayStart) -> dict[str, Any] | None:
    """Care's stay-start hook: seat the patient in every core session of the program
    from the stay's start. A clash with another of the patient's sessions leaves that
    one session out rather than refusing the admission."""
    stay = start.stay
    patient = stay.episode.patient
    series_list = _running_series(stay.program, stay.started_at)
    seated = left_out = 0
    for series in series_list:
        _, made, skipped = _enroll(
            start.actor,
            patient,
            series,
            kind=EnrollmentKind.CORE,
            since=stay.started_at,
            stay=stay,
            strict=False,
        )
        seated += made
        left_out += skipped
    if not series_list:
        return None
    detail: dict[str, Any] = {"enrolled_series": len(series_list), "sessions_seated": seated}
    if left_out:
        detail["sessions_left_out_for_clash"] = left_out
    return detail


def _end(enrollments: list[Enrollment], at: datetime, reason: str) -> int:
    """End the enrollments at `at` and free their seats in sessions from then on that
    were not taken (taken attendance is history and stays)."""
    if not enrollments:
        return 0
    ids = [e.pk for e in enrollments]
    Enrollment.objects.filter(pk__in=ids).update(ended_at=at, end_reason=reason)
    Attendance.objects.filter(
        enrollment_id__in=ids, status=AttendanceStatus.EXPECTED, session__starts_at__gte=at
    ).delete()
    return len(ids)


def end_for_stay(leaving: StayExit) -> dict[str, Any] | None:
    """Care's stay-exit hook: a transition ends the enrollments in the program left; a
    discharge ends all of the patient's enrollments."""
    stay = leaving.stay
    open_ones = Enrollment.objects.filter(
        organization_id=stay.organization_id,
        patient_id=stay.episode.patient_id,
        ended_at__isnull=True,
    )
    if leaving.discharge_reason is None:
        open_ones = open_ones.filter(series__program_id=stay.program_id)
        reason = "Left the program"
    else:
        reason = "Discharged"
    ended = _end(list(open_ones), leaving.at, reason)
    cancelled = 0
    if leaving.discharge_reason is not None:
        cancelled = _cancel_appointments(stay.episode.patient_id, leaving.at)
    detail = {"enrollments_ended": ended} if ended else {}
    if cancelled:
        detail["appointments_cancelled"] = cancelled
    return detail or None


def _cancel_appointments(patient_id: int, at: datetime) -> int:
    """A discharge cancels the patient's individual appointments after it; aftercare
    appointments are booked after the discharge."""
    ahead = Session.objects.filter(
        series__isnull=True,
        status=SessionStatus.SCHEDULED,
        starts_at__gte=at,
        attendance__patient_id=patient_id,
        attendance__status=AttendanceStatus.EXPECTED,
    )
    return Session.objects.filter(pk__in=list(ahead.values_list("pk", flat=True))).update(
        status=SessionStatus.CANCELLED, cancel_reason="Patient discharged"
    )


def end_series_enrollments(series: SessionSeries, at: datetime) -> int:
    return _end(
        list(Enrollment.objects.filter(series=series, ended_at__isnull=True)), at, "Series ended"
    )


def enroll_program_patients(actor: Actor, series: SessionSeries) -> int:
    """A new core series seats every patient now in its program from the start of their
    stay, so a series entered with an earlier first day (a program's running schedule
    brought into Stepwise) has its members in the sessions already held too."""
    stays = Stay.objects.filter(
        organization_id=series.organization_id, program=series.program, ended_at__isnull=True
    ).select_related("episode__patient")
    count = 0
    for stay in stays:
        _enroll(
            actor,
            stay.episode.patient,
            series,
            kind=EnrollmentKind.CORE,
            since=stay.started_at,
            stay=stay,
            strict=False,
        )
        count += 1
    return count


def enroll_optional(actor: Actor, patient: Patient, series: SessionSeries) -> Enrollment:
    """Seat a patient in an optional series from now on; refused when they are already
    in another session at one of its times, or when the series is full."""
    same_org(actor, patient, series)
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    if series.is_core:
        raise ValidationFailed(
            {"series": "Core sessions come with the stay in the program; choose an optional one."}
        )
    now = timezone.now()
    if (
        series.last_day is not None
        and series.last_day < now.astimezone(zone_of(series.program)).date()
    ):
        raise ValidationFailed({"series": f"{series.title} ended on {series.last_day}."})
    if not Stay.objects.filter(
        organization_id=actor.organization_id,
        episode__patient=patient,
        program_id=series.program_id,
        ended_at__isnull=True,
    ).exists():
        raise ValidationFailed(
            {
                "series": f"{patient.display_name} is not in {series.program.name}; its sessions are for its patients."
            }
        )
    with transaction.atomic():
        # The patient first (as appointments do), so their seats are checked in turn.
        Patient.objects.select_for_update().get(pk=patient.pk)
        locked = SessionSeries.objects.select_for_update().get(pk=series.pk)
        if Enrollment.objects.filter(
            series=locked, patient=patient, ended_at__isnull=True
        ).exists():
            raise Conflict(f"{patient.display_name} is already enrolled in {locked.title}.")
        if locked.capacity is not None:
            taking = Enrollment.objects.filter(series=locked, ended_at__isnull=True).count()
            if taking >= locked.capacity:
                raise Conflict(f"{locked.title} is full ({locked.capacity} seats).")
        enrollment, seated, _ = _enroll(
            actor, patient, locked, kind=EnrollmentKind.OPTIONAL, since=now, stay=None, strict=True
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="enrollment",
            object_id=enrollment.public_id,
            detail={"series": str(locked.public_id), "sessions_seated": seated},
        )
    return enrollment


def enrollment_end(actor: Actor, enrollment: Enrollment, *, reason: str) -> Enrollment:
    """End an optional enrollment by choice (core ones end with the stay)."""
    same_org(actor, enrollment)
    require_patient_access(actor, Permission.CARE_WRITE, enrollment.patient, category=CATEGORY)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the patient leaves this series."})
    if len(reason.strip()) > 200:
        raise ValidationFailed({"reason": "At most 200 characters."})
    with transaction.atomic():
        locked = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if locked.ended_at is not None:
            raise Conflict("This enrollment has already ended.")
        if locked.kind == EnrollmentKind.CORE:
            raise Conflict(
                "Core sessions end with the stay in the program (transition or discharge)."
            )
        _end([locked], timezone.now(), reason.strip())
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=enrollment.patient.public_id,
            category=CATEGORY,
            object_type="enrollment",
            object_id=locked.public_id,
            detail={"ended": True},
        )
    locked.refresh_from_db()
    return locked


def enrollment_get(actor: Actor, public_id: uuid.UUID | str) -> Enrollment:
    try:
        return Enrollment.objects.select_related("patient", "series").get(
            organization_id=actor.organization_id, public_id=public_id
        )
    except (Enrollment.DoesNotExist, ValueError):
        raise NotFound() from None


def appointment_book(
    actor: Actor,
    patient: Patient,
    *,
    program: Program,
    session_type: SessionType,
    facilitator_id: int,
    starts_at: datetime,
    minutes: int | None = None,
    room: Room | None = None,
) -> Session:
    """An individual session between the patient and a member of staff. Refused when
    the patient, the facilitator or the room is busy then."""
    same_org(actor, patient, program, session_type, room)
    require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)
    errors: dict[str, str] = {}
    if session_type.is_group:
        errors["session_type"] = "Choose an individual session type for an appointment."
    elif not session_type.is_active:
        errors["session_type"] = "This session type is retired; choose an active one."
    if not program.is_active:
        errors["program"] = "This program is closed; choose an active one."
    length = session_type.default_minutes if minutes is None else minutes
    if not 5 <= length <= 600:
        errors["minutes"] = "A session lasts 5 to 600 minutes."
    if timezone.is_naive(starts_at):
        errors["starts_at"] = "Give the time with its time zone."
    if errors:
        raise ValidationFailed(errors)
    check_facilitator(actor, facilitator_id)
    check_room(program, room)
    zone = zone_of(program)
    span = (starts_at, starts_at + timedelta(minutes=length))
    with transaction.atomic():
        Patient.objects.select_for_update().get(pk=patient.pk)
        check_open_day(program.facility, span[0])
        check_staff_and_room(
            actor, facilitator_id=facilitator_id, room=room, wanted=[span], zone=zone
        )
        session = Session.objects.create(
            organization_id=actor.organization_id,
            program=program,
            session_type=session_type,
            title=session_type.name,
            facilitator_id=facilitator_id,
            room=room,
            capacity=1,
            starts_at=span[0],
            ends_at=span[1],
            created_by_id=actor.user_id,
        )
        seat(patient, [session], enrollment=None, zone=zone, strict=True)
        join_facilitator(actor, patient, facilitator_id, "has an appointment with the patient")
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="session",
            object_id=session.public_id,
            detail={"appointment": True, "starts_at": span[0].isoformat()},
        )
    return session
