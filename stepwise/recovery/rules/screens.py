"""Reading a urine drug screen against what the patient is prescribed. No Django imports.

A positive result is expected when a medication the patient takes shows up as that
analyte (buprenorphine on buprenorphine); otherwise it is unexpected and proposes a
relapse event for a clinician to confirm. An expected analyte that comes back negative
is flagged as possible non-adherence (or diversion), never as use. Which medication
shows as which analyte is an organization setting: the defaults below are a starting
point, not a reference table.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Result(StrEnum):
    POSITIVE = "positive"
    NEGATIVE = "negative"
    NOT_TESTED = "not_tested"


class Validity(StrEnum):
    VALID = "valid"
    DILUTE = "dilute"
    SUBSTITUTED = "substituted"
    ADULTERATED = "adulterated"
    INVALID = "invalid"


VALIDITY_LABELS = {
    Validity.VALID: "Valid",
    Validity.DILUTE: "Dilute",
    Validity.SUBSTITUTED: "Substituted",
    Validity.ADULTERATED: "Adulterated",
    Validity.INVALID: "Invalid (e.g. temperature out of range)",
}


class Finding(StrEnum):
    UNEXPECTED_POSITIVE = "unexpected_positive"
    EXPECTED_POSITIVE = "expected_positive"
    MISSING_EXPECTED = "missing_expected"  # possible non-adherence
    NEGATIVE = "negative"
    # A negative on a specimen that is not valid says nothing about use.
    NOT_INTERPRETABLE = "not_interpretable"


FINDING_LABELS = {
    Finding.UNEXPECTED_POSITIVE: "Unexpected positive",
    Finding.EXPECTED_POSITIVE: "Expected (prescribed)",
    Finding.MISSING_EXPECTED: "Expected but absent: possible non-adherence",
    Finding.NEGATIVE: "Negative",
    Finding.NOT_INTERPRETABLE: "Not interpretable (specimen not valid)",
}


@dataclass(frozen=True)
class Analyte:
    code: str
    name: str
    teds_substance: int  # what a use found by this analyte is, in TEDS SUB codes


# A common point-of-care and laboratory panel. Heroin's own marker is 6-MAM; morphine
# and codeine ("opiates") may come from heroin or a prescription.
ANALYTES: tuple[Analyte, ...] = (
    Analyte("fentanyl", "Fentanyl", 7),
    Analyte("opiates", "Opiates (morphine, codeine)", 7),
    Analyte("heroin_6mam", "Heroin (6-MAM)", 5),
    Analyte("oxycodone", "Oxycodone", 7),
    Analyte("buprenorphine", "Buprenorphine", 7),
    Analyte("methadone", "Methadone (EDDP)", 6),
    Analyte("tramadol", "Tramadol", 7),
    Analyte("cocaine", "Cocaine", 3),
    Analyte("amphetamine", "Amphetamine", 11),
    Analyte("methamphetamine", "Methamphetamine", 10),
    Analyte("benzodiazepines", "Benzodiazepines", 13),
    Analyte("barbiturates", "Barbiturates", 15),
    Analyte("thc", "Cannabis (THC)", 4),
    Analyte("alcohol_etg", "Alcohol (EtG)", 2),
    Analyte("pcp", "PCP", 8),
    Analyte("xylazine", "Xylazine", 19),
)
ANALYTES_BY_CODE = {a.code: a for a in ANALYTES}


@dataclass(frozen=True)
class Medication:
    code: str
    name: str


# What a patient may be prescribed that a screen would show.
MEDICATIONS: tuple[Medication, ...] = (
    Medication("buprenorphine", "Buprenorphine (any form)"),
    Medication("methadone", "Methadone"),
    Medication("naltrexone", "Naltrexone"),
    Medication("prescribed_opioid", "A prescribed opioid pain medication"),
    Medication("prescribed_benzodiazepine", "A prescribed benzodiazepine"),
    Medication("prescribed_stimulant", "A prescribed stimulant (e.g. for ADHD)"),
    Medication("prescribed_barbiturate", "A prescribed barbiturate"),
)
MEDICATIONS_BY_CODE = {m.code: m for m in MEDICATIONS}

# Default expectations: each medication and the analytes it shows as (naltrexone shows
# on none of these panels). An organization edits its own copy.
DEFAULT_EXPECTATIONS: dict[str, tuple[str, ...]] = {
    "buprenorphine": ("buprenorphine",),
    "methadone": ("methadone",),
    "naltrexone": (),
    "prescribed_opioid": ("opiates", "oxycodone"),
    "prescribed_benzodiazepine": ("benzodiazepines",),
    "prescribed_stimulant": ("amphetamine",),
    "prescribed_barbiturate": ("barbiturates",),
}


@dataclass(frozen=True)
class Reading:
    analyte: str
    result: Result
    finding: Finding | None  # None when the analyte was not tested
    because: tuple[str, ...] = ()  # the medications that make it expected


@dataclass(frozen=True)
class Interpretation:
    readings: tuple[Reading, ...]

    def of(self, finding: Finding) -> tuple[Reading, ...]:
        return tuple(r for r in self.readings if r.finding is finding)

    @property
    def unexpected(self) -> tuple[Reading, ...]:
        return self.of(Finding.UNEXPECTED_POSITIVE)

    @property
    def missing_expected(self) -> tuple[Reading, ...]:
        return self.of(Finding.MISSING_EXPECTED)

    @property
    def proposes_relapse(self) -> bool:
        return bool(self.unexpected)

    def relapse_substances(self) -> list[int]:
        """TEDS substance codes of the unexpected positives, each once, in panel order."""
        return list(
            dict.fromkeys(ANALYTES_BY_CODE[r.analyte].teds_substance for r in self.unexpected)
        )


def expectation_errors(expectations: Mapping[str, Iterable[str]]) -> list[str]:
    """What is wrong with an organization's expectations table, in plain words."""
    errors = []
    for medication, codes in expectations.items():
        if medication not in MEDICATIONS_BY_CODE:
            errors.append(
                f"Unknown medication {medication!r}; allowed: {', '.join(MEDICATIONS_BY_CODE)}."
            )
        errors.extend(
            f"Unknown analyte {code!r} for {medication}; allowed: {', '.join(ANALYTES_BY_CODE)}."
            for code in codes
            if code not in ANALYTES_BY_CODE
        )
    return errors


