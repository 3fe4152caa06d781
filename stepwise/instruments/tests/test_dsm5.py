"""DSM-5-TR opioid use disorder checklist against domain reference §3 and §3.1:
exemptions, severity, remission by calendar months, specifiers and ICD-10-CM codes."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stepwise.instruments.definitions.dsm5 import (
    CRITERION_IDS,
    DSM5_OUD,
    TOLERANCE,
    TOLERANCE_SUPERVISED,
    WITHDRAWAL,
    WITHDRAWAL_NOW,
    WITHDRAWAL_SUPERVISED,
    add_months,
    whole_months,
)
from stepwise.instruments.engine import InvalidResponses, Score

PUBLISHED_ORDER = [
    "a1_larger_amounts",
    "a2_cut_down",
    "a3_time_spent",
    "a4_craving",
    "a5_role_obligations",
    "a6_social_problems",
    "a7_activities_given_up",
    "a8_hazardous_use",
    "a9_physical_or_psychological_problem",
    "a10_tolerance",
    "a11_withdrawal",
]
OPTIONAL = [TOLERANCE_SUPERVISED, WITHDRAWAL_SUPERVISED, WITHDRAWAL_NOW]
RANK = {"not_met": 0, "mild": 1, "moderate": 2, "severe": 3}


def met(count: int, **extra: int) -> dict[str, int]:
    """The first `count` criteria answered yes (A1 onwards), the rest no."""
    return {c: int(i < count) for i, c in enumerate(PUBLISHED_ORDER)} | extra


def finding(score: Score, code: str) -> str | None:
    values = [f.value for f in score.findings if f.code == code]
    assert len(values) <= 1, f"{code} listed more than once"
    return values[0] if values else None


def severity_for(total: int) -> str:
    return (
        "not_met" if total < 2 else "mild" if total < 4 else "moderate" if total < 6 else "severe"
    )


def test_items_criteria_in_published_order_then_the_unscored_items():
    assert list(CRITERION_IDS) == PUBLISHED_ORDER
    assert [i.id for i in DSM5_OUD.items] == PUBLISHED_ORDER + OPTIONAL
    for item in DSM5_OUD.items:
        assert [(a.value, a.label) for a in item.anchors] == [(0, "no"), (1, "yes")]
        criterion = item.id in PUBLISHED_ORDER
        assert item.scored is criterion and item.required is criterion
    assert (DSM5_OUD.code, DSM5_OUD.maximum) == ("dsm5-oud", 11)
    assert [(b.low, b.high, b.code) for b in DSM5_OUD.bands] == [
        (0, 1, "not_met"),
        (2, 3, "mild"),
        (4, 5, "moderate"),
        (6, 11, "severe"),
    ]
    assert {f.id: (f.kind, f.required) for f in DSM5_OUD.context_fields} == {
        "observed_on": ("date", False),
        "last_criterion_met_on": ("date", False),
        "on_maintenance_therapy": ("choice", False),
        "controlled_environment": ("choice", False),
    }


def test_published_minimum_and_maximum():
    none = DSM5_OUD.score(met(0))
    assert none.total == 0 and none.band is not None and none.band.code == "not_met"
    every = DSM5_OUD.score(met(11))
    assert every.total == 11 and every.band is not None and every.band.code == "severe"


@pytest.mark.parametrize(
    ("tolerance", "tolerance_supervised", "withdrawal", "withdrawal_supervised", "counted"),
    [
        (1, 0, 1, 0, 2),
        (1, 1, 1, 0, 1),
        (1, 0, 1, 1, 1),
        (1, 1, 1, 1, 0),
        (0, 1, 0, 1, 0),  # an exemption never takes away a criterion not met
    ],
)
def test_tolerance_and_withdrawal_under_medical_supervision_are_not_counted(
    tolerance, tolerance_supervised, withdrawal, withdrawal_supervised, counted
):
    responses = met(
        0,
        **{
            TOLERANCE: tolerance,
            TOLERANCE_SUPERVISED: tolerance_supervised,
            WITHDRAWAL: withdrawal,
            WITHDRAWAL_SUPERVISED: withdrawal_supervised,
        },
    )
    assert DSM5_OUD.score(responses).total == counted


def test_a_patient_on_supervised_opioids_with_only_tolerance_and_withdrawal_has_no_oud():
    responses = met(1, **{TOLERANCE: 1, WITHDRAWAL: 1})
    assert DSM5_OUD.score(responses).total == 3
    exempt = DSM5_OUD.score(responses | {TOLERANCE_SUPERVISED: 1, WITHDRAWAL_SUPERVISED: 1})
    assert exempt.total == 1 and exempt.band is not None and exempt.band.code == "not_met"
    assert finding(exempt, "icd10cm") is None


@pytest.mark.parametrize(
    ("count", "severity"),
    [
        (0, "not_met"),
        (1, "not_met"),
        (2, "mild"),
        (3, "mild"),
        (4, "moderate"),
        (5, "moderate"),
        (6, "severe"),
        (11, "severe"),
    ],
)
def test_severity_changes_at_2_4_and_6(count, severity):
    score = DSM5_OUD.score(met(count))
    assert score.total == count and score.band is not None and score.band.code == severity
    assert finding(score, "severity") == severity


def answers() -> st.SearchStrategy[dict[str, int]]:
    criteria = {c: st.sampled_from([0, 1]) for c in PUBLISHED_ORDER}
    optional = {o: st.sampled_from([0, 1]) for o in OPTIONAL}
    return st.fixed_dictionaries(criteria, optional=optional)


@given(answers())
def test_the_total_is_the_criteria_met_after_exemptions(responses):
    score = DSM5_OUD.score(responses)
    exempt = {
        TOLERANCE: responses.get(TOLERANCE_SUPERVISED, 0),
        WITHDRAWAL: responses.get(WITHDRAWAL_SUPERVISED, 0),
    }
    expected = sum(v for c, v in responses.items() if c in PUBLISHED_ORDER and not exempt.get(c))
    assert score.total == expected
    assert score.band is not None and score.band.code == severity_for(expected)
    assert finding(score, "severity") == severity_for(expected)
    assert (finding(score, "icd10cm") is None) is (expected < 2)


@given(st.integers(0, 10))
def test_band_is_monotone_in_the_total(total):
    lower, higher = DSM5_OUD.band_of(total), DSM5_OUD.band_of(total + 1)
    assert lower is not None and higher is not None
    assert RANK[lower.code] <= RANK[higher.code]


@given(
    answers(),
    st.sampled_from(PUBLISHED_ORDER + OPTIONAL),
    st.integers().filter(lambda v: v not in (0, 1)),
)
def test_a_value_other_than_0_or_1_is_refused_naming_the_item(responses, item, value):
    with pytest.raises(InvalidResponses) as refused:
        DSM5_OUD.score(responses | {item: value})
    assert refused.value.errors == {item: f"{value} is not allowed; allowed: 0, 1."}


# Calendar months, not 30-day blocks; a shorter month ends on its last day.
@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2026-01-15", "2026-01-15", 0),
        ("2026-01-15", "2026-04-14", 2),
        ("2026-01-15", "2026-04-15", 3),
        ("2026-01-31", "2026-04-29", 2),
        ("2026-01-31", "2026-04-30", 3),
        ("2026-01-31", "2026-02-28", 1),
        ("2025-11-30", "2026-02-28", 3),
        ("2024-02-29", "2025-02-28", 12),
        ("2025-01-15", "2026-01-14", 11),
        ("2025-01-15", "2026-01-15", 12),
    ],
)
def test_whole_calendar_months(start, end, months):
    assert whole_months(date.fromisoformat(start), date.fromisoformat(end)) == months


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2026-01-31", 1, "2026-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2025-12-15", 1, "2026-01-15"),
        ("2026-03-31", -1, "2026-02-28"),
        ("2026-01-31", 3, "2026-04-30"),
    ],
)
def test_add_months_ends_on_the_last_day_of_a_shorter_month(start, months, end):
    assert add_months(date.fromisoformat(start), months) == date.fromisoformat(end)


def test_whole_months_refuses_an_end_before_the_start():
    with pytest.raises(ValueError, match="before"):
        whole_months(date(2026, 4, 30), date(2026, 1, 31))


@given(st.dates(date(1990, 1, 1), date(2090, 1, 1)), st.dates(date(1990, 1, 1), date(2090, 1, 1)))
def test_whole_months_is_the_largest_n_landing_on_or_before_the_end(a, b):
    start, end = min(a, b), max(a, b)
    months = whole_months(start, end)
    assert months >= 0
    assert add_months(start, months) <= end < add_months(start, months + 1)


@pytest.mark.parametrize(
    ("last_met", "observed", "remission"),
    [
        ("2026-01-15", "2026-03-15", None),
        ("2026-01-15", "2026-04-14", None),  # 3 months less a day
        ("2026-01-15", "2026-04-15", "early"),  # exactly 3 months
        ("2026-01-31", "2026-04-30", "early"),  # exactly 3 months, shorter month
        ("2026-01-15", "2027-01-14", "early"),  # 12 months less a day
        ("2026-01-15", "2027-01-15", "sustained"),  # exactly 12 months
        ("2024-02-29", "2025-02-28", "sustained"),
        ("2026-01-15", "2026-01-15", None),
    ],
)
def test_remission_from_the_months_since_the_last_non_craving_criterion(
    last_met, observed, remission
):
    context = {"last_criterion_met_on": last_met, "observed_on": observed}
    score = DSM5_OUD.score(met(4), context)
    assert finding(score, "remission") == remission
    # Remission does not change how severe the recorded pattern was.
    assert finding(score, "severity") == "moderate"


def test_remission_needs_the_full_criteria_met_before():
    context = {"last_criterion_met_on": "2024-01-01", "observed_on": "2026-01-01"}
    assert finding(DSM5_OUD.score(met(1), context), "remission") is None
    assert finding(DSM5_OUD.score(met(2), context), "remission") == "sustained"


@pytest.mark.parametrize(
    "context",
    [{}, {"observed_on": "2026-06-01"}, {"last_criterion_met_on": "2020-01-01"}],
)
def test_remission_needs_both_dates(context):
    assert finding(DSM5_OUD.score(met(6), context), "remission") is None


def test_a_last_criterion_date_after_the_assessment_is_refused_naming_the_field():
    context = {"last_criterion_met_on": "2026-05-02", "observed_on": "2026-05-01"}
    with pytest.raises(InvalidResponses) as refused:
        DSM5_OUD.score(met(3), context)
    assert set(refused.value.errors) == {"last_criterion_met_on"}
    assert "after the assessment date" in refused.value.errors["last_criterion_met_on"]


SUSTAINED = {"last_criterion_met_on": "2024-01-01", "observed_on": "2026-01-01"}
EARLY = {"last_criterion_met_on": "2025-08-01", "observed_on": "2026-01-01"}


@pytest.mark.parametrize(
    ("count", "withdrawal_now", "context", "code"),
    [
        (2, 0, {}, "F11.10"),
        (3, 0, EARLY, "F11.11"),
        (3, 0, SUSTAINED, "F11.11"),
        (3, 1, {}, "F11.13"),
        (4, 0, {}, "F11.20"),
        (6, 0, {}, "F11.20"),
        (5, 0, EARLY, "F11.21"),
        (11, 0, SUSTAINED, "F11.21"),
        (4, 1, {}, "F11.23"),
        (9, 1, {}, "F11.23"),
        (0, 1, {}, None),  # F11.93 (withdrawal without OUD) is unverified: not suggested
        (1, 0, SUSTAINED, None),
    ],
)
def test_suggested_icd10cm_code(count, withdrawal_now, context, code):
    score = DSM5_OUD.score(met(count, **{WITHDRAWAL_NOW: withdrawal_now}), context)
    assert finding(score, "icd10cm") == code
    if code is not None:
        (icd,) = [f for f in score.findings if f.code == "icd10cm"]
        assert code in icd.label


@pytest.mark.parametrize(
    ("code", "title"),
    [
        ("F11.10", "Opioid abuse, uncomplicated"),
        ("F11.11", "Opioid abuse, in remission"),
        ("F11.13", "Opioid abuse with withdrawal"),
        ("F11.20", "Opioid dependence, uncomplicated"),
        ("F11.21", "Opioid dependence, in remission"),
        ("F11.23", "Opioid dependence with withdrawal"),
    ],
)
def test_the_code_label_carries_the_icd10cm_title(code, title):
    count, withdrawal_now, context = {
        "F11.10": (2, 0, {}),
        "F11.11": (2, 0, EARLY),
        "F11.13": (2, 1, {}),
        "F11.20": (4, 0, {}),
        "F11.21": (4, 0, EARLY),
        "F11.23": (4, 1, {}),
    }[code]
    score = DSM5_OUD.score(met(count, **{WITHDRAWAL_NOW: withdrawal_now}), context)
    (icd,) = [f for f in score.findings if f.code == "icd10cm"]
    assert (icd.value, title in icd.label) == (code, True)


@given(answers(), st.sampled_from([{}, EARLY, SUSTAINED]))
def test_at_most_one_code_and_the_combination_code_replaces_the_plain_one(responses, context):
    score = DSM5_OUD.score(responses, context)
    codes = [f.value for f in score.findings if f.code == "icd10cm"]
    assert len(codes) <= 1
    if codes and responses.get(WITHDRAWAL_NOW, 0) == 1:
        assert codes[0] in ("F11.13", "F11.23")


@pytest.mark.parametrize("field", ["on_maintenance_therapy", "controlled_environment"])
def test_specifiers_are_findings_when_set_to_yes(field):
    assert finding(DSM5_OUD.score(met(4), {field: "yes"}), field) == "yes"
    assert finding(DSM5_OUD.score(met(4), {field: "no"}), field) is None
    assert finding(DSM5_OUD.score(met(4), {field: ""}), field) is None
    # A specifier qualifies a diagnosis: none when the criteria are not met.
    assert finding(DSM5_OUD.score(met(1), {field: "yes"}), field) is None


def test_not_met_has_the_severity_finding_only():
    score = DSM5_OUD.score(met(1), {"on_maintenance_therapy": "yes", **SUSTAINED})
    assert [(f.code, f.value) for f in score.findings] == [("severity", "not_met")]


def test_unknown_item_value_outside_set_and_missing_required_are_each_named():
    responses = met(3, a12_other=1) | {"a1_larger_amounts": 2}
    del responses["a5_role_obligations"]
    with pytest.raises(InvalidResponses) as refused:
        DSM5_OUD.score(responses)
    errors = refused.value.errors
    assert set(errors) == {"a12_other", "a1_larger_amounts", "a5_role_obligations"}
    assert "has no item 'a12_other'" in errors["a12_other"]
    assert errors["a1_larger_amounts"] == "2 is not allowed; allowed: 0, 1."
    assert errors["a5_role_obligations"] == "Required; allowed: 0, 1."


def test_the_unscored_items_may_be_left_out():
    score = DSM5_OUD.score(met(2))
    assert score.complete and score.total == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("observed_on", "2026-02-30", "'2026-02-30' is not a date; use YYYY-MM-DD."),
        ("last_criterion_met_on", "01/02/2026", "'01/02/2026' is not a date; use YYYY-MM-DD."),
        ("on_maintenance_therapy", "maybe", "'maybe' is not allowed; allowed: yes, no."),
        ("controlled_environment", "1", "'1' is not allowed; allowed: yes, no."),
        ("sex", "male", "DSM-5 opioid use disorder criteria takes no 'sex'."),
    ],
)
def test_bad_context_is_refused_naming_the_field(field, value, message):
    with pytest.raises(InvalidResponses) as refused:
        DSM5_OUD.score(met(4), {field: value})
    assert refused.value.errors == {field: message}
