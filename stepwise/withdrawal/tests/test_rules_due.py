"""What is due on the flowsheet: reassessments (on arrival, then every interval of
elapsed time), the due/overdue states at their exact edges, the buprenorphine
induction window and the effectiveness check after an as-needed dose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.withdrawal.rules.due import (
    DUE_SOON,
    INDUCTION_WINDOW,
    Due,
    DueState,
    followup_due,
    in_induction,
    reassessment_due,
    reassessment_interval,
    state_at,
)
from stepwise.withdrawal.rules.thresholds import UnitSchedule

NY = ZoneInfo("America/New_York")
ARRIVAL = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
FOUR_HOURS = timedelta(hours=4)
SECOND = timedelta(seconds=1)
MICRO = timedelta(microseconds=1)


def ny(year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A New York wall-clock time as the UTC instant the services pass to the rules."""
    return datetime(year, month, day, hour, minute, fold=fold, tzinfo=NY).astimezone(UTC)


def due(last_at: datetime | None, now: datetime, interval: timedelta = FOUR_HOURS) -> Due:
    return reassessment_due(
        what="COWS", last_at=last_at, stay_started_at=ARRIVAL, interval=interval, now=now
    )


# --- states at their edges ------------------------------------------------------------


def test_constants():
    assert timedelta(minutes=30) == DUE_SOON
    assert timedelta(hours=24) == INDUCTION_WINDOW


@pytest.mark.parametrize(
    ("offset", "state"),
    [
        (-timedelta(hours=3), DueState.SCHEDULED),
        (-DUE_SOON - MICRO, DueState.SCHEDULED),
        (-DUE_SOON, DueState.DUE),
        (-DUE_SOON + MICRO, DueState.DUE),
        (timedelta(0), DueState.DUE),
        (MICRO, DueState.OVERDUE),
        (timedelta(days=3), DueState.OVERDUE),
    ],
)
def test_state_at_the_exact_boundaries(offset: timedelta, state: DueState):
    assert state_at(ARRIVAL, ARRIVAL + offset) is state


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=-10_000, max_value=10_000))
def test_state_is_monotonic_in_time(seconds):
    now = ARRIVAL + timedelta(seconds=seconds)
    state = state_at(ARRIVAL, now)
    if seconds > 0:
        assert state is DueState.OVERDUE
    elif seconds >= -30 * 60:
        assert state is DueState.DUE
    else:
        assert state is DueState.SCHEDULED
    assert Due("x", ARRIVAL, state, "").overdue == (state is DueState.OVERDUE)


# --- reassessments --------------------------------------------------------------------


def test_on_arrival_when_none_has_been_done():
    result = due(None, ARRIVAL)
    assert result == Due("COWS", ARRIVAL, DueState.DUE, "on arrival")
    assert due(None, ARRIVAL - timedelta(minutes=31)).state is DueState.SCHEDULED
    assert due(None, ARRIVAL + SECOND).overdue


def test_a_reassessment_from_an_earlier_stay_does_not_count():
    before = ARRIVAL - SECOND
    result = due(before, ARRIVAL + timedelta(hours=1))
    assert result.due_at == ARRIVAL and result.basis == "on arrival"
    assert result.overdue
    long_ago = due(ARRIVAL - timedelta(days=40), ARRIVAL)
    assert long_ago.due_at == ARRIVAL


def test_a_reassessment_at_the_arrival_instant_counts():
    result = due(ARRIVAL, ARRIVAL)
    assert result.due_at == ARRIVAL + FOUR_HOURS
    assert result.basis == "every 4 h after the last"


def test_four_hours_after_the_last_with_edges():
    last = ARRIVAL + timedelta(hours=2)
    due_at = last + FOUR_HOURS
    assert due(last, due_at - DUE_SOON - SECOND).state is DueState.SCHEDULED
    assert due(last, due_at - DUE_SOON).state is DueState.DUE
    assert due(last, due_at).state is DueState.DUE
    assert due(last, due_at + SECOND).state is DueState.OVERDUE
    assert due(last, due_at).due_at == due_at


def test_a_late_result_counts_from_its_own_time():
    # Entered at 20:00 for an observation at 15:00: the next is due at 19:00, overdue.
    last = ARRIVAL + timedelta(hours=3)
    result = due(last, ARRIVAL + timedelta(hours=8))
    assert result.due_at == ARRIVAL + timedelta(hours=7)
    assert result.overdue


