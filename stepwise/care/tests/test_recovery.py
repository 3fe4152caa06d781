"""Days since last use and the longest stretch: plain arithmetic, checked with
Hypothesis over back-dated and repeated uses."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.care.recovery import RecoveryError, recovery_time

START = date(2026, 1, 1)
TODAY = date(2026, 11, 27)


def test_no_use_on_record_counts_from_the_start():
    found = recovery_time(START, [], TODAY)
    assert found.last_use is None and found.uses == 0
    assert found.days_since_last_use == (TODAY - START).days == found.longest_days
    assert found.longest.ongoing


def test_a_return_to_use_restarts_the_count_and_keeps_the_longest_stretch():
    found = recovery_time(START, [date(2026, 6, 1), date(2026, 11, 20)], TODAY)
    assert found.days_since_last_use == 7
    assert found.longest.start == date(2026, 6, 1) and found.longest.end == date(2026, 11, 20)
    assert found.longest_days == 172 and not found.longest.ongoing


def test_a_back_dated_use_splits_the_stretch_it_falls_in():
    before = recovery_time(START, [date(2026, 11, 20)], TODAY)
    after = recovery_time(START, [date(2026, 11, 20), date(2026, 5, 1)], TODAY)
    assert before.longest_days == (date(2026, 11, 20) - START).days
    assert after.longest_days == (date(2026, 11, 20) - date(2026, 5, 1)).days
    assert after.days_since_last_use == before.days_since_last_use == 7


def test_a_use_today_means_zero_days():
    assert recovery_time(START, [TODAY], TODAY).days_since_last_use == 0


@pytest.mark.parametrize(
    ("start", "uses", "message"),
    [
        (START, [TODAY + timedelta(days=1)], "after today"),
        (START, [START - timedelta(days=1)], "before the start"),
        (TODAY + timedelta(days=1), [], "start after today"),
    ],
)
def test_impossible_days_are_refused(start, uses, message):
    with pytest.raises(RecoveryError, match=message):
        recovery_time(start, uses, TODAY)


use_days = st.lists(st.dates(min_value=START, max_value=TODAY), max_size=20)


@given(uses=use_days)
def test_the_order_and_repeats_of_uses_do_not_matter(uses):
    assert recovery_time(START, uses, TODAY) == recovery_time(
        START, sorted(uses, reverse=True) + uses, TODAY
    )


@given(uses=use_days)
def test_the_longest_stretch_is_at_least_the_current_one_and_all_add_up(uses):
    found = recovery_time(START, uses, TODAY)
    assert found.longest_days >= found.days_since_last_use >= 0
    assert found.longest_days <= (TODAY - START).days
    if uses:
        assert found.last_use == max(uses)
        assert found.days_since_last_use == (TODAY - max(uses)).days


@given(uses=use_days, extra=st.dates(min_value=START, max_value=TODAY))
def test_recording_another_use_never_lengthens_the_longest_stretch(uses, extra):
    before = recovery_time(START, uses, TODAY)
    after = recovery_time(START, [*uses, extra], TODAY)
    assert after.longest_days <= before.longest_days
    assert after.days_since_last_use <= before.days_since_last_use
