"""Vital signs: plausible ranges and the signs of over-sedation that need action now."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Responsiveness(StrEnum):
    """AVPU: alert, responds to voice, responds to pain, unresponsive."""

    ALERT = "alert"
    VOICE = "voice"
    PAIN = "pain"
    UNRESPONSIVE = "unresponsive"


RESPONSIVENESS_LABELS = {
    Responsiveness.ALERT: "Alert",
    Responsiveness.VOICE: "Responds to voice",
    Responsiveness.PAIN: "Responds only to pain",
    Responsiveness.UNRESPONSIVE: "Unresponsive",
}

# Over-sedation (issue 5): respiratory rate under 10, SpO2 under 92 %, unresponsive.
RESPIRATORY_RATE_FLOOR = 10
SPO2_FLOOR = 92

# Values outside these are typing mistakes, not patients.
RANGES: dict[str, tuple[Decimal, Decimal, str]] = {
    "pulse": (Decimal(20), Decimal(250), "beats per minute"),
    "systolic": (Decimal(50), Decimal(260), "mmHg"),
    "diastolic": (Decimal(20), Decimal(160), "mmHg"),
    "respiratory_rate": (Decimal(0), Decimal(60), "breaths per minute"),
    "spo2": (Decimal(50), Decimal(100), "%"),
    "temperature_c": (Decimal("30.0"), Decimal("43.0"), "°C"),
}

OVER_SEDATION_ACTION = (
    "Act now: stimulate and call the patient's name, give naloxone, support breathing, "
    "call for help (911 if off-site), and stay with the patient; naloxone wears off in "
    "30-90 minutes, so watch for re-sedation."
)


@dataclass(frozen=True)
class Vitals:
    pulse: int | None = None
    systolic: int | None = None
    diastolic: int | None = None
    respiratory_rate: int | None = None
    spo2: int | None = None
    temperature_c: Decimal | None = None
    responsiveness: Responsiveness | None = None

    def measured(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


def vitals_errors(v: Vitals) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, (low, high, unit) in RANGES.items():
        value = getattr(v, name)
        if value is not None and not low <= Decimal(value) <= high:
            errors[name] = f"Allowed {low} to {high} {unit}."
    if (v.systolic is None) != (v.diastolic is None):
        errors["diastolic" if v.diastolic is None else "systolic"] = (
            "Give both systolic and diastolic pressure, or neither."
        )
    if v.systolic is not None and v.diastolic is not None and v.diastolic >= v.systolic:
        errors["diastolic"] = "Diastolic pressure must be below systolic."
    if not v.measured():
        errors["__all__"] = "Record at least one vital sign."
    return errors


def over_sedation_signs(v: Vitals) -> list[str]:
    signs: list[str] = []
    if v.respiratory_rate is not None and v.respiratory_rate < RESPIRATORY_RATE_FLOOR:
        signs.append(f"respiratory rate {v.respiratory_rate} (under {RESPIRATORY_RATE_FLOOR})")
    if v.spo2 is not None and v.spo2 < SPO2_FLOOR:
        signs.append(f"SpO2 {v.spo2} % (under {SPO2_FLOOR} %)")
    if v.responsiveness is Responsiveness.UNRESPONSIVE:
        signs.append("unresponsive")
    return signs
