"""Vital signs: the plausible ranges at their edges, blood-pressure pairing, the
"at least one" rule, and the over-sedation signs (RR < 10, SpO2 < 92 %, unresponsive)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.withdrawal.rules.vitals import (
    OVER_SEDATION_ACTION,
    RANGES,
    RESPIRATORY_RATE_FLOOR,
    RESPONSIVENESS_LABELS,
    SPO2_FLOOR,
    Responsiveness,
    Vitals,
    over_sedation_signs,
    vitals_errors,
)

# Pinned: a range is a clinical decision.
EXPECTED_RANGES = {
    "pulse": (Decimal(20), Decimal(250)),
    "systolic": (Decimal(50), Decimal(260)),
    "diastolic": (Decimal(20), Decimal(160)),
    "respiratory_rate": (Decimal(0), Decimal(60)),
    "spo2": (Decimal(50), Decimal(100)),
    "temperature_c": (Decimal("30.0"), Decimal("43.0")),
}


def test_ranges_and_floors_are_pinned():
    assert {k: (lo, hi) for k, (lo, hi, _unit) in RANGES.items()} == EXPECTED_RANGES
    assert RESPIRATORY_RATE_FLOOR == 10
    assert SPO2_FLOOR == 92
    assert set(RESPONSIVENESS_LABELS) == set(Responsiveness)
    assert "naloxone" in OVER_SEDATION_ACTION


# --- over-sedation ----------------------------------------------------------------------


def test_respiratory_rate_nine_is_a_sign_ten_is_not():
    assert over_sedation_signs(Vitals(respiratory_rate=9)) == ["respiratory rate 9 (under 10)"]
    assert over_sedation_signs(Vitals(respiratory_rate=10)) == []
    assert over_sedation_signs(Vitals(respiratory_rate=0)) == ["respiratory rate 0 (under 10)"]


def test_spo2_ninety_one_is_a_sign_ninety_two_is_not():
    assert over_sedation_signs(Vitals(spo2=91)) == ["SpO2 91 % (under 92 %)"]
    assert over_sedation_signs(Vitals(spo2=92)) == []


@pytest.mark.parametrize("level", list(Responsiveness))
def test_only_unresponsive_is_a_sign(level: Responsiveness):
    signs = over_sedation_signs(Vitals(responsiveness=level))
    assert signs == (["unresponsive"] if level is Responsiveness.UNRESPONSIVE else [])


def test_all_three_signs_together_in_order():
    v = Vitals(respiratory_rate=6, spo2=80, responsiveness=Responsiveness.UNRESPONSIVE)
    assert over_sedation_signs(v) == [
        "respiratory rate 6 (under 10)",
        "SpO2 80 % (under 92 %)",
        "unresponsive",
    ]


def test_nothing_measured_is_no_sign():
    assert over_sedation_signs(Vitals()) == []
    # Other vitals, however abnormal, are not over-sedation signs here.
    assert over_sedation_signs(Vitals(pulse=30, systolic=70, diastolic=40)) == []


@settings(max_examples=200, deadline=None)
@given(
    rr=st.none() | st.integers(min_value=0, max_value=60),
    spo2=st.none() | st.integers(min_value=50, max_value=100),
    resp=st.none() | st.sampled_from(list(Responsiveness)),
)
def test_over_sedation_property(rr, spo2, resp):
    signs = over_sedation_signs(Vitals(respiratory_rate=rr, spo2=spo2, responsiveness=resp))
    expected = (
        (rr is not None and rr < 10)
        + (spo2 is not None and spo2 < 92)
        + (resp is Responsiveness.UNRESPONSIVE)
    )
    assert len(signs) == expected


# --- ranges ---------------------------------------------------------------------------

INTEGER_FIELDS = ["pulse", "respiratory_rate", "spo2"]


def measured(name: str, value: Any) -> Vitals:
    """One value, with a valid partner when it is a blood pressure."""
    if name == "systolic":
        return Vitals(systolic=value, diastolic=20)
    if name == "diastolic":
        return Vitals(systolic=260, diastolic=value)
    return Vitals(**{name: value})


@pytest.mark.parametrize("name", [*INTEGER_FIELDS, "systolic", "diastolic"])
def test_integer_ranges_at_their_edges(name: str):
    low, high, unit = RANGES[name]
    message = f"Allowed {low} to {high} {unit}."
    assert vitals_errors(measured(name, int(low))) == {}
    assert vitals_errors(measured(name, int(high))) == {}
    assert vitals_errors(measured(name, int(low) - 1)).get(name) == message
    assert vitals_errors(measured(name, int(high) + 1)).get(name) == message


def test_temperature_range_at_its_edges():
    assert vitals_errors(Vitals(temperature_c=Decimal("30.0"))) == {}
    assert vitals_errors(Vitals(temperature_c=Decimal("43.0"))) == {}
    assert vitals_errors(Vitals(temperature_c=Decimal("36.6"))) == {}
    for bad in ("29.9", "43.1", "-1", "98.6"):
        assert vitals_errors(Vitals(temperature_c=Decimal(bad))) == {
            "temperature_c": "Allowed 30.0 to 43.0 °C."
        }, bad


def test_respiratory_rate_zero_is_a_plausible_value():
    assert vitals_errors(Vitals(respiratory_rate=0)) == {}
    assert "respiratory_rate" in vitals_errors(Vitals(respiratory_rate=-1))


# --- blood pressure pairing -------------------------------------------------------------


def test_systolic_without_diastolic_names_the_missing_one():
    assert vitals_errors(Vitals(systolic=120)) == {
        "diastolic": "Give both systolic and diastolic pressure, or neither."
    }
    assert vitals_errors(Vitals(diastolic=80)) == {
        "systolic": "Give both systolic and diastolic pressure, or neither."
    }


def test_diastolic_must_be_below_systolic():
    assert vitals_errors(Vitals(systolic=120, diastolic=119)) == {}
    below = "Diastolic pressure must be below systolic."
    assert vitals_errors(Vitals(systolic=120, diastolic=120)) == {"diastolic": below}
    assert vitals_errors(Vitals(systolic=100, diastolic=140)) == {"diastolic": below}


def test_a_bad_pair_still_reports_each_out_of_range_value():
    errors = vitals_errors(Vitals(systolic=300, diastolic=10))
    assert set(errors) == {"systolic", "diastolic"}


# --- at least one -----------------------------------------------------------------------


def test_at_least_one_vital_sign():
    assert vitals_errors(Vitals()) == {"__all__": "Record at least one vital sign."}
    assert vitals_errors(Vitals(pulse=80)) == {}
    assert vitals_errors(Vitals(responsiveness=Responsiveness.ALERT)) == {}
    assert vitals_errors(Vitals(systolic=120, diastolic=80)) == {}


def test_a_zero_reading_counts_as_measured():
    assert "__all__" not in vitals_errors(Vitals(respiratory_rate=0))
    assert Vitals(respiratory_rate=0).measured() == {"respiratory_rate": 0}
    assert Vitals().measured() == {}


@st.composite
def any_vitals(draw: st.DrawFn) -> Vitals:
    def maybe(low: int, high: int) -> int | None:
        return draw(st.none() | st.integers(min_value=low - 20, max_value=high + 20))

    temp = draw(st.none() | st.decimals(min_value=25, max_value=48, places=1))
    return Vitals(
        pulse=maybe(20, 250),
        systolic=maybe(50, 260),
        diastolic=maybe(20, 160),
        respiratory_rate=maybe(0, 60),
        spo2=maybe(50, 100),
        temperature_c=temp,
        responsiveness=draw(st.none() | st.sampled_from(list(Responsiveness))),
    )


@settings(max_examples=300, deadline=None)
@given(any_vitals())
def test_valid_iff_every_rule_holds(v):
    errors = vitals_errors(v)
    in_range = all(
        getattr(v, name) is None or low <= Decimal(getattr(v, name)) <= high
        for name, (low, high, _unit) in RANGES.items()
    )
    paired = (v.systolic is None) == (v.diastolic is None)
    ordered = v.systolic is None or v.diastolic is None or v.diastolic < v.systolic
    anything = any(value is not None for value in v.__dict__.values())
    assert (errors == {}) == (in_range and paired and ordered and anything)
    assert set(errors) <= {*RANGES, "__all__"}
