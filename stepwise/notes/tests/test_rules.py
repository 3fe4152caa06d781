"""The note rules as plain functions: formats and sections, what signing needs, group
entries, co-signature."""

from __future__ import annotations

import pytest

from stepwise.notes import rules


def test_the_three_formats_have_their_sections_in_order():
    assert rules.FORMATS["dap"].keys == ("data", "assessment", "plan")
    assert rules.FORMATS["birp"].keys == ("behavior", "intervention", "response", "plan")
    assert rules.FORMATS["soap"].keys == ("subjective", "objective", "assessment", "plan")
    assert rules.FORMATS["soap"].label == "SOAP (subjective, objective, assessment, plan)"


def test_an_unknown_format_names_the_allowed_ones():
    errors = rules.section_errors("narrative", {})
    assert set(errors) == {"format"}
    assert (
        "dap (DAP" in errors["format"] and "birp" in errors["format"] and "soap" in errors["format"]
    )


def test_sections_of_another_format_are_named():
    errors = rules.section_errors("dap", {"data": "x", "subjective": "y"})
    assert errors == {"sections": "DAP has the sections data, assessment, plan; not subjective."}


def test_a_section_too_long_or_not_text_is_named_by_its_key():
    errors = rules.section_errors("birp", {"behavior": "x" * (rules.SECTION_MAX + 1), "plan": 3})
    assert set(errors) == {"behavior", "plan"}


def test_a_draft_may_be_empty_but_signing_needs_every_section():
    assert rules.section_errors("soap", {}) == {}
    missing = rules.missing_sections("soap", {"subjective": "Slept badly", "plan": "  \n "})
    assert missing == {
        "objective": "Write the objective before signing.",
        "assessment": "Write the assessment before signing.",
        "plan": "Write the plan before signing.",
    }


def test_clean_sections_keeps_the_format_order_and_strips():
    assert rules.clean_sections("dap", {"plan": " p\r\n2 ", "data": "d"}) == {
        "data": "d",
        "assessment": "",
        "plan": "p\n2",
    }


def test_goals_one_per_line_without_blanks_or_repeats():
    goals = rules.goals_from_lines("Manage cravings\n\n  Rebuild sleep \nManage cravings")
    assert rules.clean_goals(goals) == ["Manage cravings", "Rebuild sleep"]
    assert rules.goal_errors(["x"] * (rules.GOALS_MAX + 1)) == {"goals": "Name at most 10 goals."}
    assert "200 characters" in rules.goal_errors(["x" * 201])["goals"]


@pytest.mark.parametrize(
    ("required", "may_cosign", "waits"),
    [(False, False, False), (False, True, False), (True, True, False), (True, False, True)],
)
def test_a_note_waits_for_cosign_only_when_required_and_the_author_may_not_cosign(
    required, may_cosign, waits
):
    assert rules.needs_cosign(required, may_cosign) is waits


MEMBERS = [
    rules.Member("a", "Ana Rivera", True),
    rules.Member("b", "Ben Ortiz", True),
    rules.Member("s", "Sam Doe", False),
]


def test_a_group_note_is_signed_with_the_narrative_and_an_entry_per_attending_member():
    assert rules.group_sign_errors("Role play", MEMBERS, {"a": "x", "b": "y"}) == {}
    errors = rules.group_sign_errors("", MEMBERS, {"a": "x", "s": "z"})
    assert errors == {
        "narrative": "Write the shared narrative before signing.",
        "entry_b": "Ben Ortiz: write a short entry before signing.",
        "entry_s": "Sam Doe did not attend; remove their entry before signing.",
    }


def test_nobody_attending_is_named_on_the_session():
    absent = [rules.Member("s", "Sam Doe", False)]
    assert "take attendance" in rules.group_sign_errors("n", absent, {})["session"]


def test_draft_entries_only_for_attending_members_of_the_roster():
    errors = rules.entry_errors(
        MEMBERS, {"a": "fine", "s": "came after all?", "zz": "who?", "b": "x" * 2001}
    )
    assert errors == {
        "entry_s": "Sam Doe did not attend; an entry is only for who attended.",
        "entry_zz": "This patient is not on the session's roster.",
        "entry_b": "Ben Ortiz: at most 2000 characters.",
    }
    assert rules.entry_errors(MEMBERS, {"s": "  "}) == {}
