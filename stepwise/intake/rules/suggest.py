"""The program suggested after a pre-admission screening: a program at the level the
placement decision support recommends, never a less intensive one, preferring one
with a place open now. It suggests; the admissions worker and clinician decide."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgramOption:
    key: int
    name: str
    level_code: str
    rank: int
    withdrawal_management: bool
    available: int | None  # places open now; None when the program has no cap


@dataclass(frozen=True)
class Target:
    """What the screening calls for: a level (and its rank) and whether withdrawal
    management comes first."""

    level_code: str
    rank: int
    withdrawal_management: bool


@dataclass(frozen=True)
class Suggestion:
    program: ProgramOption | None
    reasons: tuple[str, ...]
    has_place: bool


def _has_place(option: ProgramOption) -> bool:
    return option.available is None or option.available > 0


def suggest(target: Target, options: Sequence[ProgramOption]) -> Suggestion:
    kind = "withdrawal management" if target.withdrawal_management else "treatment"
    fitting = [
        o
        for o in options
        if o.withdrawal_management == target.withdrawal_management and o.rank >= target.rank
    ]
    if not fitting:
        return Suggestion(
            None,
            (
                f"No program here offers {kind} at level {target.level_code} or a more "
                "intensive one: refer elsewhere, saying why.",
            ),
            False,
        )
    # Nearest level first; among equals, one with a place open, then the most places.
    fitting.sort(
        key=lambda o: (
            o.rank,
            not _has_place(o),
            -(o.available if o.available is not None else 10**6),
            o.name,
        )
    )
    chosen = fitting[0]
    reasons = []
    if chosen.rank == target.rank:
        reasons.append(f"{chosen.name} offers {kind} at level {chosen.level_code}.")
    else:
        reasons.append(
            f"No program here is at level {target.level_code}; {chosen.name} "
            f"(level {chosen.level_code}) is the nearest more intensive one."
        )
    if chosen.available is None:
        reasons.append(f"{chosen.name} has no cap on places.")
    elif chosen.available > 0:
        places = "place is" if chosen.available == 1 else "places are"
        reasons.append(f"{chosen.available} {places} open now.")
    else:
        reasons.append(
            f"{chosen.name} is full now: add the person to its waitlist, or refer elsewhere."
        )
    return Suggestion(chosen, tuple(reasons), _has_place(chosen))
