"""Forms of the sober-living pages. Times are typed on the residence's wall clock;
what is allowed is decided by the services, the inputs carry limits for the browser."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.db.models import QuerySet

from stepwise.residences import rules
from stepwise.residences.models import Bed, HouseFor, ResidenceRules
from stepwise.residences.services.curfew import MARKS
from stepwise.residences.services.house_for import REASON_LIMIT
from stepwise.residences.services.residency import MOVE_OUT_REASONS

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _zones() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(zoneinfo.available_timezones())]


def on_wall_clock(value: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A typed date and time read on the residence's clock (the form was parsed with
    UTC active, so its digits are the ones typed)."""
    if value is None:
        return None
    return rules.local_instant(value.date(), value.time().replace(tzinfo=None), zone)


def _rules_text_field(rows: int, required: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label="House rules",
        widget=forms.Textarea(attrs={"rows": rows}),
        max_length=20000,
        help_text=help_text,
        error_messages={"required": required},
    )


def _curfew_field(label: str, example: str, default: time, help_text: str = "") -> forms.TimeField:
    return forms.TimeField(
        label=label,
        widget=TIME,
        initial=default,
        help_text=help_text,
        error_messages={
            "required": f"Give the curfew, e.g. {example}.",
            "invalid": f"Give a time, e.g. {example}.",
        },
    )


def _moment_field(label: str) -> forms.DateTimeField:
    """When a move happened, typed on the residence's clock; empty is now."""
    return forms.DateTimeField(
        label=label,
        required=False,
        widget=LOCAL_TIME,
        help_text="Empty: now. On the residence's clock.",
        error_messages={"invalid": "Give a date and time, e.g. 2026-11-02 18:30."},
    )


class PublicIdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A record chosen by its public id; a malformed id is just not one of the choices."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class BedChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Bed) -> str:
        house = obj.house
        return (
            f"{house.residence.name} · {house.name} ({house.get_house_for_display().lower()}) "
            f"· {obj.label}"
        )


class ResidenceForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        error_messages={"required": "Name the residence."},
    )
    operator_name = forms.CharField(
        label="Operator",
        max_length=200,
        help_text="Who runs the residence (your organization or a partner).",
        error_messages={"required": "Name who runs the residence."},
    )
    address = forms.CharField(label="Address", max_length=300, required=False)
    phone = forms.CharField(label="Phone", max_length=40, required=False)
    certification = forms.CharField(
        label="Certification",
        max_length=200,
        required=False,
        help_text="Free text, e.g. NARR level II or a state certificate number.",
    )
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=_zones,
        help_text="Curfews and nights are counted in this zone.",
    )


class ResidenceNewForm(ResidenceForm):
    rules_text = _rules_text_field(
        10,
        "Write the house rules residents accept at move-in.",
        "Residents accept them at move-in; a later change makes a new version.",
    )


class RulesForm(forms.Form):
    rules_text = _rules_text_field(14, "Write the house rules.")


class HouseForm(forms.Form):
    name = forms.CharField(
        label="Name", max_length=120, error_messages={"required": "Name the house."}
    )
    address = forms.CharField(
        label="Address", max_length=300, required=False, help_text="Empty: the residence's."
    )
    house_for = forms.ChoiceField(
        label="For", choices=HouseFor.choices, widget=forms.RadioSelect, initial=HouseFor.ANY
    )
    curfew_weekday = _curfew_field("Curfew, Sunday to Thursday nights", "22:00", time(22, 0))
    curfew_weekend = _curfew_field(
        "Curfew, Friday and Saturday nights",
        "23:00",
        time(23, 0),
        "A time before noon is after midnight (01:00 is the next morning).",
    )


class BedForm(forms.Form):
    label = forms.CharField(
        label="Bed",
        max_length=40,
        help_text="e.g. Bed 1, Room 2 window",
        error_messages={"required": "Label the bed."},
    )


def _rules_seen(rules_rows: list[ResidenceRules]) -> str:
    return ",".join(f"{r.residence.public_id}:{r.version}" for r in rules_rows)


def seen_versions(text: str) -> dict[str, int]:
    """The rules versions the page showed, by residence id ("id:version,...")."""
    seen: dict[str, int] = {}
    for part in (text or "").split(","):
        key, _, version = part.partition(":")
        if key and version.isdigit() and len(version) < 9:
            seen[key.strip()] = int(version)
    return seen


