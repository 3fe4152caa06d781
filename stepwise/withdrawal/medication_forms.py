"""Forms of the eMAR: a physician's order, a nurse's charting of a dose, an override,
an effectiveness check, stopping an order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django import forms

from stepwise.care.forms import local_to_aware
from stepwise.withdrawal.forms import LOCAL_TIME, TimedForm
from stepwise.withdrawal.models import AdministrationOutcome, FollowupResult
from stepwise.withdrawal.rules import formulary, schedule
from stepwise.withdrawal.rules.safety import BUPRENORPHINE_START_LABELS, RULE_TITLES
from stepwise.withdrawal.services.medications import OrderInput

TAPER_HELP = (
    "One step per line: days, dose in mg, and optionally a frequency code, e.g. "
    "'2 0.1 qid', then '2 0.1 tid'. Leave empty for a steady dose."
)


def parse_taper(text: str) -> list[schedule.TaperStep]:
    steps = []
    for number, line in enumerate(text.strip().splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) not in (2, 3):
            raise forms.ValidationError(
                f"Line {number}: give days, dose and optionally a frequency ('2 0.1 qid')."
            )
        try:
            days, dose = int(parts[0]), Decimal(parts[1])
        except (ValueError, ArithmeticError):
            raise forms.ValidationError(
                f"Line {number}: days must be a whole number and the dose a number."
            ) from None
        steps.append(schedule.TaperStep(days, dose, parts[2] if len(parts) == 3 else ""))
    return steps


class OrderForm(TimedForm):
    time_field = "starts_at"
    drug = forms.ChoiceField(choices=[("", "—"), *formulary.drug_choices()])
    dose_mg = forms.DecimalField(
        label="Dose (mg)", max_digits=8, decimal_places=3, min_value=Decimal("0.001")
    )
    route = forms.ChoiceField(
        choices=[(r.value, formulary.ROUTE_LABELS[r]) for r in formulary.Route]
    )
    frequency = forms.ChoiceField(choices=[(f.code, f.label) for f in schedule.FREQUENCIES])
    prn_indication = forms.CharField(
        label="As-needed indication",
        required=False,
        max_length=200,
        help_text="Required for an as-needed order: what it is for.",
    )
    max_daily_mg = forms.DecimalField(
        label="Maximum in 24 hours (mg)", required=False, max_digits=8, decimal_places=3
    )
    bup_start = forms.ChoiceField(
        label="Buprenorphine induction",
        required=False,
        choices=[("", "—"), *((k.value, v) for k, v in BUPRENORPHINE_START_LABELS.items())],
        help_text="Buprenorphine only.",
    )
    taper = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text=TAPER_HELP
    )
    starts_at = forms.DateTimeField(
        required=False, widget=LOCAL_TIME, label="Starts", help_text="Empty for now."
    )
    ends_at = forms.DateTimeField(
        required=False, widget=LOCAL_TIME, label="Stops", help_text="Empty: until stopped."
    )
    rationale = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Methadone: the clinical rationale for a first-day total above the cap.",
    )
    instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    override_reason = forms.CharField(
        label="Override reason (only if a safety rule blocks this order)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def clean_taper(self) -> list[schedule.TaperStep]:
        return parse_taper(self.cleaned_data.get("taper") or "")

    def order_input(self) -> OrderInput:
        data = self.cleaned_data
        return OrderInput(
            drug=data["drug"],
            dose_mg=data["dose_mg"],
            route=data["route"],
            frequency=data["frequency"],
            starts_at=self.when(),
            ends_at=_local(data.get("ends_at"), self.time_zone),
            prn_indication=data.get("prn_indication", ""),
            max_daily_mg=data.get("max_daily_mg"),
            taper=data.get("taper") or [],
            bup_start=data.get("bup_start", ""),
            rationale=data.get("rationale", ""),
            instructions=data.get("instructions", ""),
        )

    def overrides(self, rules: list[str]) -> dict[str, str]:
        reason = (self.cleaned_data.get("override_reason") or "").strip()
        return dict.fromkeys(rules, reason) if reason else {}


def _local(value: datetime | None, time_zone: str) -> datetime | None:
    return local_to_aware(value, time_zone)


class GiveForm(TimedForm):
    time_field = "at"
    scheduled_for = forms.ChoiceField(label="Scheduled dose", required=False, choices=[])
    outcome = forms.ChoiceField(
        choices=AdministrationOutcome.choices, widget=forms.RadioSelect, initial="given"
    )
    reason = forms.CharField(
        required=False, max_length=500, help_text="Required when held or refused."
    )
    at = forms.DateTimeField(
        required=False, widget=LOCAL_TIME, label="Time", help_text="Empty for now."
    )

    def __init__(self, *args: Any, slots: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if slots:
            field = self.fields["scheduled_for"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = slots
            field.required = True
        else:
            del self.fields["scheduled_for"]


class OverrideForm(forms.Form):
    rule = forms.ChoiceField(choices=[(k, k) for k in RULE_TITLES], widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Clinical reason for going ahead", widget=forms.Textarea(attrs={"rows": 2})
    )


class FollowupForm(forms.Form):
    result = forms.ChoiceField(choices=FollowupResult.choices, widget=forms.RadioSelect)
    note = forms.CharField(required=False, max_length=500)


class StopForm(forms.Form):
    reason = forms.CharField(label="Why it stops", max_length=500)
