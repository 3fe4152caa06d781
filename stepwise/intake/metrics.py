"""Admissions metrics: how the line did over a period, in the organization's own days.

`admissions_metrics` reads a fixed number of queries whatever the size of the call
log (see `METRICS_QUERIES`): counts are grouped in the database, and only the
columns the figures need (call times, admission times, waiting since) come back as
plain values for the bucketing in the organization's zone and the percentiles of
`rules.metrics`. `build_bar_chart` lays the hour and weekday counts out for the
page's inline SVG (no JavaScript, no inline styles: the CSP stays strict).

Definitions, as the page states them:
- the period runs from the start day's midnight to the end of the end day, in the
  organization's time zone (its first facility's);
- calls, the outcome mix and conversion count the calls received in the period,
  each with where it stands now (an admission after the period still counts for the
  call that led to it);
- time to admission counts the admissions in the period, from the call to the
  episode's admission;
- waitlist exits and referrals out count what happened in the period.
"""

from __future__ import annotations

import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from stepwise.care import rules as care_rules
from stepwise.care.selectors import organization_time_zone
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction, DataClass
from stepwise.core.roles import Permission
from stepwise.intake.models import (
    Inquiry,
    Outcome,
    ReferralOutReason,
    WaitlistEntry,
    WaitlistExit,
)
from stepwise.intake.rules import metrics as arithmetic
from stepwise.intake.rules.priority import days_between

CATEGORY = "intake"
DEFAULT_DAYS = 30
# A longer period would bring back every call time of more than a year at once.
MAX_DAYS = 366
# The time zone, call times, outcome and source counts, admissions, the waitlist now,
# waitlist exits, referrals out.
METRICS_QUERIES = 7
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
OPEN_LABEL = "Open"
FIELD_LABELS = {"start": "Start date", "end": "End date"}
# The earliest day a period may start: older dates are typos, and times before 1900
# in some zones have offsets in seconds that no one means.
EARLIEST = date(1900, 1, 1)


# The period asked for.


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def default_period(today: date) -> Period:
    """The last 30 days, today included."""
    return Period(today - timedelta(days=DEFAULT_DAYS - 1), today)


def _parse_day(name: str, text: str, errors: dict[str, str]) -> date | None:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors[name] = (
            f"{FIELD_LABELS[name]} {text[:40]!r} is not a date: give it as YYYY-MM-DD, "
            "e.g. 2025-01-31."
        )
        return None
    if len(text) != 10:  # fromisoformat also takes 20250131 and week dates
        errors[name] = f"{FIELD_LABELS[name]}: give it as YYYY-MM-DD, e.g. 2025-01-31."
        return None
    if day < EARLIEST:
        errors[name] = f"{FIELD_LABELS[name]} must be in {EARLIEST.year} or later."
        return None
    return day


def parse_period(start_text: str | None, end_text: str | None, today: date) -> Period:
    """The period from the page's `start` and `end` (YYYY-MM-DD, both included).

    Without an end the period ends today; without a start it is the 30 days up to
    the end. Raises ValidationFailed with one message per field, each naming it.
    """
    errors: dict[str, str] = {}
    start_text = (start_text or "").strip()
    end_text = (end_text or "").strip()
    start = _parse_day("start", start_text, errors) if start_text else None
    end = _parse_day("end", end_text, errors) if end_text else today
    if errors:
        raise ValidationFailed(errors)
    assert end is not None
    if start is None:
        start = max(end - timedelta(days=DEFAULT_DAYS - 1), EARLIEST)
    if start > end:
        raise ValidationFailed(
            {"start": f"Start date {start:%Y-%m-%d} comes after the end date {end:%Y-%m-%d}."}
        )
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(
            {"end": f"End date: a period is at most {MAX_DAYS} days; choose a shorter one."}
        )
    return Period(start, end)


def today_for(actor: Actor, now: datetime | None = None) -> date:
    """Today in the organization's zone (one query)."""
    zone = zoneinfo.ZoneInfo(organization_time_zone(actor.organization_id))
    return (now or timezone.now()).astimezone(zone).date()


# Bar charts of counts, geometry only (the template draws them).

MAX_Y_INTERVALS = 5


