"""The organization's withdrawal-management settings: defaults and allowed ranges.

The figures come from the domain reference (§1.3, §6, §11). Where protocols disagree
the reference asks for a setting; each one here carries the range a program may
choose from, so no program can configure a value outside published practice.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal


@dataclass(frozen=True)
class Setting:
    name: str
    label: str
    default: int
    low: int
    high: int
    unit: str
    source: str

    def error(self, value: int) -> str | None:
        if not self.low <= value <= self.high:
            return f"{self.label}: allowed {self.low} to {self.high} {self.unit}."
        return None


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "bup_cows_threshold",
        "COWS before a first buprenorphine dose",
        8,
        8,
        13,
        "points",
        "Protocols use 8 or more; older office protocols 12-13 (domain §1.3).",
    ),
    Setting(
        "bup_hours_short_acting",
        "Hours since last short-acting opioid (heroin, fentanyl, IR oxycodone)",
        12,
        12,
        72,
        "hours",
        "At least 12 h (domain §6, R-BUP-1).",
    ),
    Setting(
        "bup_hours_extended_release",
        "Hours since last extended-release opioid",
        24,
        24,
        72,
        "hours",
        "At least 24 h (domain §6, R-BUP-1).",
    ),
    Setting(
        "bup_hours_methadone",
        "Hours since last methadone",
        36,
        36,
        72,
        "hours",
        "36-72 h; some protocols say more than 72 (domain §6, R-BUP-1).",
    ),
    Setting(
        "methadone_first_day_cap_mg",
        "Methadone first-day total without a written rationale",
        50,
        30,
        50,
        "mg",
        "2024 Part 8 rule: initial dose up to 50 mg unless a rationale is documented "
        "(secondary sources; the old rule was 30 mg initial, 40 mg day 1).",
    ),
    Setting(
        "naltrexone_opioid_free_days",
        "Opioid-free days before naltrexone",
        7,
        7,
        10,
        "days",
        "7-10 days opioid-free (domain §6, R-NTX-1).",
    ),
    Setting(
        "naltrexone_after_agonist_days",
        "Days after methadone or buprenorphine before naltrexone",
        14,
        10,
        14,
        "days",
        "Up to 2 weeks after methadone or buprenorphine (domain §6, R-NTX-1).",
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}

# A COWS counts for a first buprenorphine dose only if scored within this window
# before the dose (domain §1.3: objective signs at the time of dosing).
COWS_RECENCY_MINUTES = 60
# A negative naloxone challenge vouches for a naltrexone start given within this time.
NALOXONE_CHALLENGE_VALID_HOURS = 24


@dataclass(frozen=True)
class SafetyThresholds:
    """One organization's chosen values; every field is named in SETTINGS."""

    bup_cows_threshold: int = 8
    bup_hours_short_acting: int = 12
    bup_hours_extended_release: int = 24
    bup_hours_methadone: int = 36
    methadone_first_day_cap_mg: int = 50
    naltrexone_opioid_free_days: int = 7
    naltrexone_after_agonist_days: int = 14

    @property
    def methadone_cap(self) -> Decimal:
        return Decimal(self.methadone_first_day_cap_mg)


def threshold_errors(values: dict[str, int]) -> dict[str, str]:
    """One message per setting outside its range (or unknown)."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        setting = SETTINGS_BY_NAME.get(name)
        if setting is None:
            errors[name] = "Unknown setting."
            continue
        message = setting.error(value)
        if message:
            errors[name] = message
    return errors


def defaults() -> SafetyThresholds:
    return SafetyThresholds()


def _check_defaults() -> None:
    # The dataclass defaults and the settings table must agree.
    for f in fields(SafetyThresholds):
        setting = SETTINGS_BY_NAME[f.name]
        assert f.default == setting.default, f.name
        assert setting.error(setting.default) is None, f.name


_check_defaults()


@dataclass(frozen=True)
class UnitSchedule:
    """A withdrawal-management program's reassessment rhythm."""

    reassess_hours: int = 4
    induction_reassess_hours: int = 1
    prn_followup_minutes: int = 60


UNIT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "reassess_hours",
        "Reassessment interval (COWS and vitals)",
        4,
        1,
        8,
        "hours",
        "Stepwise default: every 4 hours.",
    ),
    Setting(
        "induction_reassess_hours",
        "Reassessment interval during buprenorphine induction",
        1,
        1,
        2,
        "hours",
        "Rescore 1-2 h after a dose (domain §1.3).",
    ),
    Setting(
        "prn_followup_minutes",
        "Effectiveness check after an as-needed dose",
        60,
        30,
        120,
        "minutes",
        "Stepwise default: one hour.",
    ),
)
