"""Scheduling rules as plain functions: recurrence in a facility's zone, session
conflicts, weekly clinical intensity against the level of care, and when missed
sessions call for outreach. No Django imports."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rrulestr

# The session types every organization starts with: (code, name, group?, minutes,
# counts as clinical hours). Organizations rename, add and retire their own.
DEFAULT_SESSION_TYPES: tuple[tuple[str, str, bool, int, bool], ...] = (
    ("group_therapy", "Group therapy", True, 90, True),
    ("individual_therapy", "Individual therapy", False, 50, True),
    ("family_therapy", "Family therapy", False, 60, True),
    ("social_skills", "Social skills class", True, 60, True),
    ("drug_education", "Drug education class", True, 60, True),
    ("relapse_prevention", "Relapse prevention group", True, 90, True),
    ("life_skills", "Life skills class", True, 60, True),
    ("support_group", "Support group meeting", True, 60, False),
    ("medical_visit", "Medical visit", False, 30, True),
)

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ALLOWED_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY"}
# Rule parts that choose days; hours and minutes come from the series' start time.
_ALLOWED_PARTS = frozenset(
    {"FREQ", "INTERVAL", "BYDAY", "BYMONTHDAY", "BYMONTH", "BYSETPOS", "WKST"}
)
# Longest span a series may be generated over in one go (a guard, not a policy).
MAX_OCCURRENCES = 2000


class RecurrenceError(ValueError):
    """The recurrence rule cannot be used; the message says why."""


def weekly_rule(weekdays: Iterable[int], interval: int = 1) -> str:
    """An RFC 5545 rule for the given weekdays (0 = Monday), e.g. FREQ=WEEKLY;BYDAY=MO,WE,TH."""
    days = sorted(set(weekdays))
    if not days or any(d < 0 or d > 6 for d in days):
        raise RecurrenceError("Choose at least one weekday (Monday to Sunday).")
    if interval < 1 or interval > 4:
        raise RecurrenceError("Repeat every 1 to 4 weeks.")
    rule = "FREQ=WEEKLY"
    if interval > 1:
        rule += f";INTERVAL={interval}"
    return rule + ";BYDAY=" + ",".join(WEEKDAY_CODES[d] for d in days)


# The longest each month can be (February in a leap year).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _numbers(parts: dict[str, str], name: str, low: int, high: int) -> list[int]:
    if name not in parts:
        return []
    try:
        values = [int(v) for v in parts[name].split(",")]
    except ValueError:
        raise RecurrenceError(f"{name} takes whole numbers from {low} to {high}.") from None
    if any(v == 0 or not low <= v <= high for v in values):
        raise RecurrenceError(f"{name} takes whole numbers from {low} to {high} (not 0).")
    return values


def _check_days_exist(parts: dict[str, str]) -> None:
    """Refuse a rule whose days never happen (30 February): the rule engine would
    search for them for a long time before finding none."""
    months = _numbers(parts, "BYMONTH", 1, 12) or list(range(1, 13))
    month_days = _numbers(parts, "BYMONTHDAY", -31, 31)
    _numbers(parts, "BYSETPOS", -366, 366)
    positive = [d for d in month_days if d > 0]
    only_positive = bool(month_days) and len(positive) == len(month_days)
    if only_positive and not any(
        day <= _MONTH_DAYS[month - 1] for month in months for day in positive
    ):
        raise RecurrenceError("No month chosen has that day of the month.")


def _parsed(rule_text: str, start: datetime) -> rrule:
    text = rule_text.strip().removeprefix("RRULE:")
    upper = text.upper()
    if not upper.startswith("FREQ="):
        raise RecurrenceError("Start the rule with FREQ= (DAILY, WEEKLY or MONTHLY).")
    if "DTSTART" in upper or "UNTIL" in upper or "COUNT" in upper:
        raise RecurrenceError(
            "Give the first and last day as dates, not inside the rule (no DTSTART, UNTIL or COUNT)."
        )
    parts: dict[str, str] = {}
    for part in upper.split(";"):
        name, _, value = part.partition("=")
        if name in parts:
            raise RecurrenceError(f"{name} is given twice.")
        parts[name] = value
    unknown = sorted(set(parts) - _ALLOWED_PARTS)
    if unknown:
        allowed = ", ".join(sorted(_ALLOWED_PARTS))
        raise RecurrenceError(
            f"This rule part is not used for sessions: {', '.join(unknown)} (allowed: {allowed}); "
            "the time of day is the series' start time."
        )
    if "INTERVAL" in parts and not (
        parts["INTERVAL"].isdigit() and 1 <= int(parts["INTERVAL"]) <= 52
    ):
        raise RecurrenceError("INTERVAL is a whole number from 1 to 52.")
    _check_days_exist(parts)
    frequency = parts["FREQ"]
    if frequency not in _ALLOWED_FREQUENCIES:
        raise RecurrenceError(
            "Sessions repeat daily, weekly or monthly (FREQ=DAILY, WEEKLY or MONTHLY)."
        )
    try:
        parsed = rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as exc:
        raise RecurrenceError(f"Not a recurrence rule this system reads: {exc}.") from None
    if not isinstance(parsed, rrule):
        raise RecurrenceError("Give one rule, not a set of rules.")
    return parsed


def validate_rule(rule_text: str) -> str:
    """The rule, normalized; raises RecurrenceError with the reason when unusable."""
    # Wall-clock times on purpose (the zone is applied per occurrence); only the syntax matters.
    _parsed(rule_text, datetime(2026, 1, 5, 9, 0))  # noqa: DTZ001
    return rule_text.strip().removeprefix("RRULE:").upper()


def local_to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in the zone as UTC. A time skipped by the spring change (02:30
    on that night) is taken as the same distance after the change, as clocks do; a time
    that happens twice in autumn is the first of the two."""
    aware = local.replace(tzinfo=zone, fold=0)
    # A nonexistent time does not survive the round trip; zoneinfo then gives the
    # offset from before the gap, which lands the instant after the change.
    return aware.astimezone(UTC)


