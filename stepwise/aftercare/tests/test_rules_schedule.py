"""The check-in schedule as pure arithmetic: weekly, then monthly on the start's day of
the month, clamped to short months without drifting, open-ended, across leap years."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.aftercare.rules.schedule import (
    MIN_GAP,
    ScheduleError,
    Taper,
    add_months,
    describe,
    due_dates,
    missed_after,
)

starts = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))
tapers = st.builds(Taper, weekly=st.integers(0, 12), every_months=st.integers(1, 12))
spans = st.integers(min_value=0, max_value=1500)


def months_between(a: date, b: date) -> int:
    return (b.year - a.year) * 12 + b.month - a.month


def test_weekly_for_a_month_then_monthly_by_default():
    # The one-month day (Apr 2) comes 3 days after the fourth weekly call: the monthly
    # rhythm takes over from the next month, on the start's day.
    days = due_dates(date(2026, 3, 2), Taper(), date(2026, 7, 31))
    assert days == [
        date(2026, 3, 9),
        date(2026, 3, 16),
        date(2026, 3, 23),
        date(2026, 3, 30),
        date(2026, 5, 2),
        date(2026, 6, 2),
        date(2026, 7, 2),
    ]


def test_january_31_goes_to_the_end_of_february_and_back_to_the_31st():
    days = due_dates(date(2027, 1, 31), Taper(weekly=0), date(2027, 6, 1))
    assert days == [date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31)]
    leap = due_dates(date(2028, 1, 31), Taper(weekly=0), date(2028, 3, 31))
    assert leap == [date(2028, 2, 29), date(2028, 3, 31)]


def test_a_monthly_check_in_too_close_to_the_last_weekly_one_is_skipped():
    # Feb 1 2027: weekly to Mar 1, which is also the one-month day: no double.
    # With two weekly ones, the one-month day is far enough and kept.
    days = due_dates(date(2027, 2, 1), Taper(), date(2027, 4, 30))
    assert days == [
        date(2027, 2, 8),
        date(2027, 2, 15),
        date(2027, 2, 22),
        date(2027, 3, 1),
        date(2027, 4, 1),
    ]
    two = due_dates(date(2027, 2, 1), Taper(weekly=2), date(2027, 3, 31))
    assert two == [date(2027, 2, 8), date(2027, 2, 15), date(2027, 3, 1)]


def test_out_of_range_tapers_are_refused():
    with pytest.raises(ScheduleError, match="Weekly"):
        Taper(weekly=13)
    with pytest.raises(ScheduleError, match="Months"):
        Taper(every_months=0)


def test_describe_in_plain_words():
    assert describe(Taper()) == "Every week for the first 4 weeks, then every month"
    assert describe(Taper(weekly=0, every_months=3)) == "Every 3 months"
    assert (
        describe(Taper(weekly=1, every_months=2))
        == "Every week for the first week, then every 2 months"
    )


@given(start=starts, taper=tapers, span=spans)
def test_dates_rise_strictly_start_after_the_start_and_stay_within_the_horizon(start, taper, span):
    until = start + timedelta(days=span)
    days = due_dates(start, taper, until)
    assert all(start < d <= until for d in days)
    assert days == sorted(set(days))


@given(start=starts, taper=tapers, span=spans)
def test_the_first_check_ins_are_weekly(start, taper, span):
    days = due_dates(start, taper, start + timedelta(days=span))
    weekly = [start + timedelta(weeks=k) for k in range(1, taper.weekly + 1)]
    assert days[: len(weekly)] == [d for d in weekly if d in days]
    assert [d for d in days if d <= start + timedelta(weeks=taper.weekly)] == [
        d for d in weekly if d <= start + timedelta(days=span)
    ]


@given(start=starts, taper=tapers, span=spans)
def test_monthly_check_ins_keep_the_start_day_clamped_to_the_month_and_never_drift(
    start, taper, span
):
    days = due_dates(start, taper, start + timedelta(days=span))
    monthly = days[min(taper.weekly, len(days)) :]
    for day in monthly:
        last = calendar.monthrange(day.year, day.month)[1]
        assert day.day == min(start.day, last)
        assert months_between(start, day) % taper.every_months == 0
    for before, after in pairwise(monthly):
        assert months_between(before, after) == taper.every_months


@given(start=starts, taper=tapers, span=spans)
def test_no_two_check_ins_are_less_than_a_week_apart(start, taper, span):
    days = due_dates(start, taper, start + timedelta(days=span))
    assert all(b - a >= MIN_GAP for a, b in pairwise(days))


@given(start=starts, taper=tapers, first=spans, more=spans)
def test_a_later_horizon_only_adds_later_dates(start, taper, first, more):
    """Open-ended: extending the horizon never moves or drops a date already made."""
    short = due_dates(start, taper, start + timedelta(days=first))
    long = due_dates(start, taper, start + timedelta(days=first + more))
    assert long[: len(short)] == short
    assert all(d > start + timedelta(days=first) for d in long[len(short) :])


@given(start=starts, taper=tapers)
def test_every_month_after_the_weekly_ones_has_its_check_in(start, taper):
    """Across a year (leap or not), one check-in per interval: none lost to a short month."""
    until = start + timedelta(days=800)
    days = due_dates(start, taper, until)
    after_weekly = start + timedelta(weeks=taper.weekly) + MIN_GAP
    expected = [
        d
        for step in range(1, 40)
        if (d := add_months(start, step * taper.every_months)) is not None
        and after_weekly <= d <= until
    ]
    assert [d for d in days if d >= after_weekly] == expected


@given(
    day=st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)), grace=st.integers(1, 24)
)
def test_a_check_in_is_missed_grace_hours_after_its_day_ends(day, grace):
    for zone in ("UTC", "America/New_York", "Pacific/Kiritimati", "Australia/Lord_Howe"):
        when = missed_after(day, zone, grace)
        assert when.tzinfo is not None
        day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo(zone))
        assert when - day_end.astimezone(UTC) == timedelta(hours=grace)


def test_the_grace_counts_real_hours_across_a_clock_change():
    # 2026-11-01: New York falls back; the day of Oct 31 ends at 04:00 UTC, then 24 real hours.
    assert missed_after(date(2026, 10, 31), "America/New_York", 24) == datetime(
        2026, 11, 2, 4, 0, tzinfo=UTC
    )


def test_add_months_stops_at_the_end_of_the_calendar():
    assert add_months(date(9999, 11, 30), 1) == date(9999, 12, 30)
    assert add_months(date(9999, 12, 1), 1) is None
