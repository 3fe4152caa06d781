"""Recurring sessions of a program and their concrete sessions: create a series,
keep its sessions generated ahead, cancel or move one occurrence, close a facility
for a holiday. Each write checks access, runs in one transaction and is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from stepwise.accounts.models import Membership
from stepwise.care.models import Program
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction, Facility
from stepwise.core.roles import Permission, Role
from stepwise.scheduling import rules
from stepwise.scheduling.models import (
    CLOSED_PREFIX,
    Attendance,
    AttendanceStatus,
    Closure,
    Room,
    Session,
    SessionSeries,
    SessionStatus,
    SessionType,
)
from stepwise.scheduling.services.common import (
    CATEGORY,
    local_text,
    same_org,
    settings_of,
    zone_of,
)
from stepwise.scheduling.services.seats import seat_enrolled

# Roles that facilitate sessions.
FACILITATOR_ROLES = (Role.COUNSELOR, Role.CASE_MANAGER, Role.NURSE, Role.PHYSICIAN, Role.DIRECTOR)


def facilitator_name(organization_id: int, user_id: int) -> str:
    member = (
        Membership.objects.filter(organization_id=organization_id, user_id=user_id)
        .select_related("user")
        .first()
    )
    if member is None:
        return "This facilitator"
    return member.user.get_full_name() or member.user.username


def check_facilitator(actor: Actor, user_id: int) -> None:
    member = Membership.objects.filter(
        organization_id=actor.organization_id, user_id=user_id, is_active=True
    ).first()
    if member is None or member.role not in FACILITATOR_ROLES:
        roles = ", ".join(r.value for r in FACILITATOR_ROLES)
        raise ValidationFailed(
            {"facilitator": f"Choose an active member of staff in one of these roles: {roles}."}
        )


def check_room(program: Program, room: Room | None) -> None:
    if room is not None and (room.facility_id != program.facility_id or not room.is_active):
        raise ValidationFailed({"room": f"Choose a room of {program.facility.name}."})


def clash_message(
    what: str, wanted: tuple[datetime, datetime], booking: rules.Booking, zone: ZoneInfo
) -> str:
    return (
        f"{what} is already booked for {booking.label} at "
        f"{local_text(booking.starts_at, zone)}-{booking.ends_at.astimezone(zone):%H:%M}, "
        f"which overlaps {local_text(wanted[0], zone)}-{wanted[1].astimezone(zone):%H:%M}."
    )


def _bookings(sessions: list[Session]) -> list[rules.Booking]:
    return [rules.Booking(s.starts_at, s.ends_at, f'"{s.title}"') for s in sessions]


def check_open_day(facility: Facility, starts_at: datetime) -> None:
    """Refuse a session on a day the facility is closed (a holiday)."""
    day = starts_at.astimezone(ZoneInfo(facility.time_zone)).date()
    closed = Closure.objects.filter(facility=facility, on=day).first()
    if closed is not None:
        raise Conflict(f"{facility.name} is closed on {day:%a %Y-%m-%d} ({closed.name}).")


def check_staff_and_room(
    actor: Actor,
    *,
    facilitator_id: int,
    room: Room | None,
    wanted: list[tuple[datetime, datetime]],
    zone: ZoneInfo,
    besides: list[int] | None = None,
) -> None:
    """Refuse when the facilitator or the room is already in another session then.
    Call inside the write's transaction: the facilitator's membership and the room are
    locked first, so two bookings of the same person or room take turns."""
    if not wanted:
        return
    Membership.objects.select_for_update().filter(
        organization_id=actor.organization_id, user_id=facilitator_id
    ).first()
    if room is not None:
        Room.objects.select_for_update().filter(pk=room.pk).first()
    first = min(start for start, _ in wanted)
    last = max(end for _, end in wanted)
    around = Session.objects.filter(
        organization_id=actor.organization_id,
        status=SessionStatus.SCHEDULED,
        starts_at__lt=last,
        ends_at__gt=first,
    ).exclude(pk__in=besides or [])
    staff_taken = list(around.filter(facilitator_id=facilitator_id))
    clash = rules.first_clash(wanted, _bookings(staff_taken))
    if clash:
        name = facilitator_name(actor.organization_id, facilitator_id)
        raise Conflict(clash_message(name, clash[0], clash[1], zone))
    if room is not None:
        clash = rules.first_clash(wanted, _bookings(list(around.filter(room=room))))
        if clash:
            raise Conflict(clash_message(f"Room {room.name}", clash[0], clash[1], zone))


@dataclass(frozen=True)
class SeriesPlan:
    program: Program
    session_type: SessionType
    facilitator_id: int
    rule: str
    start_time: time
    minutes: int
    first_day: date
    last_day: date | None = None
    room: Room | None = None
    capacity: int | None = None
    title: str = ""
    is_core: bool = True


def _plan_errors(plan: SeriesPlan) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        rules.validate_rule(plan.rule)
    except rules.RecurrenceError as exc:
        errors["rule"] = str(exc)
    if not 5 <= plan.minutes <= 600:
        errors["minutes"] = "A session lasts 5 to 600 minutes."
    if plan.last_day is not None and plan.last_day < plan.first_day:
        errors["last_day"] = "The last day is on or after the first day."
    if plan.capacity is not None and not 1 <= plan.capacity <= 200:
        errors["capacity"] = "Seats: 1 to 200, or leave empty."
    if len(plan.title.strip()) > 120:
        errors["title"] = "At most 120 characters."
    if not plan.program.is_active:
        errors["program"] = "This program is closed; choose an active one."
    if not plan.session_type.is_active:
        errors["session_type"] = "This session type is retired; choose an active one."
    return errors


def _horizon(organization_id: int, today: date) -> date:
    return today + timedelta(weeks=settings_of(organization_id).horizon_weeks)


def series_create(actor: Actor, plan: SeriesPlan, *, today: date | None = None) -> SessionSeries:
    """A recurring session of the program. Its sessions are generated up to the
    organization's horizon; a core series seats every patient now in the program."""
    same_org(actor, plan.program, plan.session_type, plan.room)
    require_permission(actor, Permission.SCHEDULE_MANAGE, category=CATEGORY)
    errors = _plan_errors(plan)
    if errors:
        raise ValidationFailed(errors)
    check_facilitator(actor, plan.facilitator_id)
    check_room(plan.program, plan.room)
    zone = zone_of(plan.program)
    today = today or timezone.now().astimezone(zone).date()
    with transaction.atomic():
        series = SessionSeries.objects.create(
            organization_id=actor.organization_id,
            program=plan.program,
            session_type=plan.session_type,
            title=plan.title.strip() or plan.session_type.name,
            facilitator_id=plan.facilitator_id,
            room=plan.room,
            capacity=plan.capacity,
            rule=rules.validate_rule(plan.rule),
            start_time=plan.start_time,
            minutes=plan.minutes,
            first_day=plan.first_day,
            last_day=plan.last_day,
            is_core=plan.is_core,
            generated_through=plan.first_day - timedelta(days=1),
            created_by_id=actor.user_id,
        )
        made = generate(actor, series, through=_horizon(actor.organization_id, today))
        enrolled = 0
        if plan.is_core:
            from stepwise.scheduling.services.enrollment import enroll_program_patients

            enrolled = enroll_program_patients(actor, series)
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            category=CATEGORY,
            object_type="session_series",
            object_id=series.public_id,
            detail={
                "program": str(plan.program.public_id),
                "rule": series.rule,
                "sessions": made,
                "enrolled": enrolled,
            },
        )
    return series


