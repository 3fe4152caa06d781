"""Forms of the medical admission assessment: the answers, and one row per substance
(a formset with a few blank rows, so no script is needed to add one).

The forms only turn what was typed into ``rules.admission.MedicalAdmissionData``;
the rules say what is allowed, and their messages are put back on the right row
and field (``apply_errors``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.forms.utils import ErrorList

from stepwise.care.forms import local_to_aware
from stepwise.withdrawal.forms import LOCAL_TIME
from stepwise.withdrawal.rules import admission as rules

# Blank substance rows offered below those already filled.
EXTRA_ROWS = 3
MAX_ROWS = 20
ROWS_PREFIX = "substances"

SUBSTANCE_LABELS = {s.code: s.label for s in rules.SUBSTANCES}
ROUTE_LABELS = {code: label for code, (label, _teds) in rules.ROUTES.items()}
TEST_LABELS = {s.value: label for s, label in rules.TEST_STATUS_LABELS.items()}

# The labels of the questions, shared by the form and the page that shows the answers.
LABELS = {
    "substance": "Substance",
    "routes": "Routes",
    "drug_form": "Form",
    "amount": "Amount",
    "frequency": "Frequency in the past month",
    "last_use_at": "Time of last use",
    "past_overdoses": "Past overdoses",
    "last_overdose_on": "Date of the last overdose",
    "fentanyl_exposure": "Known or suspected fentanyl exposure",
    "complications": "Injection complications",
    "nasal_damage": "Nasal damage from snorting",
    "test_hiv": "HIV status",
    "test_hbv": "Hepatitis B status",
    "test_hcv": "Hepatitis C status",
    "hbv_vaccinated": "Vaccinated against hepatitis B",
    "liver_concern": "Liver concerns",
    "kidney_concern": "Kidney concerns",
    "heart_concern": "Heart concerns",
    "pregnancy": "Pregnancy test",
    "allergies": "Allergies",
    "no_known_allergies": "No known allergies",
    "current_medications": "Current medications",
    "on_buprenorphine": "Takes buprenorphine now (prescribed)",
    "on_methadone": "Takes methadone now (from an opioid treatment program)",
    "recorded_at": "Assessed at",
}

# The rules' field names where the form's differ.
_ROW_FIELD = {"form": "drug_form"}
_ROW_ERROR = re.compile(r"^substances\[(\d+)\]\.(\w+)$")
_TEST_ERROR = re.compile(r"^tests\.(\w+)$")


def _allowed(choices: dict[str, str]) -> str:
    return "Allowed values: " + ", ".join(choices.values()) + "."


def _choice(
    name: str,
    choices: dict[str, str],
    *,
    blank: bool = True,
    initial: str | None = None,
    radio: bool = False,
) -> forms.ChoiceField:
    options = [("", "—")] if blank else []
    return forms.ChoiceField(
        label=LABELS[name],
        required=not blank,
        choices=[*options, *choices.items()],
        initial=initial,
        widget=forms.RadioSelect if radio else forms.Select,
        error_messages={
            "invalid_choice": _allowed(choices),
            "required": f"Choose one. {_allowed(choices)}",
        },
    )


def _several(name: str, choices: dict[str, str]) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=LABELS[name],
        required=False,
        choices=list(choices.items()),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": _allowed(choices)},
    )


def _text(name: str, help_text: str = "", rows: int = 2) -> forms.CharField:
    return forms.CharField(
        label=LABELS[name],
        required=False,
        max_length=2000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _flag(name: str) -> forms.BooleanField:
    return forms.BooleanField(label=LABELS[name], required=False)


class SubstanceRowForm(forms.Form):
    """One substance the patient uses. A row left blank is skipped."""

    substance = _choice("substance", SUBSTANCE_LABELS)
    routes = _several("routes", ROUTE_LABELS)
    drug_form = _choice("drug_form", rules.FORMS)
    amount = forms.CharField(
        label=LABELS["amount"],
        required=False,
        max_length=100,
        help_text="As the patient says it (for example 1 g, 10 bags, 4 pills).",
    )
    frequency = _choice("frequency", rules.FREQUENCIES)
    last_use_at = forms.DateTimeField(
        label=LABELS["last_use_at"],
        required=False,
        widget=LOCAL_TIME,
        help_text="Facility time. Required for every opioid: the induction rules need it.",
        error_messages={"invalid": "Give a date and time, for example 2025-03-01 21:30."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        typed = any(data.get(name) for name in self.fields if name not in ("substance", "DELETE"))
        if typed and not data.get("substance"):
            self.add_error(
                "substance",
                f"Choose the substance, or clear this row. {_allowed(SUBSTANCE_LABELS)}",
            )
        return data

    @property
    def used(self) -> bool:
        """Filled in (a substance chosen) and not marked for removal."""
        data = getattr(self, "cleaned_data", {})
        return bool(data.get("substance")) and not data.get("DELETE")


def _removed(row: forms.Form) -> bool:
    return bool(getattr(row, "cleaned_data", {}).get("DELETE"))


class BaseSubstanceFormSet(forms.BaseFormSet):  # type: ignore[type-arg]
    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this substance"


SubstanceFormSet = forms.formset_factory(
    SubstanceRowForm,
    formset=BaseSubstanceFormSet,
    extra=EXTRA_ROWS,
    max_num=MAX_ROWS,
    validate_max=True,
    can_delete=True,
    can_delete_extra=False,
)


class AdmissionForm(forms.Form):
    past_overdoses = forms.IntegerField(
        label=LABELS["past_overdoses"],
        min_value=0,
        max_value=99,
        initial=0,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
        error_messages={
            "required": "Give a number, 0 if none. Allowed 0 to 99.",
            "invalid": "Give a whole number. Allowed 0 to 99.",
            "min_value": "Allowed 0 to 99.",
            "max_value": "Allowed 0 to 99.",
        },
    )
    last_overdose_on = forms.DateField(
        label=LABELS["last_overdose_on"],
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": "Give a date, for example 2024-11-30."},
    )
    fentanyl_exposure = _choice(
        "fentanyl_exposure", rules.YES_NO_UNKNOWN, blank=False, initial="unknown", radio=True
    )
    complications = _several("complications", rules.COMPLICATIONS)
    nasal_damage = _flag("nasal_damage")
    test_hiv = _choice("test_hiv", TEST_LABELS, blank=False, initial="not_offered")
    test_hbv = _choice("test_hbv", TEST_LABELS, blank=False, initial="not_offered")
    test_hcv = _choice("test_hcv", TEST_LABELS, blank=False, initial="not_offered")
    hbv_vaccinated = _choice(
        "hbv_vaccinated", rules.YES_NO_UNKNOWN, blank=False, initial="unknown", radio=True
    )
    liver_concern = _text("liver_concern", "Leave empty if none.")
    kidney_concern = _text("kidney_concern", "Leave empty if none.")
    heart_concern = _text("heart_concern", "Leave empty if none.")
    pregnancy = _choice("pregnancy", rules.PREGNANCY, blank=False, initial="not_applicable")
    allergies = _text("allergies", "Each allergy and its reaction; or tick no known allergies.")
    no_known_allergies = _flag("no_known_allergies")
    current_medications = _text("current_medications", "Name, dose and how often.", rows=3)
    on_buprenorphine = _flag("on_buprenorphine")
    on_methadone = _flag("on_methadone")
    recorded_at = forms.DateTimeField(
        label=LABELS["recorded_at"],
        required=False,
        widget=LOCAL_TIME,
        help_text="Facility time. Empty for now.",
        error_messages={"invalid": "Give a date and time, for example 2025-03-01 21:30."},
    )

    GROUPS = (
        ("Overdose and fentanyl", ("past_overdoses", "last_overdose_on", "fentanyl_exposure")),
        ("Injection and snorting", ("complications", "nasal_damage")),
        ("Infections", ("test_hiv", "test_hbv", "test_hcv", "hbv_vaccinated")),
        ("Organs", ("liver_concern", "kidney_concern", "heart_concern")),
        ("Pregnancy", ("pregnancy",)),
        ("Allergies and medications", ("allergies", "no_known_allergies", "current_medications")),
        ("Medications for opioid use disorder", ("on_buprenorphine", "on_methadone")),
        ("When", ("recorded_at",)),
    )

    def groups(self) -> list[FieldGroup]:
        return [FieldGroup(title, [self[name] for name in names]) for title, names in self.GROUPS]


@dataclass
class FieldGroup:
    """Some of a form's fields under a heading; iterates like a form, so the shared
    ``_form_fields.html`` renders it."""

    title: str
    fields: list[forms.BoundField]

    def __iter__(self) -> Iterator[forms.BoundField]:
        return iter(self.fields)

    def non_field_errors(self) -> ErrorList:
        return ErrorList()


class AdmissionEntry:
    """The whole page: the answers and the substance rows, validated together."""

    def __init__(
        self,
        data: Any = None,
        *,
        time_zone: str,
        initial: dict[str, Any] | None = None,
        rows: list[dict[str, Any]] | None = None,
    ) -> None:
        self.time_zone = time_zone
        self.form = AdmissionForm(data, initial=initial)
        self.rows = SubstanceFormSet(data, initial=rows, prefix=ROWS_PREFIX)
        self.substance_errors: list[str] = []
        self._used: list[SubstanceRowForm] = []

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        valid = self.rows.is_valid() and valid
        return valid

    @property
    def has_errors(self) -> bool:
        return bool(
            self.form.errors
            or self.substance_errors
            or (self.rows.is_bound and (self.rows.non_form_errors() or self.marked_rows()))
        )

    def marked_rows(self) -> list[tuple[int, forms.Form]]:
        """The rows with a message (numbered from 1), leaving out those being removed:
        the formset does not validate them either."""
        return [
            (n, row)
            for n, row in enumerate(self.rows.forms, start=1)
            if row.is_bound and row.errors and not _removed(row)
        ]

    def used_rows(self) -> list[SubstanceRowForm]:
        return [row for row in self.rows.forms if isinstance(row, SubstanceRowForm) and row.used]

    def when(self) -> datetime | None:
        return local_to_aware(self.form.cleaned_data.get("recorded_at"), self.time_zone)

    def values(self) -> rules.MedicalAdmissionData:
        """What was typed, as the rules take it. After a failed is_valid, the answers
        that could not be read take the rules' defaults (see check_rest)."""
        self._used = self.used_rows()
        uses = tuple(
            rules.SubstanceUse(
                substance=d["substance"],
                routes=tuple(d.get("routes") or ()),
                form=d.get("drug_form") or "",
                amount=(d.get("amount") or "").strip(),
                frequency=d.get("frequency") or "",
                last_use_at=local_to_aware(d.get("last_use_at"), self.time_zone),
            )
            for d in (row.cleaned_data for row in self._used)
        )
        d = getattr(self.form, "cleaned_data", {})
        default = rules.MedicalAdmissionData()
        return rules.MedicalAdmissionData(
            substances=uses,
            past_overdoses=d.get("past_overdoses") or 0,
            last_overdose_on=d.get("last_overdose_on"),
            fentanyl_exposure=d.get("fentanyl_exposure") or default.fentanyl_exposure,
            complications=tuple(d.get("complications") or ()),
            nasal_damage=bool(d.get("nasal_damage")),
            tests={
                test: d.get(f"test_{test}") or rules.TestStatus.NOT_OFFERED.value
                for test in rules.TESTS
            },
            hbv_vaccinated=d.get("hbv_vaccinated") or default.hbv_vaccinated,
            liver_concern=(d.get("liver_concern") or "").strip(),
            kidney_concern=(d.get("kidney_concern") or "").strip(),
            heart_concern=(d.get("heart_concern") or "").strip(),
            pregnancy=d.get("pregnancy") or default.pregnancy,
            allergies=(d.get("allergies") or "").strip(),
            no_known_allergies=bool(d.get("no_known_allergies")),
            current_medications=(d.get("current_medications") or "").strip(),
            on_buprenorphine=bool(d.get("on_buprenorphine")),
            on_methadone=bool(d.get("on_methadone")),
        )

    def check_rest(self, now: datetime) -> None:
        """After a failed is_valid: the rules' messages about the answers that could be
        read, so one round shows every problem (questions already marked keep theirs)."""
        self.apply_errors(rules.data_errors(self.values(), now), only_unmarked=True)

    def apply_errors(self, errors: dict[str, str], *, only_unmarked: bool = False) -> None:
        """Put the rules' messages on the row and field they name (others on the form)."""
        rows_marked = bool(self.marked_rows())
        for key, message in errors.items():
            form, name = self._target(key)
            if key == "substances":
                if not (only_unmarked and rows_marked):
                    self.substance_errors.append(message)
                continue
            assert form is not None
            if only_unmarked and name is not None and name in form.errors:
                continue
            form.add_error(name, message)

    def _target(self, key: str) -> tuple[forms.Form | None, str | None]:
        """The form and field a rules' key names (None for the form as a whole)."""
        row_error = _ROW_ERROR.match(key)
        if row_error:
            index, name = int(row_error[1]), row_error[2]
            name = _ROW_FIELD.get(name, name)
            if index < len(self._used):
                row = self._used[index]
                return row, name if name in row.fields else None
            return self.form, None
        if key == "substances":
            return None, None
        test_error = _TEST_ERROR.match(key)
        if test_error and f"test_{test_error[1]}" in self.form.fields:
            return self.form, f"test_{test_error[1]}"
        return self.form, key if key in self.form.fields else None

    def summary(self) -> list[tuple[str, str, str]]:
        """Every message with the question it is about and the id to jump to."""
        found = [("", str(m), "") for m in self.form.non_field_errors()]
        found += [("Substances", m, "substances") for m in self.substance_errors]
        if self.rows.is_bound:
            found += [("Substances", str(m), "substances") for m in self.rows.non_form_errors()]
        for n, row in self.marked_rows():
            chosen = SUBSTANCE_LABELS.get(str(row["substance"].value() or ""), "")
            where = f"Substance {n}" + (f" ({chosen})" if chosen else "")
            found += [(where, str(m), f"row-{n}") for m in row.non_field_errors()]
            found += _field_messages(row, f"{where}, ")
        return found + _field_messages(self.form)


