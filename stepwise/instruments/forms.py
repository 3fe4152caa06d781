"""The entry form of an instrument, built from its definition: one radio group per
item with its anchors, the context facts, and when it was observed."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms

from stepwise.care.forms import local_to_aware
from stepwise.instruments.engine import Instrument, Item

_LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
# Context facts Stepwise fills from the record when left empty (instruments.context).
FILLED_FROM_RECORD = {"sex": "Leave empty to use the sex in the patient's record."}
# Facts always taken from the response itself, never typed (the date observed).
DERIVED = {"observed_on"}


class ResponseForm(forms.Form):
    observed_at = forms.DateTimeField(
        required=False,
        widget=_LOCAL_TIME,
        label="Observed at",
        help_text="Leave empty for now. Local time of the patient's facility.",
    )

    def __init__(self, *args: Any, instrument: Instrument, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.time_zone = time_zone
        self.item_names: list[str] = []
        for item in instrument.items:
            self.fields[item.id] = forms.TypedChoiceField(
                label=item.text,
                choices=[(a.value, a.label) for a in item.anchors],
                coerce=int,
                widget=forms.RadioSelect,
                required=item.required,
                help_text=item.guidance,
            )
            self.item_names.append(item.id)
        self.context_names: list[str] = []
        for context_field in instrument.context_fields:
            if context_field.id in DERIVED:
                continue
            help_text = FILLED_FROM_RECORD.get(context_field.id, context_field.help)
            field: forms.Field
            if context_field.kind == "date":
                field = forms.DateField(
                    widget=forms.DateInput(attrs={"type": "date"}),
                    required=False,
                )
            else:
                field = forms.ChoiceField(
                    choices=[("", "—"), *context_field.choices], required=False
                )
            field.label = context_field.label
            field.help_text = help_text
            self.fields[context_field.id] = field
            self.context_names.append(context_field.id)
        # Items first, in published order, then the facts, then the time.
        self.order_fields([*self.item_names, *self.context_names, "observed_at"])

    def item_rows(self) -> list[tuple[Item, forms.BoundField]]:
        return [(item, self[item.id]) for item in self.instrument.items]

    def context_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.context_names]

    def answers_so_far(self) -> dict[str, int]:
        """Whatever items are answered with an allowed value (the live total uses this
        before the form is complete, so it must not depend on full validation)."""
        answers: dict[str, int] = {}
        for item in self.instrument.items:
            raw = self.data.get(item.id, "")
            if raw in ("", None):
                continue
            try:
                value = int(raw)
            except (TypeError, ValueError):
                continue
            if value in item.allowed:
                answers[item.id] = value
        return answers

    def answers(self) -> dict[str, int]:
        return {
            name: self.cleaned_data[name]
            for name in self.item_names
            if self.cleaned_data.get(name) not in ("", None)
        }

    def context(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for name in self.context_names:
            value = self.cleaned_data.get(name)
            if isinstance(value, date):
                values[name] = value.isoformat()
            elif value not in ("", None):
                values[name] = str(value)
        return values

    def observed(self) -> Any:
        return local_to_aware(self.cleaned_data.get("observed_at"), self.time_zone)


class MarkInErrorForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=1000,
        help_text="What was wrong (wrong patient, wrong time, item scored wrongly). Kept in the record.",
    )
