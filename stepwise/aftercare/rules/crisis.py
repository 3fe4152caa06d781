"""The numbers every crisis plan shows, whatever its own steps say: 988 and 911 always;
the program's 24/7 line when one is set. A line is never shown without its number: a patient in crisis must not be sent
to a blank."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

LIFELINE = "Call or text 988 (the Suicide & Crisis Lifeline), any time, day or night."
EMERGENCY = "If someone may be overdosing or is in danger: call 911. Give naloxone if you have it."
# The usual steps send the patient to "the program's 24/7 line": without one, say where.
STAND_IN = "Where my steps say to call the program's 24/7 line: call or text 988, any time."

_PROGRAM_LINE = re.compile(r"24\s*/\s*7|24[- ]hour", re.IGNORECASE)


class LineSource(Enum):
    PROGRAM = "program"  # the 24/7 line of the aftercare settings
    NONE = "none"  # none set: 988 and 911 only


@dataclass(frozen=True)
class Number:
    name: str
    phone: str


@dataclass(frozen=True)
class CrisisLines:
    lines: tuple[str, ...]  # 988, the program's number when there is one, 911
    source: LineSource
    note: str = ""  # what stands in for the 24/7 line the steps mention, when unset

    @property
    def missing(self) -> bool:
        """No number of the program's own: staff are told, so it gets set."""
        return self.source is LineSource.NONE


def has_number(phone: str) -> bool:
    """A number of only spaces is no number: the plan would send the patient to a blank."""
    return bool(phone.strip())


def mentions_program_line(steps: Sequence[str]) -> bool:
    return any(_PROGRAM_LINE.search(step) for step in steps)


def crisis_lines(
    organization_name: str,
    program: Number,
    steps: Sequence[str] = (),
) -> CrisisLines:
    """988 first, then the program's number, then 911; `steps` are the plan's own, so a
    step naming a 24/7 line that is not set is answered."""
    lines = [LIFELINE]
    source = LineSource.NONE
    phone = program.phone.strip()
    if has_number(phone):
        name = program.name.strip() or f"{organization_name} 24/7 line"
        lines.append(f"{name}: {phone}, any time, day or night.")
        source = LineSource.PROGRAM
    lines.append(EMERGENCY)
    note = STAND_IN if source is LineSource.NONE and mentions_program_line(steps) else ""
    return CrisisLines(tuple(lines), source, note)
