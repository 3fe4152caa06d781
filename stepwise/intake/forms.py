"""Forms of the admissions line. Times are typed in the organization's (or, for a held
place, the program's facility's) local time."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from stepwise.care import rules as care_rules
from stepwise.care.forms import ProgramChoiceField, local_to_aware
from stepwise.care.models import Program
from stepwise.care.services import SubstanceUse
from stepwise.instruments.definitions.asam import ASAM3, DIMENSIONS
from stepwise.intake.models import (
    Authorization,
    CallerKind,
    Outcome,
    PayerType,
    Pregnancy,
    ReferralOutReason,
    WithdrawalEstimate,
)
from stepwise.intake.rules import screening as screen_rules
from stepwise.intake.rules import triage
from stepwise.intake.services.inquiries import CONCLUSIONS, CallDetails
from stepwise.intake.services.screening import ScreenAnswers
from stepwise.intake.services.waitlist import LEAVING_BY_HAND

LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
SUBSTANCE_ROWS = (1, 2, 3)


def _allowed(choices: Any) -> str:
    return ", ".join(str(label) for _, label in choices)


class TriageForm(forms.Form):
    """The danger questions, asked before anything else: tap the signs that apply."""

    signs = forms.MultipleChoiceField(
        choices=[(s.value, text) for s, text in triage.QUESTIONS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Danger signs",
    )


class NoteForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": "Write the note."},
    )


class CallDetailsForm(forms.Form):
    caller_kind = forms.ChoiceField(
        label="Who is calling", choices=CallerKind.choices, widget=forms.RadioSelect
    )
    caller_name = forms.CharField(label="Caller's name", required=False, max_length=200)
    caller_relationship = forms.CharField(
        label="Relationship or role", required=False, max_length=100
    )
    caller_phone = forms.CharField(
        label="Caller's phone",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    callback_ok = forms.BooleanField(label="May we call back?", required=False)
    message_ok = forms.BooleanField(
        label="May we leave a message naming the program?", required=False
    )
    given_name = forms.CharField(label="Given name", required=False, max_length=100)
    family_name = forms.CharField(label="Family name", required=False, max_length=100)
    date_of_birth = forms.DateField(
        label="Date of birth",
        required=False,
        widget=DATE,
        error_messages={"invalid": "Give a date, e.g. 1990-04-21."},
    )
    phone = forms.CharField(
        label="Person's phone",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    last_use_at = forms.DateTimeField(
        label="Last use",
        required=False,
        widget=LOCAL_TIME,
        error_messages={"invalid": "Give a date and time, e.g. 2026-03-08 02:30."},
    )
    pregnancy = forms.ChoiceField(
        label="Pregnancy", choices=Pregnancy.choices, initial=Pregnancy.UNKNOWN
    )
    last_overdose_on = forms.DateField(
        label="Last overdose (if any)",
        required=False,
        widget=DATE,
        error_messages={"invalid": "Give a date, e.g. 2026-03-01."},
    )
    prior_treatment = forms.TypedChoiceField(
        label="Treated before", choices=care_rules.PRIOR_TREATMENT, coerce=int, initial=-9
    )
    prior_treatment_note = forms.CharField(label="Where and when", required=False, max_length=300)
    situation_note = forms.CharField(
        label="Situation", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    referral_source = forms.TypedChoiceField(
        label="Referral source (TEDS)", choices=care_rules.REFERRAL_SOURCES, coerce=int, initial=-9
    )
    referring_organization = forms.CharField(
        label="Referring organization", required=False, max_length=200
    )
    referring_person = forms.CharField(label="Referring person", required=False, max_length=200)
    referring_contact = forms.CharField(
        label="Referrer's phone or email", required=False, max_length=200
    )

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone
        self.fields["last_use_at"].help_text = f"Local time ({time_zone}); a guess is fine."
        substances = [("", "—"), *((c, t) for c, t in care_rules.SUBSTANCES if c != -9)]
        for rank in SUBSTANCE_ROWS:
            which = {1: "main substance", 2: "second substance", 3: "third substance"}[rank]
            self.fields[f"substance_{rank}"] = forms.TypedChoiceField(
                label=which.capitalize(),
                choices=substances,
                coerce=int,
                required=False,
                empty_value=None,
            )
            self.fields[f"route_{rank}"] = forms.TypedChoiceField(
                label=f"How used ({which})", choices=care_rules.ROUTES, coerce=int, initial=-9
            )
            self.fields[f"frequency_{rank}"] = forms.ChoiceField(
                label=f"How often ({which})", choices=care_rules.FREQUENCIES, initial="unknown"
            )

    SECTIONS = (
        (
            "Who is calling",
            (
                "caller_kind",
                "caller_name",
                "caller_relationship",
                "caller_phone",
                "callback_ok",
                "message_ok",
            ),
        ),
        ("The person who needs help", ("given_name", "family_name", "date_of_birth", "phone")),
        (
            "Situation",
            (
                "last_use_at",
                "pregnancy",
                "last_overdose_on",
                "prior_treatment",
                "prior_treatment_note",
                "situation_note",
            ),
        ),
        (
            "Referral",
            ("referral_source", "referring_organization", "referring_person", "referring_contact"),
        ),
    )

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(legend, [self[name] for name in names]) for legend, names in self.SECTIONS]

    def substance_rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [
            (self[f"substance_{r}"], self[f"route_{r}"], self[f"frequency_{r}"])
            for r in SUBSTANCE_ROWS
        ]

    def details(self) -> CallDetails:
        data = self.cleaned_data
        uses = [
            SubstanceUse(data[f"substance_{r}"], data[f"route_{r}"], data[f"frequency_{r}"])
            for r in SUBSTANCE_ROWS
            if data.get(f"substance_{r}") is not None
        ]
        return CallDetails(
            caller_kind=data["caller_kind"],
            caller_name=data["caller_name"],
            caller_relationship=data["caller_relationship"],
            caller_phone=data["caller_phone"],
            callback_ok=data["callback_ok"],
            message_ok=data["message_ok"],
            given_name=data["given_name"],
            family_name=data["family_name"],
            date_of_birth=data["date_of_birth"],
            phone=data["phone"],
            substances=uses,
            last_use_at=local_to_aware(data["last_use_at"], self.time_zone),
            prior_treatment=data["prior_treatment"],
            prior_treatment_note=data["prior_treatment_note"],
            pregnancy=data["pregnancy"],
            last_overdose_on=data["last_overdose_on"],
            situation_note=data["situation_note"],
            referral_source=data["referral_source"],
            referring_organization=data["referring_organization"],
            referring_person=data["referring_person"],
            referring_contact=data["referring_contact"],
        )


def _dimension_field(number: int) -> forms.TypedChoiceField:
    item = ASAM3.item(DIMENSIONS[number - 1])
    return forms.TypedChoiceField(
        label=item.text,
        choices=[(a.value, f"{a.value} · {a.label}") for a in item.anchors],
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": f"Rate dimension {number} from 0 to 4."},
    )


class ScreenForm(forms.Form):
    withdrawal_estimate = forms.ChoiceField(
        label="Withdrawal now (estimate)",
        choices=WithdrawalEstimate.choices,
        widget=forms.RadioSelect,
        error_messages={"required": f"Choose one: {_allowed(WithdrawalEstimate.choices)}."},
    )
    d1 = _dimension_field(1)
    d2 = _dimension_field(2)
    d3 = _dimension_field(3)
    d4 = _dimension_field(4)
    d5 = _dimension_field(5)
    d6 = _dimension_field(6)
    medical_flags = forms.MultipleChoiceField(
        label="Medical red flags",
        choices=screen_rules.MEDICAL_FLAGS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    psychiatric_flags = forms.MultipleChoiceField(
        label="Psychiatric red flags",
        choices=screen_rules.PSYCHIATRIC_FLAGS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    payer_type = forms.ChoiceField(
        label="Payer", choices=PayerType.choices, initial=PayerType.UNKNOWN
    )
    payer_name = forms.CharField(label="Plan name", required=False, max_length=200)
    payer_member_id = forms.CharField(
        label="Member number",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    authorization = forms.ChoiceField(
        label="Authorization", choices=Authorization.choices, initial=Authorization.UNKNOWN
    )
    authorization_ref = forms.CharField(
        label="Authorization number", required=False, max_length=100
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def answers(self) -> ScreenAnswers:
        data = self.cleaned_data
        return ScreenAnswers(
            withdrawal_estimate=data["withdrawal_estimate"],
            ratings=[data[f"d{n}"] for n in range(1, 7)],
            payer_type=data["payer_type"],
            medical_flags=data["medical_flags"],
            psychiatric_flags=data["psychiatric_flags"],
            payer_name=data["payer_name"],
            payer_member_id=data["payer_member_id"],
            authorization=data["authorization"],
            authorization_ref=data["authorization_ref"],
            note=data["note"],
        )


class _ProgramForm(forms.Form):
    program = ProgramChoiceField(
        queryset=Program.objects.none(),
        to_field_name="public_id",
        error_messages={"required": "Choose a program.", "invalid_choice": "Choose a program."},
    )

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]


class HoldForm(_ProgramForm):
    expected_at = forms.DateTimeField(
        label="Expected arrival",
        widget=LOCAL_TIME,
        error_messages={
            "required": "Give the expected arrival time.",
            "invalid": "Give a date and time, e.g. 2026-03-08 07:00.",
        },
    )


class WaitlistAddForm(_ProgramForm):
    pass


class ConcludeForm(forms.Form):
    outcome = forms.ChoiceField(
        label="How the call ends",
        choices=[(o.value, o.label) for o in CONCLUSIONS],
        widget=forms.RadioSelect,
    )
    referred_to = forms.CharField(label="Referred to", required=False, max_length=200)
    referral_out_reason = forms.ChoiceField(
        label="Why referred elsewhere",
        choices=[("", "—"), *ReferralOutReason.choices],
        required=False,
    )
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 2}))


class FollowUpForm(forms.Form):
    due_at = forms.DateTimeField(
        label="Call back by",
        required=False,
        widget=LOCAL_TIME,
        help_text="Leave empty to mark the follow-up done.",
        error_messages={"invalid": "Give a date and time, e.g. 2026-03-08 10:00."},
    )
    note = forms.CharField(label="What for", required=False, max_length=300)


class GiveBackForm(forms.Form):
    reason = forms.CharField(
        label="Why give the place back",
        max_length=500,
        error_messages={"required": "Say why the place is given back."},
    )


NEW_PATIENT = "new"


class AdmitForm(_ProgramForm):
    patient = forms.ChoiceField(
        label="Who is this",
        widget=forms.RadioSelect,
        error_messages={"required": "Confirm the match, or register a new patient."},
    )
    mrn = forms.CharField(
        label="Record number for a new patient",
        required=False,
        max_length=32,
        help_text="Leave empty and Stepwise gives one.",
    )
    admitted_at = forms.DateTimeField(
        label="Admitted at",
        required=False,
        widget=LOCAL_TIME,
        help_text="Leave empty for now.",
        error_messages={"invalid": "Give a date and time, e.g. 2026-03-08 07:10."},
    )

    def __init__(self, *args: Any, matches: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["patient"].choices = [  # type: ignore[attr-defined]
            *matches,
            (NEW_PATIENT, "None of these: register a new patient from this call"),
        ]
        if not matches:
            self.fields["patient"].initial = NEW_PATIENT


class WaitlistLeaveForm(forms.Form):
    exit = forms.ChoiceField(
        label="Leaves because",
        choices=[(e.value, e.label) for e in LEAVING_BY_HAND],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(label="Why", max_length=500)
    referred_to = forms.CharField(label="Referred to", required=False, max_length=200)
    referral_out_reason = forms.ChoiceField(
        label="Why referred elsewhere",
        choices=ReferralOutReason.choices,
        initial=ReferralOutReason.NO_CAPACITY,
        required=False,
    )


OUTCOME_LABELS = dict(Outcome.choices)
