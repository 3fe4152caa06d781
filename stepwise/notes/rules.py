"""Clinical note rules as plain functions: the formats and their sections, what a
draft may hold, what a note needs before it is signed, and when it waits for a
supervisor's co-signature. No Django imports."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# Longest texts taken: a section or a group narrative, one member's entry in a group
# note (a short, individualized part), an addendum, a goal, a reason.
SECTION_MAX = 10_000
NARRATIVE_MAX = 10_000
ENTRY_MAX = 2_000
ADDENDUM_MAX = 5_000
GOAL_MAX = 200
GOALS_MAX = 10
REASON_MAX = 500


@dataclass(frozen=True)
class Section:
    key: str
    label: str
    prompt: str


@dataclass(frozen=True)
class NoteFormatDefinition:
    code: str
    name: str
    sections: tuple[Section, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(s.key for s in self.sections)

    @property
    def label(self) -> str:
        return f"{self.name} ({', '.join(s.label.lower() for s in self.sections)})"


_PLAN = Section(
    "plan", "Plan", "Next steps: homework, next session, referrals, changes to the plan."
)
FORMATS: dict[str, NoteFormatDefinition] = {
    "dap": NoteFormatDefinition(
        "dap",
        "DAP",
        (
            Section("data", "Data", "What was observed and said: facts of the session."),
            Section(
                "assessment", "Assessment", "Your clinical reading of the data: progress, risk."
            ),
            _PLAN,
        ),
    ),
    "birp": NoteFormatDefinition(
        "birp",
        "BIRP",
        (
            Section("behavior", "Behavior", "The patient's presentation and what they reported."),
            Section("intervention", "Intervention", "What you did: techniques, topics, skills."),
            Section("response", "Response", "How the patient responded to the intervention."),
            _PLAN,
        ),
    ),
    "soap": NoteFormatDefinition(
        "soap",
        "SOAP",
        (
            Section("subjective", "Subjective", "What the patient reports, in their words."),
            Section("objective", "Objective", "What you observed or measured."),
            Section("assessment", "Assessment", "Your clinical reading: progress, risk."),
            _PLAN,
        ),
    ),
}
DEFAULT_FORMAT = "dap"

# How a session moved a treatment-plan objective along, as the clinician judges it.
PROGRESS_RATINGS: dict[str, str] = {
    "progressing": "Progressing",
    "no_change": "No change",
    "regressed": "Regressed",
    "met": "Met",
}
# The most ratings one note (or one member's entry) gives: one per objective addressed.
PROGRESS_MAX = 30


def allowed_formats() -> str:
    return ", ".join(f"{code} ({d.label})" for code, d in FORMATS.items())


def clean_text(value: Any) -> str:
    """Text as stored: stripped, Windows line ends made plain."""
    return str(value).replace("\r\n", "\n").strip() if value is not None else ""


def section_errors(code: str, sections: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with a draft's sections for its format, by section key (or
    'format', 'sections' when the whole is wrong)."""
    definition = FORMATS.get(code)
    if definition is None:
        return {"format": f"Allowed values: {allowed_formats()}."}
    errors: dict[str, str] = {}
    unknown = sorted(str(k) for k in sections if k not in definition.keys)
    if unknown:
        errors["sections"] = (
            f"{definition.name} has the sections {', '.join(definition.keys)}; "
            f"not {', '.join(unknown)}."
        )
    for section in definition.sections:
        value = sections.get(section.key, "")
        if not isinstance(value, str):
            errors[section.key] = f"{section.label}: give text."
        elif len(clean_text(value)) > SECTION_MAX:
            errors[section.key] = f"{section.label}: at most {SECTION_MAX} characters."
    return errors


def clean_sections(code: str, sections: Mapping[str, Any]) -> dict[str, str]:
    """Every section of the format, in its order, with its cleaned text."""
    return {key: clean_text(sections.get(key, "")) for key in FORMATS[code].keys}


def missing_sections(code: str, sections: Mapping[str, str]) -> dict[str, str]:
    """The sections still empty: a note is signed only when each is written."""
    return {
        s.key: f"Write the {s.label.lower()} before signing."
        for s in FORMATS[code].sections
        if not clean_text(sections.get(s.key, ""))
    }


