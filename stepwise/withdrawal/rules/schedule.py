"""Dose schedules: when a scheduled order's doses fall, in the facility's local time.

A dose "at 09:00" stays at 09:00 on the wall clock across daylight-saving changes,
so times are built per local day and only then turned into UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Frequency:
    code: str
    label: str
    # Local clock times of scheduled doses; empty for as-needed and one-off orders.
    times: tuple[time, ...] = ()
    # As needed: at most one dose per this many hours.
    prn_every_hours: int | None = None
    once: bool = False

    @property
    def is_prn(self) -> bool:
        return self.prn_every_hours is not None


def _t(*hours: int) -> tuple[time, ...]:
    return tuple(time(h) for h in hours)


FREQUENCIES: tuple[Frequency, ...] = (
    Frequency("once", "Once", once=True),
    Frequency("daily", "Daily at 09:00", _t(9)),
    Frequency("bid", "Twice daily (09:00, 21:00)", _t(9, 21)),
    Frequency("tid", "Three times daily (09:00, 14:00, 21:00)", _t(9, 14, 21)),
    Frequency("qid", "Four times daily (09:00, 13:00, 17:00, 21:00)", _t(9, 13, 17, 21)),
    Frequency("q4h", "Every 4 hours", _t(2, 6, 10, 14, 18, 22)),
    Frequency("q6h", "Every 6 hours", _t(0, 6, 12, 18)),
    Frequency("q8h", "Every 8 hours", _t(6, 14, 22)),
    Frequency("qhs", "At bedtime (21:00)", _t(21)),
    Frequency("q1h_prn", "As needed, at most every hour", prn_every_hours=1),
    Frequency("q2h_prn", "As needed, at most every 2 hours", prn_every_hours=2),
    Frequency("q4h_prn", "As needed, at most every 4 hours", prn_every_hours=4),
    Frequency("q6h_prn", "As needed, at most every 6 hours", prn_every_hours=6),
    Frequency("q8h_prn", "As needed, at most every 8 hours", prn_every_hours=8),
    # Once a night; 20 h rather than 24 so a later bedtime is not refused.
    Frequency("qhs_prn", "As needed at bedtime", prn_every_hours=20),
)
FREQUENCIES_BY_CODE = {f.code: f for f in FREQUENCIES}

# A scheduled dose not charted this long after its time is overdue.
OVERDUE_AFTER = timedelta(minutes=60)


def frequency(code: str) -> Frequency:
    return FREQUENCIES_BY_CODE[code]


MAX_STEP_DAYS = 365


@dataclass(frozen=True)
class TaperStep:
    days: int
    dose_mg: Decimal
    # A taper often slows as well as shrinks (four times a day, then three...);
    # empty keeps the order's own frequency.
    frequency: str = ""


def taper_errors(steps: list[TaperStep]) -> str | None:
    if not steps:
        return None
    if any(s.days < 1 or s.days > MAX_STEP_DAYS for s in steps):
        return f"Each taper step lasts 1 to {MAX_STEP_DAYS} days."
    if any(s.dose_mg <= 0 for s in steps):
        return "Each taper step needs a dose above 0 mg."
    for s in steps:
        if s.frequency and (
            s.frequency not in FREQUENCIES_BY_CODE
            or FREQUENCIES_BY_CODE[s.frequency].is_prn
            or FREQUENCIES_BY_CODE[s.frequency].once
        ):
            scheduled = ", ".join(f.code for f in FREQUENCIES if not f.is_prn and not f.once)
            return f"A taper step's frequency must be scheduled: {scheduled}."
    return None


def taper_length_days(steps: list[TaperStep]) -> int:
    return sum(s.days for s in steps)


def dose_on_day(
    base_dose: Decimal, base_frequency: str, steps: list[TaperStep], day_index: int
) -> tuple[Decimal, str] | None:
    """The dose and frequency on the order's n-th local day (0 = the start day); None
    once a taper has run out."""
    if not steps:
        return base_dose, base_frequency
    end = 0
    for step in steps:
        end += step.days
        if day_index < end:
            return step.dose_mg, step.frequency or base_frequency
    return None


@dataclass(frozen=True)
class ScheduledDose:
    due_at: datetime  # UTC
    dose_mg: Decimal


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time; a time skipped by a spring-forward change
    falls to the same instant an hour later on the clock, never vanishes."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def scheduled_doses(
    *,
    frequency_code: str,
    dose_mg: Decimal,
    taper: list[TaperStep],
    starts_at: datetime,
    ends_at: datetime | None,
    window_start: datetime,
    window_end: datetime,
    zone: ZoneInfo,
) -> list[ScheduledDose]:
    """Doses of one order due in [window_start, window_end), in time order."""
    freq = frequency(frequency_code)
    if freq.is_prn:
        return []
    if freq.once:
        if window_start <= starts_at < window_end and (ends_at is None or starts_at < ends_at):
            return [ScheduledDose(starts_at.astimezone(UTC), dose_mg)]
        return []
    first_day = starts_at.astimezone(zone).date()
    day = max(window_start.astimezone(zone).date(), first_day)
    last_day = (window_end - timedelta(microseconds=1)).astimezone(zone).date()
    doses: list[ScheduledDose] = []
    while day <= last_day:
        todays = dose_on_day(dose_mg, frequency_code, taper, (day - first_day).days)
        if todays is None:
            break
        amount, code = todays
        for at in frequency(code).times:
            due = local_instant(day, at, zone)
            if due < starts_at or (ends_at is not None and due >= ends_at):
                continue
            if window_start <= due < window_end:
                doses.append(ScheduledDose(due, amount))
        day += timedelta(days=1)
    return doses


def planned_daily_total(frequency_code: str, dose_mg: Decimal) -> Decimal:
    """What one full day of this order gives (an as-needed order: its most doses)."""
    freq = frequency(frequency_code)
    if freq.once:
        return dose_mg
    if freq.is_prn:
        assert freq.prn_every_hours is not None
        return dose_mg * (24 // freq.prn_every_hours)
    return dose_mg * len(freq.times)
