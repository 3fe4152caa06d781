"""Forms of the flowsheet: vital signs, marking an entry in error, a naloxone challenge,
the time of last opioid use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from stepwise.care.forms import local_to_aware
from stepwise.withdrawal.models import ChallengeResult, LastUseSource
from stepwise.withdrawal.rules import vitals
from stepwise.withdrawal.rules.last_use import NOTE_MAX_LENGTH, OPIOIDS

LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_NUMBER = {"inputmode": "numeric"}


def _int_field(label: str, name: str) -> forms.IntegerField:
    low, high, unit = vitals.RANGES[name]
    return forms.IntegerField(
        label=label,
        required=False,
        min_value=int(low),
        max_value=int(high),
        widget=forms.NumberInput(attrs=_NUMBER),
        help_text=unit,
    )


class TimedForm(forms.Form):
    """A form whose time is typed in the facility's local time (empty for now)."""

    time_field = "observed_at"

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone

    def when(self) -> datetime | None:
        return local_to_aware(self.cleaned_data.get(self.time_field), self.time_zone)


class VitalsForm(TimedForm):
    pulse = _int_field("Pulse", "pulse")
    systolic = _int_field("Systolic", "systolic")
    diastolic = _int_field("Diastolic", "diastolic")
    respiratory_rate = _int_field("Respiratory rate", "respiratory_rate")
    spo2 = _int_field("SpO2", "spo2")
    temperature_c = forms.DecimalField(
        label="Temperature",
        required=False,
        max_digits=4,
        decimal_places=1,
        min_value=vitals.RANGES["temperature_c"][0],
        max_value=vitals.RANGES["temperature_c"][1],
        help_text="°C",
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.1"}),
    )
    responsiveness = forms.ChoiceField(
        label="Responsiveness",
        required=False,
        choices=[
            ("", "—"),
            *((r.value, vitals.RESPONSIVENESS_LABELS[r]) for r in vitals.Responsiveness),
        ],
    )
    observed_at = forms.DateTimeField(
        required=False, widget=LOCAL_TIME, label="Observed at", help_text="Empty for now."
    )

    def values(self) -> vitals.Vitals:
        data = self.cleaned_data
        return vitals.Vitals(
            pulse=data.get("pulse"),
            systolic=data.get("systolic"),
            diastolic=data.get("diastolic"),
            respiratory_rate=data.get("respiratory_rate"),
            spo2=data.get("spo2"),
            temperature_c=data.get("temperature_c"),
            responsiveness=vitals.Responsiveness(data["responsiveness"])
            if data.get("responsiveness")
            else None,
        )


class InErrorForm(forms.Form):
    reason = forms.CharField(label="What was wrong", max_length=500)


class ChallengeForm(TimedForm):
    time_field = "performed_at"
    result = forms.ChoiceField(choices=ChallengeResult.choices, widget=forms.RadioSelect)
    performed_at = forms.DateTimeField(
        required=False, widget=LOCAL_TIME, label="Performed at", help_text="Empty for now."
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LastUseForm(TimedForm):
    """When the patient last used an opioid, typed in the facility's local time."""

    time_field = "last_use_at"
    substance = forms.ChoiceField(
        label="Substance",
        choices=[("", "—"), *((s.code, s.label) for s in OPIOIDS)],
        error_messages={
            "required": "Choose the opioid: " + ", ".join(s.label for s in OPIOIDS) + ".",
            "invalid_choice": "Choose one of: " + ", ".join(s.label for s in OPIOIDS) + ".",
        },
    )
    last_use_at = forms.DateTimeField(
        label="Time of last use",
        widget=LOCAL_TIME,
        error_messages={
            "required": "Give the date and time of the last use.",
            "invalid": "Give a date and time, e.g. 2026-03-08 02:30.",
        },
    )
    source = forms.ChoiceField(
        label="Who says so",
        choices=LastUseSource.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": "Say who gave the time: "
            + ", ".join(str(label).lower() for label in LastUseSource.labels)
            + ".",
        },
    )
    note = forms.CharField(
        required=False, max_length=NOTE_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, time_zone=time_zone, **kwargs)
        self.fields["last_use_at"].help_text = f"In the facility's time ({time_zone})."
