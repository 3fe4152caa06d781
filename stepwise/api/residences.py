"""Sober living in the JSON API v1: residences with their occupancy, houses and beds,
vacancies (counts, no names), a house's residents for residence staff, a patient's
residencies and curfew marks for their chart readers, and the writes: move in, move
out, move to another bed, accept changed house rules, curfew check-ins. Thin over the
same services, selectors and audit rows as the pages.

Records are named by their public ids. Times are ISO 8601 with their offset; curfew
nights are local dates in the residence's zone."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from stepwise.api.auth import api_actor
from stepwise.api.permissions import PermissionToken
from stepwise.api.schemas import EARLIEST, LATEST, ClinicalIn, ErrorOut
from stepwise.care.chart import patient_for
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound, ValidationFailed
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient
from stepwise.patients.selectors import patient_get
from stepwise.residences import rules, selectors
from stepwise.residences.models import (
    Bed,
    CurfewCheckIn,
    HouseFor,
    Residency,
)
from stepwise.residences.services.common import (
    bed_get,
    house_get,
    residence_get,
    residency_get,
)
from stepwise.residences.services.curfew import MARKS, curfew_record
from stepwise.residences.services.house_for import REASON_LIMIT
from stepwise.residences.services.residency import (
    MOVE_OUT_REASONS,
    residency_move_bed,
    residency_move_in,
    residency_move_out,
    rules_accept,
)

router = Router(tags=["residences"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def _allowed(pairs: list[tuple[str, str]]) -> str:
    return ", ".join(f"{code} ({label})" for code, label in pairs)


class ResidenceToken(PermissionToken):
    """A PermissionToken for paths that name a residence, a house or a residency: it must
    be in the actor's organization (else 404, the same for a foreign and an unknown
    id), checked before the body is read."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = super().authenticate(request, token)
        if actor is None:
            return None
        path = request.resolver_match.kwargs if request.resolver_match else {}
        if "residence_id" in path:
            residence_get(actor, str(path["residence_id"]))
        if "house_id" in path:
            house_get(actor, str(path["house_id"]))
        if "residency_id" in path:
            residency_get(actor, str(path["residency_id"]))
        return actor


def on_residences(permission: Permission) -> ResidenceToken:
    return ResidenceToken(permission)


# ---------------------------------------------------------------------------
# Shapes


