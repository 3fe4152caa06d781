"""When the check-ins of an aftercare plan fall: a tapering schedule from a start day.

Weekly for the first weeks (the issue's "weekly for a month"), then every few months
on the start's day of the month. A month without that day takes its last day
(Jan 31 -> Feb 28 or 29 -> Mar 31): every monthly date is counted from the start, so
a short month never pulls the later ones back to the 28th. Open-ended: dates are
produced up to a horizon, and a later horizon only adds dates after the earlier ones.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKLY_DEFAULT = 4
WEEKLY_MAX = 12
MONTHS_DEFAULT = 1
MONTHS_MAX = 12
GRACE_DEFAULT = 24
# At most a day after the due day ends: a missed check-in reaches a person within a day.
GRACE_MAX = 24
# A monthly check-in closer than this to the last weekly one is skipped: two calls in
# three days are not a taper.
MIN_GAP = timedelta(days=7)
# How far ahead check-ins exist as rows; the hourly sweep keeps extending them.
HORIZON = timedelta(days=92)


class ScheduleError(ValueError):
    """The schedule's settings are out of range; the message says which."""


@dataclass(frozen=True)
class Taper:
    weekly: int = WEEKLY_DEFAULT  # weekly check-ins before the monthly ones
    every_months: int = MONTHS_DEFAULT

    def __post_init__(self) -> None:
        if not 0 <= self.weekly <= WEEKLY_MAX:
            raise ScheduleError(f"Weekly check-ins: allowed 0 to {WEEKLY_MAX}.")
        if not 1 <= self.every_months <= MONTHS_MAX:
            raise ScheduleError(f"Months between check-ins: allowed 1 to {MONTHS_MAX}.")


def add_months(start: date, months: int) -> date | None:
    """The start's day of the month, `months` later, clamped to that month's last day;
    None past the calendar's end."""
    index = start.year * 12 + start.month - 1 + months
    year, month0 = divmod(index, 12)
    if year > date.max.year:
        return None
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(start.day, last))


def due_dates(start: date, taper: Taper, until: date) -> list[date]:
    """Every check-in day after `start` up to `until` (inclusive), in order."""
    found: list[date] = []
    last_weekly = start
    for week in range(1, taper.weekly + 1):
        day = start + timedelta(weeks=week)
        last_weekly = day
        if day <= until:
            found.append(day)
    step = 1
    while (day_or_none := add_months(start, step * taper.every_months)) is not None:
        if day_or_none > until:
            break
        if day_or_none >= last_weekly + MIN_GAP:
            found.append(day_or_none)
        step += 1
    return found


def describe(taper: Taper) -> str:
    """The schedule in plain words, for the plan and the patient's copy."""
    monthly = "every month" if taper.every_months == 1 else f"every {taper.every_months} months"
    if taper.weekly == 0:
        return monthly.capitalize()
    weeks = "week" if taper.weekly == 1 else f"{taper.weekly} weeks"
    return f"Every week for the first {weeks}, then {monthly}"


def local_day(at: datetime, zone: str) -> date:
    return at.astimezone(ZoneInfo(zone)).date()


def missed_after(due_on: date, zone: str, grace_hours: int) -> datetime:
    """When a check-in not recorded counts as missed: `grace_hours` (real hours, also
    across a clock change) after the end of its day in the patient's time zone."""
    day_ends = datetime.combine(due_on + timedelta(days=1), time(0), tzinfo=ZoneInfo(zone))
    return day_ends.astimezone(UTC) + timedelta(hours=grace_hours)
