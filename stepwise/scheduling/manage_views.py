"""Pages that set up a program's schedule: recurring series, one session's
cancellation or move, closed days, rooms, session types and the scheduling settings.
Times are shown and typed in the facility's zone."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.accounts.models import Membership
from stepwise.care.selectors import organization_time_zone, program_get
from stepwise.core.actor import Actor
from stepwise.core.models import Facility
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.scheduling import rules
from stepwise.scheduling.manage_forms import (
    ClosureForm,
    RoomForm,
    SchedulingSettingsForm,
    SeriesEndForm,
    SeriesForm,
    SessionCancelForm,
    SessionMoveForm,
    SessionTypeForm,
)
from stepwise.scheduling.models import (
    SessionSeries,
)
from stepwise.scheduling.selectors import (
    active_rooms,
    active_types,
    coming_closures,
    facilitators_of,
    facilities_of,
    rooms_of,
    series_page_read,
    session_types_of,
    sessions_made,
)
from stepwise.scheduling.services.common import settings_of, zone_of
from stepwise.scheduling.services.configuration import FIELDS as SETTINGS_FIELDS
from stepwise.scheduling.services.configuration import RANGES, scheduling_settings_save
from stepwise.scheduling.services.series import (
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

# How many of a series' coming sessions its page lists.
NEXT_SESSIONS = 24
# Between the start and end of a time span, as the schedule pages write it.
EN_DASH = "\u2013"


def today_in(zone: ZoneInfo) -> date:
    return timezone.now().astimezone(zone).date()


# Series.


@staff_view(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def series_new(request: HttpRequest, program_id: uuid.UUID) -> HttpResponse:
    """A recurring session of the program: the days and time, who runs it, where."""
    actor = actor_of(request)
    program = program_get(actor, program_id)
    zone = zone_of(program)
    timezone.activate(zone)
    form = SeriesForm(
        request.POST if request.method == "POST" else None,
        session_types=active_types(actor),
        facilitators=facilitators_of(actor),
        rooms=active_rooms(actor, program.facility_id),
        initial={"first_day": today_in(zone)},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        series, status = submit(form, lambda: series_create(actor, form.plan(program)))
        if series is not None:
            made = sessions_made(series)
            messages.success(
                request,
                f"{series.title}: {made} session{'s' if made != 1 else ''} scheduled "
                f"through {series.generated_through:%a %Y-%m-%d}.",
            )
            return redirect("scheduling:series", series_id=series.public_id)
    return render(
        request,
        "scheduling/manage/series_new.html",
        {"form": form, "program": program, "zone": zone.key},
        status=form_page_status(form, status),
    )


def _series_page(
    request: HttpRequest, series: SessionSeries, end_form: SeriesEndForm, status: int = 200
) -> HttpResponse:
    actor = actor_of(request)
    zone = zone_of(series.program)
    page = series_page_read(actor, series, timezone.now(), limit=NEXT_SESSIONS)
    timezone.activate(zone)
    context = {
        "series": series,
        "program": series.program,
        "facilitator": page.facilitator,
        "in_words": rules.rule_in_words(
            series.rule,
            start_time=series.start_time,
            minutes=series.minutes,
            first_day=series.first_day,
            zone=zone.key,
        ),
        "upcoming": page.upcoming,
        "enrolled": page.enrolled,
        "end_form": end_form,
        "can_manage": role_can(actor.role, Permission.SCHEDULE_MANAGE),
        "can_run": role_can(actor.role, Permission.SESSION_RUN),
        "zone": zone.key,
    }
    return render(request, "scheduling/manage/series.html", context, status=status)


@staff_view(Permission.SCHEDULE_READ)
@require_GET
def series_page(request: HttpRequest, series_id: uuid.UUID) -> HttpResponse:
    """A series: its rule in words, its coming sessions, how many are enrolled."""
    series = series_get(actor_of(request), series_id)
    return _series_page(request, series, SeriesEndForm())


@staff_view(Permission.SCHEDULE_MANAGE)
@require_POST
def series_end_view(request: HttpRequest, series_id: uuid.UUID) -> HttpResponse:
    """End a series after a day; refusals show on the series page."""
    actor = actor_of(request)
    series = series_get(actor, series_id)
    form = SeriesEndForm(request.POST)
    status = 200
    if form.is_valid():
        last_day = form.cleaned_data["last_day"]
        ended, status = submit(form, lambda: series_end(actor, series, last_day=last_day))
        if ended is not None:
            messages.success(
                request,
                f"{ended.title} ends after {last_day:%a %Y-%m-%d}; later sessions are cancelled.",
            )
            return redirect("scheduling:series", series_id=series.public_id)
    return _series_page(request, series, form, form_page_status(form, status))


# One session.


@staff_view(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_cancel_view(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """Cancel one session; the series goes on."""
    actor = actor_of(request)
    session = session_get(actor, session_id)
    zone = zone_of(session.program)
    timezone.activate(zone)
    form = SessionCancelForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        done, status = submit(form, lambda: session_cancel(actor, session, reason=reason))
        if done is not None:
            messages.success(request, f"{done.title} on {_local(done.starts_at, zone)} cancelled.")
            return redirect("scheduling:session", session_id=session.public_id)
    return render(
        request,
        "scheduling/manage/session_cancel.html",
        {"session": session, "form": form, "zone": zone.key},
        status=form_page_status(form, status),
    )


def _local(at: datetime, zone: ZoneInfo) -> str:
    return f"{at.astimezone(zone):%a %Y-%m-%d %H:%M}"


@staff_view(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_move_view(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """Move one session to another day or time (room, facilitator); the series keeps
    its rule."""
    actor = actor_of(request)
    session = session_get(actor, session_id)
    zone = zone_of(session.program)
    # Typed times are read in the facility's zone (a time that does not exist there,
    # or exists twice, is refused by the form).
    timezone.activate(zone)
    facilitators = facilitators_of(actor)
    current = next((m for m in facilitators if m.user_id == session.facilitator_id), None)
    form = SessionMoveForm(
        request.POST if request.method == "POST" else None,
        rooms=active_rooms(actor, session.program.facility_id),
        facilitators=facilitators,
        initial={
            "starts_at": session.starts_at,
            "minutes": session.minutes,
            "room": session.room.public_id if session.room else None,
            "facilitator": current.public_id if current else None,
        },
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        chosen: Membership | None = data["facilitator"]
        facilitator_id = (
            chosen.user_id if chosen and chosen.user_id != session.facilitator_id else None
        )
        moved, status = submit(
            form,
            lambda: session_move(
                actor,
                session,
                starts_at=data["starts_at"],
                minutes=data["minutes"],
                room=data["room"],
                facilitator_id=facilitator_id,
            ),
        )
        if moved is not None:
            messages.success(
                request, f"{moved.title} moved to {_local(moved.starts_at, zone)} ({zone.key})."
            )
            return redirect("scheduling:session", session_id=session.public_id)
    return render(
        request,
        "scheduling/manage/session_move.html",
        {"session": session, "form": form, "zone": zone.key},
        status=form_page_status(form, status),
    )


# Closed days, rooms and session types.


@dataclass(frozen=True)
class FacilityRows:
    facility: Facility
    rows: list[Any]


def _by_facility(facilities: list[Facility], rows: list[Any]) -> list[FacilityRows]:
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.facility_id].append(row)
    return [FacilityRows(f, grouped.get(f.pk, [])) for f in facilities]


def _org_zone(actor: Actor) -> ZoneInfo:
    return ZoneInfo(organization_time_zone(actor.organization_id))


@staff_view(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def closures(request: HttpRequest) -> HttpResponse:
    """The coming closed days of each facility, and a form to add one."""
    actor = actor_of(request)
    facilities = list(facilities_of(actor))
    form = ClosureForm(
        request.POST if request.method == "POST" else None,
        facilities=facilities_of(actor),
        initial={"facility": facilities[0].public_id if facilities else None},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        facility: Facility = data["facility"]
        closure, status = submit(
            form, lambda: closure_add(actor, facility, on=data["on"], name=data["name"])
        )
        if closure is not None:
            messages.success(
                request,
                f"{facility.name} is closed on {closure.on:%a %Y-%m-%d} ({closure.name}); "
                "its sessions that day are cancelled.",
            )
            return redirect("scheduling:closures")
    coming = coming_closures(actor, timezone.now())
    timezone.activate(_org_zone(actor))
    return render(
        request,
        "scheduling/manage/closures.html",
        {"form": form, "by_facility": _by_facility(facilities, coming)},
        status=form_page_status(form, status),
    )


@staff_view(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def rooms(request: HttpRequest) -> HttpResponse:
    """The rooms of each facility, and a form to add one."""
    actor = actor_of(request)
    facilities = list(facilities_of(actor))
    form = RoomForm(
        request.POST if request.method == "POST" else None,
        facilities=facilities_of(actor),
        initial={"facility": facilities[0].public_id if facilities else None},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        facility: Facility = data["facility"]
        room, status = submit(
            form, lambda: room_create(actor, facility, name=data["name"], seats=data["seats"])
        )
        if room is not None:
            messages.success(request, f"Room {room.name} added to {facility.name}.")
            return redirect("scheduling:rooms")
    all_rooms = rooms_of(actor)
    return render(
        request,
        "scheduling/manage/rooms.html",
        {"form": form, "by_facility": _by_facility(facilities, all_rooms)},
        status=form_page_status(form, status),
    )


@staff_view(Permission.SCHEDULE_MANAGE)
@require_http_methods(["GET", "POST"])
def session_types(request: HttpRequest) -> HttpResponse:
    """The organization's session types; add one, or change one (?change=<code>)."""
    actor = actor_of(request)
    kinds = session_types_of(actor)
    wanted = request.GET.get("change", "")
    changing = next((k for k in kinds if k.code == wanted), None) if wanted else None
    initial: dict[str, Any] = {}
    if changing is not None:
        initial = {
            "name": changing.name,
            "code": changing.code,
            "mode": changing.mode,
            "default_minutes": changing.default_minutes,
            "counts_clinical": changing.counts_clinical,
            "is_active": changing.is_active,
        }
    form = SessionTypeForm(
        request.POST if request.method == "POST" else None,
        changing=changing,
        taken_codes={k.code for k in kinds},
        initial=initial,
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        saved, status = submit(
            form,
            lambda: session_type_save(
                actor,
                code=data["code"],
                name=data["name"],
                mode=data["mode"],
                default_minutes=data["default_minutes"],
                counts_clinical=data["counts_clinical"],
                is_active=data["is_active"],
            ),
        )
        if saved is not None:
            verb = "changed" if changing is not None else "added"
            messages.success(request, f"Session type {saved.name} {verb}.")
            return redirect("scheduling:session_types")
    return render(
        request,
        "scheduling/manage/session_types.html",
        {"form": form, "kinds": kinds, "changing": changing},
        status=form_page_status(form, status),
    )


# The organization's scheduling settings.


def _change_message(before: dict[str, Any], after: dict[str, Any]) -> str:
    labels = {r.name: (r.label, r.unit) for r in RANGES}
    changes = []
    for name, value in after.items():
        if before.get(name) == value:
            continue
        if name in labels:
            label, unit = labels[name]
            changes.append(f"{label} {before[name]} → {value} {unit}")
        else:
            changes.append(f"co-signature {'required' if value else 'not required'}")
    if not changes:
        return "Scheduling settings: nothing changed."
    return "Scheduling settings saved: " + "; ".join(changes) + "."


@staff_view(Permission.CLINICAL_SETTINGS)
@require_http_methods(["GET", "POST"])
def scheduling_settings(request: HttpRequest) -> HttpResponse:
    actor = actor_of(request)
    row = settings_of(actor.organization_id)
    before = {name: getattr(row, name) for name in SETTINGS_FIELDS}
    form = SchedulingSettingsForm(
        request.POST if request.method == "POST" else None, initial=before
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        values = form.values()
        saved, status = submit(form, lambda: scheduling_settings_save(actor, **values))
        if saved is not None:
            messages.success(request, _change_message(before, values))
            return redirect("scheduling:settings")
    timezone.activate(_org_zone(actor))
    return render(
        request,
        "scheduling/manage/settings.html",
        {"form": form, "row": row},
        status=form_page_status(form, status),
    )
