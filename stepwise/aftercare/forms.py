"""Forms of the aftercare pages: one section of the plan, the review with the patient,
the patient's ending, a check-in, and the organization's settings."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django import forms

from stepwise.aftercare.models import Checkin, CheckinMethod
from stepwise.aftercare.rules import checkin as checkin_rules
from stepwise.aftercare.rules import plan as rules
from stepwise.aftercare.services.configuration import RANGES
from stepwise.care.forms import local_to_aware

_LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_TEL = forms.TextInput(attrs={"type": "tel", "autocomplete": "off"})


class LinesForm(forms.Form):
    """A section that is a list of short texts: one per line."""

    entries = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        max_length=rules.ITEMS_MAX * (rules.TEXT_MAX + 1),
    )
    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, section: rules.Section, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.section = section
        self.fields["entries"].label = rules.SECTION_LABELS[section]
        self.fields[
            "entries"
        ].help_text = f"{rules.SECTION_HELP[section]} One per line, at most {rules.ITEMS_MAX}."

    def values(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["entries"].splitlines() if line.strip()]


class SupportForm(forms.Form):
    kind = forms.ChoiceField(choices=[("", "Choose…"), *rules.SUPPORT_KINDS], label="Kind")
    group = forms.ChoiceField(
        choices=[("", "—"), *rules.GROUPS],
        required=False,
        label="Which group",
        help_text="For a support group only.",
    )
    name = forms.CharField(
        max_length=rules.NAME_MAX,
        label="Name",
        help_text="The therapist, the group's meeting, the prescriber, the house.",
    )
    contact = forms.CharField(
        max_length=rules.PHONE_MAX, required=False, label="Phone", widget=_TEL
    )
    schedule = forms.CharField(
        max_length=rules.SCHEDULE_MAX,
        required=False,
        label="When and how often",
        help_text="For example: Tuesdays 19:00, weekly.",
    )
    next_on = forms.DateField(required=False, label="Next appointment", widget=_DATE)


class PersonForm(forms.Form):
    who = forms.CharField(
        max_length=rules.NAME_MAX,
        label="Name or description",
        help_text="For example: J. from the old crew.",
    )
    relationship = forms.ChoiceField(
        choices=[("", "Choose…"), *rules.RELATIONSHIPS], label="Why they are avoided"
    )


class ContactForm(forms.Form):
    name = forms.CharField(max_length=rules.NAME_MAX, label="Name")
    relationship = forms.CharField(
        max_length=rules.NAME_MAX,
        required=False,
        label="Who they are",
        help_text="In the patient's words: sister, sponsor, friend.",
    )
    phone = forms.CharField(max_length=rules.PHONE_MAX, label="Phone", widget=_TEL)


ENTRY_FORMS: dict[rules.Section, type[forms.Form]] = {
    rules.Section.SUPPORTS: SupportForm,
    rules.Section.PEOPLE: PersonForm,
    rules.Section.CONTACTS: ContactForm,
}


class RevisionForm(forms.Form):
    revision = forms.IntegerField(widget=forms.HiddenInput)


class EntryFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this entry"


def entry_formset(
    section: rules.Section, data: Any = None, initial: Sequence[dict[str, Any]] = ()
) -> forms.BaseFormSet:  # type: ignore[type-arg]
    """The rows of a section whose entries have fields, with two empty rows to add to."""
    factory = forms.formset_factory(
        ENTRY_FORMS[section],
        formset=EntryFormSet,
        extra=2,
        can_delete=True,
        max_num=rules.ITEMS_MAX,
        validate_max=True,
    )
    return factory(data, initial=list(initial) or None, prefix=section.value)


def formset_values(formset: forms.BaseFormSet) -> tuple[list[dict[str, Any]], list[int]]:  # type: ignore[type-arg]
    """The kept rows as plain values, and which form each came from (for errors)."""
    values: list[dict[str, Any]] = []
    rows: list[int] = []
    for index, form in enumerate(formset.forms):
        data = getattr(form, "cleaned_data", None)
        if not data or data.get("DELETE"):
            continue
        item = {k: v for k, v in data.items() if k != "DELETE"}
        if isinstance(item.get("next_on"), date):
            item["next_on"] = item["next_on"].isoformat()
        values.append(item)
        rows.append(index)
    return values, rows


_AT = re.compile(r"^\w+\[(\d+)\](?:\.(\w+))?$")


def apply_entry_errors(
    formset: forms.BaseFormSet,  # type: ignore[type-arg]
    rows: list[int],
    errors: dict[str, str],
) -> list[str]:
    """Put a service's "supports[1].name" messages on that row's field; returns the
    messages that belong to no row."""
    left: list[str] = []
    for key, message in errors.items():
        match = _AT.match(key)
        if match and int(match[1]) < len(rows):
            form = formset.forms[rows[int(match[1])]]
            field = match[2] if match[2] in form.fields else None
            form.add_error(field, message)
        else:
            left.append(message)
    return left


def initial_entries(section: rules.Section, entries: Sequence[Any]) -> list[dict[str, Any]]:
    return [item for item in rules.dump_section(entries) if isinstance(item, dict)]


class ReviewForm(forms.Form):
    reviewed_at = forms.DateTimeField(
        required=False,
        widget=_LOCAL_TIME,
        label="When it was gone through with the patient",
        help_text="Leave empty for now. Local time.",
    )
    note = forms.CharField(
        required=False,
        max_length=rules.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Who took part (optional)",
        help_text="For example: with Ana and her sister; she has her printed copy.",
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone

    def reviewed(self) -> datetime | None:
        return local_to_aware(self.cleaned_data.get("reviewed_at"), self.time_zone)


class EndForm(forms.Form):
    ended_on = forms.DateField(
        required=False,
        widget=_DATE,
        label="The day the patient chose",
        help_text="Leave empty for today.",
    )
    reason = forms.CharField(
        max_length=rules.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="The patient's reason, in their words",
    )


class RestartForm(forms.Form):
    note = forms.CharField(
        required=False,
        max_length=rules.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why it is taken up again (optional)",
    )


UNSCHEDULED = "unscheduled"
_YES_NO = [("yes", "Yes"), ("no", "No")]
CRAVING_CHOICES = [
    (str(n), f"{n} — none" if n == 0 else f"{n} — the worst" if n == 10 else str(n))
    for n in range(checkin_rules.CRAVING_MAX + 1)
]


class CheckinForm(forms.Form):
    checkin = forms.ChoiceField(
        label="Which check-in",
        error_messages={
            "invalid_choice": "This check-in is no longer open (recorded by someone else, or "
            "no longer due): choose another, or an unscheduled one."
        },
    )
    method = forms.ChoiceField(choices=CheckinMethod.choices, widget=forms.RadioSelect, label="How")
    happened_at = forms.DateTimeField(
        required=False,
        widget=_LOCAL_TIME,
        label="When",
        help_text="Leave empty for now. Local time.",
    )
    wellbeing = forms.TypedChoiceField(
        choices=[(str(v), t) for v, t in checkin_rules.WELLBEING],
        coerce=int,
        widget=forms.RadioSelect,
        label="How is the patient doing?",
    )
    craving = forms.TypedChoiceField(
        choices=CRAVING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        label="Craving, 0 to 10",
    )
    used = forms.ChoiceField(
        choices=_YES_NO, widget=forms.RadioSelect, label="Any use since the last check-in?"
    )
    substances = forms.TypedMultipleChoiceField(
        choices=[(str(c), t) for c, t in checkin_rules.USED_SUBSTANCES],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Which substances (when used)",
        help_text="TEDS substance codes; Not recorded when the patient cannot say.",
    )
    used_on = forms.DateField(
        required=False, widget=_DATE, label="When (the day of the last use, if known)"
    )
    supports_attended = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Supports attended since the last check-in",
    )
    other_supports = forms.CharField(
        required=False,
        max_length=checkin_rules.SUPPORT_TEXT_MAX,
        label="Other supports attended",
        help_text="One per line, for anything not listed.",
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    note = forms.CharField(
        required=False,
        max_length=checkin_rules.NOTE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        label="Note",
    )

    def __init__(
        self,
        *args: Any,
        open_checkins: Sequence[Checkin],
        support_names: Sequence[str],
        time_zone: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone
        choices = [
            (
                str(c.public_id),
                f"{c.get_status_display()} · due {c.due_on:%a %Y-%m-%d} · {c.get_method_display()}",
            )
            for c in open_checkins
        ]
        checkin_field = self.fields["checkin"]
        supports_field = self.fields["supports_attended"]
        assert isinstance(checkin_field, forms.ChoiceField)
        assert isinstance(supports_field, forms.ChoiceField)
        checkin_field.choices = [*choices, (UNSCHEDULED, "An unscheduled check-in")]
        supports_field.choices = [(n, n) for n in support_names]
        if not support_names:
            self.fields["supports_attended"].widget = forms.MultipleHiddenInput()

    def chosen(self) -> str | None:
        value = self.cleaned_data["checkin"]
        return None if value == UNSCHEDULED else str(value)

    def report(self) -> checkin_rules.Report:
        data = self.cleaned_data
        others = [s.strip() for s in data.get("other_supports", "").splitlines() if s.strip()]
        used = data["used"] == "yes"
        return checkin_rules.Report(
            wellbeing=data["wellbeing"],
            craving=data["craving"],
            used=used,
            # Given as ticked: a use answered "no" with substances ticked is refused, not guessed.
            substances=tuple(data.get("substances") or ()),
            used_on=data.get("used_on"),
            supports_attended=(*data.get("supports_attended", []), *others),
            note=data.get("note", ""),
        )

    def happened(self) -> datetime | None:
        return local_to_aware(self.cleaned_data.get("happened_at"), self.time_zone)


class AftercareSettingsForm(forms.Form):
    default_method = forms.ChoiceField(
        choices=CheckinMethod.choices, label="Usual way of checking in"
    )
    crisis_line_name = forms.CharField(
        required=False,
        max_length=rules.NAME_MAX,
        label="The program's 24/7 line: its name",
        help_text="Shown on every crisis plan next to 988. For example: Riverside 24/7 line.",
    )
    crisis_line_phone = forms.CharField(
        required=False,
        max_length=rules.PHONE_MAX,
        label="The program's 24/7 line: its number",
        widget=_TEL,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for setting in RANGES:
            allowed = f"Allowed {setting.low} to {setting.high} {setting.unit}."
            self.fields[setting.name] = forms.IntegerField(
                label=f"{setting.label} ({setting.unit})",
                help_text=allowed,
                widget=forms.NumberInput(attrs={"min": setting.low, "max": setting.high}),
                error_messages={
                    "required": f"Give a value. {allowed}",
                    "invalid": f"Give a whole number. {allowed}",
                },
            )
        self.order_fields(
            [*(s.name for s in RANGES), "default_method", "crisis_line_name", "crisis_line_phone"]
        )

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}
