"""Crisis triage: the danger questions asked before anything else on a call, and the
action to take now for each yes. The steps follow the SAMHSA Opioid Overdose
Prevention Toolkit; naloxone lasts about 30-90 minutes, less than many opioids, so
the person must be watched after it works."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Sign(StrEnum):
    NOT_BREATHING = "not_breathing"
    UNRESPONSIVE = "unresponsive"
    BLUE_LIPS = "blue_lips"
    SUICIDAL = "suicidal"
    MEDICAL_EMERGENCY = "medical_emergency"


# Asked in this order, in words a caller understands.
QUESTIONS: tuple[tuple[Sign, str], ...] = (
    (Sign.NOT_BREATHING, "Is anyone not breathing, or breathing very slowly or with gurgling?"),
    (Sign.UNRESPONSIVE, "Is anyone unresponsive, or cannot be woken up?"),
    (Sign.BLUE_LIPS, "Are their lips or fingertips blue or grey?"),
    (Sign.SUICIDAL, "Is the person having thoughts of suicide or of harming themselves?"),
    (
        Sign.MEDICAL_EMERGENCY,
        "Is there another medical emergency (chest pain, a seizure, severe bleeding)?",
    ),
)
QUESTION_TEXT = dict(QUESTIONS)
OVERDOSE_SIGNS = frozenset({Sign.NOT_BREATHING, Sign.UNRESPONSIVE, Sign.BLUE_LIPS})


class Advice(StrEnum):
    CALL_911 = "call_911"
    NALOXONE = "naloxone"
    RESCUE_BREATHING = "rescue_breathing"
    STAY_AND_WATCH = "stay_and_watch"
    CALL_988 = "call_988"
    STAY_ON_LINE = "stay_on_line"


@dataclass(frozen=True)
class Step:
    advice: Advice
    title: str
    how: tuple[str, ...]


STEPS: dict[Advice, Step] = {
    Advice.CALL_911: Step(
        Advice.CALL_911,
        "Call 911 now",
        (
            "Give the address and say the person is not breathing or will not wake up.",
            "Keep this line open if you can, or call back after.",
        ),
    ),
    Advice.NALOXONE: Step(
        Advice.NALOXONE,
        "Give naloxone (Narcan) if there is any",
        (
            "Nasal spray: lay the person on their back, put the nozzle in one nostril "
            "and press the plunger firmly.",
            "No response after 2-3 minutes: give a second dose in the other nostril.",
        ),
    ),
    Advice.RESCUE_BREATHING: Step(
        Advice.RESCUE_BREATHING,
        "Rescue breathing",
        (
            "Tilt the head back, lift the chin, pinch the nose.",
            "One breath every 5 seconds, watching the chest rise, until they breathe "
            "or help arrives.",
        ),
    ),
    Advice.STAY_AND_WATCH: Step(
        Advice.STAY_AND_WATCH,
        "Stay with them",
        (
            "When they breathe, turn them on their side (recovery position).",
            "Naloxone wears off in 30-90 minutes and the overdose can come back: "
            "do not leave them alone.",
        ),
    ),
    Advice.CALL_988: Step(
        Advice.CALL_988,
        "Connect to 988, the Suicide & Crisis Lifeline",
        (
            "Call or text 988 together with the caller, or transfer the call.",
            "If they are in danger right now (a weapon, an overdose taken on purpose), call 911.",
        ),
    ),
    Advice.STAY_ON_LINE: Step(
        Advice.STAY_ON_LINE,
        "Stay on the line",
        ("Keep the caller talking until help is with them.",),
    ),
}


def actions_for(signs: frozenset[Sign] | set[Sign]) -> list[Step]:
    """The steps to take now for the signs answered yes, most urgent first.
    No sign, no step: the call goes on to the person's situation."""
    chosen: list[Advice] = []
    overdose = bool(signs & OVERDOSE_SIGNS)
    if overdose or Sign.MEDICAL_EMERGENCY in signs:
        chosen.append(Advice.CALL_911)
    if overdose:
        chosen += [Advice.NALOXONE, Advice.RESCUE_BREATHING, Advice.STAY_AND_WATCH]
    if Sign.SUICIDAL in signs:
        chosen += [Advice.CALL_988, Advice.STAY_ON_LINE]
    elif chosen:
        chosen.append(Advice.STAY_ON_LINE)
    return [STEPS[advice] for advice in chosen]


def is_crisis(signs: frozenset[Sign] | set[Sign]) -> bool:
    return bool(signs)
