"""Forms of the order-set pages: a set's name and description, and its medication
lines as rows of one table (a row left empty is no line). What each line allows is
checked by the service, the one place that knows; these forms only parse."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from stepwise.withdrawal.order_sets import SetLine
from stepwise.withdrawal.rules import formulary, schedule
from stepwise.withdrawal.services.order_sets import MAX_LINES, SET_DRUGS, LineInput

# Empty rows offered below a set's lines, for adding medications.
SPARE_ROWS = 3


class OrderSetForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(
        max_length=300,
        required=False,
        help_text="What the set is for and when to use it, shown to the physician.",
    )


class LineForm(forms.Form):
    drug = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *((d.code, d.name) for d in SET_DRUGS)],
        error_messages={
            "invalid_choice": "Allowed in a set (comfort and rescue medication; MOUD is "
            "ordered on its own): " + ", ".join(d.code for d in SET_DRUGS) + "."
        },
    )
    dose_mg = forms.DecimalField(
        label="Dose (mg)",
        required=False,
        max_digits=8,
        decimal_places=3,
        min_value=Decimal("0.001"),
    )
    route = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *((r.value, formulary.ROUTE_LABELS[r]) for r in formulary.Route)],
    )
    frequency = forms.ChoiceField(
        required=False, choices=[("", "—"), *((f.code, f.label) for f in schedule.FREQUENCIES)]
    )
    prn_indication = forms.CharField(label="As-needed indication", required=False, max_length=200)
    max_daily_mg = forms.DecimalField(
        label="Maximum in 24 hours (mg)", required=False, max_digits=8, decimal_places=3
    )

    def is_blank(self) -> bool:
        return not any(self.cleaned_data.get(name) for name in self.fields)

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        if self.is_blank():
            return data
        for name in ("drug", "dose_mg", "route", "frequency"):
            if not data.get(name) and name not in self.errors:
                self.add_error(name, "Required on a line with a medication (or empty the row).")
        return data

    def line(self) -> LineInput:
        data = self.cleaned_data
        return LineInput(
            drug=data["drug"],
            dose_mg=data["dose_mg"],
            route=data["route"],
            frequency=data["frequency"],
            prn_indication=data["prn_indication"],
            max_daily_mg=data["max_daily_mg"],
        )


BaseLineFormSet = forms.formset_factory(
    LineForm, extra=0, max_num=MAX_LINES + SPARE_ROWS, absolute_max=MAX_LINES + SPARE_ROWS
)


class LineFormSet(BaseLineFormSet):  # type: ignore[valid-type,misc]
    def lines(self) -> list[LineInput]:
        """The filled rows, in order (call after is_valid)."""
        return [form.line() for form in self.forms if not form.is_blank()]

    def filled_forms(self) -> list[LineForm]:
        return [form for form in self.forms if not form.is_blank()]


def line_initial(lines: tuple[SetLine, ...]) -> list[dict[str, str]]:
    return [
        {
            "drug": line.drug,
            "dose_mg": line.dose_mg,
            "route": line.route,
            "frequency": line.frequency,
            "prn_indication": line.prn_indication,
            "max_daily_mg": line.max_daily_mg,
        }
        for line in lines
    ]


def posted_rows(data: Any) -> list[dict[str, str]]:
    """The rows as typed (unchecked), without the empty ones: the form shown again
    with more empty rows keeps what was entered."""
    try:
        total = min(int(data.get("line-TOTAL_FORMS", 0)), MAX_LINES + SPARE_ROWS)
    except ValueError:
        total = 0
    rows = [
        {name: str(data.get(f"line-{index}-{name}", "")) for name in LineForm.base_fields}
        for index in range(total)
    ]
    return [row for row in rows if any(value.strip() for value in row.values())]


def line_formset_with_rows(rows: list[dict[str, str]]) -> LineFormSet:
    spare = max(0, min(SPARE_ROWS, MAX_LINES + SPARE_ROWS - len(rows)))
    return LineFormSet(prefix="line", initial=[*rows, *([{}] * spare)])


def line_formset(data: Any = None, *, initial: tuple[SetLine, ...] = ()) -> LineFormSet:
    """The set's lines followed by a few empty rows. Every field is optional to the
    form, so a row the user empties is dropped rather than refused."""
    if data is not None:
        return LineFormSet(data, prefix="line")
    return LineFormSet(prefix="line", initial=[*line_initial(initial), *([{}] * SPARE_ROWS)])
