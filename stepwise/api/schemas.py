"""Request and response shapes of the JSON API v1, one per operation."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime
from typing import Any

from django.utils import timezone
from ninja import Field, Schema
from pydantic import ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from stepwise.care.models import Episode, Program, Stay
from stepwise.patients import teds
from stepwise.patients.models import Patient
from stepwise.patients.services import CODED_FIELDS, PatientData, validate_patient_data


class InputSchema(Schema):
    """A request body. Text may not hold NUL characters: PostgreSQL cannot store them,
    and a 422 naming the field beats a server error."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise PydanticCustomError("nul_character", "Text may not contain NUL characters.")
        return value


# Times outside these are typing mistakes, and would not survive a time-zone change.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def holds_nul(value: Any) -> bool:
    """Whether a NUL character hides in a text, or in a list or mapping of them."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, list | tuple):
        return any(holds_nul(v) for v in value)
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    return False


class ClinicalIn(InputSchema):
    """A request body of the clinical routers: times carry their zone (a naive time is
    refused here, naming the field, as the services' event times are), and no NUL
    hides in a list or a mapping either."""

    @field_validator("*", mode="after")
    @classmethod
    def _zoned_and_clean(cls, value: Any) -> Any:
        if isinstance(value, datetime):
            if timezone.is_naive(value):
                raise PydanticCustomError("naive_datetime", "Give the time with its time zone.")
            if not EARLIEST <= value < LATEST:
                raise PydanticCustomError("datetime_range", "Give a time between 1900 and 2199.")
        if holds_nul(value):
            raise PydanticCustomError("nul_character", "Text may not contain NUL characters.")
        return value


class PlannedEndIn(InputSchema):
    planned_end_on: date | None = Field(
        description="The facility-local day the patient is planned to leave the current "
        "program (counted in the bed board's expected tomorrow); null clears it"
    )


class ErrorOut(Schema):
    detail: str
    errors: dict[str, str] | None = None


# A valid record, to check one field at a time against the service's rules.
_VALID_PATIENT = PatientData(
    mrn="x", given_name="x", family_name="x", date_of_birth=date(2000, 1, 1)
)


class PatientIn(InputSchema):
    mrn: str = Field(
        min_length=1, max_length=32, description="Medical record number, unique in the organization"
    )
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    preferred_name: str = Field("", max_length=100)
    date_of_birth: date
    sex: str = Field(teds.MISSING, description="TEDS sex code: 1 male, 2 female, -9 unknown")
    race: str = Field(teds.MISSING, description="TEDS race code 1-9, or -9")
    ethnicity: str = Field(teds.MISSING, description="TEDS ethnicity code 1-5, or -9")
    education: str = Field(teds.MISSING, description="TEDS education code 1-5, or -9")
    employment: str = Field(teds.MISSING, description="TEDS employment code 1-4, or -9")
    living_arrangement: str = Field(
        teds.MISSING, description="TEDS living arrangement code 1-3, or -9"
    )
    phone: str = Field("", max_length=40)
    email: str = Field("", max_length=254)
    ssn: str = Field(
        "",
        description="Social security number, 9 digits (dashes allowed). Stored encrypted; "
        "responses show it masked.",
    )
    payer_member_id: str = Field(
        "", description="Payer (insurance) member number. Stored encrypted; responses mask it."
    )

    @field_validator(
        "mrn",
        "given_name",
        "family_name",
        "date_of_birth",
        "email",
        "ssn",
        "payer_member_id",
        *CODED_FIELDS,
    )
    @classmethod
    def _service_rules(cls, value: Any, info: ValidationInfo) -> Any:
        """Apply the service's per-field rules here too, beside the type checks, so one
        422 names every invalid field (not the type errors first, the rest next time)."""
        name = str(info.field_name)
        probe = dataclasses.replace(_VALID_PATIENT, **{name: value})
        message = validate_patient_data(probe, timezone.localdate()).get(name)
        if message:
            raise PydanticCustomError("invalid", "{message}", {"message": message})
        return value


class ProgramOut(Schema):
    id: uuid.UUID
    name: str
    facility: str
    asam_level: str
    asam_edition: int
    teds_service: int
    is_24_hour: bool
    bed_capacity: int | None
    otp_certified: bool

    @staticmethod
    def resolve_id(obj: Program) -> uuid.UUID:
        return obj.public_id

    @staticmethod
    def resolve_facility(obj: Program) -> str:
        return obj.facility.name


class StayOut(Schema):
    id: uuid.UUID
    sequence: int
    program: uuid.UUID
    program_name: str
    asam_level: str
    started_at: datetime
    ended_at: datetime | None
    entry_kind: str
    entry_reason: str
    planned_end_on: date | None = Field(
        None, description="The facility-local day the team plans the patient to leave"
    )

    @staticmethod
    def resolve_id(obj: Stay) -> uuid.UUID:
        return obj.public_id

    @staticmethod
    def resolve_program(obj: Stay) -> uuid.UUID:
        return obj.program.public_id

    @staticmethod
    def resolve_program_name(obj: Stay) -> str:
        return obj.program.name

    @staticmethod
    def resolve_asam_level(obj: Stay) -> str:
        return obj.program.asam_level


class PatientOut(Schema):
    id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: date
    sex: str
    race: str
    ethnicity: str
    education: str
    employment: str
    living_arrangement: str
    phone: str
    email: str
    ssn: str = Field(description="Masked, e.g. ***-**-1234; empty if not recorded")
    payer_member_id: str = Field(description="Masked, e.g. ****5678; empty if not recorded")

    @staticmethod
    def resolve_id(obj: Patient) -> uuid.UUID:
        return obj.public_id

    @staticmethod
    def resolve_ssn(obj: Patient) -> str:
        return obj.ssn_masked

    @staticmethod
    def resolve_payer_member_id(obj: Patient) -> str:
        return obj.payer_member_id_masked


class PatientListItem(Schema):
    id: uuid.UUID
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    current_program: str | None
    current_level: str | None


class PatientPage(Schema):
    count: int
    page: int
    pages: int
    results: list[PatientListItem]


class EpisodeOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    status: str
    admitted_at: datetime
    referral_source: int
    discharged_at: datetime | None
    discharge_reason: int | None
    discharge_note: str
    previous_episode: uuid.UUID | None

    @staticmethod
    def resolve_id(obj: Episode) -> uuid.UUID:
        return obj.public_id

    @staticmethod
    def resolve_patient(obj: Episode) -> uuid.UUID:
        return obj.patient.public_id

    @staticmethod
    def resolve_previous_episode(obj: Episode) -> uuid.UUID | None:
        return obj.previous_episode.public_id if obj.previous_episode else None


class TimelineEventOut(Schema):
    kind: str
    at: datetime
    title: str
    detail: str
    by: str


class TimelineOut(Schema):
    episode: EpisodeOut
    stays: list[StayOut]
    events: list[TimelineEventOut]


class AdmitIn(InputSchema):
    program: uuid.UUID
    admitted_at: datetime | None = Field(None, description="With its time zone; default now")
    referral_source: int = Field(-9, description="TEDS referral source 1-7, or -9")


class TransitionIn(InputSchema):
    to_program: uuid.UUID
    kind: str = Field(description="step_down, step_up or transfer")
    reason: str
    at: datetime | None = Field(None, description="With its time zone; default now")


class DischargeIn(InputSchema):
    reason: int = Field(description="TEDS reason for discharge 1-7")
    at: datetime | None = Field(None, description="With its time zone; default now")
    note: str = ""
