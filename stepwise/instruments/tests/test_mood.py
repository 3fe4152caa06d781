"""PHQ-9 and GAD-7 against the published scales (domain reference §5, §9.3)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stepwise.instruments.definitions.mood import GAD7, PHQ9, SELF_HARM_ITEM
from stepwise.instruments.engine import Instrument


def answers(instrument: Instrument) -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({i.id: st.integers(0, 3) for i in instrument.items})


def test_shapes_and_codes():
    assert (len(PHQ9.items), PHQ9.maximum, PHQ9.loinc) == (9, 27, "44261-6")
    assert (len(GAD7.items), GAD7.maximum, GAD7.loinc) == (7, 21, "70274-6")
    assert PHQ9.items[-1].id == SELF_HARM_ITEM


@given(answers(PHQ9))
def test_phq9_item_9_above_0_signals_suicide_risk_whatever_the_total(responses):
    score = PHQ9.score(responses)
    assert score.total == sum(responses.values())
    flagged = [s.code for s in score.signals] == ["suicide_risk"]
    assert flagged is (responses[SELF_HARM_ITEM] > 0)


def test_phq9_a_low_total_with_item_9_is_still_flagged():
    responses = dict.fromkeys((i.id for i in PHQ9.items), 0) | {SELF_HARM_ITEM: 1}
    score = PHQ9.score(responses)
    assert score.total == 1 and score.band is not None and score.band.code == "minimal"
    assert score.signals and score.signals[0].code == "suicide_risk"


@given(st.integers(0, 27))
def test_phq9_bands_cover_every_total_once(total):
    assert sum(b.contains(total) for b in PHQ9.bands) == 1


@given(st.integers(0, 21))
def test_gad7_bands_cover_every_total_once(total):
    band = GAD7.band_of(total)
    assert band is not None and sum(b.contains(total) for b in GAD7.bands) == 1
    assert band.code == (
        "minimal" if total < 5 else "mild" if total < 10 else "moderate" if total < 15 else "severe"
    )
