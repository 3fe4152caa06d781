"""Recovery time as plain arithmetic: days since the last use and the longest stretch
without use, from the days of use on record. No Django imports.

A return to use restarts the count but never erases the history: the longest stretch
stays on record, and a use recorded late (back-dated) is placed on its own day, which
may split an earlier stretch.

A stretch is counted the way "days since last use" is read on any day: the days from
one use (or from the start of the record) to the next use, or to today.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from itertools import pairwise


class RecoveryError(ValueError):
    """The days given cannot be counted; the message says why."""


@dataclass(frozen=True)
class Stretch:
    start: date  # the day of the use it follows, or the start of the record
    end: date  # the day of the next use, or today
    ongoing: bool

    @property
    def days(self) -> int:
        return (self.end - self.start).days


@dataclass(frozen=True)
class RecoveryTime:
    last_use: date | None
    days_since_last_use: int  # since the start of the record when no use is on it
    longest: Stretch
    uses: int  # distinct days of use on record

    @property
    def longest_days(self) -> int:
        return self.longest.days


def recovery_time(record_start: date, use_days: Iterable[date], today: date) -> RecoveryTime:
    """Days since the last use and the longest stretch, for a record kept since
    `record_start` (e.g. the first admission) with uses on `use_days` (any order,
    repeats allowed, back-dated ones included)."""
    if record_start > today:
        raise RecoveryError("The record cannot start after today.")
    days = sorted(set(use_days))
    if days and days[-1] > today:
        raise RecoveryError(f"A use cannot be recorded for a day after today ({days[-1]}).")
    if days and days[0] < record_start:
        raise RecoveryError(
            f"A use on {days[0]} is before the start of the record ({record_start})."
        )
    marks = [record_start, *days]
    stretches = [Stretch(a, b, False) for a, b in pairwise(marks)]
    current = Stretch(marks[-1], today, True)
    stretches.append(current)
    # The longest wins; of equal ones, the latest (the one the patient lives now).
    longest = max(reversed(stretches), key=lambda s: s.days)
    return RecoveryTime(
        last_use=days[-1] if days else None,
        days_since_last_use=current.days,
        longest=longest,
        uses=len(days),
    )
