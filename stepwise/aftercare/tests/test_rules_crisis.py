"""The numbers every crisis plan shows: 988 first and 911 always; the program's 24/7
line when set; never a line without its number."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stepwise.aftercare.rules import crisis as rules
from stepwise.aftercare.rules.crisis import LineSource, Number
from stepwise.aftercare.rules.plan import DEFAULT_CRISIS_STEPS

ORG = "Riverside Recovery"
NOBODY = Number("", "")
# A name or phone as typed: often blank or only spaces.
texts = st.one_of(st.just(""), st.just("   "), st.text(max_size=30))
numbers = st.builds(Number, texts, texts)


def test_the_program_line_is_printed_when_set():
    found = rules.crisis_lines(ORG, Number("Riverside 24/7 line", " 555-0111 "))
    assert found.lines == (
        rules.LIFELINE,
        "Riverside 24/7 line: 555-0111, any time, day or night.",
        rules.EMERGENCY,
    )
    assert found.source is LineSource.PROGRAM and not found.missing
    assert found.note == ""


def test_an_unnamed_line_takes_the_organizations_name():
    found = rules.crisis_lines(ORG, Number("", "555-0111"))
    assert found.lines[1] == "Riverside Recovery 24/7 line: 555-0111, any time, day or night."


def test_without_any_number_only_988_and_911_and_the_usual_steps_are_answered():
    found = rules.crisis_lines(ORG, Number("Riverside 24/7 line", "  "), DEFAULT_CRISIS_STEPS)
    assert found.lines == (rules.LIFELINE, rules.EMERGENCY)
    assert found.missing
    assert found.note == rules.STAND_IN
    # Steps that name no 24/7 line need no answer.
    assert rules.crisis_lines(ORG, NOBODY, ["Call my sister"]).note == ""


def test_a_step_naming_the_line_is_found_however_it_is_written():
    for step in ["call the 24/7 line", "Call the 24 / 7 LINE", "our 24-hour line", "24 hour line"]:
        assert rules.mentions_program_line([step]), step
    assert not rules.mentions_program_line(["Call 988", "Go to a meeting"])


@given(org=st.text(max_size=20), program=numbers)
def test_988_and_911_always_and_never_a_line_without_its_number(org, program):
    found = rules.crisis_lines(org, program, DEFAULT_CRISIS_STEPS)
    assert found.lines[0] == rules.LIFELINE and found.lines[-1] == rules.EMERGENCY
    # The settings page warns by the same rule the plan uses.
    assert found.missing is not rules.has_number(program.phone)
    if program.phone.strip():
        assert found.source is LineSource.PROGRAM and found.note == ""
        assert found.lines[1].endswith(f": {program.phone.strip()}, any time, day or night.")
    else:
        assert found.missing and found.note == rules.STAND_IN
        assert found.lines == (rules.LIFELINE, rules.EMERGENCY)
    # The number shown is never blank: the line is there only with one.
    assert len(found.lines) == (2 if found.missing else 3)
