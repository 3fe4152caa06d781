"""Progress on treatment-plan objectives recorded in a note: which of the patient's
objectives the session addressed, each with a rating. Checked against the
objectives the plan offers now (notes.objectives) and written inside the note's own
save, so its audit row covers it; frozen with the note once signed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from stepwise.notes import rules
from stepwise.notes.models import ClinicalNote, GroupNoteEntry, ObjectiveProgress
from stepwise.notes.objectives import ObjectiveOption, objectives_for


def canonical(key: Any) -> str:
    """An objective or patient key as stored and as form fields name it."""
    try:
        return str(uuid.UUID(str(key)))
    except ValueError:
        return str(key)


def given_ratings(given: Mapping[Any, Any]) -> dict[str, str]:
    """The ratings given, keys made canonical, leaving out objectives not addressed
    (an empty rating)."""
    return {canonical(key): str(rating) for key, rating in given.items() if rating}


def options_by_key(options: Iterable[ObjectiveOption]) -> dict[str, ObjectiveOption]:
    return {str(option.key): option for option in options}


def ratings_errors(
    options: Mapping[str, ObjectiveOption], given: Mapping[str, str], field_prefix: str
) -> dict[str, str]:
    return rules.progress_errors(options, given, field_prefix=field_prefix)


def _rows(
    organization_id: int,
    patient_id: int,
    ratings: Mapping[str, str],
    options: Mapping[str, ObjectiveOption],
    **parent: Any,
) -> list[ObjectiveProgress]:
    return [
        ObjectiveProgress(
            organization_id=organization_id,
            patient_id=patient_id,
            objective_key=uuid.UUID(key),
            objective_text=options[key].label,
            rating=rating,
            **parent,
        )
        for key, rating in ratings.items()
    ]


def note_progress_replace(
    note: ClinicalNote, ratings: Mapping[str, str], options: Mapping[str, ObjectiveOption]
) -> None:
    """Make a draft note's ratings exactly these (inside the note's transaction)."""
    ObjectiveProgress.objects.filter(clinical_note=note).delete()
    ObjectiveProgress.objects.bulk_create(
        _rows(note.organization_id, note.patient_id, ratings, options, clinical_note=note)
    )


def entries_progress_replace(
    entries: Mapping[str, GroupNoteEntry],
    ratings: Mapping[str, Mapping[str, str]],
    options: Mapping[str, Mapping[str, ObjectiveOption]],
) -> None:
    """Make the ratings of each named member's entry exactly those given (members
    not named keep theirs)."""
    named = [entries[member] for member in ratings if member in entries]
    if not named:
        return
    ObjectiveProgress.objects.filter(group_note_entry__in=named).delete()
    rows: list[ObjectiveProgress] = []
    for member, given in ratings.items():
        entry = entries.get(member)
        if entry is not None:
            rows += _rows(
                entry.organization_id,
                entry.patient_id,
                given,
                options.get(member, {}),
                group_note_entry=entry,
            )
    ObjectiveProgress.objects.bulk_create(rows)


def member_options(
    organization_id: int, patients: Mapping[str, Any]
) -> dict[str, dict[str, ObjectiveOption]]:
    """Each member's objectives on offer (one call for the whole group), by member key."""
    found = objectives_for(organization_id, [p.pk for p in patients.values()])
    return {key: options_by_key(found.get(p.pk, [])) for key, p in patients.items()}
