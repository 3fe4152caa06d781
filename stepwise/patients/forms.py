from __future__ import annotations

from typing import Any

from django import forms

from stepwise.patients import teds
from stepwise.patients.models import CareTeamRole, ContactRelationship
from stepwise.patients.services import PAYER_MEMBER_ID_MAX, PatientData


class PatientForm(forms.Form):
    mrn = forms.CharField(label="Medical record number", max_length=32)
    given_name = forms.CharField(max_length=100)
    family_name = forms.CharField(max_length=100)
    preferred_name = forms.CharField(max_length=100, required=False)
    date_of_birth = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    sex = forms.ChoiceField(choices=teds.SEX, initial=teds.MISSING)
    race = forms.ChoiceField(choices=teds.RACE, initial=teds.MISSING)
    ethnicity = forms.ChoiceField(choices=teds.ETHNICITY, initial=teds.MISSING)
    education = forms.ChoiceField(choices=teds.EDUCATION, initial=teds.MISSING)
    employment = forms.ChoiceField(choices=teds.EMPLOYMENT, initial=teds.MISSING)
    living_arrangement = forms.ChoiceField(choices=teds.LIVING_ARRANGEMENT, initial=teds.MISSING)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(required=False)
    # Entered in clear here only; stored encrypted and shown masked everywhere else.
    ssn = forms.CharField(
        label="Social security number",
        max_length=11,
        required=False,
        help_text="Optional. 9 digits; stored encrypted and shown as ***-**-1234.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )
    payer_member_id = forms.CharField(
        label="Payer member number",
        max_length=PAYER_MEMBER_ID_MAX,
        required=False,
        help_text="Optional. Stored encrypted.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def to_data(self) -> PatientData:
        return PatientData(**self.cleaned_data)


class ContactForm(forms.Form):
    name = forms.CharField(max_length=200)
    relationship = forms.ChoiceField(choices=ContactRelationship.choices)
    phone = forms.CharField(max_length=40, required=False)
    email = forms.EmailField(required=False)
    is_emergency_contact = forms.BooleanField(required=False, label="Emergency contact")


class CareTeamForm(forms.Form):
    user = forms.TypedChoiceField(coerce=int, label="Staff member")
    team_role = forms.ChoiceField(choices=CareTeamRole.choices, label="Role on the team")

    def __init__(self, *args: Any, staff: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = staff  # type: ignore[attr-defined]


class BreakGlassForm(forms.Form):
    reason = forms.CharField(
        label="The emergency",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What is happening and why you need this chart now. Reviewed by the privacy officer.",
    )
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class BreakGlassReviewForm(forms.Form):
    note = forms.CharField(
        label="Review", widget=forms.Textarea(attrs={"rows": 2}), max_length=2000
    )


class ResolveAlertForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="What was done"
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class CloseTaskForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("done", "Done"), ("cancelled", "No longer needed")], widget=forms.RadioSelect
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), max_length=2000, label="What was done"
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)