@dataclass(frozen=True)
class Bar:
    label: str  # on the axis: "00", "Mon"
    name: str  # in words: "00:00-00:59", "Monday"
    count: int
    x: float
    y: float
    width: float
    height: float
    label_x: float

    @property
    def title(self) -> str:
        return f"{self.name}: {self.count} call{'' if self.count == 1 else 's'}"


@dataclass(frozen=True)
class YTick:
    value: int
    y: float


@dataclass(frozen=True)
class BarChart:
    id: str
    title: str
    summary: str
    unit: str  # the table's first column: "Hour", "Day"
    width: int
    height: int
    x0: float
    x1: float
    y0: float  # top of the plot
    y1: float  # bottom: zero
    bars: tuple[Bar, ...]
    y_ticks: tuple[YTick, ...]

    @property
    def title_id(self) -> str:
        return f"{self.id}-title"

    @property
    def desc_id(self) -> str:
        return f"{self.id}-desc"

    @property
    def total(self) -> int:
        return sum(bar.count for bar in self.bars)

    @property
    def label_y(self) -> float:
        return self.y1 + 14


def _r(value: float) -> float:
    return round(value, 1)


def _nice_step(maximum: int) -> int:
    magnitude = 1
    while True:
        for multiple in (1, 2, 5):
            step = multiple * magnitude
            if maximum <= step * MAX_Y_INTERVALS:
                return step
        magnitude *= 10


