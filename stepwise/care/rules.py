"""Levels of care, TEDS codes and the rules of moving through the continuum.

Pure Python: no Django imports, so it is tested in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

CONTINUING_CARE = "CC"


@dataclass(frozen=True)
class Level:
    code: str
    name: str
    # Relative intensity, to tell a step up from a step down. Equal ranks are lateral.
    rank: int


# ASAM Criteria, 3rd edition (2013) levels, plus Stepwise's continuing care (aftercare).
LEVELS_3RD: tuple[Level, ...] = (
    Level(CONTINUING_CARE, "Continuing care / aftercare", 0),
    Level("0.5", "Early intervention", 10),
    Level("1", "Outpatient services", 20),
    Level("OTP", "Opioid treatment program", 20),
    Level("1-WM", "Ambulatory withdrawal management without extended on-site monitoring", 25),
    Level("2.1", "Intensive outpatient", 30),
    Level("2-WM", "Ambulatory withdrawal management with extended on-site monitoring", 35),
    Level("2.5", "Partial hospitalization", 40),
    Level("3.1", "Clinically managed low-intensity residential", 50),
    Level("3.2-WM", "Clinically managed residential withdrawal management", 55),
    Level("3.3", "Clinically managed population-specific high-intensity residential", 60),
    Level("3.5", "Clinically managed high-intensity residential", 70),
    Level("3.7", "Medically monitored intensive inpatient", 80),
    Level("3.7-WM", "Medically monitored inpatient withdrawal management", 80),
    Level("4", "Medically managed intensive inpatient", 90),
    Level("4-WM", "Medically managed intensive inpatient withdrawal management", 90),
)

# ASAM Criteria, 4th edition (2023): withdrawal management is folded into the levels.
LEVELS_4TH: tuple[Level, ...] = (
    Level(CONTINUING_CARE, "Continuing care / aftercare", 0),
    Level("1.0", "Long-term remission monitoring", 15),
    Level("1.5", "Outpatient therapy", 20),
    Level("1.7", "Medically managed outpatient", 25),
    Level("2.1", "Intensive outpatient", 30),
    Level("2.5", "High-intensity outpatient", 40),
    Level("2.7", "Medically managed intensive outpatient", 45),
    Level("3.1", "Clinically managed low-intensity residential", 50),
    Level("3.5", "Clinically managed high-intensity residential", 70),
    Level("3.7", "Medically managed residential", 80),
    Level("4", "Medically managed inpatient", 90),
)

LEVELS_BY_EDITION: dict[int, dict[str, Level]] = {
    3: {level.code: level for level in LEVELS_3RD},
    4: {level.code: level for level in LEVELS_4TH},
}
EDITIONS = (3, 4)


def level(edition: int, code: str) -> Level:
    return LEVELS_BY_EDITION[edition][code]


# TEDS type of service (SERVICES / SERVICES_D).
TEDS_SERVICES: tuple[tuple[int, str], ...] = (
    (1, "Detox, 24-hour, hospital inpatient"),
    (2, "Detox, 24-hour, free-standing residential"),
    (3, "Rehab/residential, hospital (non-detox)"),
    (4, "Rehab/residential, short term (30 days or fewer)"),
    (5, "Rehab/residential, long term (more than 30 days)"),
    (6, "Ambulatory, intensive outpatient"),
    (7, "Ambulatory, non-intensive outpatient"),
    (8, "Ambulatory, detoxification"),
)

# TEDS service settings that are detoxification (withdrawal management).
TEDS_DETOX_SERVICES = frozenset({1, 2, 8})

# TEDS reason for discharge (REASON).
DISCHARGE_REASONS: tuple[tuple[int, str], ...] = (
    (1, "Treatment completed"),
    (2, "Dropped out of treatment"),
    (3, "Terminated by facility"),
    (4, "Transferred to another treatment program or facility"),
    (5, "Incarcerated"),
    (6, "Death"),
    (7, "Other"),
)

# TEDS principal source of referral (PSOURCE); -9 is missing.
REFERRAL_SOURCES: tuple[tuple[int, str], ...] = (
    (1, "Individual (includes self-referral)"),
    (2, "Alcohol/drug use care provider"),
    (3, "Other health care provider"),
    (4, "School (educational)"),
    (5, "Employer/EAP"),
    (6, "Other community referral"),
    (7, "Court/criminal justice referral/DUI/DWI"),
    (-9, "Not recorded"),
)


# TEDS primary/secondary/tertiary substance (SUB1-SUB3); fentanyl and prescription
# opioids are 7. -9 is missing.
SUBSTANCES: tuple[tuple[int, str], ...] = (
    (1, "None"),
    (2, "Alcohol"),
    (3, "Cocaine/crack"),
    (4, "Marijuana/hashish"),
    (5, "Heroin"),
    (6, "Non-prescription methadone"),
    (7, "Other opiates and synthetics (fentanyl, prescription opioids)"),
    (8, "PCP"),
    (9, "Hallucinogens"),
    (10, "Methamphetamine/speed"),
    (11, "Other amphetamines"),
    (12, "Other stimulants"),
    (13, "Benzodiazepines"),
    (14, "Other tranquilizers"),
    (15, "Barbiturates"),
    (16, "Other sedatives or hypnotics"),
    (17, "Inhalants"),
    (18, "Over-the-counter medications"),
    (19, "Other drugs"),
    (-9, "Not recorded"),
)
OPIOID_SUBSTANCES = frozenset({5, 6, 7})

# TEDS route of administration (ROUTE1-ROUTE3).
ROUTES: tuple[tuple[int, str], ...] = (
    (1, "Oral"),
    (2, "Smoking"),
    (3, "Inhalation"),
    (4, "Injection (IV or intramuscular)"),
    (5, "Other"),
    (-9, "Not recorded"),
)
INJECTION = 4

# How often, in the five categories states submit. Their numeric state codes are
# unverified, so Stepwise keeps its own keys and maps them to the public-use recode.
FREQUENCIES: tuple[tuple[str, str], ...] = (
    ("none_past_month", "No use in the past month"),
    ("1_3_month", "1-3 times in the past month"),
    ("1_2_week", "1-2 times per week"),
    ("3_6_week", "3-6 times per week"),
    ("daily", "Daily"),
    ("unknown", "Not known"),
)


def frequency_puf(frequency: str) -> int:
    """The TEDS public-use recode (FREQ1-3): 1 no use in the past month, 2 some use,
    3 daily use, -9 missing."""
    if frequency == "none_past_month":
        return 1
    if frequency == "daily":
        return 3
    if frequency == "unknown":
        return -9
    return 2


# Prior treatment episodes (NOPRIOR, public-use coding).
PRIOR_TREATMENT: tuple[tuple[int, str], ...] = (
    (0, "None"),
    (1, "One or more"),
    (-9, "Not known"),
)


@dataclass(frozen=True)
class Places:
    """One program's places now: its capacity (beds, or a cap on an ambulatory
    program's places), patients in it, places held for expected admissions, and
    planned discharges due by the end of tomorrow."""

    capacity: int | None
    occupied: int
    reserved: int = 0
    leaving_by_tomorrow: int = 0

    @property
    def available_now(self) -> int | None:
        if self.capacity is None:
            return None
        return max(self.capacity - self.occupied - self.reserved, 0)

    @property
    def expected_tomorrow(self) -> int | None:
        """Places expected free by tomorrow: today's, plus the planned discharges."""
        if self.capacity is None:
            return None
        leaving = min(self.leaving_by_tomorrow, self.occupied)
        return max(self.capacity - self.occupied - self.reserved + leaving, 0)

    @property
    def over_capacity(self) -> bool:
        return self.capacity is not None and self.occupied + self.reserved > self.capacity


