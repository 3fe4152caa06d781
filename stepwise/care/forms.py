"""Forms of the admit, transition and discharge pages."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from django import forms
from django.db.models import QuerySet

from stepwise.care import rules
from stepwise.care.models import Program


def local_to_aware(value: datetime | None, time_zone: str) -> datetime | None:
    """A datetime-local typed at a facility is in that facility's time zone."""
    if value is None:
        return None
    return value.replace(tzinfo=zoneinfo.ZoneInfo(time_zone))


class ProgramChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Program) -> str:
        beds = ""
        if obj.bed_capacity is not None:
            beds = f" · {obj.bed_capacity} beds"
        return f"{obj.name} — ASAM {obj.asam_level} · {obj.facility.name}{beds}"


LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AdmitForm(forms.Form):
    program = ProgramChoiceField(queryset=Program.objects.none(), to_field_name="public_id")
    referral_source = forms.TypedChoiceField(
        choices=rules.REFERRAL_SOURCES, coerce=int, initial=-9, label="Referral source (TEDS)"
    )
    admitted_at = forms.DateTimeField(
        required=False,
        widget=LOCAL_TIME,
        label="Admitted at",
        help_text="Leave empty for now. Local time of the program's facility.",
    )

    def __init__(self, *args: object, programs: QuerySet[Program], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]


KIND_AUTOMATIC = ""


class TransitionForm(forms.Form):
    to_program = ProgramChoiceField(
        queryset=Program.objects.none(), to_field_name="public_id", label="Move to program"
    )
    kind = forms.ChoiceField(
        choices=[
            (KIND_AUTOMATIC, "Work it out from the levels"),
            *((k.value, label) for k, label in rules.TRANSITION_LABELS.items()),
        ],
        required=False,
        widget=forms.RadioSelect,
        label="Kind of move",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="Reason")
    at = forms.DateTimeField(
        required=False, widget=LOCAL_TIME, label="Moved at", help_text="Leave empty for now."
    )

    def __init__(self, *args: object, programs: QuerySet[Program], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["to_program"].queryset = programs  # type: ignore[attr-defined]


class DischargeForm(forms.Form):
    reason = forms.TypedChoiceField(
        choices=[("", "Choose a reason"), *rules.DISCHARGE_REASONS],
        coerce=int,
        label="Reason for discharge (TEDS)",
    )
    at = forms.DateTimeField(
        required=False, widget=LOCAL_TIME, label="Discharged at", help_text="Leave empty for now."
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, label="Note")


class PlannedEndForm(forms.Form):
    planned_end_on = forms.DateField(
        label="Planned to leave on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="The facility's day; empty when no day is planned. The bed board counts it.",
        error_messages={"invalid": "Give a date, e.g. 2026-03-08."},
    )
