"""The arithmetic of the admissions metrics: nearest-rank percentiles (a value that
occurred), the median, and rates."""

from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.intake.rules.metrics import median, percentile, rate

TEN = [7, 3, 10, 1, 9, 2, 8, 4, 6, 5]  # 1..10, out of order


@pytest.mark.parametrize(
    ("fraction", "expected"),
    [(0.0, 1), (0.1, 1), (0.11, 2), (0.5, 5), (0.9, 9), (0.91, 10), (1.0, 10)],
)
def test_nearest_rank_percentiles(fraction, expected):
    assert percentile(TEN, fraction) == expected


def test_percentile_of_few_values():
    assert percentile([], 0.5) is None
    assert percentile([42], 0.0) == 42
    assert percentile([42], 0.9) == 42
    assert percentile([4, 1], 0.5) == 1  # the lower middle: a value that occurred
    assert percentile([2.5, 0.5, 1.5], 0.5) == 1.5


def test_median():
    assert median([]) is None
    assert median([3]) == 3
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median(TEN) == 5.5


def test_rate():
    assert rate(0, 0) is None
    assert rate(0, 4) == 0
    assert rate(1, 4) == 0.25
    assert rate(4, 4) == 1


values = st.lists(st.integers(-1000, 1000), min_size=1, max_size=60)
fractions = st.floats(min_value=0, max_value=1)


@settings(max_examples=200)
@given(data=values, fraction=fractions)
def test_a_percentile_is_a_value_with_its_share_at_or_below_it(data, fraction):
    found = percentile(data, fraction)
    assert found in data
    at_or_below = sum(v <= found for v in data)
    below = sum(v < found for v in data)
    # The smallest value with at least `fraction` of the data at or below it.
    assert at_or_below >= math.ceil(fraction * len(data))
    assert below < max(math.ceil(fraction * len(data)), 1)


@settings(max_examples=200)
@given(data=values, a=fractions, b=fractions)
def test_percentiles_grow_with_the_fraction(data, a, b):
    low, high = sorted((a, b))
    lower, higher = percentile(data, low), percentile(data, high)
    assert lower is not None and higher is not None
    assert lower <= higher
    assert percentile(data, 0) == min(data)
    assert percentile(data, 1) == max(data)


@settings(max_examples=200)
@given(data=values)
def test_median_agrees_with_the_standard_library(data):
    assert median(data) == statistics.median(data)
    assert median(list(reversed(data))) == median(data)
