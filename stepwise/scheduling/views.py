"""Pages of the schedule: a facilitator's day, a program's week, a session's
attendance screen, a program's weekly hours, and a patient's schedule."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from stepwise.accounts.selectors import staff_of_organization
from stepwise.care.chart import patient_for
from stepwise.care.selectors import organization_time_zone, program_get, programs_of
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, staff_view
from stepwise.scheduling import rules
from stepwise.scheduling.models import AttendanceStatus
from stepwise.scheduling.selectors import (
    facilitator_day,
    patient_schedule,
    program_dashboard,
    program_series,
    program_week,
    session_roster,
)
from stepwise.scheduling.services.attendance import Mark, attendance_record
from stepwise.scheduling.services.common import zone_of
from stepwise.scheduling.services.series import session_get

# The choices on the attendance screen, in the order of a facilitator's taps.
MARKS = [(s.value, s.label) for s in AttendanceStatus if s != AttendanceStatus.EXPECTED]
SHORT_LABELS = {
    "present": "Present",
    "late": "Late",
    "left_early": "Left early",
    "absent_excused": "Excused",
    "absent_unexcused": "Unexcused",
}


def _day_param(request: HttpRequest, name: str, default: date) -> date:
    try:
        return date.fromisoformat(request.GET.get(name, ""))
    except ValueError:
        return default


def _org_zone(request: HttpRequest) -> ZoneInfo:
    return ZoneInfo(organization_time_zone(actor_of(request).organization_id))


@staff_view(Permission.SCHEDULE_READ)
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    return facilitator_day_view(request)


@staff_view(Permission.SCHEDULE_READ)
@require_GET
def facilitator_day_view(request: HttpRequest) -> HttpResponse:
    """One member of staff's sessions of a day (the actor's own by default): counts,
    no names; each session links to its attendance screen."""
    actor = actor_of(request)
    zone = _org_zone(request)
    today = timezone.now().astimezone(zone).date()
    day = _day_param(request, "date", today)
    staff = list(staff_of_organization(actor.organization_id).filter(is_active=True))
    try:
        chosen = int(request.GET.get("who", actor.user_id))
    except ValueError:
        chosen = actor.user_id
    if chosen not in {m.user_id for m in staff}:
        chosen = actor.user_id
    sessions = facilitator_day(actor, chosen, day, zone)
    timezone.activate(zone)
    context = {
        "day": day,
        "previous": day - timedelta(days=1),
        "next": day + timedelta(days=1),
        "today": today,
        "sessions": sessions,
        "staff": staff,
        "chosen": chosen,
        "is_me": chosen == actor.user_id,
        "programs": programs_of(actor),
        "zone": zone.key,
    }
    return render(request, "scheduling/day.html", context)


@staff_view(Permission.SCHEDULE_READ)
@require_GET
def program_week_view(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    program = program_get(actor, program_id)
    zone = zone_of(program)
    today = timezone.now().astimezone(zone).date()
    monday = rules.week_start(_day_param(request, "week", today))
    days = program_week(actor, program, monday)
    series = program_series(actor, program)
    timezone.activate(zone)
    context = {
        "program": program,
        "days": days,
        "series": series,
        "programs": programs_of(actor),
        "monday": monday,
        "sunday": monday + timedelta(days=6),
        "previous": monday - timedelta(weeks=1),
        "next": monday + timedelta(weeks=1),
        "today": today,
        "zone": zone.key,
        "can_manage": role_can(actor.role, Permission.SCHEDULE_MANAGE),
    }
    return render(request, "scheduling/program_week.html", context)


@staff_view(Permission.SESSION_RUN)
@require_GET
def program_dashboard_view(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    """Every patient of the program this week: clinical hours scheduled and attended
    against the level's minimum, shortfalls first."""
    actor = actor_of(request)
    program = program_get(actor, program_id)
    zone = zone_of(program)
    now = timezone.now()
    today = now.astimezone(zone).date()
    monday = rules.week_start(_day_param(request, "week", today))
    board = program_dashboard(actor, program, monday, now)
    timezone.activate(zone)
    weeks = sorted(board.weeks, key=lambda w: (not w.intensity.is_short, w.patient.family_name))
    context = {
        "board": board,
        "weeks": weeks,
        "program": program,
        "monday": monday,
        "previous": monday - timedelta(weeks=1),
        "next": monday + timedelta(weeks=1),
        "is_current": monday == rules.week_start(today),
        "zone": zone.key,
    }
    return render(request, "scheduling/program.html", context)


