"""Shared set-up for the schedule's tests: an evening IOP series of the cast."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from stepwise.scheduling.models import Room, SessionSeries, SessionType
from stepwise.scheduling.services.series import SeriesPlan, series_create

# Monday 2026-11-02: the Monday after the autumn change in America/New_York (Nov 1).
FIRST_DAY = date(2026, 10, 26)
IOP_RULE = "FREQ=WEEKLY;BYDAY=MO,WE,TH"


def session_type(cast: Any, code: str = "group_therapy") -> SessionType:
    return SessionType.objects.get(organization=cast.org, code=code)


def room(cast: Any, name: str = "Group room A") -> Room:
    found, _ = Room.objects.get_or_create(
        organization=cast.org, facility=cast.facility, name=name, defaults={"seats": 16}
    )
    return found


def iop_series(
    cast: Any,
    *,
    program: Any = None,
    facilitator: str = "owner",
    rule: str = IOP_RULE,
    start: time = time(18, 0),
    minutes: int = 180,
    first_day: date = FIRST_DAY,
    last_day: date | None = None,
    room_name: str | None = "Group room A",
    is_core: bool = True,
    today: date | None = None,
    code: str = "group_therapy",
    title: str = "Evening IOP group",
) -> SessionSeries:
    return series_create(
        cast.actors["director"],
        SeriesPlan(
            program=program or cast.iop,
            session_type=session_type(cast, code),
            facilitator_id=cast.users[facilitator].pk,
            rule=rule,
            start_time=start,
            minutes=minutes,
            first_day=first_day,
            last_day=last_day,
            room=room(cast, room_name) if room_name else None,
            title=title,
            is_core=is_core,
        ),
        today=today or first_day,
    )


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """A time in the cast's facility zone (America/New_York)."""
    from zoneinfo import ZoneInfo

    return datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo("America/New_York"))
