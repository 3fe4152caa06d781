"""Forms of the recovery pages: a return to use, its response, a drug screen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from stepwise.care import rules as care_rules
from stepwise.care.forms import LOCAL_TIME, local_to_aware
from stepwise.recovery.rules import relapse, screens

_NOTE = forms.Textarea(attrs={"rows": 2})
_SUBSTANCES = [(code, text) for code, text in care_rules.SUBSTANCES if code != 1]


class UseForm(forms.Form):
    """What happened: the day, lapse or relapse, substances, route, context, triggers."""

    used_on = forms.DateField(
        label="Day of use",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="An earlier day is fine: the count places it on its own day.",
    )
    kind = forms.ChoiceField(
        label="Lapse or relapse",
        choices=[(k.value, t) for k, t in relapse.KIND_LABELS.items()],
        widget=forms.RadioSelect,
    )
    substances = forms.TypedMultipleChoiceField(
        label="Substances", choices=_SUBSTANCES, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    route = forms.TypedChoiceField(label="Route", choices=care_rules.ROUTES, coerce=int, initial=-9)
    overdose = forms.BooleanField(label="A non-fatal overdose", required=False)
    context = forms.CharField(
        required=False,
        widget=_NOTE,
        max_length=4000,
        help_text="Where, with whom, what was going on: in the patient's words when you can.",
    )
    triggers = forms.CharField(
        required=False,
        widget=_NOTE,
        max_length=4000,
        help_text="What led up to it (people, places, feelings, cravings).",
    )


class CloseForm(forms.Form):
    reason = forms.CharField(widget=_NOTE, max_length=2000)


class ResponseItemForm(forms.Form):
    state = forms.ChoiceField(
        choices=[("done", "Done"), ("declined", "Declined")], widget=forms.RadioSelect
    )
    moud_answer = forms.ChoiceField(
        label="Medication for OUD",
        required=False,
        choices=[("", "—"), *((a.value, t) for a, t in relapse.MOUD_LABELS.items())],
    )
    note = forms.CharField(
        required=False,
        widget=_NOTE,
        max_length=4000,
        help_text="What was done, or why it is declined.",
    )


_RESULT_CHOICES = [
    (screens.Result.NOT_TESTED.value, "Not tested"),
    (screens.Result.NEGATIVE.value, "Negative"),
    (screens.Result.POSITIVE.value, "Positive"),
]


class ResultsMixin(forms.Form):
    """One choice per analyte of the panel: not tested, negative or positive."""

    def add_result_fields(self) -> None:
        for analyte in screens.ANALYTES:
            self.fields[f"result_{analyte.code}"] = forms.ChoiceField(
                label=analyte.name,
                required=False,
                choices=_RESULT_CHOICES,
                initial=screens.Result.NOT_TESTED.value,
                widget=forms.RadioSelect(attrs={"class": "inline-choices"}),
            )

    def results(self) -> dict[str, str]:
        return {
            analyte.code: self.cleaned_data[f"result_{analyte.code}"]
            for analyte in screens.ANALYTES
            if self.cleaned_data.get(f"result_{analyte.code}")
            not in ("", screens.Result.NOT_TESTED)
        }

    @property
    def result_fields(self) -> list[forms.BoundField]:
        return [self[f"result_{a.code}"] for a in screens.ANALYTES]


class ScreenForm(ResultsMixin):
    collected_at = forms.DateTimeField(
        required=False,
        widget=LOCAL_TIME,
        label="Collected at",
        help_text="Leave empty for now. Local time of the patient's facility.",
    )
    observed = forms.BooleanField(label="Collection observed", required=False)
    validity = forms.ChoiceField(
        choices=[(v.value, t) for v, t in screens.VALIDITY_LABELS.items()],
        initial=screens.Validity.VALID.value,
        label="Specimen validity",
    )
    medications = forms.MultipleChoiceField(
        label="Medications the patient takes",
        required=False,
        choices=[(m.code, m.name) for m in screens.MEDICATIONS],
        widget=forms.CheckboxSelectMultiple,
        help_text="Active Stepwise MOUD orders always count; tick outside prescriptions "
        "too. A prescribed medication's positive is expected; its absence is flagged.",
    )
    results_now = forms.BooleanField(
        label="Results are known now (a point-of-care cup)",
        required=False,
        help_text="Leave unticked, and every analyte not tested, when the specimen goes "
        "to the laboratory.",
    )
    note = forms.CharField(required=False, widget=_NOTE, max_length=2000)

    def __init__(self, *args: Any, time_zone: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.time_zone = time_zone
        self.add_result_fields()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("results_now") and not self.results():
            self.add_error(
                "results_now",
                "Give at least one analyte's result (positive or negative), or untick "
                "this box for a laboratory specimen.",
            )
        return data

    def collected(self) -> datetime | None:
        return local_to_aware(self.cleaned_data.get("collected_at"), self.time_zone)


class ResultsForm(ResultsMixin):
    validity = forms.ChoiceField(
        choices=[(v.value, t) for v, t in screens.VALIDITY_LABELS.items()],
        label="Specimen validity (the laboratory's finding)",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_result_fields()


class SettingsForm(forms.Form):
    outreach_hours = forms.IntegerField(
        min_value=1,
        max_value=168,
        label="Hours to reach a patient after a relapse",
    )
    tolerance_days = forms.IntegerField(
        min_value=1,
        max_value=365,
        label="Days without use after which tolerance may be lost",
        help_text="A return to use after at least this many days raises the overdose-risk "
        "flag. No published figure: set your program's.",
    )
    flag_days = forms.IntegerField(
        min_value=1, max_value=365, label="Days the overdose-risk flag runs"
    )

    def __init__(self, *args: Any, expectations: dict[str, tuple[str, ...]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for medication in screens.MEDICATIONS:
            self.fields[f"expects_{medication.code}"] = forms.MultipleChoiceField(
                label=f"{medication.name} shows as",
                required=False,
                choices=[(a.code, a.name) for a in screens.ANALYTES],
                initial=list(expectations.get(medication.code, ())),
                widget=forms.CheckboxSelectMultiple,
            )

    def expectations(self) -> dict[str, list[str]]:
        return {m.code: list(self.cleaned_data[f"expects_{m.code}"]) for m in screens.MEDICATIONS}