def generate(actor: Actor | None, series: SessionSeries, *, through: date) -> int:
    """Create the series' sessions after `generated_through` up to `through` (or its
    last day), cancelled on the facility's closed days, with the enrolled patients
    seated. Refuses, for the caller's transaction, when the facilitator or room is
    already booked. Returns how many sessions were made."""
    program = series.program
    zone = zone_of(program)
    first = series.generated_through + timedelta(days=1)
    last = min(through, series.last_day) if series.last_day else through
    try:
        found = rules.occurrences(
            series.rule,
            start_time=series.start_time,
            minutes=series.minutes,
            first_day=first,
            last_day=last,
            zone=zone,
            anchor=series.first_day,
        )
    except (rules.RecurrenceError, ValueError) as exc:
        raise ValidationFailed({"rule": str(exc)}) from None
    closed = dict(
        Closure.objects.filter(
            organization_id=series.organization_id,
            facility_id=program.facility_id,
            on__gte=first,
            on__lte=last,
        ).values_list("on", "name")
    )
    open_times = [(o.starts_at, o.ends_at) for o in found if o.on not in closed]
    if actor is not None:
        check_staff_and_room(
            actor,
            facilitator_id=series.facilitator_id,
            room=series.room,
            wanted=open_times,
            zone=zone,
        )
    creator = actor.user_id if actor else series.created_by_id
    sessions = Session.objects.bulk_create(
        Session(
            organization_id=series.organization_id,
            program=program,
            series=series,
            occurrence_on=o.on,
            session_type_id=series.session_type_id,
            title=series.title,
            facilitator_id=series.facilitator_id,
            room=series.room,
            capacity=series.capacity,
            starts_at=o.starts_at,
            ends_at=o.ends_at,
            status=SessionStatus.CANCELLED if o.on in closed else SessionStatus.SCHEDULED,
            cancel_reason=f"{CLOSED_PREFIX}{closed[o.on]}" if o.on in closed else "",
            created_by_id=creator,
        )
        for o in found
    )
    if last > series.generated_through:
        series.generated_through = last
        series.save(update_fields=["generated_through", "updated_at"])
    held = [s for s in sessions if s.status == SessionStatus.SCHEDULED]
    if held:
        seat_enrolled(series, held)
    return len(sessions)


