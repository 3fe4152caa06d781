"""Red flags of the pre-admission screen, and the facts they give the placement rules."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MEDICAL_FLAGS: tuple[tuple[str, str], ...] = (
    ("chest_pain_or_breathing", "Chest pain or trouble breathing now"),
    ("withdrawal_seizures", "Seizures or delirium in a past withdrawal"),
    ("alcohol_or_benzodiazepines", "Daily alcohol or benzodiazepine use as well"),
    ("infection", "Abscess, fever or other signs of infection from injecting"),
    ("uncontrolled_illness", "Uncontrolled diabetes, heart disease or other illness"),
    ("pregnancy_complication", "Pregnancy with bleeding, pain or no prenatal care"),
)
PSYCHIATRIC_FLAGS: tuple[tuple[str, str], ...] = (
    ("suicidal_now", "Thoughts of suicide now"),
    ("harm_to_others", "Thoughts of harming someone else"),
    ("psychosis", "Hearing or seeing things others do not, or very confused thinking"),
    ("recent_psychiatric_stay", "A psychiatric hospital stay in the past 30 days"),
    ("severe_depression_or_anxiety", "Severe depression or anxiety"),
)

# Flags that mean danger now (ASAM: imminent danger) or an unstable body that needs
# medical monitoring; the rest inform the team without moving the level.
IMMINENT_DANGER = frozenset({"suicidal_now", "harm_to_others"})
MEDICALLY_UNSTABLE = frozenset(
    {"chest_pain_or_breathing", "withdrawal_seizures", "pregnancy_complication"}
)


@dataclass(frozen=True)
class ScreenFacts:
    imminent_danger: bool
    unstable_vitals_or_severe_withdrawal: bool
    pregnant: bool


def facts_from_screen(
    *,
    withdrawal_estimate: str,
    medical_flags: Iterable[str],
    psychiatric_flags: Iterable[str],
    pregnant: bool,
    suicidal_on_call: bool = False,
) -> ScreenFacts:
    medical = set(medical_flags)
    psychiatric = set(psychiatric_flags)
    return ScreenFacts(
        imminent_danger=bool(psychiatric & IMMINENT_DANGER) or suicidal_on_call,
        unstable_vitals_or_severe_withdrawal=withdrawal_estimate == "severe"
        or bool(medical & MEDICALLY_UNSTABLE),
        pregnant=pregnant,
    )


def unknown_flags(given: Iterable[str], allowed: tuple[tuple[str, str], ...]) -> list[str]:
    known = {code for code, _ in allowed}
    return [flag for flag in given if flag not in known]