@pytest.mark.parametrize(
    ("interval", "basis"),
    [
        (timedelta(hours=1), "every 1 h after the last"),
        (timedelta(hours=2), "every 2 h after the last"),
        (timedelta(hours=8), "every 8 h after the last"),
        (timedelta(minutes=90), "every 1.5 h after the last"),
    ],
)
def test_basis_names_the_interval(interval: timedelta, basis: str):
    result = due(ARRIVAL, ARRIVAL, interval)
    assert result.basis == basis
    assert result.due_at == ARRIVAL + interval


def test_reassessment_interval_follows_the_unit_schedule():
    default = UnitSchedule()
    assert reassessment_interval(default, induction=False) == timedelta(hours=4)
    assert reassessment_interval(default, induction=True) == timedelta(hours=1)
    custom = UnitSchedule(reassess_hours=6, induction_reassess_hours=2)
    assert reassessment_interval(custom, induction=False) == timedelta(hours=6)
    assert reassessment_interval(custom, induction=True) == timedelta(hours=2)


def test_four_hours_across_fall_back_is_four_elapsed_hours():
    # 00:30 EDT + 4 elapsed hours = 03:30 EST: the wall clock moved only 3 hours.
    last = ny(2026, 11, 1, 0, 30)
    result = reassessment_due(
        what="COWS", last_at=last, stay_started_at=last, interval=FOUR_HOURS, now=last
    )
    assert result.due_at - last == FOUR_HOURS
    local_due = result.due_at.astimezone(NY)
    assert (local_due.hour, local_due.minute, local_due.tzname()) == (3, 30, "EST")
    assert result.state is DueState.SCHEDULED


def test_four_hours_across_spring_forward_is_four_elapsed_hours():
    # 00:30 EST + 4 elapsed hours = 05:30 EDT: the wall clock moved 5 hours.
    last = ny(2026, 3, 8, 0, 30)
    result = reassessment_due(
        what="COWS", last_at=last, stay_started_at=last, interval=FOUR_HOURS, now=last
    )
    assert result.due_at - last == FOUR_HOURS
    local_due = result.due_at.astimezone(NY)
    assert (local_due.hour, local_due.minute, local_due.tzname()) == (5, 30, "EDT")


def test_overdue_across_the_repeated_fall_back_hour():
    # Last at 01:15 EDT; due 05:15 UTC + 4 h = 09:15 UTC = 04:15 EST. At 04:14 EST it is
    # still due (one minute early), at 04:16 EST overdue.
    last = ny(2026, 11, 1, 1, 15, fold=0)
    assert last == datetime(2026, 11, 1, 5, 15, tzinfo=UTC)
    second_one_fifteen = ny(2026, 11, 1, 1, 15, fold=1)
    assert second_one_fifteen - last == timedelta(hours=1)
    result = reassessment_due(
        what="COWS",
        last_at=last,
        stay_started_at=last,
        interval=FOUR_HOURS,
        now=ny(2026, 11, 1, 4, 14),
    )
    assert result.due_at == datetime(2026, 11, 1, 9, 15, tzinfo=UTC)
    assert result.state is DueState.DUE
    assert due_state(last, ny(2026, 11, 1, 4, 16)) is DueState.OVERDUE


def due_state(last: datetime, now: datetime) -> DueState:
    return reassessment_due(
        what="COWS", last_at=last, stay_started_at=last, interval=FOUR_HOURS, now=now
    ).state


def test_four_elapsed_hours_even_when_last_at_carries_the_facility_zone():
    last = datetime(2026, 11, 1, 0, 30, tzinfo=NY)  # 04:30 UTC
    result = reassessment_due(
        what="COWS", last_at=last, stay_started_at=last, interval=FOUR_HOURS, now=last
    )
    assert result.due_at.astimezone(UTC) - last.astimezone(UTC) == FOUR_HOURS


@settings(max_examples=200, deadline=None)
@given(
    minutes=st.integers(min_value=0, max_value=2 * 365 * 24 * 60),
    hours=st.integers(min_value=1, max_value=8),
)
def test_the_interval_is_always_elapsed_time(minutes, hours):
    last = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    interval = timedelta(hours=hours)
    result = reassessment_due(
        what="Vitals", last_at=last, stay_started_at=last, interval=interval, now=last
    )
    assert result.due_at - last == interval
    assert result.what == "Vitals"
    assert result.state is DueState.SCHEDULED  # an hour or more away