def extend_all(organization_id: int, today: date) -> int:
    """Generate every running series up to the horizon (the daily sweep). A clash
    with a one-off booked since is left for staff to see: the occurrence is made and
    the facilitator's day shows both."""
    through = _horizon(organization_id, today)
    made = 0
    running = (
        SessionSeries.objects.filter(organization_id=organization_id, generated_through__lt=through)
        .filter(Q(last_day__isnull=True) | Q(last_day__gt=F("generated_through")))
        .select_related("program__facility")
    )
    for candidate in running.values_list("pk", flat=True):
        with transaction.atomic():
            # Locked and read again: a sweep running twice, or a series ended meanwhile,
            # must not generate the same days twice or past the new last day.
            series = (
                SessionSeries.objects.select_for_update()
                .select_related("program__facility")
                .get(pk=candidate)
            )
            if series.generated_through >= through or (
                series.last_day is not None and series.last_day <= series.generated_through
            ):
                continue
            made += generate(None, series, through=through)
    return made


def _attendance_taken(sessions: QuerySet[Session]) -> bool:
    """Whether anyone's attendance was taken in any of these sessions (they took place)."""
    return (
        Attendance.objects.filter(session__in=sessions)
        .exclude(status=AttendanceStatus.EXPECTED)
        .exists()
    )


def series_get(actor: Actor, public_id: uuid.UUID | str) -> SessionSeries:
    try:
        return SessionSeries.objects.select_related(
            "program__facility", "session_type", "room"
        ).get(organization_id=actor.organization_id, public_id=public_id)
    except (SessionSeries.DoesNotExist, ValueError):
        raise NotFound() from None


