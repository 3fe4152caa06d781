"""Treatment-plan objectives a note may record progress on.

The plans app sits beside notes, not below it: it registers a source here when it
loads, and the note forms and services ask this module for a patient's current
objectives without importing plans. Without a source (or without a plan) a note
simply has no objectives to rate, and its free-text goals work as before."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class ObjectiveOption:
    """One objective of a patient's plan as a note form offers it."""

    key: uuid.UUID
    statement: str
    # Where it sits in the plan: "1.2.1", and the problem and goal it serves.
    number: str = ""
    context: str = ""
    target_on: date | None = None

    @property
    def label(self) -> str:
        return f"{self.number} {self.statement}".strip()


# organization id, patient ids -> each patient's objectives, in plan order. One call
# serves a whole group note (one query, not one per member).
ObjectiveSource = Callable[[int, Sequence[int]], dict[int, list[ObjectiveOption]]]
_SOURCES: dict[str, ObjectiveSource] = {}


def register_objective_source(name: str, source: ObjectiveSource) -> None:
    """Registering the same name again replaces it (apps can be reloaded in tests)."""
    _SOURCES[name] = source


def objectives_for(
    organization_id: int, patient_ids: Sequence[int]
) -> dict[int, list[ObjectiveOption]]:
    """Each listed patient's current objectives (a patient without any is left out)."""
    found: dict[int, list[ObjectiveOption]] = {}
    if not patient_ids:
        return found
    for source in _SOURCES.values():
        for patient_id, options in source(organization_id, list(patient_ids)).items():
            found.setdefault(patient_id, []).extend(options)
    return found


def objectives_of(organization_id: int, patient_id: int) -> list[ObjectiveOption]:
    return objectives_for(organization_id, [patient_id]).get(patient_id, [])
