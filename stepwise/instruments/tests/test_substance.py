"""DAST-10 (item 3 scored in reverse) and the craving scale (no bands)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stepwise.instruments.definitions.substance import ABLE_TO_STOP, CRAVING, DAST10


def answers() -> st.SearchStrategy[dict[str, int]]:
    return st.fixed_dictionaries({i.id: st.sampled_from([0, 1]) for i in DAST10.items})


@given(answers())
def test_dast10_counts_yes_except_able_to_stop_where_no_counts(responses):
    score = DAST10.score(responses)
    others = sum(v for k, v in responses.items() if k != ABLE_TO_STOP)
    assert score.total == others + (1 - responses[ABLE_TO_STOP])
    assert score.total is not None and 0 <= score.total <= 10 and score.band is not None


def test_dast10_all_no_scores_one_and_all_yes_scores_nine():
    assert DAST10.score(dict.fromkeys((i.id for i in DAST10.items), 0)).total == 1
    assert DAST10.score(dict.fromkeys((i.id for i in DAST10.items), 1)).total == 9
    assert DAST10.items[2].id == ABLE_TO_STOP and DAST10.loinc == "82667-7"
    assert DAST10.maximum == 10
    best = dict.fromkeys((i.id for i in DAST10.items), 1) | {ABLE_TO_STOP: 0}
    top = DAST10.score(best)
    assert top.total == 10 and top.band is not None and top.band.code == "severe"


def test_craving_has_no_invented_bands():
    score = CRAVING.score({"craving": 7})
    assert score.total == 7 and score.band is None and CRAVING.bands == ()
    assert CRAVING.maximum == 10 and CRAVING.loinc is None and CRAVING.local_code
