"""Forms of the consent, release, emergency, accounting and review pages.

They collect what people type; the services validate every element and name the
field that is wrong, so a refusal lands on the form (core.web.submit).
"""

from __future__ import annotations

from typing import Any

from django import forms

from stepwise.privacy import rules
from stepwise.privacy.models import (
    ConsentKind,
    Purpose,
    RecipientClass,
    RevocationChannel,
    SignatureMethod,
    Signer,
)
from stepwise.privacy.services import ConsentData, DisclosureRequest, Signature

CATEGORY_CHOICES = [(c.value, label) for c, label in rules.CATEGORY_LABELS.items()]
_DATE = forms.DateInput(attrs={"type": "date"})
_TEXT = forms.Textarea(attrs={"rows": 3})


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


class OwnIdsForm(forms.Form):
    """A form that shares its page with others: its element ids carry its own prefix,
    so each label points at its own field (not the same `id_note` twice)."""

    id_prefix = "form"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class ConsentForm(forms.Form):
    kind = forms.ChoiceField(
        choices=ConsentKind.choices, widget=forms.RadioSelect, label="Kind of consent"
    )
    disclosing_party = forms.CharField(
        max_length=300,
        required=False,
        label="Who may disclose",
        help_text="Leave empty for the program and its staff.",
    )
    categories = forms.MultipleChoiceField(
        choices=CATEGORY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Information that may be disclosed",
    )
    information_description = forms.CharField(
        widget=_TEXT,
        required=False,
        label="Description of the information",
        help_text="Specific and meaningful, naming the substance use disorder information.",
    )
    recipient_names = forms.CharField(
        widget=_TEXT,
        required=False,
        label="Recipients by name",
        help_text="One person or organization per line.",
    )
    recipient_classes = forms.MultipleChoiceField(
        choices=RecipientClass.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Recipients by class",
        help_text="Only a treatment, payment and operations consent may name recipients by class alone.",
    )
    recipient_description = forms.CharField(
        widget=_TEXT,
        required=False,
        label="Recipients described in words",
        help_text=(
            "Left empty on a treatment, payment and operations consent, it reads: "
            f"“{rules.TPO_GENERIC_RECIPIENTS}”"
        ),
    )
    purposes = forms.MultipleChoiceField(
        choices=[c for c in Purpose.choices if c[0] != Purpose.LEGAL_PROCEEDING],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Purpose",
    )
    purpose_description = forms.CharField(widget=_TEXT, required=False, label="Purpose in words")
    expires_on = forms.DateField(required=False, widget=_DATE, label="Expires on")
    expiry_event = forms.CharField(
        max_length=200,
        required=False,
        label="Or expires at this event",
        help_text="For example: end of treatment; or 'none' for a treatment, payment and operations consent.",
    )
    revocation_statement = forms.CharField(
        widget=_TEXT,
        initial=rules.DEFAULT_REVOCATION_STATEMENT,
        required=False,
        label="How to revoke (in writing)",
    )
    redisclosure_statement = forms.CharField(
        widget=_TEXT,
        initial=rules.DEFAULT_REDISCLOSURE_STATEMENT,
        required=False,
        label="HIPAA redisclosure statement",
        help_text="Needed when recipients are HIPAA covered entities or business associates receiving for treatment, payment or operations.",
    )
    irrevocable_until = forms.DateField(
        required=False, widget=_DATE, label="Irrevocable until (criminal-justice referral only)"
    )

    def to_data(self) -> ConsentData:
        d = self.cleaned_data
        return ConsentData(
            kind=d["kind"],
            categories=list(d["categories"]),
            information_description=d["information_description"],
            purposes=list(d["purposes"]),
            recipient_names=_lines(d["recipient_names"]),
            recipient_classes=list(d["recipient_classes"]),
            recipient_description=d["recipient_description"],
            purpose_description=d["purpose_description"],
            disclosing_party=d["disclosing_party"],
            revocation_statement=d["revocation_statement"],
            expires_on=d["expires_on"],
            expiry_event=d["expiry_event"],
            redisclosure_statement=d["redisclosure_statement"],
            irrevocable_until=d["irrevocable_until"],
        )


