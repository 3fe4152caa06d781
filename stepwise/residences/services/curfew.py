"""Curfew check-ins: staff mark each resident's night as arrived (on time or late, from
the arrival time and the house's curfew), missed, or excused with a reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.residences import rules
from stepwise.residences.models import CurfewCheckIn, CurfewStatus, House, Residency
from stepwise.residences.services.common import CATEGORY, clean_text, same_org, zone_of

REASON_LIMIT = 500
# The earliest night a check-in may be recorded for (typing mistakes aside).
EARLIEST_NIGHT = date(1900, 1, 1)


class Mark(StrEnum):
    """What staff record; on time or late follows from the arrival time."""

    ARRIVED = "arrived"
    MISSED = "missed"
    EXCUSED = "excused"


MARKS = [
    (Mark.ARRIVED.value, "Arrived (on time or late, from the arrival time)"),
    (Mark.MISSED.value, "Missed (not back; after the curfew)"),
    (Mark.EXCUSED.value, "Excused (with a reason)"),
]


@dataclass(frozen=True)
class NightCurfew:
    night: date
    curfew_at: datetime
    starts_at: datetime
    ends_at: datetime
    zone: ZoneInfo


def night_curfew(house: House, night: date) -> NightCurfew:
    """The night's curfew instant and window in the residence's zone."""
    zone = zone_of(house.residence)
    start, end = rules.night_window(night, zone)
    at = rules.curfew_at(night, house.curfew_weekday, house.curfew_weekend, zone)
    return NightCurfew(night, at, start, end, zone)


def tonight(house: House, now: datetime | None = None) -> date:
    return rules.night_of(now or timezone.now(), zone_of(house.residence))


def _night_text(night: date) -> str:
    return f"{night:%a %Y-%m-%d}"


def curfew_record(
    actor: Actor,
    residency: Residency,
    *,
    mark: str,
    night: date | None = None,
    arrived_at: datetime | None = None,
    reason: str = "",
) -> CurfewCheckIn:
    """Record one resident's curfew for a night (default tonight, in the residence's
    zone). Marking the same night again corrects it (audited with what it was)."""
    same_org(actor, residency)
    require_permission(
        actor,
        Permission.RESIDENCE_MANAGE,
        patient_public_id=residency.patient.public_id,
        category=CATEGORY,
    )
    errors: dict[str, str] = {}
    if mark not in {m.value for m in Mark}:
        errors["mark"] = "Allowed values: " + ", ".join(f"{v} ({t})" for v, t in MARKS) + "."
    text = clean_text(errors, "reason", reason, "Reason", REASON_LIMIT)
    if mark == Mark.EXCUSED and not text and "reason" not in errors:
        errors["reason"] = "Say why the resident is excused (e.g. night shift, family visit)."
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        row = (
            Residency.objects.select_for_update()
            .select_related("patient", "bed__house__residence")
            .get(pk=residency.pk)
        )
        house = row.bed.house
        current = tonight(house, now)
        wanted = night or current
        if wanted > current:
            raise ValidationFailed({"night": f"Tonight is {_night_text(current)}; not later."})
        if wanted < EARLIEST_NIGHT:
            raise ValidationFailed({"night": "Give a night from 1900 on."})
        window = night_curfew(house, wanted)
        lived_there = row.moved_in_at < window.ends_at and (
            row.moved_out_at is None or row.moved_out_at > window.starts_at
        )
        if not lived_there:
            raise ValidationFailed(
                {"night": f"The resident did not live in this bed on {_night_text(wanted)}."}
            )
        status, minutes, arrival = _status(mark, arrived_at, window, now)
        previous = (
            CurfewCheckIn.objects.filter(patient_id=row.patient_id, night=wanted)
            .select_related("residency", "recorded_by")
            .first()
        )
        # A correction overwrites the row; the audit keeps what it replaced.
        replaced = _as_it_was(previous) if previous is not None else None
        values = {
            "residency": row,
            "status": status,
            "curfew_at": window.curfew_at,
            "arrived_at": arrival,
            "minutes_late": minutes,
            "reason": text,
            "recorded_by_id": actor.user_id,
            "recorded_at": now,
        }
        if previous is None:
            check_in = CurfewCheckIn.objects.create(
                organization_id=actor.organization_id,
                patient_id=row.patient_id,
                night=wanted,
                **values,
            )
        else:
            for name, value in values.items():
                setattr(previous, name, value)
            previous.save()
            check_in = previous
        audit_record(
            action=AuditAction.CREATE if previous is None else AuditAction.UPDATE,
            actor=actor,
            patient_public_id=row.patient.public_id,
            category=CATEGORY,
            object_type="curfew_check_in",
            object_id=check_in.public_id,
            detail={
                "night": str(wanted),
                "status": status,
                **({"minutes_late": minutes} if minutes else {}),
                **({"was": replaced["status"], "previous": replaced} if replaced else {}),
            },
        )
    return check_in


def _as_it_was(check_in: CurfewCheckIn) -> dict[str, Any]:
    """A mark's values before a correction, for its audit row (times in UTC)."""
    return {
        "status": check_in.status,
        "arrived_at": _utc_text(check_in.arrived_at),
        "minutes_late": check_in.minutes_late,
        "reason": check_in.reason,
        "residency": str(check_in.residency.public_id),
        "recorded_by": check_in.recorded_by_id,
        "recorded_by_username": check_in.recorded_by.get_username(),
        "recorded_at": _utc_text(check_in.recorded_at),
    }


def _utc_text(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None


def _status(
    mark: str, arrived_at: datetime | None, window: NightCurfew, now: datetime
) -> tuple[str, int | None, datetime | None]:
    """(status, minutes late, arrival) of a mark on a night."""
    if mark == Mark.MISSED:
        if now < window.curfew_at:
            raise Conflict(
                f"The curfew is at {window.curfew_at.astimezone(window.zone):%H:%M} that "
                "night; a missed curfew is marked after it."
            )
        return CurfewStatus.MISSED, None, None
    arrival: datetime | None = None
    if mark == Mark.ARRIVED or arrived_at is not None:
        arrival = event_time(arrived_at, "arrived_at")
        if not window.starts_at <= arrival < window.ends_at:
            raise ValidationFailed(
                {
                    "arrived_at": f"An arrival on the night of {_night_text(window.night)} is "
                    "between noon that day and noon the next."
                }
            )
    if mark == Mark.EXCUSED:
        return CurfewStatus.EXCUSED, None, arrival
    assert arrival is not None
    result = rules.curfew_status(arrival, window.curfew_at)
    if result.status is rules.CurfewKind.LATE:
        return CurfewStatus.LATE, result.minutes_late, arrival
    return CurfewStatus.ON_TIME, None, arrival