def build_bar_chart(
    chart_id: str,
    title: str,
    unit: str,
    bars: Sequence[tuple[str, str, int]],
    *,
    preposition: str = "in",
    width: int = 640,
    height: int = 200,
) -> BarChart:
    """Lay out one bar per (axis label, name, count), in order, on a scale from 0 to
    a round number at or above the largest count; the summary names the busiest
    ("in 09:00-09:59", with `preposition` "on": "on Monday")."""
    x0, x1, y0, y1 = 36.0, width - 8.0, 12.0, height - 24.0
    largest = max((count for _, _, count in bars), default=0)
    step = _nice_step(max(largest, 1))
    top = max(step * -(-largest // step), step)

    def to_y(value: float) -> float:
        return y1 - value / top * (y1 - y0)

    slot = (x1 - x0) / max(len(bars), 1)
    laid = tuple(
        Bar(
            label=label,
            name=name,
            count=count,
            x=_r(x0 + i * slot + slot * 0.15),
            y=_r(to_y(count)),
            width=_r(slot * 0.7),
            height=_r(y1 - to_y(count)),
            label_x=_r(x0 + (i + 0.5) * slot),
        )
        for i, (label, name, count) in enumerate(bars)
    )
    total = sum(count for _, _, count in bars)
    if total:
        busiest = [b.name for b in laid if b.count == largest]
        if len(busiest) == 1:
            where = f"{preposition} {busiest[0]}"
        elif len(busiest) <= 3:
            where = f"{preposition} {', '.join(busiest[:-1])} and {busiest[-1]}"
        else:
            where = f"{preposition} each of {len(busiest)} {unit.lower()}s"
        each = " each" if 1 < len(busiest) <= 3 else ""
        summary = f"{total} call{'' if total == 1 else 's'}; the most, {largest}{each}, {where}."
    else:
        summary = "No calls in the period."
    return BarChart(
        id=chart_id,
        title=title,
        summary=summary,
        unit=unit,
        width=width,
        height=height,
        x0=x0,
        x1=x1,
        y0=y0,
        y1=y1,
        bars=laid,
        y_ticks=tuple(YTick(v, _r(to_y(v))) for v in range(0, top + 1, step)),
    )


# The figures.


@dataclass(frozen=True)
class Share:
    code: str
    label: str
    count: int
    share: float | None  # of the total; None when there is nothing to share

    @property
    def percent(self) -> float | None:
        return None if self.share is None else self.share * 100


@dataclass(frozen=True)
class SourceConversion:
    code: int
    label: str
    calls: int
    admitted: int
    rate: float | None

    @property
    def percent(self) -> float | None:
        return None if self.rate is None else self.rate * 100


@dataclass(frozen=True)
class TimeToAdmission:
    count: int
    median_hours: float | None
    p90_hours: float | None

    @property
    def median_days(self) -> float | None:
        return None if self.median_hours is None else self.median_hours / 24

    @property
    def p90_days(self) -> float | None:
        return None if self.p90_hours is None else self.p90_hours / 24


@dataclass(frozen=True)
class Waiting:
    """People waiting now: how many, and how many days (in the organization's days)."""

    name: str  # the program, or "All programs"
    length: int
    median_days: float | None
    longest_days: int | None


@dataclass(frozen=True)
class AdmissionsMetrics:
    start: date
    end: date
    time_zone: str
    computed_at: datetime
    calls: int
    calls_by_hour: tuple[int, ...]  # 24 counts, hour 0 first
    calls_by_weekday: tuple[int, ...]  # 7 counts, Monday first
    hour_chart: BarChart
    weekday_chart: BarChart
    outcomes: tuple[Share, ...]  # Open first, then each outcome
    admitted_calls: int  # calls of the period admitted so far
    conversion: tuple[SourceConversion, ...]  # per TEDS referral source
    time_to_admission: TimeToAdmission
    waitlist: Waiting
    waitlist_by_program: tuple[Waiting, ...]
    waitlist_exits: tuple[Share, ...]  # per way of leaving, in the period
    referrals_out: tuple[Share, ...]  # per reason, in the period

    @property
    def charts(self) -> tuple[BarChart, BarChart]:
        return (self.hour_chart, self.weekday_chart)

    @property
    def conversion_rate(self) -> float | None:
        return arithmetic.rate(self.admitted_calls, self.calls)

    @property
    def conversion_percent(self) -> float | None:
        rate = self.conversion_rate
        return None if rate is None else rate * 100

    @property
    def waitlist_left(self) -> int:
        return sum(s.count for s in self.waitlist_exits)

    @property
    def referred_out(self) -> int:
        return sum(s.count for s in self.referrals_out)


def _shares(rows: Sequence[tuple[str, str, int]]) -> tuple[Share, ...]:
    total = sum(count for _, _, count in rows)
    return tuple(
        Share(code, label, count, arithmetic.rate(count, total)) for code, label, count in rows
    )


def _waiting(name: str, days: Sequence[int]) -> Waiting:
    return Waiting(name, len(days), arithmetic.median(days), max(days) if days else None)


def admissions_metrics(
    actor: Actor, start: date, end: date, *, now: datetime | None = None
) -> AdmissionsMetrics:
    """The admissions figures of the actor's organization from `start` to `end`
    (both included, in the organization's days), and its waitlist at `now`.

    `METRICS_QUERIES` queries whatever the number of calls.
    """
    require_permission(actor, Permission.INTAKE_READ, category=CATEGORY)
    if start > end:
        raise ValidationFailed({"start": "The start date comes after the end date."})
    moment = now or timezone.now()
    org = actor.organization_id
    zone_name = organization_time_zone(org)
    zone = zoneinfo.ZoneInfo(zone_name)
    # Local midnights: combine() with a ZoneInfo takes the offset in force that day.
    since = datetime.combine(start, time.min, tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone)
    calls = Inquiry.objects.filter(
        organization_id=org, received_at__gte=since, received_at__lt=until
    ).order_by()

    # Calls per hour of day and per day of week, in the organization's zone.
    by_hour = [0] * 24
    by_weekday = [0] * 7
    for received_at in calls.values_list("received_at", flat=True).iterator(chunk_size=2000):
        local = received_at.astimezone(zone)
        by_hour[local.hour] += 1
        by_weekday[local.weekday()] += 1

    # Outcome mix and conversion: one grouped count per (outcome, referral source).
    by_outcome: Counter[str] = Counter()
    by_source: Counter[int] = Counter()
    admitted_by_source: Counter[int] = Counter()
    for row in calls.values("outcome", "referral_source").annotate(n=Count("id")):
        by_outcome[row["outcome"]] += row["n"]
        by_source[row["referral_source"]] += row["n"]
        if row["outcome"] == Outcome.ADMITTED:
            admitted_by_source[row["referral_source"]] += row["n"]
    outcomes = _shares(
        [("", OPEN_LABEL, by_outcome[""])]
        + [(str(o.value), str(o.label), by_outcome[o.value]) for o in Outcome]
    )
    conversion = tuple(
        SourceConversion(
            code,
            label,
            by_source[code],
            admitted_by_source[code],
            arithmetic.rate(admitted_by_source[code], by_source[code]),
        )
        for code, label in care_rules.REFERRAL_SOURCES
    )

    # Time from the call to the admission, for the admissions in the period.
    hours = [
        (admitted_at - received_at).total_seconds() / 3600
        for received_at, admitted_at in Inquiry.objects.filter(
            organization_id=org,
            episode__organization_id=org,
            episode__admitted_at__gte=since,
            episode__admitted_at__lt=until,
        )
        .order_by()
        .values_list("received_at", "episode__admitted_at")
    ]

    # The waitlist now: days since the first call (TEDS days waiting), in the
    # organization's days.
    today = moment.astimezone(zone).date()
    days_by_program: dict[tuple[str, int], list[int]] = defaultdict(list)
    for program_id, program_name, first_call in (
        WaitlistEntry.objects.filter(organization_id=org, left_at__isnull=True)
        .order_by()
        .values_list("program_id", "program__name", "inquiry__received_at")
    ):
        waited = days_between(first_call.astimezone(zone).date(), today)
        days_by_program[(program_name, program_id)].append(waited)
    all_days = [d for days in days_by_program.values() for d in days]

    # Who left the waitlist in the period, and how.
    exits = Counter(
        {
            row["exit"]: row["n"]
            for row in WaitlistEntry.objects.filter(
                organization_id=org, left_at__gte=since, left_at__lt=until
            )
            .order_by()
            .values("exit")
            .annotate(n=Count("id"))
        }
    )

    # Referrals elsewhere made in the period, by reason.
    reasons = Counter(
        {
            row["referral_out_reason"]: row["n"]
            for row in Inquiry.objects.filter(
                organization_id=org,
                outcome=Outcome.REFERRED_OUT,
                outcome_at__gte=since,
                outcome_at__lt=until,
            )
            .order_by()
            .values("referral_out_reason")
            .annotate(n=Count("id"))
        }
    )

    total_calls = sum(by_hour)
    return AdmissionsMetrics(
        start=start,
        end=end,
        time_zone=zone_name,
        computed_at=moment,
        calls=total_calls,
        calls_by_hour=tuple(by_hour),
        calls_by_weekday=tuple(by_weekday),
        hour_chart=build_bar_chart(
            "calls-by-hour",
            "Calls by hour of day",
            "Hour",
            [(f"{h:02d}", f"{h:02d}:00-{h:02d}:59", n) for h, n in enumerate(by_hour)],
        ),
        weekday_chart=build_bar_chart(
            "calls-by-weekday",
            "Calls by day of week",
            "Day",
            [
                (short, name, n)
                for short, name, n in zip(WEEKDAYS, WEEKDAY_NAMES, by_weekday, strict=True)
            ],
            preposition="on",
        ),
        outcomes=outcomes,
        admitted_calls=by_outcome[Outcome.ADMITTED],
        conversion=conversion,
        time_to_admission=TimeToAdmission(
            len(hours), arithmetic.median(hours), arithmetic.percentile(hours, 0.9)
        ),
        waitlist=_waiting("All programs", all_days),
        waitlist_by_program=tuple(
            _waiting(name, days_by_program[(name, pk)]) for name, pk in sorted(days_by_program)
        ),
        waitlist_exits=_shares([(e.value, e.label, exits[e.value]) for e in WaitlistExit]),
        referrals_out=_shares([(r.value, r.label, reasons[r.value]) for r in ReferralOutReason]),
    )


def admissions_metrics_read(
    actor: Actor, start: date, end: date, *, now: datetime | None = None
) -> AdmissionsMetrics:
    """The figures with their audit row: an aggregate read, naming no patient."""
    figures = admissions_metrics(actor, start, end, now=now)
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type="admissions_metrics",
            detail={"start": start.isoformat(), "end": end.isoformat()},
            # Counts, not one person's record; small counts can still point to
            # someone, so health information rather than system data (as the census).
            data_class=DataClass.PHI,
        )
    return figures
