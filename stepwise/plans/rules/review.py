"""When a plan's review is due. No Django imports.

A signed version is reviewed by its signing day plus the review interval (a
program setting, 30 days unless the organization or the program says otherwise),
and at once when the patient's level of care changes after it was signed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

INTERVAL_DEFAULT = 30
INTERVAL_MIN, INTERVAL_MAX = 7, 180

DUE_STATES = {
    "upcoming": "Upcoming",
    "due": "Due today",
    "overdue": "Overdue",
}


def interval_error(value: object, label: str = "Review interval") -> str | None:
    # bool is an int in Python; a ticked box is not a number of days.
    if not isinstance(value, int) or isinstance(value, bool):
        return f"{label}: give a whole number of days, {INTERVAL_MIN} to {INTERVAL_MAX}."
    if not INTERVAL_MIN <= value <= INTERVAL_MAX:
        return f"{label}: allowed {INTERVAL_MIN} to {INTERVAL_MAX} days."
    return None


def interval_for(organization_days: int | None, program_days: int | None) -> int:
    """The interval in force for a patient: their program's own, else the
    organization's, else the default."""
    if program_days is not None:
        return program_days
    return organization_days if organization_days is not None else INTERVAL_DEFAULT


def review_due_on(
    *,
    signed_at: datetime,
    signed_on: date,
    interval_days: int,
    level_changes: Iterable[tuple[datetime, date]] = (),
) -> date:
    """The day the review of a version signed at `signed_at` (the facility's day
    `signed_on`) is due: after the interval, or the day of the first change of level
    of care after the signing, whichever comes first. `level_changes` are (when, the
    facility's day) of each change; one before the signing is already in the plan."""
    due = signed_on + timedelta(days=interval_days)
    after = [day for when, day in level_changes if when > signed_at]
    return min([due, *after])


def due_state(due_on: date | None, today: date) -> str | None:
    """upcoming, due (today) or overdue; None when no review is scheduled."""
    if due_on is None:
        return None
    if due_on < today:
        return "overdue"
    return "due" if due_on == today else "upcoming"
