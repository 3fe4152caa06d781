"""Waitlist priority: clinical priority first, then days waiting (longest first)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import IntEnum
from typing import TypeVar


class Priority(IntEnum):
    """Lower is more urgent."""

    PREGNANT_AND_INJECTING = 1
    PREGNANT = 2
    INJECTING = 3
    RECENT_OVERDOSE = 4
    OTHER = 5


PRIORITY_LABELS = {
    Priority.PREGNANT_AND_INJECTING: "Pregnant and injecting",
    Priority.PREGNANT: "Pregnant",
    Priority.INJECTING: "Injecting",
    Priority.RECENT_OVERDOSE: "Recent overdose",
    Priority.OTHER: "Other",
}


@dataclass(frozen=True)
class WaitingFacts:
    pregnant: bool
    injecting: bool
    last_overdose_on: date | None


def priority_of(facts: WaitingFacts, today: date, recent_overdose_days: int) -> Priority:
    if facts.pregnant and facts.injecting:
        return Priority.PREGNANT_AND_INJECTING
    if facts.pregnant:
        return Priority.PREGNANT
    if facts.injecting:
        return Priority.INJECTING
    if (
        facts.last_overdose_on is not None
        and 0 <= (today - facts.last_overdose_on).days <= recent_overdose_days
    ):
        return Priority.RECENT_OVERDOSE
    return Priority.OTHER


def days_between(start: date, end: date) -> int:
    """Whole days from one day to a later one (0 on the same day)."""
    return max((end - start).days, 0)


Item = TypeVar("Item")


@dataclass(frozen=True)
class Ranked:
    priority: Priority
    waiting_since: datetime


def ordered(items: Sequence[tuple[Ranked, Item]]) -> list[Item]:
    """Most urgent priority first; within a priority, who has waited longest first."""
    return [item for _, item in sorted(items, key=lambda p: (p[0].priority, p[0].waiting_since))]
