"""Crisis triage: every combination of danger signs gives the steps the SAMHSA toolkit
calls for, most urgent first, and no sign gives no step."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.intake.rules.triage import (
    OVERDOSE_SIGNS,
    QUESTION_TEXT,
    QUESTIONS,
    STEPS,
    Advice,
    Sign,
    actions_for,
    is_crisis,
)

ALL_SIGNS = list(Sign)
OVERDOSE_STEPS = [Advice.NALOXONE, Advice.RESCUE_BREATHING, Advice.STAY_AND_WATCH]
sign_sets = st.sets(st.sampled_from(ALL_SIGNS))


def advice(signs: set[Sign] | frozenset[Sign]) -> list[Advice]:
    return [step.advice for step in actions_for(signs)]


def test_the_overdose_signs_are_breathing_waking_and_colour():
    assert frozenset({Sign.NOT_BREATHING, Sign.UNRESPONSIVE, Sign.BLUE_LIPS}) == OVERDOSE_SIGNS


def test_every_sign_is_asked_once_with_a_question():
    assert [sign for sign, _ in QUESTIONS] == ALL_SIGNS
    assert all(text.endswith("?") for text in QUESTION_TEXT.values())


def test_every_advice_has_a_titled_step_with_how_to():
    assert set(STEPS) == set(Advice)
    for key, step in STEPS.items():
        assert step.advice is key
        assert step.title and step.how and all(step.how)


@pytest.mark.parametrize(
    ("signs", "expected"),
    [
        (set(), []),
        (
            {Sign.NOT_BREATHING},
            [Advice.CALL_911, *OVERDOSE_STEPS, Advice.STAY_ON_LINE],
        ),
        (
            {Sign.UNRESPONSIVE},
            [Advice.CALL_911, *OVERDOSE_STEPS, Advice.STAY_ON_LINE],
        ),
        ({Sign.BLUE_LIPS}, [Advice.CALL_911, *OVERDOSE_STEPS, Advice.STAY_ON_LINE]),
        ({Sign.SUICIDAL}, [Advice.CALL_988, Advice.STAY_ON_LINE]),
        ({Sign.MEDICAL_EMERGENCY}, [Advice.CALL_911, Advice.STAY_ON_LINE]),
        (
            {Sign.SUICIDAL, Sign.MEDICAL_EMERGENCY},
            [Advice.CALL_911, Advice.CALL_988, Advice.STAY_ON_LINE],
        ),
        (
            {Sign.SUICIDAL, Sign.BLUE_LIPS},
            [Advice.CALL_911, *OVERDOSE_STEPS, Advice.CALL_988, Advice.STAY_ON_LINE],
        ),
        (
            set(Sign),
            [Advice.CALL_911, *OVERDOSE_STEPS, Advice.CALL_988, Advice.STAY_ON_LINE],
        ),
        (
            {Sign.MEDICAL_EMERGENCY, Sign.UNRESPONSIVE},
            [Advice.CALL_911, *OVERDOSE_STEPS, Advice.STAY_ON_LINE],
        ),
    ],
)
def test_the_steps_of_typical_calls(signs, expected):
    assert advice(signs) == expected


@settings(max_examples=200)
@given(signs=sign_sets)
def test_each_kind_of_sign_brings_its_own_steps(signs):
    said = advice(signs)
    overdose = bool(signs & OVERDOSE_SIGNS)
    suicidal = Sign.SUICIDAL in signs
    medical = Sign.MEDICAL_EMERGENCY in signs
    # 911 for an overdose or another medical emergency, alone or with suicidal thoughts.
    assert (Advice.CALL_911 in said) == (overdose or medical)
    # Naloxone, rescue breathing and watching after it: only for an overdose.
    for step in OVERDOSE_STEPS:
        assert (step in said) == overdose
    # 988 for suicidal thoughts, whatever else is said.
    assert (Advice.CALL_988 in said) == suicidal
    # Any sign at all: stay on the line, always the last step.
    assert (Advice.STAY_ON_LINE in said) == bool(signs)
    if signs:
        assert said[-1] == Advice.STAY_ON_LINE
    assert is_crisis(signs) == bool(signs)


@settings(max_examples=200)
@given(signs=sign_sets)
def test_steps_come_most_urgent_first_and_never_twice(signs):
    said = advice(signs)
    assert len(said) == len(set(said))
    urgency = list(Advice)  # the enum lists the steps in the order they are taken
    assert said == sorted(said, key=urgency.index)
    if Advice.CALL_911 in said:
        assert said[0] == Advice.CALL_911
    assert [s for s in said if s in OVERDOSE_STEPS] == (
        OVERDOSE_STEPS if signs & OVERDOSE_SIGNS else []
    )


@settings(max_examples=100)
@given(signs=sign_sets, extra=sign_sets)
def test_more_signs_never_take_a_step_away(signs, extra):
    assert set(advice(signs)) <= set(advice(signs | extra))
