"""ASAM 3rd edition dimensional ratings (domain reference §4.1): a profile of six
0-4 ratings that is never totalled, with a signal on any 4."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.instruments.definitions.asam import ASAM3, DIMENSIONS, SEVERITY
from stepwise.instruments.engine import InvalidResponses

IDS = (
    "d1_intoxication_withdrawal",
    "d2_biomedical",
    "d3_emotional_behavioral_cognitive",
    "d4_readiness_to_change",
    "d5_relapse_potential",
    "d6_recovery_environment",
)


def ratings() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({item_id: st.integers(0, 4) for item_id in IDS})


def test_six_dimensions_in_order_each_rated_0_to_4():
    assert [i.id for i in ASAM3.items] == list(IDS) == list(DIMENSIONS)
    assert all(i.allowed == (0, 1, 2, 3, 4) for i in ASAM3.items)
    assert [i.text.split(":")[0] for i in ASAM3.items] == [f"Dimension {n}" for n in range(1, 7)]
    assert ASAM3.code == "asam3" and ASAM3.version == "2013"


def test_anchors_lead_with_the_severity_and_describe_the_dimension():
    assert SEVERITY == ("none", "mild", "moderate", "significant", "severe/imminent")
    for item in ASAM3.items:
        for anchor, word in zip(item.anchors, SEVERITY, strict=True):
            assert anchor.label.startswith(f"{word}: ") and len(anchor.label) > len(word) + 5
    # Dimension-specific wording, not one generic scale copied six times.
    labels = [tuple(a.label for a in item.anchors) for item in ASAM3.items]
    assert len(set(labels)) == 6


def test_every_dimension_has_guidance_and_three_to_six_prompts():
    for item in ASAM3.items:
        assert item.guidance
        assert 3 <= len(item.prompts) <= 6, item.id
        assert all(p.endswith("?") for p in item.prompts), item.id
        assert item.required and item.scored


def test_d3_prompts_cover_the_five_risk_areas():
    prompts = " ".join(ASAM3.item(IDS[2]).prompts).lower()
    for area in ("dangerousness", "interference with recovery", "social", "self-care", "course"):
        assert area in prompts


def test_d1_prompts_ask_for_last_use_past_withdrawals_and_the_current_score():
    prompts = " ".join(ASAM3.item(IDS[0]).prompts).lower()
    for topic in ("last use", "seizures", "withdrawal score"):
        assert topic in prompts


def test_a_profile_never_a_total_nor_bands():
    assert ASAM3.totalled is False and ASAM3.maximum is None and ASAM3.bands == ()
    assert ASAM3.local_code == "stepwise-asam3-dimensions" and ASAM3.loinc is None
    assert "copyright" in ASAM3.licence.lower() and "not reproduced" in ASAM3.licence


@given(ratings())
def test_scoring_gives_no_total_and_signals_exactly_when_a_dimension_is_4(answers):
    score = ASAM3.score(answers)
    assert score.total is None and score.band is None and score.complete
    fours = [n for n, item_id in enumerate(IDS, 1) if answers[item_id] == 4]
    assert [s.code for s in score.signals] == (["imminent_risk"] if fours else [])
    if fours:
        message = score.signals[0].message
        assert "act now" in message
        assert all(str(n) in message.split("rated")[0] for n in fours)


def test_one_dimension_at_4_signals_naming_it():
    answers = dict.fromkeys(IDS, 1) | {IDS[2]: 4}
    (signal,) = ASAM3.score(answers).signals
    assert signal.message.startswith("Dimension 3 rated 4")


def test_a_rating_outside_0_to_4_is_refused_naming_the_dimension():
    with pytest.raises(InvalidResponses) as refused:
        ASAM3.score(dict.fromkeys(IDS, 0) | {IDS[4]: 5})
    assert refused.value.errors == {IDS[4]: "5 is not allowed; allowed: 0, 1, 2, 3, 4."}
