"""The plan's sections, a check-in's values, and what a stay exit needs of the plan:
pure rules."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.aftercare.rules import checkin, exits
from stepwise.aftercare.rules import plan as rules
from stepwise.aftercare.rules.plan import Section, SectionError

TODAY = date(2026, 3, 2)


def test_a_support_group_needs_its_group_and_a_phone_must_look_like_one():
    with pytest.raises(SectionError) as refused:
        rules.parse_section(
            "supports",
            [
                {"kind": "support_group", "name": "Tuesday meeting"},
                {"kind": "therapist", "group": "na", "name": "Dr. Lee", "contact": "call me"},
                {"kind": "sponsor", "name": ""},
            ],
        )
    errors = refused.value.errors
    assert "na (Narcotics Anonymous (NA))" in errors["supports[0].group"]
    assert errors["supports[1].group"].startswith("Only a support group")
    assert errors["supports[1].contact"].startswith("Give a phone number")
    assert "therapist (Individual therapist)" in errors["supports[2].kind"]
    assert errors["supports[2].name"].startswith("Name the support")


def test_entries_round_trip_through_their_stored_form():
    raw = [
        {
            "kind": "support_group",
            "group": "smart",
            "name": "SMART Thursday",
            "contact": "+1 555 010 3000 ext 2",
            "schedule": "Thursdays 18:00, weekly",
            "next_on": "2026-03-05",
        }
    ]
    (support,) = rules.parse_section("supports", raw)
    assert support.next_on == date(2026, 3, 5)
    assert support.kind_label == "SMART Recovery"
    assert rules.dump_section([support]) == raw


def test_text_sections_drop_blank_lines_and_refuse_long_ones():
    assert rules.parse_section("triggers", ["  Payday ", "", "Old friends"]) == [
        "Payday",
        "Old friends",
    ]
    with pytest.raises(SectionError) as refused:
        rules.parse_section("triggers", ["x" * 301])
    assert refused.value.errors == {"triggers[0]": "At most 300 characters."}
    with pytest.raises(SectionError, match="At most 30 entries"):
        rules.parse_section("coping_strategies", ["walk"] * 31)


def test_unknown_sections_and_shapes_are_named():
    with pytest.raises(SectionError) as refused:
        rules.parse_section("hobbies", [])
    assert "supports" in refused.value.errors["section"]
    with pytest.raises(SectionError, match="Give a list"):
        rules.parse_section("triggers", "Payday")
    with pytest.raises(SectionError) as shaped:
        rules.parse_section("emergency_contacts", ["Maria", {"name": "Sam", "phone": ""}])
    assert shaped.value.errors == {
        "emergency_contacts[0]": "Give an entry with its fields.",
        "emergency_contacts[1].phone": "Give a phone number the patient can call.",
    }
    with pytest.raises(SectionError) as people:
        rules.parse_section("people_to_avoid", [{"who": "J.", "relationship": "friend"}])
    assert "enabler (Enabler)" in people.value.errors["people_to_avoid[0].relationship"]


@given(st.lists(st.text(max_size=40), max_size=30))
def test_any_short_lines_are_kept_stripped_in_order(lines):
    assert rules.parse_section("warning_signs", lines) == [s.strip() for s in lines if s.strip()]


def test_activation_needs_a_support():
    assert "Add at least one support" in rules.activation_gaps([])["supports"]
    assert (
        rules.activation_gaps(
            rules.parse_section("supports", [{"kind": "other", "name": "Church group"}])
        )
        == {}
    )


def test_the_next_appointment_is_the_soonest_from_today():
    supports = rules.parse_section(
        "supports",
        [
            {"kind": "therapist", "name": "A", "next_on": "2026-03-09"},
            {"kind": "therapist", "name": "B", "next_on": "2026-03-01"},
            {"kind": "medication", "name": "C", "next_on": "2026-03-04"},
        ],
    )
    found = rules.next_appointment(supports, TODAY)
    assert found is not None and found.name == "C"
    assert rules.next_appointment([], TODAY) is None


def test_every_section_has_its_labels():
    for section in Section:
        assert rules.SECTION_LABELS[section] and rules.PATIENT_HEADINGS[section]
        assert rules.SECTION_HELP[section]


# Check-in values


def report(**values: Any) -> checkin.Report:
    base = {"wellbeing": 4, "craving": 2, "used": False}
    return checkin.Report(**{**base, **values})


def test_a_plain_report_is_accepted():
    assert checkin.report_errors(report(), TODAY) == {}
    assert checkin.report_errors(report(used=True, substances=(7, -9), used_on=TODAY), TODAY) == {}


def test_use_needs_its_substances_and_no_use_has_none():
    assert "Which substances" in checkin.report_errors(report(used=True), TODAY)["substances"]
    refused = checkin.report_errors(report(used=True, substances=(1,)), TODAY)
    assert "5 (Heroin)" in refused["substances"] and "1 (None)" not in refused["substances"]
    assert checkin.report_errors(report(used=True, substances=(5, 5)), TODAY) == {
        "substances": "Each substance is listed once."
    }
    assert checkin.report_errors(report(substances=(5,), used_on=TODAY), TODAY) == {
        "substances": "No use was reported; leave the substances empty.",
        "used_on": "No use was reported; leave the day of use empty.",
    }
    later = checkin.report_errors(
        report(used=True, substances=(5,), used_on=date(2026, 3, 3)), TODAY
    )
    assert later == {"used_on": "The day of use cannot be after today."}


@given(wellbeing=st.integers(-5, 10), craving=st.integers(-5, 15))
def test_scales_accept_exactly_their_ranges(wellbeing, craving):
    errors = checkin.report_errors(report(wellbeing=wellbeing, craving=craving), TODAY)
    assert ("wellbeing" in errors) == (not 1 <= wellbeing <= 5)
    assert ("craving" in errors) == (not 0 <= craving <= 10)


def test_booleans_are_not_scale_values():
    errors = checkin.report_errors(report(wellbeing=True, craving=False), TODAY)
    assert set(errors) == {"wellbeing", "craving"}


def test_wellbeing_words():
    assert checkin.wellbeing_label(1) == "Struggling a lot"
    assert checkin.wellbeing_label(5) == "Doing very well"
    assert checkin.substance_labels([7])[0].startswith("Other opiates")


# Stay exits


@pytest.mark.parametrize(
    ("leaving", "need"),
    [
        (exits.Leaving(to_next_program=True), exits.Need.STARTED),
        (exits.Leaving(False, 1), exits.Need.REVIEWED),
        (exits.Leaving(False, 4), exits.Need.REVIEWED),
        (exits.Leaving(False, 7), exits.Need.REVIEWED),
        (exits.Leaving(False, 2), exits.Need.RECORD_ONLY),
        (exits.Leaving(False, 3), exits.Need.RECORD_ONLY),
        (exits.Leaving(False, 5), exits.Need.RECORD_ONLY),
        (exits.Leaving(False, 6), exits.Need.EXEMPT),
    ],
)
def test_what_each_leaving_needs(leaving, need):
    assert exits.need_for(leaving) is need


def test_refusals_name_what_is_missing_and_how_to_fix_it():
    none = exits.exit_refusal(exits.Need.STARTED, None)
    assert none and "No aftercare plan yet" in none and "a draft is enough" in none
    assert exits.exit_refusal(exits.Need.STARTED, "draft") is None
    draft = exits.exit_refusal(exits.Need.REVIEWED, "draft")
    assert draft and "still a draft" in draft and "Reviewed with the patient" in draft
    assert exits.exit_refusal(exits.Need.REVIEWED, "active") is None
    ended = exits.exit_refusal(exits.Need.STARTED, "ended", ended_on="2026-02-01")
    assert ended and "ended their aftercare plan on 2026-02-01" in ended and "restart" in ended
    assert exits.exit_refusal(exits.Need.RECORD_ONLY, None) is None
    assert exits.exit_refusal(exits.Need.EXEMPT, None) is None


@given(status=st.sampled_from([None, "draft", "active", "ended"]), reason=st.integers(1, 7))
def test_an_unplanned_leaving_is_never_refused_and_tasks_unless_the_plan_is_active(status, reason):
    need = exits.need_for(exits.Leaving(False, reason))
    if reason in (2, 3, 5):
        assert exits.exit_refusal(need, status) is None
        assert exits.needs_task(need, status) == (status != "active")
    else:
        assert not exits.needs_task(need, status)
