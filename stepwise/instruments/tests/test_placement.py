"""Placement decision support: Stepwise's transparent rules from the published
principles (domain reference §4.5), checked rule by rule and as properties."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.care.rules import LEVELS_BY_EDITION
from stepwise.instruments.definitions.asam import DIMENSIONS
from stepwise.instruments.engine import InvalidResponses
from stepwise.instruments.placement import (
    RESULT,
    RULES,
    RULES_VERSION,
    Facts,
    PlacementInput,
    Recommendation,
    Rule,
    RuleTable,
    recommend,
    table_errors,
)

LEVELS = LEVELS_BY_EDITION[3]

# The table, pinned: changing a clinical rule must be a deliberate edit here too.
EXPECTED: dict[str, tuple[str, str | None]] = {
    "D1-0": ("1", None),
    "D1-1": ("1", "1-WM"),
    "D1-2": ("1", "2-WM"),
    "D1-3": ("3.7", "3.7-WM"),
    "D1-4": ("4", "4-WM"),
    "D2-0": ("1", None),
    "D2-1": ("1", None),
    "D2-2": ("2.1", None),
    "D2-3": ("3.7", None),
    "D2-4": ("4", None),
    "D3-0": ("1", None),
    "D3-1": ("1", None),
    "D3-2": ("2.1", None),
    "D3-3": ("3.5", None),
    "D3-4": ("4", None),
    "D4-0": ("1", None),
    "D4-1": ("1", None),
    "D4-2": ("2.1", None),
    "D4-3": ("2.5", None),
    "D4-4": ("3.5", None),
    "D5-0": ("1", None),
    "D5-1": ("1", None),
    "D5-2": ("2.1", None),
    "D5-3": ("2.5", None),
    "D5-4": ("3.5", None),
    "D6-0": ("1", None),
    "D6-1": ("1", None),
    "D6-2": ("2.1", None),
    "D6-3": ("3.1", None),
    "D6-4": ("3.1", None),
}

ZERO = (0, 0, 0, 0, 0, 0)


def rank(code: str | None) -> int:
    return -1 if code is None else LEVELS[code].rank


def case(ratings: tuple[int, ...], facts: Facts | None = None) -> PlacementInput:
    f = facts or Facts()
    d1, d2, d3, d4, d5, d6 = ratings
    return PlacementInput(
        d1,
        d2,
        d3,
        d4,
        d5,
        d6,
        imminent_danger=f.imminent_danger,
        unstable_vitals_or_severe_withdrawal=f.unstable_vitals_or_severe_withdrawal,
        pregnant=f.pregnant,
        withdrawal_score=f.withdrawal_score,
    )


def only(dimension: int, rating: int) -> tuple[int, ...]:
    return tuple(rating if n == dimension else 0 for n in range(1, 7))


def ratings() -> st.SearchStrategy[tuple[int, ...]]:
    return st.tuples(*(st.integers(0, 4) for _ in range(6)))


def withdrawal_scores() -> st.SearchStrategy[tuple[str, int] | None]:
    return (
        st.none()
        | st.tuples(st.just("cows"), st.integers(0, 48))
        | st.tuples(st.just("sows"), st.integers(0, 64))
    )


def facts() -> st.SearchStrategy[Facts]:
    return st.builds(
        Facts,
        imminent_danger=st.booleans(),
        unstable_vitals_or_severe_withdrawal=st.booleans(),
        pregnant=st.booleans(),
        withdrawal_score=withdrawal_scores(),
    )


# The table


def test_the_table_is_the_one_pinned_here_and_is_usable():
    assert {r.id: (r.level, r.withdrawal) for r in RULES.dimension_rules} == EXPECTED
    assert [r.id for r in RULES.fact_rules] == [
        "F-DANGER",
        "F-UNSTABLE-WD",
        "F-PREGNANT",
        "F-PREGNANT-WD",
    ]
    assert table_errors(RULES) == []
    assert RULES.version == RULES_VERSION and 0 < len(RULES_VERSION) <= 20


def test_every_rule_names_a_3rd_edition_level_and_wm_only_on_the_wm_axis():
    rules: list[Rule] = [*RULES.dimension_rules, *RULES.fact_rules]
    for rule in rules:
        assert rule.level in LEVELS and not rule.level.endswith("-WM")
        assert rule.withdrawal is None or (
            rule.withdrawal in LEVELS and rule.withdrawal.endswith("-WM")
        )
        assert rule.description


def test_dimensions_4_and_5_never_call_for_level_4_in_the_table():
    for rule in RULES.dimension_rules:
        if rule.dimension in (4, 5):
            assert rank(rule.level) < rank("4") and rank(rule.level) <= rank("3.7")


def test_a_table_where_dimension_5_calls_for_level_4_is_refused():
    rules = tuple(
        dataclasses.replace(r, level="4") if r.id == "D5-4" else r for r in RULES.dimension_rules
    )
    with pytest.raises(ValueError, match="D5-4: dimensions 4 and 5 alone never call for level 4"):
        RuleTable("broken", "x-1", rules, RULES.fact_rules)


def test_a_table_with_a_gap_a_step_down_or_an_unknown_code_is_refused():
    missing = tuple(r for r in RULES.dimension_rules if r.id != "D2-3")
    with pytest.raises(ValueError, match="dimension 2 needs exactly one rule for rating 3"):
        RuleTable("gap", "x-1", missing)
    lower = tuple(
        dataclasses.replace(r, level="1") if r.id == "D3-4" else r for r in RULES.dimension_rules
    )
    with pytest.raises(ValueError, match="D3-4 asks for less than D3-3"):
        RuleTable("down", "x-1", lower)
    unknown = tuple(
        dataclasses.replace(r, level="3.7-WM") if r.id == "D2-3" else r
        for r in RULES.dimension_rules
    )
    with pytest.raises(ValueError, match=re.escape("'3.7-WM' is not a 3rd-edition level of care")):
        RuleTable("wm", "x-1", unknown)


def test_another_table_can_replace_the_default():
    gentle = tuple(
        dataclasses.replace(r, level="1", withdrawal=None) for r in RULES.dimension_rules
    )
    table = RuleTable("outpatient only", "test-1", gentle)
    result = recommend(case((3, 3, 3, 3, 3, 3)), table)
    assert result.level == "1" and result.withdrawal_level is None


# Rule by rule


@pytest.mark.parametrize("rule_id", list(EXPECTED))
def test_each_dimension_rule_fires_for_its_rating_alone_and_sets_what_it_asks(rule_id):
    dimension, rating = (int(part) for part in rule_id[1:].split("-"))
    result = recommend(case(only(dimension, rating)))
    level, withdrawal = EXPECTED[rule_id]
    assert rule_id in result.rule_ids
    # The others at 0 ask for level 1, so the result is what this dimension asks: no average.
    assert result.level == level
    assert result.withdrawal_level == withdrawal
    if level != "1":
        assert result.decided_by == (rule_id,)


def test_all_zero_is_outpatient_with_a_note_about_early_intervention():
    result = recommend(case(ZERO))
    assert result.level == "1" and result.withdrawal_level is None
    assert set(result.decided_by) == {f"D{n}-0" for n in range(1, 7)}
    assert any("early intervention (0.5)" in c for c in result.cautions)
    assert not any("0.5" in c for c in recommend(case(only(5, 1))).cautions)


def test_imminent_danger_routes_to_level_4_with_emergency_evaluation():
    result = recommend(case(only(3, 3), Facts(imminent_danger=True)))
    assert result.level == "4" and result.decided_by == ("F-DANGER",)
    assert "F-DANGER" in result.rule_ids
    assert any("emergency evaluation now" in c for c in result.cautions)
    # The ratings do not say so: a caution asks for them to be reviewed.
    assert any("none of D1-D3 is rated 4" in c for c in result.cautions)
    rated = recommend(case(only(3, 4), Facts(imminent_danger=True)))
    assert not any("no dimension is rated 4" in c for c in rated.cautions)


def test_unstable_severe_withdrawal_routes_to_4_wm():
    result = recommend(case(only(1, 3), Facts(unstable_vitals_or_severe_withdrawal=True)))
    assert result.level == "4" and result.withdrawal_level == "4-WM"
    assert "F-UNSTABLE-WD" in result.rule_ids and "F-UNSTABLE-WD" in result.decided_by
    assert any("D1 is rated 3" in c for c in result.cautions)
    rated = recommend(case(only(1, 4), Facts(unstable_vitals_or_severe_withdrawal=True)))
    assert not any("review the D1 rating" in c for c in rated.cautions)


@pytest.mark.parametrize("d1", [2, 3])
def test_pregnancy_with_d1_at_2_or_more_is_at_least_medically_monitored_wm(d1):
    result = recommend(case(only(1, d1), Facts(pregnant=True)))
    assert rank(result.withdrawal_level) >= rank("3.7-WM")
    assert rank(result.level) >= rank("3.7")
    assert {"F-PREGNANT", "F-PREGNANT-WD"} <= set(result.rule_ids)
    assert any("obstetric care" in c for c in result.cautions)


@pytest.mark.parametrize("d1", [0, 1])
def test_pregnancy_with_low_d1_keeps_the_level_and_still_asks_for_obstetric_care(d1):
    result = recommend(case(only(1, d1), Facts(pregnant=True)))
    assert (result.level, result.withdrawal_level) == ("1", EXPECTED[f"D1-{d1}"][1])
    assert "F-PREGNANT" in result.rule_ids and "F-PREGNANT-WD" not in result.rule_ids
    assert result.cautions[0] == "Pregnant: coordinate with obstetric care."


def test_pregnancy_does_not_lower_an_unstable_withdrawal():
    result = recommend(
        case(only(1, 4), Facts(pregnant=True, unstable_vitals_or_severe_withdrawal=True))
    )
    assert (result.level, result.withdrawal_level) == ("4", "4-WM")


def test_ambulatory_wm_in_a_24_hour_setting_is_flagged_not_changed():
    result = recommend(case((2, 0, 0, 0, 0, 3)))
    assert (result.level, result.withdrawal_level) == ("3.1", "2-WM")
    assert any("3.2-WM" in c for c in result.cautions)
    assert not any("3.2-WM" in c for c in recommend(case(only(1, 2))).cautions)


# Dimensions 4 and 5


@pytest.mark.parametrize(
    "ratings", [only(4, 4), only(5, 4), (0, 0, 0, 4, 4, 0), (1, 1, 1, 4, 4, 1)]
)
def test_d4_and_d5_at_4_alone_do_not_give_level_4(ratings):
    result = recommend(case(ratings))
    assert rank(result.level) < rank("4")
    assert result.level == "3.5"


@given(ratings(), facts())
def test_level_4_is_never_decided_by_dimensions_4_and_5_alone(values, given_facts):
    result = recommend(case(values, given_facts))
    if result.level == "4":
        assert any(not rule_id.startswith(("D4-", "D5-")) for rule_id in result.decided_by)


# The withdrawal score informs D1 only


@given(ratings(), facts(), withdrawal_scores())
def test_the_withdrawal_score_never_changes_the_level(values, given_facts, other_score):
    first = recommend(case(values, given_facts))
    second = recommend(case(values, dataclasses.replace(given_facts, withdrawal_score=other_score)))
    assert (first.level, first.withdrawal_level, first.decided_by) == (
        second.level,
        second.withdrawal_level,
        second.decided_by,
    )


@pytest.mark.parametrize(
    ("total", "suggested"),
    [(0, 0), (4, 0), (5, 1), (12, 1), (13, 2), (24, 2), (25, 3), (36, 3), (37, 3), (48, 3)],
)
def test_a_cows_total_suggests_a_d1_rating_from_its_published_band(total, suggested):
    result = recommend(case(ZERO, Facts(withdrawal_score=("cows", total))))
    (line,) = (line for line in result.rationale if line.rule_id == "WS-COWS")
    assert line.dimension == 1
    assert f"COWS {total}" in line.text and f"at least {suggested}" in line.text
    assert "does not set the level" in line.text
    assert result.level == "1" and result.withdrawal_level is None
    flagged = [c for c in result.cautions if "review the D1 rating" in c]
    assert bool(flagged) is (suggested > 0)


def test_a_moderate_cows_with_d1_rated_1_is_a_caution_not_a_change():
    result = recommend(case(only(1, 1), Facts(withdrawal_score=("cows", 14))))
    assert result.withdrawal_level == "1-WM" and result.level == "1"
    assert any(
        c.startswith("D1 is rated 1 but COWS 14 (moderate) suggests at least 2")
        for c in result.cautions
    )
    rated = recommend(case(only(1, 2), Facts(withdrawal_score=("cows", 14))))
    assert not any("review the D1 rating" in c for c in rated.cautions)


def test_a_sows_total_is_noted_without_a_suggested_rating():
    result = recommend(case(ZERO, Facts(withdrawal_score=("sows", 40))))
    (line,) = (line for line in result.rationale if line.rule_id == "WS-SOWS")
    assert "SOWS 40 of 64" in line.text and "no published severity bands" in line.text
    assert not any("review the D1 rating" in c for c in result.cautions)


# Properties


@given(ratings(), facts(), st.integers(1, 6), st.integers(1, 4))
def test_raising_a_single_rating_never_lowers_the_level(values, given_facts, dimension, step):
    raised = tuple(min(4, v + step) if n == dimension else v for n, v in enumerate(values, start=1))
    before = recommend(case(values, given_facts))
    after = recommend(case(raised, given_facts))
    assert rank(after.level) >= rank(before.level)
    assert rank(after.withdrawal_level) >= rank(before.withdrawal_level)


@given(
    ratings(),
    facts(),
    st.sampled_from(["imminent_danger", "unstable_vitals_or_severe_withdrawal", "pregnant"]),
)
def test_stating_a_fact_never_lowers_the_level(values, given_facts, fact):
    before = recommend(case(values, dataclasses.replace(given_facts, **{fact: False})))
    after = recommend(case(values, dataclasses.replace(given_facts, **{fact: True})))
    assert rank(after.level) >= rank(before.level)
    assert rank(after.withdrawal_level) >= rank(before.withdrawal_level)


@given(ratings())
def test_the_level_is_the_most_intensive_single_dimension_need_never_an_average(values):
    result = recommend(case(values))
    alone = [recommend(case(only(n, v))) for n, v in enumerate(values, start=1)]
    assert rank(result.level) == max(rank(r.level) for r in alone)
    assert result.withdrawal_level == alone[0].withdrawal_level


def test_one_dimension_at_3_gives_what_it_needs_alone_not_a_diluted_level():
    for dimension in range(1, 7):
        alone = recommend(case(only(dimension, 3)))
        with_others_mild = recommend(case(tuple(3 if n == dimension else 1 for n in range(1, 7))))
        assert with_others_mild.level == alone.level == EXPECTED[f"D{dimension}-3"][0]


@given(ratings(), facts())
def test_the_rationale_has_one_rule_line_per_dimension_and_a_result(values, given_facts):
    result = recommend(case(values, given_facts))
    rule_lines = [
        line for line in result.rationale if line.rule_id.startswith("D") and "-" in line.rule_id
    ]
    assert [line.dimension for line in rule_lines] == [1, 2, 3, 4, 5, 6]
    assert [line.rule_id for line in rule_lines] == [f"D{n}-{v}" for n, v in enumerate(values, 1)]
    assert result.rationale[-1].rule_id == RESULT and result.rationale[-1].dimension is None
    assert result.level in result.rationale[-1].text
    fired_facts = {line.rule_id for line in result.rationale if line.rule_id.startswith("F-")}
    expected = {
        "F-DANGER": given_facts.imminent_danger,
        "F-UNSTABLE-WD": given_facts.unstable_vitals_or_severe_withdrawal,
        "F-PREGNANT": given_facts.pregnant,
        "F-PREGNANT-WD": given_facts.pregnant and values[0] >= 2,
    }
    assert fired_facts == {rule_id for rule_id, fired in expected.items() if fired}
    assert result.level in LEVELS and not result.level.endswith("-WM")
    assert result.withdrawal_level is None or result.withdrawal_level.endswith("-WM")
    assert len(set(result.cautions)) == len(result.cautions)


@given(ratings())
def test_withdrawal_management_follows_d1_without_facts(values):
    expected = {0: None, 1: "1-WM", 2: "2-WM", 3: "3.7-WM", 4: "4-WM"}[values[0]]
    assert recommend(case(values)).withdrawal_level == expected


# Input


@pytest.mark.parametrize("bad", [5, -1, True, "2", 2.0, None])
def test_a_rating_outside_0_to_4_is_refused_naming_the_dimension_and_allowed_values(bad):
    with pytest.raises(InvalidResponses) as refused:
        PlacementInput(0, 0, bad, 0, 0, 0)
    assert set(refused.value.errors) == {"d3"}
    message = refused.value.errors["d3"]
    assert message.startswith("Dimension 3: Emotional, behavioral or cognitive conditions")
    assert message.endswith("allowed: 0, 1, 2, 3, 4.")
    assert isinstance(refused.value, ValueError)


def test_every_field_at_fault_gets_its_own_message():
    with pytest.raises(InvalidResponses) as refused:
        PlacementInput(9, 0, 0, 0, 0, 7, pregnant=1, withdrawal_score=("cows", 49))  # type: ignore[arg-type]
    errors = refused.value.errors
    assert set(errors) == {"d1", "d6", "pregnant", "withdrawal_score"}
    assert errors["withdrawal_score"] == "A COWS total is a whole number from 0 to 48, not 49."


@pytest.mark.parametrize(
    ("score", "fragment"),
    [
        (("ciwa", 10), "'ciwa' is not a withdrawal scale here; allowed: cows, sows."),
        (("sows", 65), "from 0 to 64"),
        (("cows", -1), "from 0 to 48"),
        (("cows",), "Give (instrument code, total)"),
    ],
)
def test_a_withdrawal_score_must_be_a_known_scale_within_its_range(score, fragment):
    with pytest.raises(InvalidResponses) as refused:
        Facts(withdrawal_score=score)
    assert fragment in refused.value.errors["withdrawal_score"]


def test_from_answers_reads_an_asam3_response_and_the_facts():
    answers = dict(zip(DIMENSIONS, (3, 0, 1, 2, 2, 1), strict=True))
    stated = Facts(pregnant=True, withdrawal_score=("cows", 20))
    placed = PlacementInput.from_answers(answers, stated)
    assert placed.ratings == (3, 0, 1, 2, 2, 1) and placed.facts == stated
    assert PlacementInput.from_answers(answers).facts == Facts()


def test_from_answers_refuses_by_item_id():
    answers = dict.fromkeys(DIMENSIONS, 0) | {DIMENSIONS[1]: 6}
    del answers[DIMENSIONS[5]]
    with pytest.raises(InvalidResponses) as refused:
        PlacementInput.from_answers(answers)
    assert set(refused.value.errors) == {DIMENSIONS[1], DIMENSIONS[5]}


@given(facts())
def test_facts_round_trip_through_json(given_facts):
    stored = json.loads(json.dumps(given_facts.as_dict()))
    assert Facts.from_dict(stored) == given_facts


def test_a_recommendation_is_plain_data():
    result = recommend(case((1, 2, 3, 2, 1, 0)))
    assert isinstance(result, Recommendation)
    assert result.level == "3.5" and result.withdrawal_level == "1-WM"
    assert result.decided_by == ("D3-3",)
    assert result.rule_ids[:6] == ("D1-1", "D2-2", "D3-3", "D4-2", "D5-1", "D6-0")