class ResidencesIn(ClinicalIn):
    """A request body here: as any clinical body, an unknown field is refused by name,
    and a day must be between 1900 and 2199."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _day_in_range(cls, value: Any) -> Any:
        dated = isinstance(value, date) and not isinstance(value, datetime)
        if dated and not FIRST_DAY <= value <= LAST_DAY:
            raise PydanticCustomError("date_range", "Give a day between 1900 and 2199.")
        return value


class Ref(Schema):
    id: uuid.UUID
    name: str


class CountsOut(Schema):
    occupied: int
    vacant: int
    out_of_service: int


class BedOut(Schema):
    id: uuid.UUID
    label: str
    state: str = Field(description=", ".join(s.value for s in rules.BedState))


class BedRef(Schema):
    id: uuid.UUID
    label: str


class HouseOut(Schema):
    id: uuid.UUID
    name: str
    address: str
    house_for: str = Field(description=_allowed(HouseFor.choices))
    curfew_weekday: str = Field(description="HH:MM on the residence's clock, Sunday-Thursday")
    curfew_weekend: str = Field(description="HH:MM, Friday and Saturday nights")
    is_active: bool
    counts: CountsOut


class HouseDetailOut(HouseOut):
    beds: list[BedOut]


class ResidenceOut(Schema):
    id: uuid.UUID
    name: str
    operator_name: str
    address: str
    phone: str
    certification: str
    time_zone: str
    rules_version: int = Field(description="The version of the house rules in force")
    is_active: bool
    counts: CountsOut
    houses: list[HouseOut]


class ResidenceDetailOut(ResidenceOut):
    houses: list[HouseDetailOut]  # type: ignore[assignment]
    rules_text: str = Field(description="The house rules in force")


class VacancyOut(Schema):
    residence: Ref
    house: Ref
    house_for: str
    vacant: int
    beds: list[BedOut] = Field(description="The vacant beds")


class StayOut(Schema):
    id: uuid.UUID
    program: Ref
    level: str
    started_at: datetime
    ended_at: datetime | None


class ResidencyOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    residence: Ref
    house: Ref
    bed: BedRef
    moved_in_at: datetime
    expected_move_out_on: date | None
    moved_out_at: datetime | None
    move_out_reason: str = Field(
        description="Empty while living there; "
        + _allowed([(c, str(label)) for c, label in MOVE_OUT_REASONS])
        + ", or bed_move (moved to another bed)"
    )
    move_out_note: str
    stay: StayOut | None = Field(description="The PHP (2.5) or IOP (2.1) stay at move-in")
    rules_version: int = Field(description="The house rules version last accepted")
    rules_accepted_at: datetime
    rules_in_force: int = Field(description="The residence's version now: accept it if higher")
    moved_from: uuid.UUID | None = Field(description="The residency before a move to this bed")


class CurfewOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    residency: uuid.UUID
    night: date = Field(description="The evening's local date in the residence's zone")
    status: str = Field(description="on_time, late, missed or excused")
    curfew_at: datetime
    arrived_at: datetime | None
    minutes_late: int | None
    reason: str
    recorded_at: datetime


class PatientResidenciesOut(Schema):
    patient: uuid.UUID
    residencies: list[ResidencyOut] = Field(description="Living there now first")
    curfew: list[CurfewOut] = Field(description="The last 90 nights, newest first")


class ResidentOut(Schema):
    residency: uuid.UUID
    patient: uuid.UUID
    name: str
    mrn: str
    bed: BedOut
    moved_in_at: datetime
    needs_rules: bool = Field(description="Accepted an earlier version of the house rules")


# ---------------------------------------------------------------------------
# Builders


def _counts(counts: rules.Counts) -> dict[str, int]:
    return {
        "occupied": counts.occupied,
        "vacant": counts.vacant,
        "out_of_service": counts.out_of_service,
    }


def _bed(bed: Bed, state: str) -> dict[str, Any]:
    return {"id": bed.public_id, "label": bed.label, "state": state}


def _house(found: selectors.HouseOccupancy, *, with_beds: bool) -> dict[str, Any]:
    house = found.house
    body: dict[str, Any] = {
        "id": house.public_id,
        "name": house.name,
        "address": house.address,
        "house_for": house.house_for,
        "curfew_weekday": house.curfew_weekday.strftime("%H:%M"),
        "curfew_weekend": house.curfew_weekend.strftime("%H:%M"),
        "is_active": house.is_active,
        "counts": _counts(found.counts),
    }
    if with_beds:
        body["beds"] = [_bed(row.bed, row.state.value) for row in found.beds]
    return body


def _residence(found: selectors.ResidenceOccupancy, *, with_beds: bool) -> dict[str, Any]:
    residence = found.residence
    return {
        "id": residence.public_id,
        "name": residence.name,
        "operator_name": residence.operator_name,
        "address": residence.address,
        "phone": residence.phone,
        "certification": residence.certification,
        "time_zone": residence.time_zone,
        "rules_version": residence.rules_version,
        "is_active": residence.is_active,
        "counts": _counts(found.counts),
        "houses": [_house(h, with_beds=with_beds) for h in found.houses],
    }


def _residency(row: Residency) -> dict[str, Any]:
    """A residency with its bed, house, residence and stay's program loaded."""
    house = row.bed.house
    stay = row.stay
    return {
        "id": row.public_id,
        "patient": row.patient.public_id,
        "residence": {"id": house.residence.public_id, "name": house.residence.name},
        "house": {"id": house.public_id, "name": house.name},
        "bed": {"id": row.bed.public_id, "label": row.bed.label},
        "moved_in_at": row.moved_in_at,
        "expected_move_out_on": row.expected_move_out_on,
        "moved_out_at": row.moved_out_at,
        "move_out_reason": row.move_out_reason,
        "move_out_note": row.move_out_note,
        "stay": {
            "id": stay.public_id,
            "program": {"id": stay.program.public_id, "name": stay.program.name},
            "level": stay.program.asam_level,
            "started_at": stay.started_at,
            "ended_at": stay.ended_at,
        }
        if stay is not None
        else None,
        "rules_version": row.rules_version,
        "rules_accepted_at": row.rules_accepted_at,
        "rules_in_force": house.residence.rules_version,
        "moved_from": row.moved_from.public_id if row.moved_from else None,
    }