def goals_from_lines(text: str) -> list[str]:
    """Goals typed one per line in a text box."""
    return [line for line in (clean_text(x) for x in text.splitlines()) if line]


def goal_errors(goals: Iterable[Any]) -> dict[str, str]:
    found = list(goals)
    if len(found) > GOALS_MAX:
        return {"goals": f"Name at most {GOALS_MAX} goals."}
    for goal in found:
        if not isinstance(goal, str):
            return {"goals": "Each goal is a short text."}
        if len(clean_text(goal)) > GOAL_MAX:
            return {"goals": f"Each goal is at most {GOAL_MAX} characters."}
    return {}


def clean_goals(goals: Iterable[str]) -> list[str]:
    """Stripped, without empty lines or repeats, in the order given."""
    seen: list[str] = []
    for goal in goals:
        text = clean_text(goal)
        if text and text not in seen:
            seen.append(text)
    return seen


def text_error(value: str, *, label: str, limit: int, required: bool = False) -> str | None:
    text = clean_text(value)
    if required and not text:
        return f"Write the {label.lower()}."
    if len(text) > limit:
        return f"{label}: at most {limit} characters."
    return None


def needs_cosign(cosign_required: bool, author_may_cosign: bool) -> bool:
    """A note waits for a supervisor when the organization asks for co-signatures and
    its author could not co-sign notes themselves (no licence to supervise)."""
    return cosign_required and not author_may_cosign


@dataclass(frozen=True)
class Member:
    """A member of a group session as the group-note rules see them."""

    key: str  # the patient's public id, as text
    name: str
    attended: bool


def entry_errors(members: Iterable[Member], entries: Mapping[str, str]) -> dict[str, str]:
    """Entries of a group-note draft: only for members who attended, each short."""
    by_key = {m.key: m for m in members}
    errors: dict[str, str] = {}
    for key, text in entries.items():
        member = by_key.get(key)
        field = f"entry_{key}"
        if member is None:
            errors[field] = "This patient is not on the session's roster."
        elif not clean_text(text):
            continue
        elif not member.attended:
            errors[field] = f"{member.name} did not attend; an entry is only for who attended."
        elif len(clean_text(text)) > ENTRY_MAX:
            errors[field] = f"{member.name}: at most {ENTRY_MAX} characters."
    return errors


def group_sign_errors(
    narrative: str, members: Iterable[Member], entries: Mapping[str, str]
) -> dict[str, str]:
    """A group note is signed with its shared narrative and an entry for every member
    who attended (present, late or left early), and none for anyone else."""
    roster = list(members)
    errors: dict[str, str] = {}
    if not clean_text(narrative):
        errors["narrative"] = "Write the shared narrative before signing."
    if not any(m.attended for m in roster):
        errors["session"] = "Nobody is marked as attending: take attendance before signing."
    for member in roster:
        text = clean_text(entries.get(member.key, ""))
        if member.attended and not text:
            errors[f"entry_{member.key}"] = f"{member.name}: write a short entry before signing."
        elif text and not member.attended:
            errors[f"entry_{member.key}"] = (
                f"{member.name} did not attend; remove their entry before signing."
            )
    return errors


def progress_errors(
    offered: Iterable[str], given: Mapping[str, Any], *, field_prefix: str = "progress_"
) -> dict[str, str]:
    """Ratings given for objectives, by objective key: each must be one of the
    patient's objectives on offer and a known rating. Errors are keyed by the form
    field (prefix + key)."""
    allowed = set(offered)
    ratings = ", ".join(f"{code} ({label})" for code, label in PROGRESS_RATINGS.items())
    errors: dict[str, str] = {}
    if len(given) > PROGRESS_MAX:
        return {"progress": f"Rate at most {PROGRESS_MAX} objectives in one note."}
    for key, rating in given.items():
        field = f"{field_prefix}{key}"
        if str(key) not in allowed:
            errors[field] = "This objective is not on the patient's current treatment plan."
        elif rating not in PROGRESS_RATINGS:
            errors[field] = f"Allowed values: {ratings}."
    return errors
