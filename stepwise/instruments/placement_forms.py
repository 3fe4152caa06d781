"""The placement page's form: the facts beside the ratings, then the decision."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from stepwise.care.forms import ProgramChoiceField
from stepwise.care.models import Program
from stepwise.care.rules import LEVELS_3RD
from stepwise.instruments import placement

CONFIRM = "confirm"
OVERRIDE = "override"


class PlacementForm(forms.Form):
    imminent_danger = forms.BooleanField(required=False, label="Imminent danger to self or others")
    unstable_vitals_or_severe_withdrawal = forms.BooleanField(
        required=False, label="Severe withdrawal with unstable vital signs"
    )
    pregnant = forms.BooleanField(required=False, label="Pregnant")
    use_withdrawal_score = forms.BooleanField(
        required=False,
        label="Consider the latest withdrawal score",
        help_text="It informs dimension 1 only; it never sets the level.",
    )
    decision = forms.ChoiceField(
        choices=[(CONFIRM, "Confirm the recommendation"), (OVERRIDE, "Choose another level")],
        widget=forms.RadioSelect,
        initial=CONFIRM,
    )
    chosen_level = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *((lv.code, f"{lv.code} · {lv.name}") for lv in LEVELS_3RD)],
        label="Level chosen instead",
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        label="Why another level",
        help_text="Required when choosing another level (for example the patient's "
        "preference, a program not available, a payer decision).",
    )
    # The level the page showed, so a confirmation cannot store a level never seen.
    shown_level = forms.CharField(required=False, widget=forms.HiddenInput)
    move_to = ProgramChoiceField(
        queryset=Program.objects.none(),
        to_field_name="public_id",
        required=False,
        label="Move the patient now to",
        help_text="Optional: a program at the decided level. The move is recorded as a "
        "transition of the current episode.",
    )

    def __init__(self, *args: Any, programs: QuerySet[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["move_to"].queryset = programs  # type: ignore[attr-defined]

    def facts(self, withdrawal_score: tuple[str, int] | None) -> placement.Facts:
        # The facts ticked count even when another field is at fault (a page shown
        # again with an error must recommend from what it shows).
        data: dict[str, Any] = {}
        if self.is_bound:
            self.is_valid()
            data = self.cleaned_data
        return placement.Facts(
            imminent_danger=bool(data.get("imminent_danger")),
            unstable_vitals_or_severe_withdrawal=bool(
                data.get("unstable_vitals_or_severe_withdrawal")
            ),
            pregnant=bool(data.get("pregnant")),
            withdrawal_score=withdrawal_score if data.get("use_withdrawal_score") else None,
        )