def series_end(actor: Actor, series: SessionSeries, *, last_day: date) -> SessionSeries:
    """Stop a series after `last_day`: later sessions are cancelled (kept, with the
    reason, so attendance already taken is never lost) and enrollments end."""
    same_org(actor, series)
    require_permission(actor, Permission.SCHEDULE_MANAGE, category=CATEGORY)
    if last_day < series.first_day:
        raise ValidationFailed(
            {"last_day": f"The last day is on or after the first day ({series.first_day})."}
        )
    zone = zone_of(series.program)
    cut = rules.local_to_utc(datetime.combine(last_day + timedelta(days=1), time.min), zone)
    with transaction.atomic():
        locked = SessionSeries.objects.select_for_update().get(pk=series.pk)
        later = Session.objects.filter(
            series=locked, starts_at__gte=cut, status=SessionStatus.SCHEDULED
        )
        if _attendance_taken(later):
            raise Conflict("Attendance is already taken for a session after that day.")
        cancelled = later.update(status=SessionStatus.CANCELLED, cancel_reason="Series ended")
        from stepwise.scheduling.services.enrollment import end_series_enrollments

        ended = end_series_enrollments(locked, cut)
        locked.last_day = last_day
        locked.save(update_fields=["last_day", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            category=CATEGORY,
            object_type="session_series",
            object_id=locked.public_id,
            detail={"last_day": str(last_day), "cancelled": cancelled, "enrollments_ended": ended},
        )
    return locked


def session_get(actor: Actor, public_id: uuid.UUID | str) -> Session:
    try:
        return Session.objects.select_related(
            "program__facility", "session_type", "room", "series"
        ).get(organization_id=actor.organization_id, public_id=public_id)
    except (Session.DoesNotExist, ValueError):
        raise NotFound() from None


def session_cancel(actor: Actor, session: Session, *, reason: str) -> Session:
    """Cancel one session (the series goes on); its roster and anything taken stay."""
    same_org(actor, session)
    require_permission(actor, Permission.SCHEDULE_MANAGE, category=CATEGORY)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the session is cancelled."})
    if len(reason.strip()) > 200:
        raise ValidationFailed({"reason": "At most 200 characters."})
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.status == SessionStatus.CANCELLED:
            raise Conflict("This session is already cancelled.")
        if locked.attendance.exclude(status="expected").exists():
            raise Conflict("Attendance is already taken for this session; it took place.")
        locked.status = SessionStatus.CANCELLED
        locked.cancel_reason = reason.strip()
        locked.save(update_fields=["status", "cancel_reason", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            category=CATEGORY,
            object_type="session",
            object_id=locked.public_id,
            detail={"cancelled": locked.cancel_reason},
        )
    return locked


def session_move(
    actor: Actor,
    session: Session,
    *,
    starts_at: datetime,
    minutes: int | None = None,
    room: Room | None = None,
    facilitator_id: int | None = None,
) -> Session:
    """Move one session to another time (and room or facilitator); the series keeps
    its rule. Refused when the facilitator, the room or a seated patient is busy then."""
    same_org(actor, session, room)
    require_permission(actor, Permission.SCHEDULE_MANAGE, category=CATEGORY)
    if timezone.is_naive(starts_at):
        raise ValidationFailed({"starts_at": "Give the time with its time zone."})
    length = minutes if minutes is not None else session.minutes
    if not 5 <= length <= 600:
        raise ValidationFailed({"minutes": "A session lasts 5 to 600 minutes."})
    facilitator = facilitator_id or session.facilitator_id
    if facilitator_id:
        check_facilitator(actor, facilitator_id)
    new_room = room if room is not None else session.room
    check_room(session.program, new_room)
    zone = zone_of(session.program)
    wanted = [(starts_at, starts_at + timedelta(minutes=length))]
    with transaction.atomic():
        locked = Session.objects.select_for_update().get(pk=session.pk)
        if locked.status == SessionStatus.CANCELLED:
            raise Conflict("This session is cancelled; schedule a new one instead.")
        if locked.attendance.exclude(status="expected").exists():
            raise Conflict("Attendance is already taken for this session; it took place.")
        check_open_day(session.program.facility, wanted[0][0])
        check_staff_and_room(
            actor,
            facilitator_id=facilitator,
            room=new_room,
            wanted=wanted,
            zone=zone,
            besides=[locked.pk],
        )
        from stepwise.scheduling.services.seats import check_patients_free

        check_patients_free(locked, wanted[0], zone)
        before = locked.starts_at
        locked.moved_from = locked.moved_from or before
        locked.starts_at, locked.ends_at = wanted[0]
        locked.room = new_room
        changed_hands = locked.facilitator_id != facilitator
        locked.facilitator_id = facilitator
        locked.save(
            update_fields=[
                "moved_from",
                "starts_at",
                "ends_at",
                "room",
                "facilitator",
                "updated_at",
            ]
        )
        if changed_hands:
            from stepwise.scheduling.services.enrollment import join_facilitator

            for seat in Attendance.objects.filter(session=locked).select_related("patient"):
                join_facilitator(actor, seat.patient, facilitator, "runs a session of the patient")
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            category=CATEGORY,
            object_type="session",
            object_id=locked.public_id,
            detail={"moved_from": before.isoformat(), "to": locked.starts_at.isoformat()},
        )
    return locked


def closure_add(actor: Actor, facility: Facility, *, on: date, name: str) -> Closure:
    """Close a facility for a day (a holiday): its sessions that day are cancelled with
    the holiday's name, and series generated later skip it."""
    same_org(actor, facility)
    require_permission(actor, Permission.SCHEDULE_MANAGE, category=CATEGORY)
    if not name.strip() or len(name.strip()) > 100:
        raise ValidationFailed({"name": "Name the day (up to 100 characters), e.g. Thanksgiving."})
    zone = ZoneInfo(facility.time_zone)
    start = rules.local_to_utc(datetime.combine(on, time.min), zone)
    end = rules.local_to_utc(datetime.combine(on + timedelta(days=1), time.min), zone)
    with transaction.atomic():
        try:
            with transaction.atomic():
                closure = Closure.objects.create(
                    organization_id=actor.organization_id,
                    facility=facility,
                    on=on,
                    name=name.strip(),
                    created_by_id=actor.user_id,
                )
        except IntegrityError:
            raise Conflict(f"{facility.name} is already closed on {on}.") from None
        that_day = Session.objects.filter(
            organization_id=actor.organization_id,
            program__facility=facility,
            status=SessionStatus.SCHEDULED,
            starts_at__gte=start,
            starts_at__lt=end,
        )
        if _attendance_taken(that_day):
            raise Conflict("Attendance is already taken for a session that day.")
        cancelled = that_day.update(
            status=SessionStatus.CANCELLED, cancel_reason=f"{CLOSED_PREFIX}{closure.name}"
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            category=CATEGORY,
            object_type="closure",
            object_id=closure.public_id,
            detail={"on": str(on), "cancelled": cancelled},
        )
    return closure


def room_create(actor: Actor, facility: Facility, *, name: str, seats: int | None) -> Room:
    same_org(actor, facility)
    require_permission(actor, Permission.SCHEDULE_MANAGE, category=CATEGORY)
    if not name.strip() or len(name.strip()) > 100:
        raise ValidationFailed({"name": "Name the room (up to 100 characters)."})
    if seats is not None and not 1 <= seats <= 500:
        raise ValidationFailed({"seats": "Seats: 1 to 500, or leave empty."})
    with transaction.atomic():
        if Room.objects.filter(facility=facility, name__iexact=name.strip()).exists():
            raise Conflict(f"{facility.name} already has a room named {name.strip()}.")
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    organization_id=actor.organization_id,
                    facility=facility,
                    name=name.strip(),
                    seats=seats,
                )
        except IntegrityError:
            raise Conflict(f"{facility.name} already has a room named {name.strip()}.") from None
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            category=CATEGORY,
            object_type="room",
            object_id=room.public_id,
            detail={"facility": str(facility.public_id)},
        )
    return room
