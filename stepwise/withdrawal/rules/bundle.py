"""The safe-discharge bundle for leaving withdrawal management (domain §6.1, R-OD-1).

Tolerance is gone after detox, and overdose deaths cluster in the weeks that follow.
Before a patient leaves a withdrawal-management program, each item is done or
declined with a reason; whoever leaves carries a 30-day overdose-risk flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

FLAG_DAYS = 30
AFTERCARE_WITHIN = timedelta(days=7)

# TEDS reasons for discharge (care.rules.DISCHARGE_REASONS) that are not the
# program's choice: the patient leaves whether or not the bundle is done.
LEFT_WITHOUT_NOTICE = frozenset({2, 5})  # dropped out (incl. against advice), incarcerated
DEATH = 6


class Item(StrEnum):
    NALOXONE_KIT = "naloxone_kit"
    OVERDOSE_EDUCATION = "overdose_education"
    MOUD_OFFER = "moud_offer"
    NEXT_CARE = "next_care"


ITEM_LABELS = {
    Item.NALOXONE_KIT: "Naloxone kit dispensed",
    Item.OVERDOSE_EDUCATION: "Overdose-risk education given",
    Item.MOUD_OFFER: "Medication for OUD offered",
    Item.NEXT_CARE: "Next level of care admitted, or aftercare appointment within 7 days",
}


class State(StrEnum):
    PENDING = "pending"
    DONE = "done"
    DECLINED = "declined"


class MoudAnswer(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"


@dataclass(frozen=True)
class ItemRecord:
    item: Item
    state: State
    reason: str = ""
    moud_answer: MoudAnswer | None = None
    appointment_at: datetime | None = None
    appointment_with: str = ""


class Policy(StrEnum):
    """How the bundle gates a leaving."""

    REQUIRED = "required"  # every item done or declined before the patient leaves
    RECORD_ONLY = "record_only"  # the patient has gone: record what was done, flag
    EXEMPT = "exempt"  # death: nothing to hand on


@dataclass(frozen=True)
class Leaving:
    at: datetime
    to_next_program: bool  # a transition to another program of the episode
    discharge_reason: int | None = None  # TEDS reason when the episode ends


def policy_for(leaving: Leaving) -> Policy:
    if leaving.to_next_program or leaving.discharge_reason is None:
        return Policy.REQUIRED
    if leaving.discharge_reason == DEATH:
        return Policy.EXEMPT
    if leaving.discharge_reason in LEFT_WITHOUT_NOTICE:
        return Policy.RECORD_ONLY
    return Policy.REQUIRED


def item_record_errors(record: ItemRecord) -> dict[str, str]:
    """What is wrong with one item as entered (before it is stored)."""
    errors: dict[str, str] = {}
    if record.state is State.PENDING:
        errors["state"] = "Allowed values: done, declined."
    if record.state is State.DECLINED and not record.reason.strip():
        errors["reason"] = "Say why this item is declined; the reason is part of the record."
    if record.state is State.DONE:
        if record.item is Item.MOUD_OFFER and record.moud_answer is None:
            errors["moud_answer"] = "Record the patient's answer: accepted or declined."
        if record.item is Item.NEXT_CARE:
            if record.appointment_at is None:
                errors["appointment_at"] = "Give the date and time of the appointment or admission."
            if not record.appointment_with.strip():
                errors["appointment_with"] = "Say with whom or where (program, clinic, clinician)."
    return errors


def bundle_gaps(records: dict[Item, ItemRecord], leaving: Leaving) -> list[str]:
    """What still stands between the patient and leaving; empty when they may go."""
    gaps: list[str] = []
    for item in Item:
        record = records.get(item)
        if item is Item.NEXT_CARE and leaving.to_next_program:
            continue  # the transition itself admits the next level of care
        if record is None or record.state is State.PENDING:
            gaps.append(f"{ITEM_LABELS[item]}: not done or declined yet.")
            continue
        if item is Item.NEXT_CARE and record.state is State.DONE:
            assert record.appointment_at is not None
            latest = leaving.at + AFTERCARE_WITHIN
            if record.appointment_at < leaving.at:
                gaps.append(
                    f"{ITEM_LABELS[item]}: the appointment is before the patient leaves; "
                    "book one for after discharge."
                )
            elif record.appointment_at > latest:
                gaps.append(
                    f"{ITEM_LABELS[item]}: the appointment is more than 7 days after leaving; "
                    "book one sooner or decline with a reason."
                )
    return gaps


def flag_window(leaving: Leaving) -> tuple[datetime, datetime] | None:
    """The lost-tolerance flag's start and end, or None when none is raised."""
    if policy_for(leaving) is Policy.EXEMPT:
        return None
    return leaving.at, leaving.at + timedelta(days=FLAG_DAYS)
