"""What is due on the flowsheet, computed from the data at the moment of asking.

Nothing here waits for a timer: a reassessment is due a fixed time after the last
one (or at arrival), a PRN dose's effectiveness check a fixed time after the dose.
Intervals are elapsed time, so a 4-hour interval is 4 hours across a clock change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from stepwise.withdrawal.rules.thresholds import UnitSchedule

# The buprenorphine induction lasts from the order until this long after the first
# dose; reassessment runs at the induction interval during it (domain §1.3).
INDUCTION_WINDOW = timedelta(hours=24)
# Shown as "due" this long before the time, so the nurse can plan the round.
DUE_SOON = timedelta(minutes=30)


class DueState(StrEnum):
    SCHEDULED = "scheduled"
    DUE = "due"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class Due:
    what: str
    due_at: datetime
    state: DueState
    basis: str

    @property
    def overdue(self) -> bool:
        return self.state is DueState.OVERDUE


def state_at(due_at: datetime, now: datetime) -> DueState:
    if now > due_at:
        return DueState.OVERDUE
    if now >= due_at - DUE_SOON:
        return DueState.DUE
    return DueState.SCHEDULED


def in_induction(
    *, induction_ordered_at: datetime | None, first_dose_at: datetime | None, now: datetime
) -> bool:
    """Whether an active buprenorphine induction is under way at `now`."""
    if induction_ordered_at is None or induction_ordered_at > now:
        return False
    return first_dose_at is None or now - first_dose_at < INDUCTION_WINDOW


def reassessment_interval(schedule: UnitSchedule, induction: bool) -> timedelta:
    hours = schedule.induction_reassess_hours if induction else schedule.reassess_hours
    return timedelta(hours=hours)


def reassessment_due(
    *,
    what: str,
    last_at: datetime | None,
    stay_started_at: datetime,
    interval: timedelta,
    now: datetime,
) -> Due:
    """The next reassessment: at arrival when none has been done in this stay, else
    one interval after the last. A result entered late still counts from its time."""
    if last_at is None or last_at < stay_started_at:
        return Due(what, stay_started_at, state_at(stay_started_at, now), "on arrival")
    # In UTC: adding hours to a zoned time would add wall-clock hours across a change.
    due_at = last_at.astimezone(UTC) + interval
    hours = interval.total_seconds() / 3600
    basis = f"every {hours:g} h after the last"
    return Due(what, due_at, state_at(due_at, now), basis)


def followup_due(*, given_at: datetime, schedule: UnitSchedule, now: datetime) -> Due:
    due_at = given_at.astimezone(UTC) + timedelta(minutes=schedule.prn_followup_minutes)
    return followup_state(due_at, now)


def followup_state(due_at: datetime, now: datetime) -> Due:
    """An effectiveness check whose due time was fixed when the dose was charted."""
    return Due("Effectiveness check", due_at, state_at(due_at, now), "after an as-needed dose")