class TransitionKind(StrEnum):
    STEP_DOWN = "step_down"
    STEP_UP = "step_up"
    TRANSFER = "transfer"


TRANSITION_LABELS = {
    TransitionKind.STEP_DOWN: "Step down",
    TransitionKind.STEP_UP: "Step up",
    TransitionKind.TRANSFER: "Lateral transfer",
}


def transition_kind_between(from_level: Level, to_level: Level) -> TransitionKind:
    """What a move from one level to another is: up, down, or lateral."""
    if to_level.rank > from_level.rank:
        return TransitionKind.STEP_UP
    if to_level.rank < from_level.rank:
        return TransitionKind.STEP_DOWN
    return TransitionKind.TRANSFER


def transition_kind_error(kind: str, from_level: Level, to_level: Level) -> str | None:
    """A message when the chosen kind contradicts the two levels, else None."""
    actual = transition_kind_between(from_level, to_level)
    if kind == actual:
        return None
    return (
        f"From level {from_level.code} to level {to_level.code} is a "
        f"{TRANSITION_LABELS[actual].lower()}, not a {TRANSITION_LABELS[TransitionKind(kind)].lower()}."
    )


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime | None


def stay_sequence_errors(spans: Sequence[Span]) -> list[str]:
    """Stays of one episode, in order, must each end after they start, touch end to
    start with no gap or overlap, and only the last may be open."""
    errors: list[str] = []
    for index, span in enumerate(spans, start=1):
        if span.end is not None and span.end <= span.start:
            errors.append(f"stay {index} ends before it starts")
        if span.end is None and index != len(spans):
            errors.append(f"stay {index} is open but is not the last stay")
    for index, (before, after) in enumerate(pairwise(spans), start=1):
        if before.end is None:
            continue
        if after.start > before.end:
            errors.append(f"gap between stay {index} and stay {index + 1}")
        elif after.start < before.end:
            errors.append(f"stay {index} and stay {index + 1} overlap")
    return errors