def _residency_out(row: Residency) -> dict[str, Any]:
    """A residency as it stands after a write (read again with what it shows)."""
    fresh = (
        Residency.objects.filter(pk=row.pk)
        .select_related("patient", "bed__house__residence", "stay__program", "moved_from")
        .get()
    )
    return _residency(fresh)


def _curfew(row: CurfewCheckIn, patient: Patient, residency_id: uuid.UUID) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "patient": patient.public_id,
        "residency": residency_id,
        "night": row.night,
        "status": row.status,
        "curfew_at": row.curfew_at,
        "arrived_at": row.arrived_at,
        "minutes_late": row.minutes_late,
        "reason": row.reason,
        "recorded_at": row.recorded_at,
    }


def _at(at: datetime | None) -> datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValidationFailed({"at": "Give the time with its time zone."})
    if not EARLIEST <= at < LATEST:
        raise ValidationFailed({"at": "Give a time between 1900 and 2199."})
    return at


# ---------------------------------------------------------------------------
# Reads


class AtQuery(Schema):
    at: datetime | None = Field(
        None, description="The instant to count at (default now), with its offset"
    )


@router.get(
    "/residences",
    response={200: list[ResidenceOut], **READ_ERRORS},
    auth=on_residences(Permission.RESIDENCE_READ),
)
def list_residences(request: HttpRequest, query: Query[AtQuery]) -> list[dict[str, Any]]:
    """Residences in use with their houses' occupied, vacant and out-of-service beds at
    an instant (default now). Counts only."""
    actor = api_actor(request)
    found = selectors.occupancy(actor, _at(query.at))
    return [_residence(r, with_beds=False) for r in found]


@router.get(
    "/residences/vacancies",
    response={200: list[VacancyOut], **READ_ERRORS},
    auth=on_residences(Permission.RESIDENCE_READ),
)
def list_vacancies(request: HttpRequest) -> list[dict[str, Any]]:
    """Vacant beds now per house in use (labels and counts, no names)."""
    actor = api_actor(request)
    return [
        {
            "residence": {"id": found.residence.public_id, "name": found.residence.name},
            "house": {"id": house.house.public_id, "name": house.house.name},
            "house_for": house.house.house_for,
            "vacant": house.counts.vacant,
            "beds": [_bed(b, "vacant") for b in house.vacant_beds],
        }
        for found in selectors.vacancies(actor, timezone.now())
        for house in found.houses
    ]


@router.get(
    "/residences/{residence_id}",
    response={200: ResidenceDetailOut, **READ_ERRORS},
    auth=on_residences(Permission.RESIDENCE_READ),
)
def read_residence(
    request: HttpRequest, residence_id: str, query: Query[AtQuery]
) -> dict[str, Any]:
    """A residence with every house (retired ones too) and each bed's state at an
    instant (default now), and its house rules in force. No names."""
    actor = api_actor(request)
    residence = residence_get(actor, residence_id)
    found = selectors.occupancy(actor, _at(query.at), residence=residence, with_retired=True)
    rules_row = selectors.current_rules(residence)
    return {
        **_residence(found[0], with_beds=True),
        "rules_text": rules_row.text if rules_row else "",
    }