# --- the induction window ---------------------------------------------------------------

ORDERED = ARRIVAL + timedelta(hours=1)


def test_no_induction_without_an_order_or_before_it():
    assert not in_induction(induction_ordered_at=None, first_dose_at=None, now=ORDERED)
    assert not in_induction(induction_ordered_at=ORDERED, first_dose_at=None, now=ORDERED - SECOND)
    assert in_induction(induction_ordered_at=ORDERED, first_dose_at=None, now=ORDERED)


def test_induction_before_the_first_dose_lasts_until_it_is_given():
    later = ORDERED + timedelta(days=3)
    assert in_induction(induction_ordered_at=ORDERED, first_dose_at=None, now=later)


def test_induction_lasts_24_hours_after_the_first_dose():
    first = ORDERED + timedelta(hours=5)
    assert in_induction(induction_ordered_at=ORDERED, first_dose_at=first, now=first)
    assert in_induction(
        induction_ordered_at=ORDERED, first_dose_at=first, now=first + INDUCTION_WINDOW - MICRO
    )
    assert not in_induction(
        induction_ordered_at=ORDERED, first_dose_at=first, now=first + INDUCTION_WINDOW
    )
    assert not in_induction(
        induction_ordered_at=ORDERED, first_dose_at=first, now=first + timedelta(days=10)
    )


def test_induction_window_is_24_elapsed_hours_across_fall_back():
    first = ny(2026, 10, 31, 9)
    same_wall_clock_next_day = ny(2026, 11, 1, 9)  # 25 elapsed hours later
    assert same_wall_clock_next_day - first == timedelta(hours=25)
    assert not in_induction(
        induction_ordered_at=first,
        first_dose_at=first,
        now=same_wall_clock_next_day - timedelta(minutes=30),
    )
    assert in_induction(induction_ordered_at=first, first_dose_at=first, now=ny(2026, 11, 1, 7, 59))


@settings(max_examples=200, deadline=None)
@given(
    ordered=st.integers(min_value=0, max_value=72 * 60),
    first=st.none() | st.integers(min_value=0, max_value=72 * 60),
    now=st.integers(min_value=0, max_value=200 * 60),
)
def test_in_induction_property(ordered, first, now):
    base = ARRIVAL
    ordered_at = base + timedelta(minutes=ordered)
    first_at = None if first is None else ordered_at + timedelta(minutes=first)
    now_at = base + timedelta(minutes=now)
    expected = now_at >= ordered_at and (first_at is None or now_at - first_at < INDUCTION_WINDOW)
    assert (
        in_induction(induction_ordered_at=ordered_at, first_dose_at=first_at, now=now_at)
        == expected
    )


# --- the effectiveness check after an as-needed dose -------------------------------------


def test_followup_due_one_hour_after_an_as_needed_dose():
    given_at = ARRIVAL
    result = followup_due(given_at=given_at, schedule=UnitSchedule(), now=given_at)
    assert result == Due(
        "Effectiveness check",
        given_at + timedelta(minutes=60),
        DueState.SCHEDULED,
        "after an as-needed dose",
    )
    at_due = given_at + timedelta(minutes=60)
    assert (
        followup_due(given_at=given_at, schedule=UnitSchedule(), now=at_due).state is DueState.DUE
    )
    assert (
        followup_due(given_at=given_at, schedule=UnitSchedule(), now=at_due - DUE_SOON).state
        is DueState.DUE
    )
    assert (
        followup_due(
            given_at=given_at, schedule=UnitSchedule(), now=at_due - DUE_SOON - SECOND
        ).state
        is DueState.SCHEDULED
    )
    assert followup_due(given_at=given_at, schedule=UnitSchedule(), now=at_due + SECOND).overdue


@pytest.mark.parametrize("minutes", [30, 45, 120])
def test_followup_uses_the_unit_setting(minutes: int):
    schedule = UnitSchedule(prn_followup_minutes=minutes)
    result = followup_due(given_at=ARRIVAL, schedule=schedule, now=ARRIVAL)
    assert result.due_at == ARRIVAL + timedelta(minutes=minutes)
    # Half an hour or less away is already "due".
    assert result.state is (DueState.DUE if minutes <= 30 else DueState.SCHEDULED)
