"""A return to use as clinical information: what kind it was, whether tolerance may be
lost, and the response every relapse starts. No Django imports.

The response is a checklist; each item ends done or declined with a reason, and a
relapse is settled only when none is left open. Nothing here moves a patient: the
reassessment may recommend a higher level of care, and a clinician decides on it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum


class Source(StrEnum):
    CLINICIAN = "clinician"
    SCREEN = "screen"  # an unexpected positive urine drug screen
    CHECKIN = "checkin"  # a check-in in which the patient reports use
    OVERDOSE = "overdose"  # a non-fatal overdose


SOURCE_LABELS = {
    Source.CLINICIAN: "Recorded by a clinician",
    Source.SCREEN: "Unexpected positive drug screen",
    Source.CHECKIN: "Check-in reporting use",
    Source.OVERDOSE: "Non-fatal overdose",
}


class Kind(StrEnum):
    LAPSE = "lapse"
    RELAPSE = "relapse"


KIND_LABELS = {
    Kind.LAPSE: "Lapse (a brief return to use)",
    Kind.RELAPSE: "Relapse (a return to a pattern of use)",
}


class Item(StrEnum):
    NALOXONE = "naloxone"
    REASSESSMENT = "reassessment"
    MOUD = "moud"
    PLAN_REVIEW = "plan_review"
    OUTREACH = "outreach"


# In the order the team works them: safety first.
ITEM_LABELS = {
    Item.NALOXONE: "Naloxone kit and overdose education",
    Item.REASSESSMENT: "ASAM reassessment and placement",
    Item.MOUD: "Medication for OUD offered, or its dose reviewed",
    Item.PLAN_REVIEW: "Treatment plan review",
    Item.OUTREACH: "Outreach to the patient",
}
ITEM_HELP = {
    Item.NALOXONE: "Give a take-home naloxone kit and go over overdose risk, or say why not "
    "(the patient already has one at hand).",
    Item.REASSESSMENT: "Rate the six ASAM dimensions again and decide the placement; a step "
    "up happens only when a clinician confirms it on the placement page.",
    Item.MOUD: "Offer medication for OUD if the patient is not on it; review the dose if they are.",
    Item.PLAN_REVIEW: "Revise the treatment plan with the patient: more support, a higher "
    "level of care, medication.",
    Item.OUTREACH: "Reach the patient within the set time and keep them engaged.",
}


class State(StrEnum):
    OPEN = "open"
    DONE = "done"
    DECLINED = "declined"


class MoudAnswer(StrEnum):
    ACCEPTED = "accepted"  # offered and started (or referred)
    REFUSED = "refused"  # offered; the patient chose not to
    DOSE_REVIEWED = "dose_reviewed"  # already on MOUD; the dose was reviewed


MOUD_LABELS = {
    MoudAnswer.ACCEPTED: "Offered and accepted",
    MoudAnswer.REFUSED: "Offered; the patient chose not to start",
    MoudAnswer.DOSE_REVIEWED: "On MOUD: dose reviewed",
}


def checklist() -> tuple[Item, ...]:
    """Every relapse starts the whole response; an item that does not fit is declined
    with its reason, so the decision is on record."""
    return tuple(ITEM_LABELS)


def is_settled(states: Mapping[Item, str]) -> bool:
    return not open_items(states)


def open_items(states: Mapping[Item, str]) -> list[Item]:
    # Compared by value: states read from the database are plain text, not State.
    return [item for item in checklist() if states.get(item, State.OPEN) == State.OPEN]


def item_errors(
    item: Item, state: State, note: str, *, moud_answer: MoudAnswer | None = None
) -> dict[str, str]:
    """Why a response entry cannot be recorded as given (field -> message)."""
    errors: dict[str, str] = {}
    if state is State.OPEN:
        errors["state"] = "Allowed values: done, declined."
    elif state is State.DECLINED and not note.strip():
        errors["note"] = "Say why this is declined; the reason is part of the record."
    elif state is State.DONE and not note.strip() and item is not Item.MOUD:
        errors["note"] = "Say what was done."
    if item is Item.MOUD and state is State.DONE and moud_answer is None:
        errors["moud_answer"] = "Allowed values: " + ", ".join(a.value for a in MoudAnswer) + "."
    return errors


def outreach_due(confirmed_at: datetime, hours: int) -> datetime:
    return confirmed_at + timedelta(hours=hours)


# TEDS substance codes whose use keeps or loses opioid tolerance: heroin,
# non-prescription methadone, other opiates and synthetics (fentanyl), and "not
# recorded", which is counted as an opioid so that a flag is never missed.
OPIOIDS_OR_UNKNOWN = frozenset({5, 6, 7, -9})


def involves_opioids(substances: Iterable[int]) -> bool:
    return any(code in OPIOIDS_OR_UNKNOWN for code in substances)


@dataclass(frozen=True)
class Tolerance:
    abstinent_days: int | None  # days without use before this one; None: no earlier record
    lost: bool


def tolerance_before(
    used_on: date, earlier_use: Iterable[date], record_start: date, threshold_days: int
) -> Tolerance:
    """Whether the patient had gone long enough without use to have lost tolerance,
    counted from the latest earlier use (or the start of the record) to this use.
    A use back-dated between two others is measured against the one before it."""
    before = [d for d in earlier_use if d < used_on]
    since = max(before) if before else record_start
    if since > used_on:
        return Tolerance(None, False)
    days = (used_on - since).days
    return Tolerance(days, days >= threshold_days)
