"""Reading a urine drug screen against the medications the patient takes: checked with
Hypothesis over random panels, medication lists, expectation tables and validities,
and on the cases a counselor meets every week."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.recovery.rules.screens import (
    ANALYTES,
    ANALYTES_BY_CODE,
    DEFAULT_EXPECTATIONS,
    MEDICATIONS,
    Finding,
    Interpretation,
    Reading,
    Result,
    Validity,
    expectation_errors,
    interpret,
)

ANALYTE_CODES = [a.code for a in ANALYTES]
MEDICATION_CODES = [m.code for m in MEDICATIONS]

panels = st.dictionaries(st.sampled_from(ANALYTE_CODES), st.sampled_from(list(Result)))
medication_lists = st.lists(st.sampled_from(MEDICATION_CODES), max_size=10)
# An organization's own table: any medication, any analytes, a slip (a repeat) included.
tables = st.dictionaries(
    st.sampled_from(MEDICATION_CODES), st.lists(st.sampled_from(ANALYTE_CODES), max_size=4)
)
validities = st.sampled_from(list(Validity))


def expecting(
    analyte: str, taken: Sequence[str], table: Mapping[str, Sequence[str]] | None
) -> set[str]:
    """The medications taken that show as this analyte, worked out independently."""
    table = DEFAULT_EXPECTATIONS if table is None else table
    return {m for m in taken if analyte in table.get(m, ())}


def reading_of(found: Interpretation, analyte: str) -> Reading:
    (reading,) = [r for r in found.readings if r.analyte == analyte]
    return reading


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=300)
@given(
    panel=panels,
    taken=medication_lists,
    table=st.one_of(st.none(), tables),
    validity=validities,
)
def test_each_analyte_reads_as_the_medications_say(panel, taken, table, validity):
    found = interpret(panel, taken, validity=validity, expectations=table)
    assert [r.analyte for r in found.readings] == ANALYTE_CODES  # every analyte, in order
    for reading in found.readings:
        result = panel.get(reading.analyte, Result.NOT_TESTED)
        because = expecting(reading.analyte, taken, table)
        assert reading.result is result
        assert set(reading.because) == because
        assert len(reading.because) == len(set(reading.because))  # each medication once
        if result is Result.NOT_TESTED:
            assert reading.finding is None
        elif result is Result.POSITIVE:
            # A positive counts whatever the specimen: a dilute positive is still real.
            expected = Finding.EXPECTED_POSITIVE if because else Finding.UNEXPECTED_POSITIVE
            assert reading.finding is expected
        elif validity is not Validity.VALID:
            assert reading.finding is Finding.NOT_INTERPRETABLE
        else:
            expected = Finding.MISSING_EXPECTED if because else Finding.NEGATIVE
            assert reading.finding is expected


@settings(max_examples=300)
@given(
    panel=panels,
    taken=medication_lists,
    table=st.one_of(st.none(), tables),
    validity=validities,
)
def test_only_unexpected_positives_propose_a_relapse(panel, taken, table, validity):
    found = interpret(panel, taken, validity=validity, expectations=table)
    unexpected = [
        code
        for code in ANALYTE_CODES
        if panel.get(code) is Result.POSITIVE and not expecting(code, taken, table)
    ]
    assert [r.analyte for r in found.unexpected] == unexpected
    assert found.proposes_relapse == bool(unexpected)
    substances = found.relapse_substances()
    assert set(substances) == {ANALYTES_BY_CODE[code].teds_substance for code in unexpected}
    assert len(substances) == len(set(substances))
    # Never non-adherence on a specimen that is not valid.
    if validity is not Validity.VALID:
        assert found.missing_expected == ()
        assert found.of(Finding.NEGATIVE) == ()


@given(panel=panels, taken=medication_lists, table=tables)
def test_the_order_or_repeats_of_the_medications_change_nothing(panel, taken, table):
    once = interpret(panel, sorted(set(taken)), expectations=table)
    assert interpret(panel, taken, expectations=table) == once
    assert interpret(panel, list(reversed(taken)), expectations=table) == once


@given(panel=panels, taken=medication_lists)
def test_without_a_table_the_defaults_apply(panel, taken):
    assert interpret(panel, taken) == interpret(panel, taken, expectations=DEFAULT_EXPECTATIONS)


# --- the everyday cases -------------------------------------------------------------------


def test_buprenorphine_positive_on_buprenorphine_is_expected():
    found = interpret({"buprenorphine": Result.POSITIVE}, ["buprenorphine"])
    reading = reading_of(found, "buprenorphine")
    assert reading.finding is Finding.EXPECTED_POSITIVE
    assert reading.because == ("buprenorphine",)
    assert not found.proposes_relapse and found.relapse_substances() == []


def test_buprenorphine_absent_on_buprenorphine_is_possible_non_adherence():
    found = interpret({"buprenorphine": Result.NEGATIVE}, ["buprenorphine"])
    assert reading_of(found, "buprenorphine").finding is Finding.MISSING_EXPECTED
    assert [r.analyte for r in found.missing_expected] == ["buprenorphine"]
    assert not found.proposes_relapse  # non-adherence is never called use


def test_fentanyl_positive_on_buprenorphine_is_unexpected_and_proposes_a_relapse():
    found = interpret(
        {"fentanyl": Result.POSITIVE, "buprenorphine": Result.POSITIVE}, ["buprenorphine"]
    )
    assert reading_of(found, "fentanyl").finding is Finding.UNEXPECTED_POSITIVE
    assert reading_of(found, "buprenorphine").finding is Finding.EXPECTED_POSITIVE
    assert found.proposes_relapse
    assert found.relapse_substances() == [7]


def test_methadone_positive_without_methadone_is_unexpected():
    found = interpret({"methadone": Result.POSITIVE}, ["buprenorphine"])
    assert reading_of(found, "methadone").finding is Finding.UNEXPECTED_POSITIVE
    assert found.relapse_substances() == [6]
    on_methadone = interpret({"methadone": Result.POSITIVE}, ["methadone"])
    assert not on_methadone.proposes_relapse


def test_several_opioids_make_one_teds_code_each():
    found = interpret(
        {
            "fentanyl": Result.POSITIVE,
            "oxycodone": Result.POSITIVE,
            "heroin_6mam": Result.POSITIVE,
            "cocaine": Result.POSITIVE,
        },
        [],
    )
    assert found.relapse_substances() == [7, 5, 3]  # fentanyl and oxycodone are both 7


def test_a_dilute_negative_says_nothing():
    found = interpret(
        {"fentanyl": Result.NEGATIVE, "buprenorphine": Result.NEGATIVE},
        ["buprenorphine"],
        validity=Validity.DILUTE,
    )
    assert {r.finding for r in found.readings if r.finding} == {Finding.NOT_INTERPRETABLE}
    dilute_positive = interpret({"fentanyl": Result.POSITIVE}, [], validity=Validity.DILUTE)
    assert dilute_positive.proposes_relapse


def test_an_organization_table_decides_what_is_expected():
    table = {"prescribed_opioid": ("fentanyl",)}
    found = interpret(
        {"fentanyl": Result.POSITIVE, "oxycodone": Result.POSITIVE},
        ["prescribed_opioid"],
        expectations=table,
    )
    assert reading_of(found, "fentanyl").finding is Finding.EXPECTED_POSITIVE
    assert reading_of(found, "oxycodone").finding is Finding.UNEXPECTED_POSITIVE


def test_a_medication_unknown_to_the_table_expects_nothing():
    found = interpret({"buprenorphine": Result.POSITIVE}, ["buprenorphine"], expectations={})
    assert reading_of(found, "buprenorphine").finding is Finding.UNEXPECTED_POSITIVE


def test_naltrexone_shows_on_no_panel():
    found = interpret(dict.fromkeys(ANALYTE_CODES, Result.NEGATIVE), ["naltrexone"])
    assert found.missing_expected == ()


# --- the expectations table ---------------------------------------------------------------


def test_the_default_table_is_valid_and_covers_every_medication():
    assert expectation_errors(DEFAULT_EXPECTATIONS) == []
    assert set(DEFAULT_EXPECTATIONS) == set(MEDICATION_CODES)


def test_expectation_errors_name_unknown_medications_and_analytes():
    errors = expectation_errors(
        {"suboxone": ["buprenorphine"], "methadone": ["methadone", "eddp"], "naltrexone": []}
    )
    assert len(errors) == 2
    assert "'suboxone'" in errors[0] and "buprenorphine, methadone" in errors[0]
    assert "'eddp'" in errors[1] and "for methadone" in errors[1] and "fentanyl" in errors[1]


@given(
    table=st.dictionaries(
        st.one_of(st.sampled_from(MEDICATION_CODES), st.text(min_size=1, max_size=8)),
        st.lists(st.one_of(st.sampled_from(ANALYTE_CODES), st.text(min_size=1, max_size=8))),
    )
)
def test_every_unknown_name_is_reported_and_nothing_else(table):
    errors = expectation_errors(table)
    unknown_meds = [m for m in table if m not in MEDICATION_CODES]
    unknown_codes = [c for codes in table.values() for c in codes if c not in ANALYTE_CODES]
    assert len(errors) == len(unknown_meds) + len(unknown_codes)
    for medication in unknown_meds:
        assert any(f"Unknown medication {medication!r}" in e for e in errors)
    for code in unknown_codes:
        assert any(f"Unknown analyte {code!r}" in e for e in errors)