def interpret(
    results: Mapping[str, Result],
    medications: Iterable[str],
    *,
    validity: Validity = Validity.VALID,
    expectations: Mapping[str, Iterable[str]] | None = None,
) -> Interpretation:
    """Read each analyte of a panel against the patient's medications.

    A positive is always reported: even on a dilute specimen a positive is real. A
    negative counts only on a valid specimen; on any other it is not interpretable,
    and an expected analyte's absence is then not called non-adherence either.
    """
    table = DEFAULT_EXPECTATIONS if expectations is None else expectations
    taken = set(medications)
    expected_by: dict[str, list[str]] = {}
    for medication in sorted(taken):
        # A table may name an analyte twice for one medication; list the medication once.
        for code in dict.fromkeys(table.get(medication, ())):
            expected_by.setdefault(code, []).append(medication)
    readings = []
    for analyte in ANALYTES:
        result = results.get(analyte.code, Result.NOT_TESTED)
        because = tuple(expected_by.get(analyte.code, ()))
        finding: Finding | None
        if result is Result.NOT_TESTED:
            finding = None
        elif result is Result.POSITIVE:
            finding = Finding.EXPECTED_POSITIVE if because else Finding.UNEXPECTED_POSITIVE
        elif validity is not Validity.VALID:
            finding = Finding.NOT_INTERPRETABLE
        else:
            finding = Finding.MISSING_EXPECTED if because else Finding.NEGATIVE
        readings.append(Reading(analyte.code, result, finding, because))
    return Interpretation(tuple(readings))
