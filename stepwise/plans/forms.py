"""Forms of the plan pages: one item of the draft at a time (thumb-sized on a phone),
the patient's words, their signature, a review's reason, and the review settings."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms

from stepwise.care.models import Program
from stepwise.plans.models import PatientSignature, ReviewTrigger
from stepwise.plans.rules import content as rules
from stepwise.plans.rules import review
from stepwise.plans.rules.content import Goal, Intervention, Objective, Problem
from stepwise.plans.services.drafts import WHY_MAX, ReviewReason
from stepwise.plans.services.versions import NAME_MAX, REASON_MAX
from stepwise.scheduling.models import SessionType

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _text(
    label: str, *, rows: int = 3, required: bool = True, help_text: str = ""
) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=required,
        max_length=rules.STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": rows}),
        help_text=help_text,
    )


class ProblemForm(forms.Form):
    dimension = forms.TypedChoiceField(
        label="ASAM dimension (3rd edition)",
        coerce=int,
        choices=[(n, f"{n}. {name}") for n, name in rules.DIMENSIONS.items()],
        widget=forms.RadioSelect,
    )
    statement = _text(
        "Problem",
        help_text="What stands in the way, from the assessment, in plain words "
        '("Cravings after work lead to use most evenings").',
    )

    def item(self, key: uuid.UUID | None = None) -> Problem:
        return Problem(
            dimension=self.cleaned_data["dimension"],
            statement=self.cleaned_data["statement"],
            key=key or rules.new_key(),
        )


class GoalForm(forms.Form):
    statement = _text(
        "Goal", rows=2, help_text='What the patient works toward ("Stay abstinent from opioids").'
    )

    def item(self, key: uuid.UUID | None = None) -> Goal:
        return Goal(statement=self.cleaned_data["statement"], key=key or rules.new_key())


class ObjectiveForm(forms.Form):
    statement = _text(
        "Objective",
        rows=2,
        help_text="Measurable: who does what, how often, how it is checked "
        '("Attends 3 mutual-help meetings a week, shown by signed cards").',
    )
    target_on = forms.DateField(label="Target date", widget=_DATE)
    status = forms.ChoiceField(
        label="Status",
        choices=list(rules.OBJECTIVE_STATUSES.items()),
        initial="open",
        help_text="At a review: met, revised (changed now), or discontinued (kept in the "
        "history, no longer worked on).",
    )

    def item(self, key: uuid.UUID | None = None) -> Objective:
        return Objective(
            statement=self.cleaned_data["statement"],
            target_on=self.cleaned_data["target_on"],
            status=self.cleaned_data["status"],
            key=key or rules.new_key(),
        )


class InterventionForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind", choices=list(rules.INTERVENTION_KINDS.items()), widget=forms.RadioSelect
    )
    session_type = forms.ChoiceField(label="Session type", required=False)
    sessions_per_week = forms.IntegerField(
        label="Sessions a week",
        required=False,
        min_value=rules.PER_WEEK_MIN,
        max_value=rules.PER_WEEK_MAX,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    medication = forms.CharField(
        label="Which medication",
        required=False,
        max_length=rules.SHORT_MAX,
        help_text='For example "Buprenorphine continued with the prescriber".',
    )
    referral_to = forms.CharField(label="Referral to", required=False, max_length=rules.SHORT_MAX)
    referral_for = forms.CharField(label="Referral for", required=False, max_length=rules.SHORT_MAX)
    detail = _text(
        "Description",
        rows=2,
        required=False,
        help_text="What an intervention of the kind Other is; a short note for the others.",
    )
    responsible_role = forms.ChoiceField(
        label="Who is responsible", choices=list(rules.RESPONSIBLE_ROLES.items())
    )

    def __init__(self, *args: Any, session_types: list[SessionType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.names = {t.code: t.name for t in session_types}
        self.fields["session_type"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *((t.code, t.name) for t in session_types),
        ]

    def item(self, key: uuid.UUID | None = None) -> Intervention:
        data = self.cleaned_data
        code = data.get("session_type") or ""
        return Intervention(
            kind=data["kind"],
            responsible_role=data["responsible_role"],
            session_type=code,
            session_type_name=self.names.get(code, ""),
            sessions_per_week=data.get("sessions_per_week"),
            medication=data.get("medication") or "",
            referral_to=data.get("referral_to") or "",
            referral_for=data.get("referral_for") or "",
            detail=data.get("detail") or "",
            key=key or rules.new_key(),
        )


def intervention_initial(item: Intervention) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "session_type": item.session_type,
        "sessions_per_week": item.sessions_per_week,
        "medication": item.medication,
        "referral_to": item.referral_to,
        "referral_for": item.referral_for,
        "detail": item.detail,
        "responsible_role": item.responsible_role,
    }


_TRIGGERS = [(t.value, t.label) for t in ReviewTrigger]


def _why() -> forms.CharField:
    return forms.CharField(
        label="Why the plan is revised",
        max_length=WHY_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the new version, beside what changed.",
    )


class DetailsForm(forms.Form):
    """The patient's words, and for a review what led to it and why."""

    patient_words = forms.CharField(
        label="The patient's own words",
        required=False,
        max_length=rules.WORDS_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the patient wants from treatment, in their words. Needed to sign.",
    )

    def __init__(self, *args: Any, review: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.review = review
        if review:
            self.fields["trigger"] = forms.ChoiceField(
                label="What led to the review", choices=_TRIGGERS
            )
            self.fields["why"] = _why()

    def reason(self) -> ReviewReason | None:
        if not self.review:
            return None
        return ReviewReason(self.cleaned_data["trigger"], self.cleaned_data["why"])


class ReviewForm(forms.Form):
    trigger = forms.ChoiceField(label="What led to the review", choices=_TRIGGERS)
    why = _why()
    # The record that led to it (a relapse event), when the review is started from it.
    source = forms.UUIDField(required=False, widget=forms.HiddenInput)
    source_type = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)


class PatientSignatureForm(forms.Form):
    signature = forms.ChoiceField(
        label="The patient's signature",
        choices=[(s.value, s.label) for s in PatientSignature],
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label="Full name, typed as the patient signed",
        required=False,
        max_length=NAME_MAX,
    )
    on = forms.DateField(label="Day signed", required=False, widget=_DATE)
    reason = forms.CharField(
        label="Why the patient declined",
        required=False,
        max_length=REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class SettingsForm(forms.Form):
    review_interval_days = forms.IntegerField(
        label="Review every (days)",
        min_value=review.INTERVAL_MIN,
        max_value=review.INTERVAL_MAX,
        help_text=f"Allowed {review.INTERVAL_MIN} to {review.INTERVAL_MAX} days. "
        "Every plan is also reviewed when the patient's level of care changes.",
    )

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programs = programs
        for program in programs:
            self.fields[f"program_{program.public_id}"] = forms.IntegerField(
                label=f"{program.name} ({program.level_display})",
                required=False,
                min_value=review.INTERVAL_MIN,
                max_value=review.INTERVAL_MAX,
                help_text="Empty: the organization's interval.",
            )

    def program_fields(self) -> list[forms.BoundField]:
        return [self[f"program_{p.public_id}"] for p in self.programs]

    def program_values(self) -> dict[Program, int | None]:
        return {p: self.cleaned_data.get(f"program_{p.public_id}") for p in self.programs}
