"""The sections of an aftercare plan, what each holds, and how entries are checked.

Entries are kept as plain JSON-ready values (lists of texts or of small mappings) so
each saved version of a section can be stored whole, and an earlier version is never
lost when the section is edited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    DRAFT = "draft"  # being written
    ACTIVE = "active"  # reviewed with the patient
    ENDED = "ended"  # the patient chose to end it


STATUS_LABELS = {
    Status.DRAFT: "Draft (being written)",
    Status.ACTIVE: "Active (reviewed with the patient)",
    Status.ENDED: "Ended by the patient",
}


class Section(StrEnum):
    SUPPORTS = "supports"
    TRIGGERS = "triggers"
    PEOPLE = "people_to_avoid"
    COPING = "coping_strategies"
    WARNING_SIGNS = "warning_signs"
    CONTACTS = "emergency_contacts"
    CRISIS = "crisis_steps"


# Order of the plan page and the printout; staff wording, then the patient's own words.
SECTION_LABELS: dict[Section, str] = {
    Section.CRISIS: "Crisis plan",
    Section.CONTACTS: "Emergency contacts",
    Section.SUPPORTS: "Supports",
    Section.WARNING_SIGNS: "Warning signs",
    Section.TRIGGERS: "Triggers to avoid",
    Section.PEOPLE: "People to avoid",
    Section.COPING: "Coping strategies",
}
PATIENT_HEADINGS: dict[Section, str] = {
    Section.CRISIS: "If I am in crisis",
    Section.CONTACTS: "People I can call",
    Section.SUPPORTS: "My supports",
    Section.WARNING_SIGNS: "Signs that I may be slipping",
    Section.TRIGGERS: "Things that can set me off (I stay away from them)",
    Section.PEOPLE: "People I stay away from",
    Section.COPING: "What I can do instead",
}
SECTION_HELP: dict[Section, str] = {
    Section.CRISIS: "What the patient does, step by step, when things go wrong. Plain words.",
    Section.CONTACTS: "People the patient can call any time: name, who they are, phone.",
    Section.SUPPORTS: (
        "Therapist appointments, support groups (NA, AA, SMART Recovery) and how often, "
        "medication continuation with the prescriber, sober living, family therapy."
    ),
    Section.WARNING_SIGNS: "Early signs of slipping the patient and their people watch for.",
    Section.TRIGGERS: "Places, times, feelings and things that set off craving.",
    Section.PEOPLE: "Codependents, enablers, suppliers: who the patient stays away from.",
    Section.COPING: "What the patient does instead of using.",
}
TEXT_SECTIONS = frozenset({Section.TRIGGERS, Section.COPING, Section.WARNING_SIGNS, Section.CRISIS})

SUPPORT_KINDS: tuple[tuple[str, str], ...] = (
    ("therapist", "Individual therapist"),
    ("support_group", "Support group"),
    ("medication", "Medication continuation with the prescriber"),
    ("sober_living", "Sober living residence"),
    ("family_therapy", "Family therapy"),
    ("other", "Other"),
)
GROUPS: tuple[tuple[str, str], ...] = (
    ("na", "Narcotics Anonymous (NA)"),
    ("aa", "Alcoholics Anonymous (AA)"),
    ("smart", "SMART Recovery"),
    ("other", "Other group"),
)
RELATIONSHIPS: tuple[tuple[str, str], ...] = (
    ("codependent", "Codependent"),
    ("enabler", "Enabler"),
    ("supplier", "Supplier (sells or gives drugs)"),
    ("other", "Other"),
)

ITEMS_MAX = 30
TEXT_MAX = 300
NAME_MAX = 120
PHONE_MAX = 40
SCHEDULE_MAX = 120
NOTE_MAX = 2000

# The steps a new plan starts with, for staff to go through and change with the patient.
DEFAULT_CRISIS_STEPS: tuple[str, ...] = (
    "Stop, and get to a safe place away from drugs and the people I used with.",
    "Call someone from my list of people I can call.",
    "If I want to use, or I feel unsafe, call the program's 24/7 line or 988 (call or text).",
    "If someone may be overdosing: call 911, give naloxone, and stay with them.",
)


class SectionError(ValueError):
    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _label(choices: Sequence[tuple[str, str]], code: str) -> str:
    return dict(choices).get(code, code)


def _allowed(choices: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{code} ({text})" for code, text in choices)


_DIGITS = re.compile(r"\d")
_PHONE_CHARS = re.compile(r"^[0-9+().,\-/ extEXT#*]*$")


def phone_error(value: str) -> str | None:
    if not value:
        return None
    if len(value) > PHONE_MAX:
        return f"At most {PHONE_MAX} characters."
    if not _PHONE_CHARS.match(value) or len(_DIGITS.findall(value)) < 3:
        return "Give a phone number: digits, spaces, + ( ) - and an extension (ext 12)."
    return None


@dataclass(frozen=True)
class Support:
    kind: str
    name: str
    group: str = ""  # for a support group: na, aa, smart, other
    contact: str = ""  # phone
    schedule: str = ""  # when and how often, e.g. "Tuesdays 19:00, weekly"
    next_on: date | None = None  # the next appointment, when one is booked

    @property
    def kind_label(self) -> str:
        if self.kind == "support_group" and self.group:
            return _label(GROUPS, self.group)
        return _label(SUPPORT_KINDS, self.kind)


@dataclass(frozen=True)
class PersonToAvoid:
    who: str  # a name, or a description ("the people at the Elm Street house")
    relationship: str

    @property
    def relationship_label(self) -> str:
        return _label(RELATIONSHIPS, self.relationship)


@dataclass(frozen=True)
class EmergencyContact:
    name: str
    relationship: str  # in the patient's words: sister, sponsor, friend
    phone: str


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(key)
    return value.strip()


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value)
    raise TypeError("date")


def _long(value: str, limit: int) -> str | None:
    return f"At most {limit} characters." if len(value) > limit else None


def _parse_support(raw: Mapping[str, Any], at: str, errors: dict[str, str]) -> Support | None:
    try:
        kind, name = _text(raw, "kind"), _text(raw, "name")
        group, contact = _text(raw, "group"), _text(raw, "contact")
        schedule = _text(raw, "schedule")
    except TypeError as exc:
        errors[f"{at}.{exc.args[0]}"] = "Give text."
        return None
    try:
        next_on = _date(raw.get("next_on"))
    except (TypeError, ValueError):
        errors[f"{at}.next_on"] = "Give a date as YYYY-MM-DD, or leave it empty."
        return None
    if kind not in dict(SUPPORT_KINDS):
        errors[f"{at}.kind"] = f"Allowed values: {_allowed(SUPPORT_KINDS)}."
    if not name:
        errors[f"{at}.name"] = (
            "Name the support: the therapist, the group, the prescriber or the house."
        )
    elif message := _long(name, NAME_MAX):
        errors[f"{at}.name"] = message
    if kind == "support_group" and group not in dict(GROUPS):
        errors[f"{at}.group"] = f"Which group? Allowed values: {_allowed(GROUPS)}."
    elif kind != "support_group" and group:
        errors[f"{at}.group"] = "Only a support group has a group kind; leave it empty."
    if message := phone_error(contact):
        errors[f"{at}.contact"] = message
    if message := _long(schedule, SCHEDULE_MAX):
        errors[f"{at}.schedule"] = message
    if next_on is not None and next_on.year < 2000:
        errors[f"{at}.next_on"] = "Give the date of the next appointment (after 2000)."
    return Support(kind, name, group, contact, schedule, next_on)


def _parse_person(raw: Mapping[str, Any], at: str, errors: dict[str, str]) -> PersonToAvoid:
    try:
        who, relationship = _text(raw, "who"), _text(raw, "relationship")
    except TypeError as exc:
        errors[f"{at}.{exc.args[0]}"] = "Give text."
        return PersonToAvoid("", "")
    if not who:
        errors[f"{at}.who"] = "Give a name or a short description."
    elif message := _long(who, NAME_MAX):
        errors[f"{at}.who"] = message
    if relationship not in dict(RELATIONSHIPS):
        errors[f"{at}.relationship"] = f"Allowed values: {_allowed(RELATIONSHIPS)}."
    return PersonToAvoid(who, relationship)


def _parse_contact(raw: Mapping[str, Any], at: str, errors: dict[str, str]) -> EmergencyContact:
    try:
        name, relationship = _text(raw, "name"), _text(raw, "relationship")
        phone = _text(raw, "phone")
    except TypeError as exc:
        errors[f"{at}.{exc.args[0]}"] = "Give text."
        return EmergencyContact("", "", "")
    if not name:
        errors[f"{at}.name"] = "Give the contact's name."
    elif message := _long(name, NAME_MAX):
        errors[f"{at}.name"] = message
    if message := _long(relationship, NAME_MAX):
        errors[f"{at}.relationship"] = message
    if not phone:
        errors[f"{at}.phone"] = "Give a phone number the patient can call."
    elif message := phone_error(phone):
        errors[f"{at}.phone"] = message
    return EmergencyContact(name, relationship, phone)


Entry = str | Support | PersonToAvoid | EmergencyContact


def parse_section(section: str, raw: Any) -> list[Any]:
    """The entries of one section from plain values; SectionError names each problem
    by its place ("supports[2].name")."""
    if section not in Section.__members__.values():
        raise SectionError({"section": f"Allowed values: {', '.join(Section)}."})
    key = Section(section)
    if not isinstance(raw, list | tuple):
        raise SectionError({key.value: "Give a list of entries."})
    if len(raw) > ITEMS_MAX:
        raise SectionError({key.value: f"At most {ITEMS_MAX} entries."})
    errors: dict[str, str] = {}
    found: list[Any] = []
    for index, item in enumerate(raw):
        at = f"{key.value}[{index}]"
        if key in TEXT_SECTIONS:
            if not isinstance(item, str):
                errors[at] = "Give text."
                continue
            text = item.strip()
            if message := _long(text, TEXT_MAX):
                errors[at] = message
            if text:
                found.append(text)
            continue
        if not isinstance(item, Mapping):
            errors[at] = "Give an entry with its fields."
            continue
        if key is Section.SUPPORTS:
            support = _parse_support(item, at, errors)
            if support is not None:
                found.append(support)
        elif key is Section.PEOPLE:
            found.append(_parse_person(item, at, errors))
        else:
            found.append(_parse_contact(item, at, errors))
    if errors:
        raise SectionError(errors)
    return found


def dump_section(entries: Sequence[Any]) -> list[Any]:
    """The JSON-ready form of a section's entries (as stored)."""
    out: list[Any] = []
    for entry in entries:
        if isinstance(entry, str):
            out.append(entry)
        elif isinstance(entry, Support):
            out.append(
                {
                    "kind": entry.kind,
                    "group": entry.group,
                    "name": entry.name,
                    "contact": entry.contact,
                    "schedule": entry.schedule,
                    "next_on": entry.next_on.isoformat() if entry.next_on else None,
                }
            )
        elif isinstance(entry, PersonToAvoid):
            out.append({"who": entry.who, "relationship": entry.relationship})
        else:
            out.append(
                {"name": entry.name, "relationship": entry.relationship, "phone": entry.phone}
            )
    return out


def load_section(section: Section, stored: Any) -> list[Any]:
    """Stored entries back as values (they were checked when saved)."""
    return parse_section(section.value, stored or [])


def activation_gaps(supports: Sequence[Any]) -> dict[str, str]:
    """What a plan needs before it counts as reviewed with the patient."""
    if not supports:
        return {
            Section.SUPPORTS.value: "Add at least one support before the review: a therapist, a "
            "support group, medication with the prescriber, sober living or family therapy."
        }
    return {}


def next_appointment(supports: Sequence[Support], today: date) -> Support | None:
    """The support whose next appointment comes soonest from today."""
    coming = [s for s in supports if s.next_on is not None and s.next_on >= today]
    return min(coming, key=lambda s: s.next_on or today, default=None)