@dataclass(frozen=True)
class Occurrence:
    on: date  # the facility-local day of the occurrence (the series' key for it)
    starts_at: datetime  # UTC
    ends_at: datetime  # UTC


def occurrences(
    rule_text: str,
    *,
    start_time: time,
    minutes: int,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    anchor: date | None = None,
) -> list[Occurrence]:
    """Each occurrence from `first_day` to `last_day` (local days, inclusive) of the
    rule started on `anchor` (the series' first day; `first_day` when not given), so a
    fortnightly or monthly rule keeps its rhythm however it is generated in pieces.

    The rule runs over wall-clock times in the facility's zone, so 18:00 stays 18:00
    on both sides of a daylight-saving change; each is then fixed to UTC.
    """
    anchor = anchor or first_day
    first_day = max(first_day, anchor)
    if last_day < first_day:
        return []
    parsed = _parsed(rule_text, datetime.combine(anchor, start_time))
    found: list[Occurrence] = []
    window_start = datetime.combine(first_day, time.min)
    for local in parsed.between(window_start, datetime.combine(last_day, time.max), inc=True):
        starts_at = local_to_utc(local, zone)
        found.append(Occurrence(local.date(), starts_at, starts_at + timedelta(minutes=minutes)))
        if len(found) > MAX_OCCURRENCES:
            raise RecurrenceError("This rule makes too many sessions; shorten the span.")
    return found


# Conflicts: one person or room in two places at once.


@dataclass(frozen=True)
class Booking:
    """A time something is already taken for, with a label for the refusal."""

    starts_at: datetime
    ends_at: datetime
    label: str


def overlaps(a_start: datetime, a_end: datetime, b_start: datetime, b_end: datetime) -> bool:
    """Half-open intervals: a session ending at 19:00 does not clash with one at 19:00."""
    return a_start < b_end and b_start < a_end


