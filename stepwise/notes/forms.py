"""Forms of the note pages: an individual note in its format, a session's group note
with one entry box per attending member, an addendum, entered in error."""

from __future__ import annotations

import zoneinfo
from datetime import datetime
from typing import Any

from django import forms

from stepwise.care.forms import local_to_aware
from stepwise.notes import rules
from stepwise.notes.models import ClinicalNote, GroupNote, GroupNoteEntry
from stepwise.notes.objectives import ObjectiveOption
from stepwise.scheduling.models import Attendance

_LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
GOALS_HELP = (
    "The treatment-plan goals this session addressed, one per line (short names, "
    f"at most {rules.GOALS_MAX})."
)
SIGN = "sign"  # the value of the submit button that signs after saving
NOT_ADDRESSED = "Not addressed"


def _progress_field(option: ObjectiveOption) -> forms.ChoiceField:
    """One objective of the patient's plan: not addressed, or how it went."""
    target = f"Target {option.target_on:%Y-%m-%d}. " if option.target_on else ""
    return forms.ChoiceField(
        label=option.label,
        required=False,
        choices=[("", NOT_ADDRESSED), *rules.PROGRESS_RATINGS.items()],
        help_text=f"{target}{option.context}".strip(),
    )


def _ratings(form: forms.Form, prefix: str, options: list[ObjectiveOption]) -> dict[str, str]:
    return {str(o.key): form.cleaned_data.get(f"{prefix}{o.key}") or "" for o in options}


def _goals_field() -> forms.CharField:
    return forms.CharField(
        label="Goals addressed",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=GOALS_HELP,
        max_length=rules.GOALS_MAX * (rules.GOAL_MAX + 1),
    )


class ClinicalNoteForm(forms.Form):
    """The sections of the chosen format, the goals, and when the service took place."""

    occurred_at = forms.DateTimeField(
        required=False,
        widget=_LOCAL_TIME,
        label="Session date and time",
        help_text="Leave empty for now. Local time of the patient's facility.",
    )

    def __init__(
        self,
        *args: Any,
        format_code: str,
        time_zone: str,
        note: ClinicalNote | None = None,
        objectives: list[ObjectiveOption] | None = None,
        ratings: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        if note is not None and not args:
            initial = _initial_of(note, time_zone)
            initial.update({f"progress_{key}": r for key, r in (ratings or {}).items()})
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.format_code = format_code
        self.time_zone = time_zone
        self.objectives = list(objectives or [])
        for section in rules.FORMATS[format_code].sections:
            self.fields[section.key] = forms.CharField(
                label=section.label,
                required=False,
                widget=forms.Textarea(attrs={"rows": 5}),
                help_text=section.prompt,
                max_length=rules.SECTION_MAX,
            )
        self.fields["goals"] = _goals_field()
        for option in self.objectives:
            self.fields[f"progress_{option.key}"] = _progress_field(option)

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("progress_")]

    def progress_fields(self) -> list[forms.BoundField]:
        return [self[f"progress_{o.key}"] for o in self.objectives]

    def progress(self) -> dict[str, str] | None:
        """The ratings by objective key (empty: not addressed); None when the patient
        has no objectives on offer, which keeps whatever the draft had."""
        if not self.objectives:
            return None
        return _ratings(self, "progress_", self.objectives)

    def sections(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(key, "") for key in rules.FORMATS[self.format_code].keys}

    def goals(self) -> list[str]:
        return rules.goals_from_lines(self.cleaned_data.get("goals", ""))

    def occurred(self) -> datetime | None:
        return local_to_aware(self.cleaned_data.get("occurred_at"), self.time_zone)


def _initial_of(note: ClinicalNote, time_zone: str) -> dict[str, Any]:
    local = note.occurred_at.astimezone(zoneinfo.ZoneInfo(time_zone)).replace(tzinfo=None)
    return {
        **{key: str(text) for key, text in note.sections.items()},
        "goals": "\n".join(note.goals),
        "occurred_at": local,
    }


class GroupNoteForm(forms.Form):
    """The shared narrative, the goals, and one short entry per attending member."""

    narrative = forms.CharField(
        label="Shared narrative",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=rules.NARRATIVE_MAX,
        help_text="What the group did and discussed. Every member's chart shows it: "
        "write it without naming or describing any member.",
    )

    def __init__(
        self,
        *args: Any,
        attending: list[Attendance],
        note: GroupNote | None = None,
        entries: dict[str, GroupNoteEntry] | None = None,
        objectives: dict[str, list[ObjectiveOption]] | None = None,
        ratings: dict[str, dict[str, str]] | None = None,
        **kwargs: Any,
    ) -> None:
        if note is not None and not args:
            initial = {"narrative": note.narrative, "goals": "\n".join(note.goals)}
            for key, entry in (entries or {}).items():
                initial[f"entry_{key}"] = entry.text
            for member, given in (ratings or {}).items():
                for objective, rating in given.items():
                    initial[f"progress_{member}_{objective}"] = rating
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fields["goals"] = _goals_field()
        self.member_keys: list[str] = []
        self.objectives = objectives or {}
        for row in attending:
            key = str(row.patient.public_id)
            self.member_keys.append(key)
            self.fields[f"entry_{key}"] = forms.CharField(
                label=row.patient.display_name,
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
                max_length=rules.ENTRY_MAX,
                help_text=f"{row.get_status_display()}: only {row.patient.display_name}'s "
                "chart shows this entry.",
            )
            for option in self.objectives.get(key, []):
                self.fields[f"progress_{key}_{option.key}"] = _progress_field(option)

    def goals(self) -> list[str]:
        return rules.goals_from_lines(self.cleaned_data.get("goals", ""))

    def entries(self) -> dict[str, str]:
        return {key: self.cleaned_data.get(f"entry_{key}", "") for key in self.member_keys}

    def member_fields(self) -> list[forms.BoundField]:
        return [self[f"entry_{key}"] for key in self.member_keys]

    def member_rows(self) -> list[tuple[forms.BoundField, list[forms.BoundField]]]:
        """Each attending member's entry with their objectives' progress fields."""
        return [
            (
                self[f"entry_{key}"],
                [self[f"progress_{key}_{o.key}"] for o in self.objectives.get(key, [])],
            )
            for key in self.member_keys
        ]

    def progress(self) -> dict[str, dict[str, str]] | None:
        """Ratings by member and objective, for members with objectives on offer;
        None when no member has any (the draft keeps what it had)."""
        given = {
            key: _ratings(self, f"progress_{key}_", self.objectives[key])
            for key in self.member_keys
            if self.objectives.get(key)
        }
        return given or None


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=rules.ADDENDUM_MAX,
        help_text="Added below the signed note with your name and the time; final once saved.",
    )


class GroupAddendumForm(AddendumForm):
    """An addendum to a group note: shared, or about one member only."""

    about = forms.ChoiceField(label="About", required=False)

    def __init__(self, *args: Any, members: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["about"].choices = [  # type: ignore[attr-defined]
            ("", "The whole group (every member's chart shows it)"),
            *((key, f"{name} only (only their chart shows it)") for key, name in members),
        ]


class MarkInErrorForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=rules.REASON_MAX,
        help_text="What was wrong (wrong patient, wrong session). Kept in the record.",
    )
