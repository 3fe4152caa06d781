"""Forms of the withdrawal settings page: the organization's safety thresholds and
one program's reassessment rhythm. The ranges are checked by the service (the one
place that says what is allowed); the inputs carry them for the browser too."""

from __future__ import annotations

from typing import Any

from django import forms

from stepwise.withdrawal.rules.thresholds import SETTINGS, UNIT_SETTINGS, Setting


def allowed_text(setting: Setting) -> str:
    return f"Allowed {setting.low} to {setting.high} {setting.unit}; default {setting.default}."


def setting_field(setting: Setting) -> forms.IntegerField:
    return forms.IntegerField(
        label=f"{setting.label} ({setting.unit})",
        help_text=f"{allowed_text(setting)} Source: {setting.source}",
        error_messages={
            "required": f"Give a value. {allowed_text(setting)}",
            "invalid": f"Give a whole number. {allowed_text(setting)}",
        },
        widget=forms.NumberInput(
            attrs={"min": setting.low, "max": setting.high, "step": 1, "inputmode": "numeric"}
        ),
    )


class SettingsForm(forms.Form):
    settings: tuple[Setting, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for setting in self.settings:
            self.fields[setting.name] = setting_field(setting)

    def values(self) -> dict[str, int]:
        return {s.name: self.cleaned_data[s.name] for s in self.settings}


class SafetySettingsForm(SettingsForm):
    settings = SETTINGS


class UnitSettingsForm(SettingsForm):
    settings = UNIT_SETTINGS