def first_clash(
    wanted: Sequence[tuple[datetime, datetime]], taken: Sequence[Booking]
) -> tuple[tuple[datetime, datetime], Booking] | None:
    """The first wanted time that overlaps something taken, with what it clashes with."""
    ordered = sorted(taken, key=lambda b: b.starts_at)
    for start, end in sorted(wanted):
        for booking in ordered:
            if booking.starts_at >= end:
                break
            if overlaps(start, end, booking.starts_at, booking.ends_at):
                return (start, end), booking
    return None


# Intensity: clinical hours a week against the minimum of the level of care
# (domain reference §4.3, 3rd edition; adults unless said).

ADOLESCENT_UNDER = 18
# level code -> (adult minimum, adolescent minimum), hours a week.
WEEKLY_MINIMUM_HOURS: dict[str, tuple[int, int]] = {
    "2.1": (9, 6),
    "2.5": (20, 20),
    "3.1": (5, 5),
}
# Level 1 outpatient is under 9 hours a week for adults (under 6 for adolescents).
OUTPATIENT_CEILING_HOURS: dict[str, tuple[int, int]] = {"1": (9, 6)}


def weekly_minimum_hours(level_code: str, *, adolescent: bool) -> int | None:
    """The level's minimum of clinical hours a week; None when the level sets none."""
    pair = WEEKLY_MINIMUM_HOURS.get(level_code)
    if pair is None:
        return None
    return pair[1] if adolescent else pair[0]


def prorated_minimum(minimum: int | None, days_in_care: int) -> float | None:
    """The minimum for a week the patient spent only part of in the program (admitted
    or moved in mid-week): in proportion to the days, to the half hour. None when the
    level sets none or the patient was not in the program that week."""
    if minimum is None or days_in_care <= 0:
        return None
    if days_in_care >= 7:
        return float(minimum)
    return round(minimum * days_in_care / 7 * 2) / 2


def weekly_ceiling_hours(level_code: str, *, adolescent: bool) -> int | None:
    """Hours a week at or above which the level is no longer outpatient (level 1)."""
    pair = OUTPATIENT_CEILING_HOURS.get(level_code)
    if pair is None:
        return None
    return pair[1] if adolescent else pair[0]


def is_adolescent(birth: date | None, on: date) -> bool:
    if birth is None:
        return False
    years = on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))
    return years < ADOLESCENT_UNDER


class IntensityStatus(StrEnum):
    NO_MINIMUM = "no_minimum"  # the level sets no weekly minimum
    MET = "met"  # attended hours reach the minimum
    ON_TRACK = "on_track"  # not yet, but the sessions still to come reach it
    SHORT = "short"  # attended plus still to come fall short
    UNDER_SCHEDULED = "under_scheduled"  # even the whole schedule falls short
    OVER_CEILING = "over_ceiling"  # outpatient scheduled at IOP intensity


@dataclass(frozen=True)
class WeekIntensity:
    minimum_hours: float | None
    scheduled_minutes: int  # every clinical session of the week on the patient's schedule
    attended_minutes: int  # minutes actually attended
    remaining_minutes: int  # scheduled sessions not yet held (or not yet taken)
    status: IntensityStatus

    @property
    def scheduled_hours(self) -> float:
        return round(self.scheduled_minutes / 60, 1)

    @property
    def attended_hours(self) -> float:
        return round(self.attended_minutes / 60, 1)

    @property
    def remaining_hours(self) -> float:
        return round(self.remaining_minutes / 60, 1)

    @property
    def shortfall_hours(self) -> float:
        """Hours still missing to reach the minimum with what is left of the week."""
        if self.minimum_hours is None:
            return 0.0
        reachable = self.attended_minutes + self.remaining_minutes
        return max(0.0, round(self.minimum_hours - reachable / 60, 1))

    @property
    def is_short(self) -> bool:
        return self.status in (IntensityStatus.SHORT, IntensityStatus.UNDER_SCHEDULED)


