"""Forms of the pages that set up a program's schedule. Times and days are typed in
the facility's local time; ranges and other rules are checked by the services (the
one place that says what is allowed), the inputs carry them for the browser too."""

from __future__ import annotations

from datetime import time
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.text import slugify

from stepwise.accounts.models import Membership
from stepwise.care.models import Program
from stepwise.core.models import Facility
from stepwise.core.roles import ROLE_LABELS, Role
from stepwise.scheduling import rules
from stepwise.scheduling.models import Room, SessionMode, SessionType
from stepwise.scheduling.services.configuration import RANGES
from stepwise.scheduling.services.series import SeriesPlan

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
LOCAL_TIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
INTERVALS = [(1, "Every week"), (2, "Every 2 weeks"), (3, "Every 3 weeks"), (4, "Every 4 weeks")]
CORE, OPTIONAL = "core", "optional"


def _number(low: int, high: int) -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": low, "max": high, "step": 1, "inputmode": "numeric"})


def _date_messages(example: str) -> dict[str, str]:
    return {"invalid": f"Give a date, e.g. {example}."}


class PublicIdChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    """A record chosen by its public id; a malformed id is just not one of the choices."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from None


class SessionTypeChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: SessionType) -> str:
        return f"{obj.name} ({obj.get_mode_display().lower()}, {obj.default_minutes} min)"


class FacilitatorChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Membership) -> str:
        name = obj.user.get_full_name() or obj.user.username
        return f"{name} ({ROLE_LABELS.get(Role(obj.role), obj.role)})"


class RoomChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Room) -> str:
        return f"{obj.name} ({obj.seats} seats)" if obj.seats else obj.name


def _facilitator_field(**kwargs: Any) -> FacilitatorChoiceField:
    kwargs.setdefault("empty_label", "Choose who runs it")
    return FacilitatorChoiceField(
        queryset=Membership.objects.none(),
        to_field_name="public_id",
        label="Facilitator",
        error_messages={
            "required": "Choose who runs the session.",
            "invalid_choice": "Choose an active member of staff from the list.",
        },
        **kwargs,
    )


def _room_field(**kwargs: Any) -> RoomChoiceField:
    return RoomChoiceField(
        queryset=Room.objects.none(),
        to_field_name="public_id",
        required=False,
        label="Room",
        error_messages={"invalid_choice": "Choose a room of this facility from the list."},
        **kwargs,
    )


class SeriesForm(forms.Form):
    """A recurring session of a program: which days, when, who, where."""

    session_type = SessionTypeChoiceField(
        queryset=SessionType.objects.none(),
        to_field_name="public_id",
        label="Session type",
        empty_label="Choose a type",
        error_messages={
            "required": "Choose the type of session.",
            "invalid_choice": "Choose an active session type from the list.",
        },
    )
    title = forms.CharField(
        label="Title",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 120}),
        help_text="Empty: the session type's name.",
    )
    facilitator = _facilitator_field()
    room = _room_field(empty_label="No room")
    capacity = forms.IntegerField(
        label="Seats",
        required=False,
        widget=_number(1, 200),
        help_text="Empty for no limit.",
        error_messages={"invalid": "Seats: a whole number, 1 to 200, or leave empty."},
    )
    weekdays = forms.TypedMultipleChoiceField(
        label="On",
        choices=WEEKDAYS,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one weekday (Monday to Sunday)."},
    )
    interval = forms.TypedChoiceField(
        label="Repeats",
        choices=INTERVALS,
        coerce=int,
        initial=1,
        error_messages={"invalid_choice": "Repeat every 1 to 4 weeks."},
    )
    start_time = forms.TimeField(
        label="Starts at",
        widget=TIME,
        error_messages={
            "required": "Give the start time, e.g. 18:00.",
            "invalid": "Give a time, e.g. 18:00.",
        },
    )
    minutes = forms.IntegerField(
        label="Minutes",
        required=False,
        widget=_number(5, 600),
        help_text="Empty: the session type's usual length.",
        error_messages={"invalid": "Minutes: a whole number, 5 to 600."},
    )
    first_day = forms.DateField(
        label="First day",
        widget=DATE,
        error_messages={"required": "Give the first day.", **_date_messages("2026-11-02")},
    )
    last_day = forms.DateField(
        label="Last day",
        required=False,
        widget=DATE,
        help_text="Empty: the series goes on until it is ended.",
        error_messages=_date_messages("2027-06-30"),
    )
    kind = forms.ChoiceField(
        label="Who attends",
        choices=[
            (CORE, "Core: every patient of the program, with their stay"),
            (OPTIONAL, "Optional: patients are enrolled one by one"),
        ],
        initial=CORE,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose core or optional."},
    )

    def __init__(
        self,
        *args: Any,
        session_types: QuerySet[SessionType],
        facilitators: QuerySet[Membership],
        rooms: QuerySet[Room],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session_type"].queryset = session_types  # type: ignore[attr-defined]
        self.fields["facilitator"].queryset = facilitators  # type: ignore[attr-defined]
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]
        self.rule = ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        weekdays = data.get("weekdays")
        interval = data.get("interval")
        if weekdays and interval:
            try:
                self.rule = rules.weekly_rule(weekdays, interval)
            except rules.RecurrenceError as exc:
                self.add_error("weekdays", str(exc))
        return data

    def plan(self, program: Program) -> SeriesPlan:
        data = self.cleaned_data
        session_type: SessionType = data["session_type"]
        start: time = data["start_time"]
        return SeriesPlan(
            program=program,
            session_type=session_type,
            facilitator_id=data["facilitator"].user_id,
            rule=self.rule,
            start_time=start.replace(second=0, microsecond=0),
            minutes=(session_type.default_minutes if data["minutes"] is None else data["minutes"]),
            first_day=data["first_day"],
            last_day=data["last_day"],
            room=data["room"],
            capacity=data["capacity"],
            title=data["title"],
            is_core=data["kind"] == CORE,
        )


class SeriesEndForm(forms.Form):
    last_day = forms.DateField(
        label="Last day held",
        widget=DATE,
        help_text="Later sessions are cancelled (kept, with the reason) and enrollments end.",
        error_messages={"required": "Give the last day held.", **_date_messages("2026-12-18")},
    )


class SessionCancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.TextInput(attrs={"maxlength": 200}),
        help_text="Patients and staff see it on their schedules.",
        error_messages={"required": "Say why the session is cancelled."},
    )


class SessionMoveForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="New start",
        widget=LOCAL_TIME,
        error_messages={
            "required": "Give the new day and time.",
            "invalid": "Give a day and time, e.g. 2026-11-05 13:00.",
        },
    )
    minutes = forms.IntegerField(
        label="Minutes",
        required=False,
        widget=_number(5, 600),
        help_text="Empty: as long as before.",
        error_messages={"invalid": "Minutes: a whole number, 5 to 600."},
    )
    room = _room_field(empty_label="Keep the room")
    facilitator = _facilitator_field(required=False, empty_label="Keep the facilitator")

    def __init__(
        self,
        *args: Any,
        rooms: QuerySet[Room],
        facilitators: QuerySet[Membership],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]
        self.fields["facilitator"].queryset = facilitators  # type: ignore[attr-defined]


class FacilityChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Facility) -> str:
        return f"{obj.name} ({obj.time_zone})"


def _facility_field() -> FacilityChoiceField:
    return FacilityChoiceField(
        queryset=Facility.objects.none(),
        to_field_name="public_id",
        label="Facility",
        empty_label=None,
        error_messages={
            "required": "Choose the facility.",
            "invalid_choice": "Choose one of the organization's facilities.",
        },
    )


class FacilityForm(forms.Form):
    facility = _facility_field()

    def __init__(self, *args: Any, facilities: QuerySet[Facility], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = facilities  # type: ignore[attr-defined]


class ClosureForm(FacilityForm):
    on = forms.DateField(
        label="Closed on",
        widget=DATE,
        error_messages={"required": "Give the closed day.", **_date_messages("2026-11-26")},
    )
    name = forms.CharField(
        label="Name",
        widget=forms.TextInput(attrs={"maxlength": 100, "placeholder": "Thanksgiving"}),
        help_text="Shown as the reason of the day's cancelled sessions.",
        error_messages={"required": "Name the day, e.g. Thanksgiving."},
    )


class RoomForm(FacilityForm):
    name = forms.CharField(
        label="Name",
        widget=forms.TextInput(attrs={"maxlength": 100}),
        error_messages={"required": "Name the room."},
    )
    seats = forms.IntegerField(
        label="Seats",
        required=False,
        widget=_number(1, 500),
        help_text="Empty if it does not matter.",
        error_messages={"invalid": "Seats: a whole number, 1 to 500, or leave empty."},
    )


class SessionTypeForm(forms.Form):
    """Add a type, or change one (its code and mode stay as they are)."""

    name = forms.CharField(
        label="Name",
        widget=forms.TextInput(attrs={"maxlength": 100}),
        error_messages={"required": "Name the type."},
    )
    code = forms.CharField(
        label="Code",
        required=False,
        widget=forms.TextInput(attrs={"maxlength": 40}),
        help_text="Letters, digits and _; empty: made from the name. It never changes.",
    )
    mode = forms.ChoiceField(
        label="Group or individual",
        choices=SessionMode.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose group or individual."},
    )
    default_minutes = forms.IntegerField(
        label="Usual length (minutes)",
        widget=_number(5, 600),
        error_messages={
            "required": "Give the usual length, 5 to 600 minutes.",
            "invalid": "Usual length: a whole number, 5 to 600 minutes.",
        },
    )
    counts_clinical = forms.BooleanField(
        label="Counts as clinical hours", required=False, initial=True
    )
    is_active = forms.BooleanField(
        label="Active (offered for new sessions)", required=False, initial=True
    )

    def __init__(
        self, *args: Any, changing: SessionType | None, taken_codes: set[str], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.changing = changing
        self.taken_codes = taken_codes
        if changing is not None:
            for name in ("code", "mode"):
                self.fields[name].disabled = True
                self.fields[name].required = False
            self.fields["code"].help_text = "A type keeps its code and its mode."

    def clean_code(self) -> str:
        if self.changing is not None:
            return self.changing.code
        code = str(self.cleaned_data.get("code") or "").strip().lower()
        if not code:
            code = slugify(self.cleaned_data.get("name", "")).replace("-", "_")[:40]
        if code in self.taken_codes:
            raise forms.ValidationError(
                "A type with this code exists; change it from the list instead."
            )
        return code

    def clean_mode(self) -> str:
        if self.changing is not None:
            return self.changing.mode
        return str(self.cleaned_data.get("mode") or "")


class SchedulingSettingsForm(forms.Form):
    cosign_required = forms.BooleanField(
        label="Notes of staff without their own licence wait for a co-signature",
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for setting in RANGES:
            allowed = f"Allowed {setting.low} to {setting.high} {setting.unit}."
            self.fields[setting.name] = forms.IntegerField(
                label=f"{setting.label} ({setting.unit})",
                help_text=allowed,
                widget=_number(setting.low, setting.high),
                error_messages={
                    "required": f"Give a value. {allowed}",
                    "invalid": f"Give a whole number. {allowed}",
                },
            )
        self.order_fields([s.name for s in RANGES])

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.fields}


class AppointmentForm(forms.Form):
    """An individual session between the patient and a member of staff."""

    session_type = SessionTypeChoiceField(
        queryset=SessionType.objects.none(),
        to_field_name="public_id",
        label="Type",
        empty_label=None,
        error_messages={"invalid_choice": "Choose an individual session type from the list."},
    )
    facilitator = _facilitator_field(empty_label="Choose who sees the patient")
    starts_at = forms.DateTimeField(
        label="Day and time",
        widget=LOCAL_TIME,
        error_messages={
            "required": "Give the day and time.",
            "invalid": "Give a day and time, e.g. 2026-11-05 13:00.",
        },
    )
    minutes = forms.IntegerField(
        label="Minutes",
        required=False,
        widget=_number(5, 600),
        help_text="Empty: the type's usual length.",
        error_messages={"invalid": "Minutes: a whole number, 5 to 600."},
    )
    room = _room_field(empty_label="No room")

    def __init__(
        self,
        *args: Any,
        types: QuerySet[SessionType],
        facilitators: QuerySet[Membership],
        rooms: QuerySet[Room],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session_type"].queryset = types  # type: ignore[attr-defined]
        self.fields["facilitator"].queryset = facilitators  # type: ignore[attr-defined]
        self.fields["room"].queryset = rooms  # type: ignore[attr-defined]


class SeriesChoiceField(PublicIdChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.title} ({obj.session_type.name}, {obj.start_time:%H:%M}, {obj.minutes} min)"


class OptionalEnrollForm(forms.Form):
    series = SeriesChoiceField(
        queryset=SessionType.objects.none(),
        to_field_name="public_id",
        label="Optional series",
        empty_label=None,
        error_messages={
            "required": "Choose a series.",
            "invalid_choice": "Choose one of the program's optional series.",
        },
    )

    def __init__(self, *args: Any, series: QuerySet[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["series"].queryset = series  # type: ignore[attr-defined]


class EnrollmentEndForm(forms.Form):
    reason = forms.CharField(
        label="Why",
        max_length=200,
        error_messages={"required": "Say why the patient leaves this series."},
    )
