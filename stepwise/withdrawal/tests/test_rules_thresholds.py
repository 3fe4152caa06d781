"""The organization's withdrawal-management settings (domain reference §1.3, §6, §11):
defaults inside their published ranges, and every range checked at its edges."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.withdrawal.rules.thresholds import (
    COWS_RECENCY_MINUTES,
    NALOXONE_CHALLENGE_VALID_HOURS,
    SETTINGS,
    SETTINGS_BY_NAME,
    UNIT_SETTINGS,
    SafetyThresholds,
    Setting,
    UnitSchedule,
    defaults,
    threshold_errors,
)

# The ranges the domain reference publishes, pinned: widening one is a clinical
# decision and must be a deliberate edit here too.
PUBLISHED: dict[str, tuple[int, int, int]] = {
    "bup_cows_threshold": (8, 8, 13),  # §1.3: default 8, allow 8-13
    "bup_hours_short_acting": (12, 12, 72),  # §6: >= 12 h
    "bup_hours_extended_release": (24, 24, 72),  # §6: >= 24 h
    "bup_hours_methadone": (36, 36, 72),  # §6: 36-72 h
    "methadone_first_day_cap_mg": (50, 30, 50),  # §6: 50 mg (old rule 30 mg)
    "naltrexone_opioid_free_days": (7, 7, 10),  # §6: 7-10 days
    "naltrexone_after_agonist_days": (14, 10, 14),  # §6: up to 2 weeks
}


def test_settings_table_is_pinned_to_the_reference():
    assert {s.name: (s.default, s.low, s.high) for s in SETTINGS} == PUBLISHED
    assert set(SETTINGS_BY_NAME) == set(PUBLISHED)
    assert len(SETTINGS_BY_NAME) == len(SETTINGS)  # no duplicate names


def test_every_dataclass_field_is_a_setting_and_back():
    assert {f.name for f in dataclasses.fields(SafetyThresholds)} == set(SETTINGS_BY_NAME)


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_default_lies_in_its_range_and_matches_the_dataclass(setting: Setting):
    assert setting.low <= setting.default <= setting.high
    assert setting.error(setting.default) is None
    assert getattr(defaults(), setting.name) == setting.default
    assert getattr(SafetyThresholds(), setting.name) == setting.default
    assert setting.label and setting.unit and setting.source


def test_defaults_are_the_dataclass_defaults_and_valid():
    assert defaults() == SafetyThresholds()
    assert threshold_errors(dataclasses.asdict(defaults())) == {}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_threshold_errors_at_each_edge(setting: Setting):
    name = setting.name
    assert threshold_errors({name: setting.low}) == {}
    assert threshold_errors({name: setting.high}) == {}
    low_message = threshold_errors({name: setting.low - 1})
    high_message = threshold_errors({name: setting.high + 1})
    expected = f"{setting.label}: allowed {setting.low} to {setting.high} {setting.unit}."
    assert low_message == {name: expected}
    assert high_message == {name: expected}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_setting_error_at_each_edge(setting: Setting):
    assert setting.error(setting.low) is None
    assert setting.error(setting.high) is None
    assert setting.error(setting.low - 1) is not None
    assert setting.error(setting.high + 1) is not None


def test_unknown_setting_is_named():
    assert threshold_errors({"bup_cows_threshhold": 8}) == {
        "bup_cows_threshhold": "Unknown setting."
    }
    assert threshold_errors({"": 1}) == {"": "Unknown setting."}


def test_one_message_per_bad_setting_and_none_for_good_ones():
    errors = threshold_errors(
        {
            "bup_cows_threshold": 7,
            "bup_hours_short_acting": 12,
            "methadone_first_day_cap_mg": 51,
            "nope": 1,
        }
    )
    assert set(errors) == {"bup_cows_threshold", "methadone_first_day_cap_mg", "nope"}


def test_empty_values_have_no_errors():
    assert threshold_errors({}) == {}


@st.composite
def setting_and_value(draw: st.DrawFn) -> tuple[Setting, int]:
    setting = draw(st.sampled_from(SETTINGS))
    value = draw(st.integers(min_value=setting.low - 20, max_value=setting.high + 20))
    return setting, value


@settings(max_examples=200, deadline=None)
@given(setting_and_value())
def test_an_error_exactly_outside_the_range(case):
    setting, value = case
    errors = threshold_errors({setting.name: value})
    assert (setting.name in errors) == (not setting.low <= value <= setting.high)


def test_methadone_cap_is_a_decimal_of_the_setting():
    assert SafetyThresholds().methadone_cap == Decimal(50)
    assert SafetyThresholds(methadone_first_day_cap_mg=30).methadone_cap == Decimal(30)
    assert isinstance(SafetyThresholds().methadone_cap, Decimal)


def test_thresholds_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        SafetyThresholds().bup_cows_threshold = 9  # type: ignore[misc]


def test_recency_and_challenge_windows():
    assert COWS_RECENCY_MINUTES == 60
    assert NALOXONE_CHALLENGE_VALID_HOURS == 24


def test_unit_schedule_defaults_match_their_settings():
    by_name = {s.name: s for s in UNIT_SETTINGS}
    assert {f.name for f in dataclasses.fields(UnitSchedule)} == set(by_name)
    schedule = UnitSchedule()
    for name, setting in by_name.items():
        assert getattr(schedule, name) == setting.default
        assert setting.error(setting.default) is None
        assert setting.error(setting.low - 1) is not None
        assert setting.error(setting.high + 1) is not None
    assert (schedule.reassess_hours, schedule.induction_reassess_hours) == (4, 1)
    assert schedule.prn_followup_minutes == 60
    # The induction rescore interval is 1-2 h (domain §1.3).
    assert (by_name["induction_reassess_hours"].low, by_name["induction_reassess_hours"].high) == (
        1,
        2,
    )