def _field_messages(form: forms.Form, where: str = "") -> list[tuple[str, str, str]]:
    """(question, message, input id) of each field error of the form."""
    return [
        (
            f"{where}{form[name].label.lower() if where else form[name].label}",
            str(m),
            form[name].auto_id,
        )
        for name, messages in form.errors.items()
        if name != NON_FIELD_ERRORS
        for m in messages
    ]


def _local(at: datetime | None, time_zone: str) -> datetime | None:
    """An aware time as the facility's wall clock, as a datetime-local input shows it."""
    return at.astimezone(ZoneInfo(time_zone)).replace(tzinfo=None) if at else None


def prefill(data: rules.MedicalAdmissionData, time_zone: str) -> dict[str, Any]:
    """The entry's initial values from an earlier assessment (its ``initial`` and ``rows``)."""
    rows = [
        {
            "substance": use.substance,
            "routes": list(use.routes),
            "drug_form": use.form,
            "amount": use.amount,
            "frequency": use.frequency,
            "last_use_at": _local(use.last_use_at, time_zone),
        }
        for use in data.substances
    ]
    initial = {
        "past_overdoses": data.past_overdoses,
        "last_overdose_on": data.last_overdose_on,
        "fentanyl_exposure": data.fentanyl_exposure,
        "complications": list(data.complications),
        "nasal_damage": data.nasal_damage,
        **{
            f"test_{test}": data.tests.get(test, rules.TestStatus.NOT_OFFERED.value)
            for test in rules.TESTS
        },
        "hbv_vaccinated": data.hbv_vaccinated,
        "liver_concern": data.liver_concern,
        "kidney_concern": data.kidney_concern,
        "heart_concern": data.heart_concern,
        "pregnancy": data.pregnancy,
        "allergies": data.allergies,
        "no_known_allergies": data.no_known_allergies,
        "current_medications": data.current_medications,
        "on_buprenorphine": data.on_buprenorphine,
        "on_methadone": data.on_methadone,
    }
    return {"initial": initial, "rows": rows}


class ReviewForm(forms.Form):
    admission = forms.UUIDField(
        widget=forms.HiddenInput,
        error_messages={
            "required": "Reload the page and review the assessment it shows.",
            "invalid": "Reload the page and review the assessment it shows.",
        },
    )
    note = forms.CharField(
        label="Review note",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you checked, and any change to the plan.",
    )
