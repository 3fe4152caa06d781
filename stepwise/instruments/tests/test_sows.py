"""SOWS (Handelsman) against the published instrument (domain reference §2, §9.3)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.instruments.definitions import sows
from stepwise.instruments.definitions.sows import SOWS
from stepwise.instruments.engine import InvalidResponses

# Handelsman's 16 items in published order (§2).
PUBLISHED_ORDER = [
    "anxious",
    "yawning",
    "sweating",
    "eyes_tearing",
    "nose_running",
    "gooseflesh",
    "shaking",
    "hot_flushes",
    "cold_flushes",
    "bones_muscles_ache",
    "restless",
    "nauseous",
    "like_vomiting",
    "muscles_twitch",
    "stomach_cramps",
    "urge_to_use",
]


def test_sixteen_items_in_published_order_with_the_published_anchors():
    assert [i.id for i in SOWS.items] == PUBLISHED_ORDER
    for item in SOWS.items:
        assert [(a.value, a.label) for a in item.anchors] == [
            (0, "not at all"),
            (1, "a little"),
            (2, "moderately"),
            (3, "quite a bit"),
            (4, "extremely"),
        ]
        assert item.required and item.scored


def test_no_invented_bands_and_a_local_code_only():
    assert SOWS.bands == () and SOWS.band_context is None
    assert "baseline" in SOWS.interpretation and "no published" in SOWS.interpretation
    assert SOWS.loinc is None and SOWS.local_code == "stepwise-sows-total"
    # Not Gossop's 10-item Short Opiate Withdrawal Scale (0-30), also called SOWS.
    assert SOWS.code == "sows" and "Gossop" in (sows.__doc__ or "")
    assert len(SOWS.items) == 16


@pytest.mark.parametrize(("value", "total"), [(0, 0), (4, 64)])
def test_published_minimum_and_maximum(value, total):
    score = SOWS.score(dict.fromkeys(PUBLISHED_ORDER, value))
    assert score.total == total and score.complete and score.band is None
    assert SOWS.maximum == 64


def answers() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({item: st.integers(0, 4) for item in PUBLISHED_ORDER})


@given(answers())
def test_the_total_is_the_plain_sum(responses):
    score = SOWS.score(responses)
    assert score.total is not None
    assert score.total == sum(responses.values()) and 0 <= score.total <= 64
    assert score.band is None and score.findings == () and score.signals == ()


@given(answers(), st.sampled_from(PUBLISHED_ORDER), st.integers().filter(lambda v: not 0 <= v <= 4))
def test_a_value_outside_0_to_4_is_refused_naming_the_item(responses, item, value):
    with pytest.raises(InvalidResponses) as refused:
        SOWS.score(responses | {item: value})
    assert refused.value.errors == {item: f"{value} is not allowed; allowed: 0, 1, 2, 3, 4."}


def test_unknown_and_missing_items_are_named():
    responses = dict.fromkeys(PUBLISHED_ORDER[:-1], 1) | {"headache": 2}
    with pytest.raises(InvalidResponses) as refused:
        SOWS.score(responses)
    assert set(refused.value.errors) == {"headache", "urge_to_use"}
    assert "has no item 'headache'" in refused.value.errors["headache"]
    assert refused.value.errors["urge_to_use"] == "Required; allowed: 0, 1, 2, 3, 4."


def test_sows_takes_no_context():
    with pytest.raises(InvalidResponses) as refused:
        SOWS.score(dict.fromkeys(PUBLISHED_ORDER, 0), {"sex": "male"})
    assert set(refused.value.errors) == {"sex"}