def _marks_from(request: HttpRequest, seated: list[uuid.UUID]) -> tuple[list[Mark], dict[str, str]]:
    marks: list[Mark] = []
    errors: dict[str, str] = {}
    for public_id in seated:
        status = request.POST.get(f"status_{public_id}", "")
        if not status:
            continue
        raw = request.POST.get(f"minutes_{public_id}", "").strip()
        minutes: int | None = None
        if raw:
            try:
                minutes = int(raw)
            except ValueError:
                errors[f"minutes_{public_id}"] = "Minutes are a whole number."
                continue
        marks.append(Mark(public_id, status, minutes))
    return marks, errors


@staff_view(Permission.SESSION_RUN)
@require_http_methods(["GET", "POST"])
def session_view(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The attendance screen: every member on one screen, one tap each (everyone not
    yet taken starts as present), minutes only for late or left early."""
    actor = actor_of(request)
    session = session_get(actor, session_id)
    zone = zone_of(session.program)
    status = 200
    errors: dict[str, str] = {}
    message = ""
    posted: dict[str, str] = {}
    roster = session_roster(actor, session)
    if request.method == "POST":
        marks, errors = _marks_from(request, [row.patient.public_id for row in roster])
        posted = {
            k: str(request.POST.get(k, ""))
            for k in request.POST
            if k.startswith(("status_", "minutes_"))
        }
        if not errors:
            try:
                attendance_record(actor, session, marks)
            except ValidationFailed as exc:
                errors = exc.errors
            except Conflict as exc:
                message, status = exc.message, 409
            else:
                return redirect(
                    f"{reverse('scheduling:session', args=[session.public_id])}?saved=1"
                )
        if errors:
            status = 422
    not_before = session.starts_at - timedelta(minutes=30)
    rows = []
    for row in roster:
        key = str(row.patient.public_id)
        chosen = posted.get(f"status_{key}") or (
            row.status if row.status != AttendanceStatus.EXPECTED else "present"
        )
        rows.append(
            {
                "seat": row,
                "key": key,
                "chosen": chosen,
                "minutes": posted.get(
                    f"minutes_{key}",
                    "" if row.minutes_attended is None else str(row.minutes_attended),
                ),
                "status_error": errors.get(f"status_{key}", ""),
                "minutes_error": errors.get(f"minutes_{key}", "")
                or errors.get(f"patient_{key}", ""),
            }
        )
    timezone.activate(zone)
    context = {
        "session": session,
        "rows": rows,
        "marks": [(value, SHORT_LABELS[value], label) for value, label in MARKS],
        "errors": errors,
        "general_errors": [
            v for k, v in errors.items() if not k.startswith(("status_", "minutes_", "patient_"))
        ],
        "message": message,
        "saved": request.GET.get("saved") == "1",
        "opens": not_before,
        "is_open": timezone.now() >= not_before and not session.is_cancelled,
        "taken": sum(1 for r in roster if r.status != AttendanceStatus.EXPECTED),
        "came": sum(1 for r in roster if r.attended),
        "zone": zone.key,
        "can_manage": role_can(actor.role, Permission.SCHEDULE_MANAGE),
        "can_note": role_can(actor.role, Permission.NOTE_WRITE),
    }
    return render(request, "scheduling/session.html", context, status=status)


@staff_view(Permission.CHART_READ)
@require_GET
def patient_schedule_view(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient = patient_for(actor, public_id, permission=Permission.CHART_READ)
    now = timezone.now()
    schedule = patient_schedule(actor, patient, now)
    zone = zone_of(schedule.stay.program) if schedule.stay else _org_zone(request)
    timezone.activate(zone)
    context = {
        "patient": patient,
        "schedule": schedule,
        "now": now,
        "zone": zone.key,
        "can_write": role_can(actor.role, Permission.CARE_WRITE),
    }
    return render(request, "scheduling/patient.html", context)
