"""COWS against the published instrument (domain reference §1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.instruments.definitions.cows import COWS
from stepwise.instruments.engine import InvalidResponses

PUBLISHED_ALLOWED = {
    "pulse": (0, 1, 2, 4),
    "sweating": (0, 1, 2, 3, 4),
    "restlessness": (0, 1, 3, 5),
    "pupils": (0, 1, 2, 5),
    "bone_joint_aches": (0, 1, 2, 4),
    "rhinorrhea_lacrimation": (0, 1, 2, 4),
    "gi_upset": (0, 1, 2, 3, 5),
    "tremor": (0, 1, 2, 4),
    "yawning": (0, 1, 2, 4),
    "anxiety_irritability": (0, 1, 2, 4),
    "gooseflesh": (0, 3, 5),
}


def test_items_in_published_order_with_their_allowed_values():
    assert [i.id for i in COWS.items] == list(PUBLISHED_ALLOWED)
    assert {i.id: i.allowed for i in COWS.items} == PUBLISHED_ALLOWED
    assert COWS.maximum == 48


def responses() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries(
        {item: st.sampled_from(values) for item, values in PUBLISHED_ALLOWED.items()}
    )


@given(responses())
def test_the_total_is_the_plain_sum_in_its_published_band(answers):
    score = COWS.score(answers)
    assert score.total is not None
    assert score.total == sum(answers.values()) and 0 <= score.total <= 48
    assert score.complete and score.band is not None
    expected = (
        "below_mild"
        if score.total < 5
        else "mild"
        if score.total <= 12
        else "moderate"
        if score.total <= 24
        else "moderately_severe"
        if score.total <= 36
        else "severe"
    )
    assert score.band.code == expected


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "below_mild"),
        (5, "mild"),
        (12, "mild"),
        (13, "moderate"),
        (24, "moderate"),
        (25, "moderately_severe"),
        (36, "moderately_severe"),
        (37, "severe"),
        (48, "severe"),
    ],
)
def test_band_boundaries(total, band):
    found = COWS.band_of(total)
    assert found is not None and found.code == band
    assert found.published is (band != "below_mild")


def test_a_value_outside_the_items_set_is_refused_naming_the_allowed_values():
    answers = dict.fromkeys(PUBLISHED_ALLOWED, 0) | {"pulse": 3, "gooseflesh": 1}
    with pytest.raises(InvalidResponses) as refused:
        COWS.score(answers)
    assert refused.value.errors == {
        "pulse": "3 is not allowed; allowed: 0, 1, 2, 4.",
        "gooseflesh": "1 is not allowed; allowed: 0, 3, 5.",
    }


def test_unknown_and_missing_items_get_one_message_each():
    answers = {"pulse": 1, "heart_rate": 2}
    with pytest.raises(InvalidResponses) as refused:
        COWS.score(answers)
    errors = refused.value.errors
    assert errors["heart_rate"].startswith("Clinical Opiate Withdrawal Scale (COWS) has no item")
    assert set(errors) == {"heart_rate"} | (set(PUBLISHED_ALLOWED) - {"pulse"})
    assert errors["gooseflesh"] == "Required; allowed: 0, 3, 5."


def test_a_partial_response_is_scored_as_incomplete_without_a_band():
    score = COWS.score({"pulse": 4, "tremor": 2}, partial=True)
    assert score.total == 6 and not score.complete and score.band is None


@pytest.mark.parametrize("value", [True, "2", 2.0, None])
def test_only_whole_numbers_are_responses(value):
    with pytest.raises(InvalidResponses) as refused:
        COWS.validate({"pulse": value}, partial=True)
    assert "whole number" in refused.value.errors["pulse"]


@pytest.mark.parametrize(("total", "signalled"), [(12, False), (13, True), (48, True)])
def test_moderate_withdrawal_signal_from_13(total, signalled):
    answers = dict.fromkeys(PUBLISHED_ALLOWED, 0)
    remaining = total
    for item, values in PUBLISHED_ALLOWED.items():
        pick = max(v for v in values if v <= remaining)
        answers[item] = pick
        remaining -= pick
    assert remaining == 0
    codes = [s.code for s in COWS.score(answers).signals]
    assert codes == (["withdrawal_moderate"] if signalled else [])
