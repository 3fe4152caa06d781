"""AUDIT-C against the published screen (domain reference §5, §9.3): thresholds by
sex, the lower one when sex is not recorded, and the all-from-item-1 finding."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.instruments.definitions.alcohol import (
    AUDITC,
    FREQUENCY,
    HEAVY_EPISODES,
    TYPICAL_QUANTITY,
)
from stepwise.instruments.engine import InvalidResponses

ITEMS = [FREQUENCY, TYPICAL_QUANTITY, HEAVY_EPISODES]
SEXES = ["female", "male", "unknown"]
THRESHOLD = {"male": 4, "female": 3, "unknown": 3}


def test_shape_codes_and_standard_anchors():
    assert [i.id for i in AUDITC.items] == ITEMS
    assert (AUDITC.code, AUDITC.loinc, AUDITC.maximum) == ("auditc", "75626-2", 12)
    assert [a.label for a in AUDITC.item(FREQUENCY).anchors] == [
        "never",
        "monthly or less",
        "2-4 times a month",
        "2-3 times a week",
        "4 or more times a week",
    ]
    assert [a.label for a in AUDITC.item(TYPICAL_QUANTITY).anchors] == [
        "1 or 2",
        "3 or 4",
        "5 or 6",
        "7 to 9",
        "10 or more",
    ]
    assert [a.label for a in AUDITC.item(HEAVY_EPISODES).anchors] == [
        "never",
        "less than monthly",
        "monthly",
        "weekly",
        "daily or almost daily",
    ]
    assert all(i.allowed == (0, 1, 2, 3, 4) for i in AUDITC.items)
    assert AUDITC.context_field("sex").choices == (
        ("female", "Female"),
        ("male", "Male"),
        ("unknown", "Not recorded"),
    )


@pytest.mark.parametrize("sex", SEXES)
@pytest.mark.parametrize(("value", "total", "band"), [(0, 0, "negative"), (4, 12, "positive")])
def test_published_minimum_and_maximum(sex, value, total, band):
    score = AUDITC.score(dict.fromkeys(ITEMS, value), {"sex": sex})
    assert score.total == total and score.band is not None and score.band.code == band


@pytest.mark.parametrize(
    ("sex", "total", "band"),
    [
        ("male", 2, "negative"),
        ("male", 3, "negative"),
        ("male", 4, "positive"),
        ("female", 2, "negative"),
        ("female", 3, "positive"),
        ("female", 4, "positive"),
        ("unknown", 2, "negative"),
        ("unknown", 3, "positive"),
        ("unknown", 4, "positive"),
    ],
)
def test_band_boundaries_by_sex(sex, total, band):
    found = AUDITC.band_of(total, {"sex": sex})
    assert found is not None and found.code == band
    # The thresholds by sex are published; using the lower one for "not recorded" is not.
    assert found.published is (sex != "unknown")


def test_unknown_sex_says_the_female_threshold_is_used():
    for band in AUDITC.band_sets["unknown"]:
        assert "sex not recorded" in band.label and "female" in band.label


def answers() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({item: st.integers(0, 4) for item in ITEMS})


@given(answers(), st.sampled_from(SEXES))
def test_the_total_is_the_plain_sum_against_the_threshold_for_the_sex(responses, sex):
    score = AUDITC.score(responses, {"sex": sex})
    assert score.total is not None and score.total == sum(responses.values())
    assert score.band is not None
    assert score.band.code == ("positive" if score.total >= THRESHOLD[sex] else "negative")


@given(st.sampled_from(SEXES), st.integers(0, 11))
def test_band_is_monotone_in_the_total(sex, total):
    rank = {"negative": 0, "positive": 1}
    lower, higher = AUDITC.band_of(total, {"sex": sex}), AUDITC.band_of(total + 1, {"sex": sex})
    assert lower is not None and higher is not None
    assert rank[lower.code] <= rank[higher.code]


@given(answers(), st.sampled_from(SEXES))
def test_the_below_limits_finding_only_on_a_positive_screen_all_from_item_1(responses, sex):
    score = AUDITC.score(responses, {"sex": sex})
    assert score.total is not None and score.band is not None
    expected = score.band.code == "positive" and responses[FREQUENCY] == score.total
    assert [f.code for f in score.findings] == (["likely_below_limits"] if expected else [])


@pytest.mark.parametrize(
    ("sex", "responses", "flagged"),
    [
        ("male", {FREQUENCY: 4, TYPICAL_QUANTITY: 0, HEAVY_EPISODES: 0}, True),
        ("male", {FREQUENCY: 3, TYPICAL_QUANTITY: 0, HEAVY_EPISODES: 0}, False),  # negative
        ("male", {FREQUENCY: 3, TYPICAL_QUANTITY: 1, HEAVY_EPISODES: 0}, False),
        ("female", {FREQUENCY: 3, TYPICAL_QUANTITY: 0, HEAVY_EPISODES: 0}, True),
        ("female", {FREQUENCY: 2, TYPICAL_QUANTITY: 0, HEAVY_EPISODES: 1}, False),
        ("unknown", {FREQUENCY: 3, TYPICAL_QUANTITY: 0, HEAVY_EPISODES: 0}, True),
    ],
)
def test_all_points_from_item_1(sex, responses, flagged):
    score = AUDITC.score(responses, {"sex": sex})
    assert bool(score.findings) is flagged
    if flagged:
        (finding,) = score.findings
        assert "below recommended limits" in finding.label


@given(
    answers(),
    st.sampled_from(ITEMS),
    st.integers().filter(lambda v: not 0 <= v <= 4),
    st.sampled_from(SEXES),
)
def test_a_value_outside_0_to_4_is_refused_naming_the_item(responses, item, value, sex):
    with pytest.raises(InvalidResponses) as refused:
        AUDITC.score(responses | {item: value}, {"sex": sex})
    assert refused.value.errors == {item: f"{value} is not allowed; allowed: 0, 1, 2, 3, 4."}


def test_unknown_and_missing_items_are_named():
    with pytest.raises(InvalidResponses) as refused:
        AUDITC.score({FREQUENCY: 1, "binge": 1}, {"sex": "male"})
    errors = refused.value.errors
    assert set(errors) == {"binge", TYPICAL_QUANTITY, HEAVY_EPISODES}
    assert "has no item 'binge'" in errors["binge"]


def test_sex_is_required_and_must_be_one_of_the_choices():
    responses = dict.fromkeys(ITEMS, 1)
    with pytest.raises(InvalidResponses) as missing:
        AUDITC.score(responses)
    assert missing.value.errors == {"sex": "Required; allowed: female, male, unknown."}
    with pytest.raises(InvalidResponses) as bad:
        AUDITC.score(responses, {"sex": "m"})
    assert bad.value.errors == {"sex": "'m' is not allowed; allowed: female, male, unknown."}


def test_partial_without_sex_has_no_band_and_no_findings():
    score = AUDITC.score({FREQUENCY: 4}, partial=True)
    assert score.total == 4 and not score.complete
    assert score.band is None and score.findings == ()