def _vacant_bed_field(label: str) -> BedChoiceField:
    """One of the vacant beds the form is given (see _ChoosesBed)."""
    return BedChoiceField(
        label=label,
        queryset=Bed.objects.none(),
        to_field_name="public_id",
        empty_label="Choose a vacant bed",
        error_messages={
            "required": "Choose a vacant bed.",
            "invalid_choice": "Choose a vacant bed from the list.",
        },
    )


def _rules_seen_field() -> forms.CharField:
    """The rules versions the page showed (see seen_versions)."""
    return forms.CharField(widget=forms.HiddenInput, required=False)


def _house_for_reason_field() -> forms.CharField:
    """Why the resident is placed in a house for the other sex than the one recorded
    (needed only then; the service says so on this field)."""
    return forms.CharField(
        label="Reason, for a house for men or women the record does not fit",
        required=False,
        max_length=REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Needed only for such a bed, e.g. the resident is housed by their gender "
        "identity.",
    )


class _ChoosesBed(forms.Form):
    """A form choosing one of the vacant beds, with the house rules in force shown
    beside it. Declares no field, so each form keeps its own field order. The reason
    field stays only when the list offers beds in houses for the other sex
    (`with_reason`)."""

    def __init__(
        self,
        data: Any = None,
        *,
        beds: QuerySet[Bed],
        rules_rows: list[ResidenceRules],
        with_reason: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(data, **kwargs)
        bed_field: BedChoiceField = self.fields["bed"]  # type: ignore[assignment]
        bed_field.queryset = beds
        self.fields["rules_seen"].initial = _rules_seen(rules_rows)
        if not with_reason:
            del self.fields["house_for_reason"]


class MoveInForm(_ChoosesBed):
    """The bed, the time and the house rules for a patient chosen beforehand."""

    bed = _vacant_bed_field("Bed")
    house_for_reason = _house_for_reason_field()
    moved_in_at = _moment_field("Moved in at")
    expected_move_out_on = forms.DateField(
        label="Expected move-out",
        required=False,
        widget=DATE,
        error_messages={"invalid": "Give a date, e.g. 2027-02-01."},
    )
    rules_accepted = forms.BooleanField(
        label="The resident has read and accepted the house rules of this residence (shown below).",
        required=False,
    )
    rules_seen = _rules_seen_field()


class MoveOutForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why",
        choices=MOVE_OUT_REASONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose why the resident moves out."},
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed for Other.",
    )
    moved_out_at = _moment_field("Moved out at")


class MoveBedForm(_ChoosesBed):
    bed = _vacant_bed_field("New bed")
    house_for_reason = _house_for_reason_field()
    moved_at = _moment_field("Moved at")
    rules_accepted = forms.BooleanField(
        label="For a bed in another residence: the resident has read and accepted its house rules.",
        required=False,
    )
    rules_seen = _rules_seen_field()


class RulesAcceptForm(forms.Form):
    rules_accepted = forms.BooleanField(
        label="The resident has read and accepted these house rules.",
        required=False,
    )
    rules_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, min_value=1, max_value=10**6
    )


class CurfewForm(forms.Form):
    """One resident's quick mark: a button names the mark; a time and a reason are
    optional (an arrival defaults to now)."""

    mark = forms.ChoiceField(choices=MARKS, error_messages={"required": "Choose a mark."})
    arrived_at = forms.TimeField(
        label="Arrived at",
        required=False,
        widget=TIME,
        error_messages={"invalid": "Give a time, e.g. 22:10."},
    )
    reason = forms.CharField(label="Reason", required=False, max_length=500)
    night = forms.DateField(required=False, widget=forms.HiddenInput)

    def arrival(self, night: date, zone: ZoneInfo) -> datetime | None:
        """The typed arrival on that night: a time before noon is the next morning."""
        clock: time | None = self.cleaned_data.get("arrived_at")
        if clock is None:
            return None
        day = night if clock >= rules.NIGHT_STARTS else night + timedelta(days=1)
        return rules.local_instant(day, clock.replace(tzinfo=None), zone)