class SignForm(OwnIdsForm):
    id_prefix = "sign"
    signer = forms.ChoiceField(
        choices=Signer.choices, widget=forms.RadioSelect, initial=Signer.PATIENT, label="Who signs"
    )
    signer_name = forms.CharField(
        max_length=200, required=False, label="Full name, typed by the signer"
    )
    representative_authority = forms.CharField(
        max_length=200,
        required=False,
        label="Representative's authority",
        help_text="For a representative: parent of a minor, legal guardian, health care power of attorney…",
    )
    method = forms.ChoiceField(
        choices=SignatureMethod.choices, initial=SignatureMethod.ELECTRONIC, label="Signature"
    )
    attested = forms.BooleanField(
        required=False,
        label="I have read this consent (or had it read to me), and typing my name here is my signature.",
    )

    def to_signature(self) -> Signature:
        d = self.cleaned_data
        return Signature(
            signer=d["signer"],
            signer_name=d["signer_name"],
            attested=d["attested"],
            method=d["method"],
            representative_authority=d["representative_authority"],
        )


class ReconfirmForm(OwnIdsForm):
    id_prefix = "reconfirm"
    signer_name = forms.CharField(
        max_length=200, required=False, label="Full name of the person confirming"
    )
    note = forms.CharField(widget=_TEXT, required=False, label="Note")


class RevokeForm(OwnIdsForm):
    id_prefix = "revoke"
    channel = forms.ChoiceField(
        choices=RevocationChannel.choices, label="Written revocation received as"
    )
    note = forms.CharField(widget=_TEXT, required=False, label="Note")


class ReleaseForm(forms.Form):
    recipient_name = forms.CharField(
        max_length=300,
        label="Recipient",
        widget=forms.TextInput(attrs={"list": "recipients-on-file", "autocomplete": "off"}),
    )
    recipient_address = forms.CharField(widget=_TEXT, required=False, label="Recipient's address")
    recipient_class = forms.ChoiceField(choices=RecipientClass.choices, label="Kind of recipient")
    purpose = forms.ChoiceField(choices=Purpose.choices, label="Purpose")
    purpose_description = forms.CharField(widget=_TEXT, required=False, label="Purpose in words")
    categories = forms.MultipleChoiceField(
        choices=CATEGORY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        label="Information to release",
    )
    information_description = forms.CharField(
        widget=_TEXT, required=False, label="Notes on what is released"
    )
    court_order_reference = forms.CharField(
        max_length=200,
        required=False,
        label="Court order reference (§2.64 / §2.65)",
        help_text="Needed for any release for a proceeding against the patient. A subpoena is not a court order.",
    )
    court_order_court = forms.CharField(max_length=300, required=False, label="Issuing court")

    def to_request(self) -> DisclosureRequest:
        d = self.cleaned_data
        order = None
        if d["court_order_reference"].strip() or d["court_order_court"].strip():
            order = rules.CourtOrderFacts(
                reference=d["court_order_reference"], court=d["court_order_court"]
            )
        return DisclosureRequest(
            recipient_name=d["recipient_name"],
            recipient_address=d["recipient_address"],
            recipient_class=d["recipient_class"],
            purpose=d["purpose"],
            purpose_description=d["purpose_description"],
            categories=tuple(d["categories"]),
            information_description=d["information_description"],
            court_order=order,
        )


EMERGENCY_DEFAULT_CATEGORIES = [
    rules.InfoCategory.DEMOGRAPHICS.value,
    rules.InfoCategory.EPISODES.value,
    rules.InfoCategory.MEDICATIONS.value,
    rules.InfoCategory.DIAGNOSES.value,
]


class EmergencyForm(forms.Form):
    recipient_name = forms.CharField(
        max_length=300, label="Medical personnel receiving the information"
    )
    recipient_facility = forms.CharField(max_length=300, required=False, label="Their facility")
    recipient_address = forms.CharField(widget=_TEXT, required=False, label="Facility address")
    nature = forms.CharField(widget=_TEXT, required=False, label="Nature of the emergency")
    categories = forms.MultipleChoiceField(
        choices=[c for c in CATEGORY_CHOICES if c[0] != rules.InfoCategory.COUNSELING_NOTES],
        widget=forms.CheckboxSelectMultiple,
        initial=EMERGENCY_DEFAULT_CATEGORIES,
        label="Information needed for the emergency",
    )

    def to_request(self) -> DisclosureRequest:
        d = self.cleaned_data
        return DisclosureRequest(
            recipient_name=d["recipient_name"],
            recipient_address=d["recipient_address"],
            recipient_class=RecipientClass.TREATING_PROVIDER,
            purpose=Purpose.TREATMENT,
            categories=tuple(d["categories"]),
            emergency=rules.EmergencyFacts(
                recipient_facility=d["recipient_facility"], nature=d["nature"]
            ),
        )


class AccountingForm(forms.Form):
    since = forms.DateField(
        required=False,
        widget=_DATE,
        label="From",
        help_text="Leave empty for the full three years.",
    )


class ReviewForm(forms.Form):
    note = forms.CharField(widget=_TEXT, required=False, label="Review note")
