"""The schedule's pure rules: recurrence in a zone, clashes, weekly intensity and
missed-session runs. Plain functions, checked with Hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.scheduling import rules

ZONES = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Phoenix",
    "Pacific/Honolulu",
    "Europe/London",
    "UTC",
]


@settings(max_examples=150, deadline=None)
@given(
    first=st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    hour=st.integers(min_value=0, max_value=23),
    minute=st.sampled_from([0, 15, 30, 45]),
    zone_name=st.sampled_from(ZONES),
    weekdays=st.sets(st.integers(min_value=0, max_value=6), min_size=1),
)
def test_every_occurrence_keeps_its_wall_clock_time_except_in_a_skipped_hour(
    first, hour, minute, zone_name, weekdays
):
    zone = ZoneInfo(zone_name)
    found = rules.occurrences(
        rules.weekly_rule(weekdays),
        start_time=time(hour, minute),
        minutes=90,
        first_day=first,
        last_day=first + timedelta(days=60),
        zone=zone,
    )
    assert found, "two months of a weekly rule always hold an occurrence"
    for occurrence in found:
        assert occurrence.on.weekday() in weekdays
        local = occurrence.starts_at.astimezone(zone)
        assert occurrence.ends_at - occurrence.starts_at == timedelta(minutes=90)
        if local.date() == occurrence.on and local.time() == time(hour, minute):
            continue
        # Only a time the spring change skips moves, and by exactly the jump.
        naive = datetime.combine(occurrence.on, time(hour, minute))
        roundtrip = naive.replace(tzinfo=zone).astimezone(UTC).astimezone(zone)
        assert roundtrip.replace(tzinfo=None) != naive
        assert local.replace(tzinfo=None) - naive == timedelta(hours=1)


def test_the_autumn_change_gives_18_00_on_both_sides_and_a_shorter_utc_gap():
    zone = ZoneInfo("America/New_York")
    found = rules.occurrences(
        "FREQ=WEEKLY;BYDAY=FR,MO",
        start_time=time(18),
        minutes=180,
        first_day=date(2026, 10, 30),
        last_day=date(2026, 11, 2),
        zone=zone,
    )
    assert [o.starts_at.astimezone(zone).strftime("%a %H:%M") for o in found] == [
        "Fri 18:00",
        "Mon 18:00",
    ]
    # Friday to Monday across the change: 72 wall-clock hours are 73 real ones.
    assert found[1].starts_at - found[0].starts_at == timedelta(hours=73)


def test_an_ambiguous_autumn_time_is_the_first_of_the_two():
    zone = ZoneInfo("America/New_York")
    (occurrence,) = rules.occurrences(
        "FREQ=DAILY",
        start_time=time(1, 30),
        minutes=30,
        first_day=date(2026, 11, 1),
        last_day=date(2026, 11, 1),
        zone=zone,
    )
    assert occurrence.starts_at == datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT


@pytest.mark.parametrize(
    "text", ["FREQ=HOURLY", "FREQ=WEEKLY;UNTIL=20270101", "DTSTART:20260101T000000", ""]
)
def test_unusable_rules_say_why(text):
    with pytest.raises(rules.RecurrenceError):
        rules.validate_rule(text)


def test_weekly_rule_writes_rfc_5545():
    assert rules.weekly_rule([3, 0, 2]) == "FREQ=WEEKLY;BYDAY=MO,WE,TH"
    assert rules.weekly_rule([1], interval=2) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"
    with pytest.raises(rules.RecurrenceError):
        rules.weekly_rule([])


_T0 = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
spans = st.tuples(st.integers(0, 1000), st.integers(1, 300)).map(
    lambda p: (_T0 + timedelta(minutes=p[0]), _T0 + timedelta(minutes=p[0] + p[1]))
)


@given(a=spans, b=spans)
def test_overlap_is_symmetric_and_touching_ends_do_not_clash(a, b):
    assert rules.overlaps(*a, *b) == rules.overlaps(*b, *a)
    assert not rules.overlaps(a[0], a[1], a[1], a[1] + timedelta(minutes=30))


@given(wanted=st.lists(spans, max_size=6), taken=st.lists(spans, max_size=6))
def test_first_clash_finds_a_clash_exactly_when_one_exists(wanted, taken):
    bookings = [rules.Booking(s, e, "x") for s, e in taken]
    clash = rules.first_clash(wanted, bookings)
    exists = any(
        rules.overlaps(start, end, b.starts_at, b.ends_at)
        for start, end in wanted
        for b in bookings
    )
    assert (clash is not None) == exists
    if clash:
        (start, end), booking = clash
        assert rules.overlaps(start, end, booking.starts_at, booking.ends_at)


def test_minimums_follow_the_levels_of_care():
    assert rules.weekly_minimum_hours("2.1", adolescent=False) == 9
    assert rules.weekly_minimum_hours("2.1", adolescent=True) == 6
    assert rules.weekly_minimum_hours("2.5", adolescent=False) == 20
    assert rules.weekly_minimum_hours("3.1", adolescent=False) == 5
    assert rules.weekly_minimum_hours("1", adolescent=False) is None
    assert rules.weekly_ceiling_hours("1", adolescent=False) == 9
    assert rules.is_adolescent(date(2010, 6, 1), date(2026, 5, 31))
    assert not rules.is_adolescent(date(2008, 6, 1), date(2026, 6, 1))


minutes = st.integers(min_value=0, max_value=40 * 60)


@given(minimum=st.sampled_from([5, 9, 20]), scheduled=minutes, attended=minutes, remaining=minutes)
def test_intensity_status_agrees_with_the_arithmetic(minimum, scheduled, attended, remaining):
    week = rules.week_intensity(
        minimum_hours=minimum,
        scheduled_minutes=scheduled,
        attended_minutes=attended,
        remaining_minutes=remaining,
    )
    needed = minimum * 60
    if attended >= needed:
        assert week.status == rules.IntensityStatus.MET and not week.is_short
    elif scheduled < needed:
        assert week.status == rules.IntensityStatus.UNDER_SCHEDULED and week.is_short
    elif attended + remaining >= needed:
        assert week.status == rules.IntensityStatus.ON_TRACK and week.shortfall_hours == 0
    else:
        assert week.status == rules.IntensityStatus.SHORT
        assert week.shortfall_hours == round(minimum - (attended + remaining) / 60, 1) > 0


def test_nine_hours_of_iop_three_evenings_of_three_hours():
    met = rules.week_intensity(
        minimum_hours=9, scheduled_minutes=540, attended_minutes=540, remaining_minutes=0
    )
    missed_one = rules.week_intensity(
        minimum_hours=9, scheduled_minutes=540, attended_minutes=360, remaining_minutes=0
    )
    late_twice = rules.week_intensity(
        minimum_hours=9, scheduled_minutes=540, attended_minutes=480, remaining_minutes=0
    )
    assert met.status == "met"
    assert missed_one.status == "short" and missed_one.shortfall_hours == 3.0
    assert late_twice.status == "short" and late_twice.shortfall_hours == 1.0
    assert (
        rules.week_intensity(
            minimum_hours=None,
            ceiling_hours=9,
            scheduled_minutes=600,
            attended_minutes=0,
            remaining_minutes=600,
        ).status
        == "over_ceiling"
    )


statuses = st.lists(
    st.sampled_from(["present", "late", "left_early", "absent_excused", "absent_unexcused"]),
    max_size=8,
)


@given(history=statuses, threshold=st.integers(min_value=1, max_value=4))
def test_missed_in_a_row_counts_only_the_latest_unbroken_run(history, threshold):
    run = 0
    for status in history:
        if status != "absent_unexcused":
            break
        run += 1
    assert rules.unexcused_in_a_row(history) == run
    assert rules.missed_in_a_row(history, threshold) == (run >= threshold)


def test_weeks_start_on_monday():
    assert rules.week_start(date(2026, 11, 29)) == date(2026, 11, 23)
    assert rules.week_start(date(2026, 11, 23)) == date(2026, 11, 23)


def test_a_part_week_has_its_minimum_in_proportion_to_the_half_hour():
    assert rules.prorated_minimum(9, 7) == 9.0
    assert rules.prorated_minimum(9, 5) == 6.5  # admitted on a Wednesday
    assert rules.prorated_minimum(20, 1) == 3.0
    assert rules.prorated_minimum(9, 0) is None  # not in the program that week
    assert rules.prorated_minimum(None, 7) is None


@given(minimum=st.sampled_from([5, 6, 9, 20]), days=st.integers(min_value=1, max_value=7))
def test_a_prorated_minimum_never_exceeds_the_weekly_one(minimum, days):
    part = rules.prorated_minimum(minimum, days)
    assert part is not None and 0 <= part <= minimum and (part * 2).is_integer()
