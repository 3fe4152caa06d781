"""Shared setup for the admissions-line tests: an admissions coordinator on the cast,
a call logged through the services, a screening, and the bed board recounted straight
from the rows."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from stepwise.care.models import BedReservation, Program, ReservationStatus, Stay
from stepwise.care.services import SubstanceUse
from stepwise.core.actor import Actor
from stepwise.core.models import AuditEvent
from stepwise.intake.models import Inquiry, Screening
from stepwise.intake.services.inquiries import CallDetails, call_details_update, inquiry_start
from stepwise.intake.services.screening import ScreenAnswers, screening_record

HEROIN_INJECTED = SubstanceUse(5, 4, "daily")
FENTANYL_SMOKED = SubstanceUse(7, 2, "3_6_week")
BENZOS_ORAL = SubstanceUse(13, 1, "1_2_week")

PERSON = CallDetails(
    given_name="Jordan",
    family_name="Lee",
    date_of_birth=date(1992, 3, 4),
    phone="555-0100",
)


def admissions(cast: Any) -> Actor:
    """The cast's admissions coordinator (added on first use)."""
    return cast.actors.get("admissions") or cast.new_member("admissions")


def call(
    actor: Actor,
    *,
    signs: Iterable[str] = (),
    received_at: datetime | None = None,
    **details: Any,
) -> Inquiry:
    """A call logged as the desk does: triage first, then who called and the person.
    Without details the person is PERSON; `details` replaces fields of it."""
    inquiry = inquiry_start(actor, signs=signs, received_at=received_at)
    return call_details_update(actor, inquiry, replace(PERSON, **details))


def screen(
    actor: Actor,
    inquiry: Inquiry,
    *,
    withdrawal: str = "moderate",
    ratings: Sequence[int] = (3, 0, 0, 0, 0, 0),
    **answers: Any,
) -> Screening:
    """A screening; by default moderate withdrawal with D1 at 3 (3.7-WM: detox)."""
    answers.setdefault("payer_type", "medicaid")
    return screening_record(
        actor,
        inquiry,
        ScreenAnswers(withdrawal_estimate=withdrawal, ratings=list(ratings), **answers),
    )


def intake_events(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(category="intake", **filters).order_by("id"))


@dataclass(frozen=True)
class Recount:
    capacity: int | None
    occupied: int
    reserved: int
    available_now: int | None
    expected_tomorrow: int | None


def recount(program: Program, now: datetime) -> Recount:
    """One program's places, counted from the stays and held places themselves."""
    program.refresh_from_db()
    open_stays = Stay.objects.filter(program=program, ended_at__isnull=True)
    occupied = open_stays.count()
    reserved = BedReservation.objects.filter(
        program=program, status=ReservationStatus.HELD, hold_until__gt=now
    ).count()
    tomorrow = now.astimezone(zoneinfo.ZoneInfo(program.facility.time_zone)).date() + timedelta(
        days=1
    )
    leaving = open_stays.filter(planned_end_on__lte=tomorrow).count()
    capacity = program.bed_capacity if program.bed_capacity is not None else program.place_cap
    if capacity is None:
        return Recount(None, occupied, reserved, None, None)
    free = capacity - occupied - reserved
    return Recount(capacity, occupied, reserved, max(free, 0), max(free + leaving, 0))


def board_as_recount(rows: Iterable[Any]) -> dict[str, Recount]:
    return {
        row.program.name: Recount(
            row.places.capacity,
            row.places.occupied,
            row.places.reserved,
            row.places.available_now,
            row.places.expected_tomorrow,
        )
        for row in rows
    }
