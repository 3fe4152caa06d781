"""Waitlist priority: pregnant and injecting, pregnant, injecting, a recent overdose,
everyone else; within a priority, who has waited longest comes first."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.intake.rules.priority import (
    PRIORITY_LABELS,
    Priority,
    Ranked,
    WaitingFacts,
    days_between,
    ordered,
    priority_of,
)

TODAY = date(2026, 5, 4)
RECENT = 30


def facts(*, pregnant=False, injecting=False, overdose_days_ago=None) -> WaitingFacts:
    on = None if overdose_days_ago is None else TODAY - timedelta(days=overdose_days_ago)
    return WaitingFacts(pregnant=pregnant, injecting=injecting, last_overdose_on=on)


@pytest.mark.parametrize(
    ("given_facts", "expected"),
    [
        (facts(pregnant=True, injecting=True), Priority.PREGNANT_AND_INJECTING),
        (
            facts(pregnant=True, injecting=True, overdose_days_ago=1),
            Priority.PREGNANT_AND_INJECTING,
        ),
        (facts(pregnant=True), Priority.PREGNANT),
        (facts(pregnant=True, overdose_days_ago=2), Priority.PREGNANT),
        (facts(injecting=True), Priority.INJECTING),
        (facts(injecting=True, overdose_days_ago=0), Priority.INJECTING),
        (facts(overdose_days_ago=0), Priority.RECENT_OVERDOSE),
        (facts(overdose_days_ago=RECENT), Priority.RECENT_OVERDOSE),
        (facts(overdose_days_ago=RECENT + 1), Priority.OTHER),
        (facts(overdose_days_ago=-1), Priority.OTHER),  # a date in the future is no overdose
        (facts(), Priority.OTHER),
    ],
)
def test_priority_of_each_situation(given_facts, expected):
    assert priority_of(given_facts, TODAY, RECENT) == expected


def test_the_recent_overdose_window_is_the_settings():
    ten_days_ago = facts(overdose_days_ago=10)
    assert priority_of(ten_days_ago, TODAY, 10) == Priority.RECENT_OVERDOSE
    assert priority_of(ten_days_ago, TODAY, 9) == Priority.OTHER


def test_every_priority_has_a_label_and_lower_is_more_urgent():
    assert set(PRIORITY_LABELS) == set(Priority)
    assert sorted(Priority) == [
        Priority.PREGNANT_AND_INJECTING,
        Priority.PREGNANT,
        Priority.INJECTING,
        Priority.RECENT_OVERDOSE,
        Priority.OTHER,
    ]


def test_days_between_counts_whole_days_and_never_goes_negative():
    assert days_between(TODAY, TODAY) == 0
    assert days_between(TODAY, TODAY + timedelta(days=3)) == 3
    assert days_between(TODAY, TODAY - timedelta(days=3)) == 0


waiting_facts = st.builds(
    WaitingFacts,
    pregnant=st.booleans(),
    injecting=st.booleans(),
    last_overdose_on=st.one_of(
        st.none(), st.dates(min_value=TODAY - timedelta(days=90), max_value=TODAY)
    ),
)
START = datetime(2026, 1, 1, tzinfo=UTC)
# Whole minutes since START: distinct so the expected order is one order.
waiting = st.lists(
    st.tuples(waiting_facts, st.integers(min_value=0, max_value=60 * 24 * 120)),
    max_size=25,
    unique_by=lambda pair: pair[1],
)


def key(f: WaitingFacts, minute: int) -> tuple[Priority, datetime]:
    return (priority_of(f, TODAY, RECENT), START + timedelta(minutes=minute))


@settings(max_examples=150)
@given(people=waiting, seed=st.integers(0, 2**16))
def test_the_order_is_priority_then_longest_waiting(people, seed):
    items = [(Ranked(*key(f, minute)), (n, f, minute)) for n, (f, minute) in enumerate(people)]
    result = ordered(items)
    # A permutation of who waits.
    assert sorted(n for n, _, _ in result) == list(range(len(people)))
    # Each one before the next by priority, and within a priority by waiting longer.
    keys = [key(f, minute) for _, f, minute in result]
    for before, after in pairwise(keys):
        assert before[0] < after[0] or (before[0] == after[0] and before[1] < after[1])
    # A total order: the list does not depend on the order rows arrive in.
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    assert ordered(shuffled) == result


@settings(max_examples=100)
@given(a=waiting_facts, b=waiting_facts)
def test_a_more_urgent_situation_never_ranks_lower(a, b):
    """Pregnancy outranks injecting, injecting a recent overdose, any of them nothing."""
    pa, pb = priority_of(a, TODAY, RECENT), priority_of(b, TODAY, RECENT)
    if a.pregnant and not b.pregnant:
        assert pa < pb
    if a.pregnant == b.pregnant and a.injecting and not b.injecting:
        assert pa < pb