@router.get(
    "/houses/{house_id}/residents",
    response={200: list[ResidentOut], **READ_ERRORS},
    auth=on_residences(Permission.RESIDENCE_MANAGE),
)
def list_residents(request: HttpRequest, house_id: str) -> list[dict[str, Any]]:
    """Who lives in each bed of the house now, for residence staff (audited as a read
    of each resident)."""
    actor = api_actor(request)
    page = selectors.house_page(actor, house_get(actor, house_id), timezone.now())
    return [
        {
            "residency": row.residency.public_id,
            "patient": row.residency.patient.public_id,
            "name": row.residency.patient.display_name,
            "mrn": row.residency.patient.mrn,
            "bed": _bed(row.bed, row.state.value),
            "moved_in_at": row.residency.moved_in_at,
            "needs_rules": row.needs_rules,
        }
        for row in page.beds
        if row.residency is not None
    ]


@router.get(
    "/patients/{patient_id}/residencies",
    response={200: PatientResidenciesOut, **READ_ERRORS},
    auth=on_residences(Permission.CHART_READ),
)
def patient_residencies(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """The patient's residencies (living there now first) and curfew marks of the last
    90 nights, for those who read the patient's chart."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.CHART_READ)
    found = selectors.patient_residences(actor, patient)
    for row in found.residencies:
        row.patient = patient
    return {
        "patient": patient.public_id,
        "residencies": [_residency(r) for r in found.residencies],
        "curfew": [_curfew(c, patient, c.residency.public_id) for c in found.check_ins],
    }


# ---------------------------------------------------------------------------
# Writes


HOUSE_FOR_REASON = (
    "Needed only for a bed in a house for men or women that the patient's recorded sex "
    f"does not fit (e.g. housed by gender identity); up to {REASON_LIMIT} characters, kept "
    "in the audit row. Without it such a bed is refused (422 on bed and house_for_reason)."
)


class MoveInIn(ResidencesIn):
    patient: uuid.UUID
    bed: uuid.UUID = Field(description="A vacant bed in service (GET /residences/vacancies)")
    rules_version: int | None = Field(
        description="The version of the residence's house rules the resident accepted; it "
        "must be the one in force (GET /residences/{residence_id})",
        ge=1,
        le=10**9,
    )
    moved_in_at: datetime | None = Field(None, description="Default now")
    expected_move_out_on: date | None = None
    house_for_reason: str | None = Field(None, max_length=2000, description=HOUSE_FOR_REASON)


def _patient(actor: Actor, public_id: uuid.UUID) -> Patient:
    try:
        return patient_get(actor, public_id)
    except NotFound:
        raise ValidationFailed(
            {"patient": "No patient with this id in your organization."}
        ) from None


def _bed_of(actor: Actor, public_id: uuid.UUID) -> Bed:
    try:
        return bed_get(actor, public_id)
    except NotFound:
        raise ValidationFailed({"bed": "No bed with this id in your organization."}) from None


@router.post(
    "/residencies",
    response={201: ResidencyOut, **ERRORS},
    auth=on_residences(Permission.RESIDENCE_MANAGE),
)
def move_in(request: HttpRequest, payload: MoveInIn) -> tuple[int, dict[str, Any]]:
    """Move a patient into a vacant bed, with the house rules in force accepted. Needs
    the care relationship to the patient; 409 names what is in the way (an occupant's
    name only to those with access to that patient)."""
    actor = api_actor(request)
    made = residency_move_in(
        actor,
        _patient(actor, payload.patient),
        _bed_of(actor, payload.bed),
        rules_version=payload.rules_version,
        at=payload.moved_in_at,
        expected_move_out_on=payload.expected_move_out_on,
        house_for_reason=payload.house_for_reason,
    )
    return 201, _residency_out(made)


class MoveOutIn(ResidencesIn):
    reason: str = Field(max_length=40, description=_allowed(MOVE_OUT_REASONS))
    note: str = Field("", max_length=8000, description="Needed for other")
    moved_out_at: datetime | None = Field(None, description="Default now")


@router.post(
    "/residencies/{residency_id}/move-out",
    response={200: ResidencyOut, **ERRORS},
    auth=on_residences(Permission.RESIDENCE_MANAGE),
)
def move_out(request: HttpRequest, residency_id: str, payload: MoveOutIn) -> dict[str, Any]:
    """End a residency with a reason; the bed is vacant from the move-out."""
    actor = api_actor(request)
    done = residency_move_out(
        actor,
        residency_get(actor, residency_id),
        reason=payload.reason,
        note=payload.note,
        at=payload.moved_out_at,
    )
    return _residency_out(done)


class MoveBedIn(ResidencesIn):
    bed: uuid.UUID
    moved_at: datetime | None = Field(None, description="Default now")
    rules_version: int | None = Field(
        None,
        ge=1,
        le=10**9,
        description="For a bed in another residence: the version of its house rules accepted",
    )
    house_for_reason: str | None = Field(None, max_length=2000, description=HOUSE_FOR_REASON)


@router.post(
    "/residencies/{residency_id}/move",
    response={201: ResidencyOut, **ERRORS},
    auth=on_residences(Permission.RESIDENCE_MANAGE),
)
def move_bed(
    request: HttpRequest, residency_id: str, payload: MoveBedIn
) -> tuple[int, dict[str, Any]]:
    """Move a resident to another vacant bed: this residency ends (bed_move) and the
    new one is returned."""
    actor = api_actor(request)
    moved = residency_move_bed(
        actor,
        residency_get(actor, residency_id),
        _bed_of(actor, payload.bed),
        at=payload.moved_at,
        rules_version=payload.rules_version,
        house_for_reason=payload.house_for_reason,
    )
    return 201, _residency_out(moved)


class RulesAcceptIn(ResidencesIn):
    rules_version: int = Field(ge=1, le=10**9, description="The version in force, shown to them")
    accepted_at: datetime | None = Field(None, description="Default now")


@router.post(
    "/residencies/{residency_id}/rules-acceptance",
    response={200: ResidencyOut, **ERRORS},
    auth=on_residences(Permission.RESIDENCE_MANAGE),
)
def accept_rules(request: HttpRequest, residency_id: str, payload: RulesAcceptIn) -> dict[str, Any]:
    """The resident accepts the house rules now in force (after a change)."""
    actor = api_actor(request)
    residency = residency_get(actor, residency_id)
    rules_accept(actor, residency, rules_version=payload.rules_version, at=payload.accepted_at)
    return _residency_out(residency)


class CurfewIn(ResidencesIn):
    mark: str = Field(max_length=20, description=_allowed(MARKS))
    night: date | None = Field(None, description="Default tonight, in the residence's zone")
    arrived_at: datetime | None = Field(
        None, description="For arrived (default now); on or late follows from the curfew"
    )
    reason: str = Field("", max_length=1000, description="Needed for excused")


@router.post(
    "/residencies/{residency_id}/curfew",
    response={200: CurfewOut, **ERRORS},
    auth=on_residences(Permission.RESIDENCE_MANAGE),
)
def record_curfew(request: HttpRequest, residency_id: str, payload: CurfewIn) -> dict[str, Any]:
    """Record (or correct) the resident's curfew for a night."""
    actor = api_actor(request)
    residency = residency_get(actor, residency_id)
    row = curfew_record(
        actor,
        residency,
        mark=payload.mark,
        night=payload.night,
        arrived_at=payload.arrived_at,
        reason=payload.reason,
    )
    return _curfew(row, residency.patient, residency.public_id)
