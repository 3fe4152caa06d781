"""What a recorded check-in holds, and how its values are checked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from stepwise.care.rules import OPIOID_SUBSTANCES, SUBSTANCES

# How the patient says they are doing, in plain words.
WELLBEING: tuple[tuple[int, str], ...] = (
    (1, "Struggling a lot"),
    (2, "Having a hard time"),
    (3, "Getting by"),
    (4, "Doing well"),
    (5, "Doing very well"),
)
CRAVING_MAX = 10
METHODS: tuple[tuple[str, str], ...] = (
    ("phone", "Phone call"),
    ("portal", "Patient portal"),
    ("in_person", "In person"),
)
# "None" is not a substance used; every other TEDS code is (-9: they could not say).
# Opioids first: in an opioid program they are the usual answer.
USED_SUBSTANCES: tuple[tuple[int, str], ...] = tuple(
    sorted(
        ((c, t) for c, t in SUBSTANCES if c != 1),
        key=lambda choice: (choice[0] not in OPIOID_SUBSTANCES, choice[0] == -9),
    )
)
SUPPORTS_MAX = 30
SUPPORT_TEXT_MAX = 200
NOTE_MAX = 4000
# A scheduled check-in may be recorded up to this many days before its day.
EARLY_DAYS = 7


@dataclass(frozen=True)
class Report:
    wellbeing: int
    craving: int
    used: bool
    substances: Sequence[int] = ()
    used_on: date | None = None
    supports_attended: Sequence[str] = field(default_factory=tuple)
    note: str = ""


def _allowed(choices: Sequence[tuple[object, str]]) -> str:
    return ", ".join(f"{code} ({text})" for code, text in choices)


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def report_errors(report: Report, today: date) -> dict[str, str]:
    """One message per value that cannot be recorded as given."""
    errors: dict[str, str] = {}
    if not _whole(report.wellbeing) or report.wellbeing not in dict(WELLBEING):
        errors["wellbeing"] = f"How is the patient doing? Allowed values: {_allowed(WELLBEING)}."
    if not _whole(report.craving) or not 0 <= report.craving <= CRAVING_MAX:
        errors["craving"] = f"Craving: a whole number from 0 (none) to {CRAVING_MAX} (the worst)."
    if not isinstance(report.used, bool):
        errors["used"] = "Any use since the last check-in: yes or no."
    elif report.used:
        codes = dict(USED_SUBSTANCES)
        if not report.substances:
            errors["substances"] = (
                "Which substances? Choose at least one (Not recorded when they cannot say)."
            )
        elif any(not _whole(c) or c not in codes for c in report.substances):
            errors["substances"] = f"Allowed values (TEDS): {_allowed(USED_SUBSTANCES)}."
        elif len(set(report.substances)) != len(report.substances):
            errors["substances"] = "Each substance is listed once."
        if report.used_on is not None and report.used_on > today:
            errors["used_on"] = "The day of use cannot be after today."
    else:
        if report.substances:
            errors["substances"] = "No use was reported; leave the substances empty."
        if report.used_on is not None:
            errors["used_on"] = "No use was reported; leave the day of use empty."
    if len(report.supports_attended) > SUPPORTS_MAX:
        errors["supports_attended"] = f"At most {SUPPORTS_MAX} supports."
    elif any(not isinstance(s, str) or len(s) > SUPPORT_TEXT_MAX for s in report.supports_attended):
        errors["supports_attended"] = f"Name each support in at most {SUPPORT_TEXT_MAX} characters."
    if len(report.note) > NOTE_MAX:
        errors["note"] = f"At most {NOTE_MAX} characters."
    return errors


def wellbeing_label(value: int | None) -> str:
    return dict(WELLBEING).get(value or 0, "")


def substance_labels(codes: Sequence[int]) -> list[str]:
    names = dict(SUBSTANCES)
    return [names.get(code, str(code)) for code in codes]