def week_intensity(
    *,
    minimum_hours: float | None,
    ceiling_hours: int | None = None,
    scheduled_minutes: int,
    attended_minutes: int,
    remaining_minutes: int,
) -> WeekIntensity:
    """Where a patient's week stands against the level's minimum."""

    def result(status: IntensityStatus) -> WeekIntensity:
        return WeekIntensity(
            minimum_hours, scheduled_minutes, attended_minutes, remaining_minutes, status
        )

    if minimum_hours is None:
        if ceiling_hours is not None and scheduled_minutes >= ceiling_hours * 60:
            return result(IntensityStatus.OVER_CEILING)
        return result(IntensityStatus.NO_MINIMUM)
    needed = round(minimum_hours * 60)
    if attended_minutes >= needed:
        return result(IntensityStatus.MET)
    if scheduled_minutes < needed:
        return result(IntensityStatus.UNDER_SCHEDULED)
    if attended_minutes + remaining_minutes >= needed:
        return result(IntensityStatus.ON_TRACK)
    return result(IntensityStatus.SHORT)


def week_start(day: date) -> date:
    """The Monday of the day's week (weeks run Monday to Sunday)."""
    return day - timedelta(days=day.weekday())


# Missed sessions.

ATTENDED = frozenset({"present", "late", "left_early"})
UNEXCUSED = "absent_unexcused"


def unexcused_in_a_row(statuses_newest_first: Sequence[str]) -> int:
    """How many of the latest recorded sessions in a row were unexcused absences
    (sessions not yet taken are left out by the caller; an excused absence ends the run)."""
    count = 0
    for status in statuses_newest_first:
        if status != UNEXCUSED:
            break
        count += 1
    return count


def missed_in_a_row(statuses_newest_first: Sequence[str], threshold: int) -> bool:
    return unexcused_in_a_row(statuses_newest_first) >= threshold


def minutes_attended_default(status: str, session_minutes: int) -> int | None:
    """What to record when the facilitator does not type minutes: the whole session for
    present, nothing for an absence; late and left early need the actual minutes."""
    if status == "present":
        return session_minutes
    if status in ("absent_excused", "absent_unexcused"):
        return 0
    return None


# A series' rule in words, for people.

_DAY_NAMES = dict(
    zip(
        WEEKDAY_CODES,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)
EN_DASH = "\u2013"


def _joined(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _every(interval: int, unit: str) -> str:
    return f"every {unit}" if interval == 1 else f"every {interval} {unit}s"


def rule_in_words(
    rule_text: str, *, start_time: time, minutes: int, first_day: date, zone: str
) -> str:
    """'Mondays, Wednesdays and Thursdays, 18:00-21:00 (America/New_York)', with an en
    dash between the times. A rule this cannot put in words (one written through the
    API) is shown as it is."""
    parts = dict(
        part.split("=", 1) for part in rule_text.upper().split(";") if part.count("=") == 1
    )
    frequency = parts.pop("FREQ", "")
    try:
        interval = int(parts.pop("INTERVAL", "1"))
    except ValueError:
        interval = 0
    days = parts.pop("BYDAY", "")
    end = datetime.combine(first_day, start_time) + timedelta(minutes=minutes)
    hours = f"{start_time:%H:%M}{EN_DASH}{end:%H:%M} ({zone})"
    codes = days.split(",") if days else []
    if parts or interval < 1 or any(code not in _DAY_NAMES for code in codes):
        return f"{rule_text}, {hours}"
    if frequency == "WEEKLY":
        if not codes:
            codes = [WEEKDAY_CODES[first_day.weekday()]]
        ordered = sorted(codes, key=WEEKDAY_CODES.index)
        when = _joined([_DAY_NAMES[code] + "s" for code in ordered])
        if interval > 1:
            when += f", {_every(interval, 'week')}"
        return f"{when}, {hours}"
    if frequency == "DAILY" and not codes:
        return f"{_every(interval, 'day').capitalize()}, {hours}"
    return f"{rule_text}, {hours}"
