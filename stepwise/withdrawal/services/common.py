"""What every withdrawal write needs: the patient's open stay, the facility zone."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar
from zoneinfo import ZoneInfo

from django.db import transaction

from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient

# Audit categories (core.models.CATEGORY_DATA_CLASS): both are Part 2 data.
OBSERVATIONS = "withdrawal"
MEDICATIONS = "medications"


def same_org(actor: Actor, patient: Patient) -> None:
    if patient.organization_id != actor.organization_id:
        raise NotFound()


def open_stay(patient: Patient, field: str = "patient") -> Stay:
    """The patient's open stay, with its program, facility and episode."""
    stay = (
        Stay.objects.filter(
            organization_id=patient.organization_id,
            episode__patient=patient,
            ended_at__isnull=True,
        )
        .select_related("program__facility", "episode")
        .first()
    )
    if stay is None:
        raise ValidationFailed(
            {field: "The patient is not in a program now; admit them before charting this."}
        )
    return stay


def zone_of(stay: Stay) -> ZoneInfo:
    return ZoneInfo(stay.program.facility.time_zone)


def not_before_stay(stay: Stay, at: datetime, field: str) -> None:
    if at < stay.started_at:
        raise ValidationFailed(
            {field: f"The stay began {stay.started_at:%Y-%m-%d %H:%M} UTC; give a later time."}
        )


class MarkableRecord(Protocol):
    pk: Any
    public_id: Any
    status: str
    error_reason: str

    def save(self, *, update_fields: list[str]) -> None: ...


Markable = TypeVar("Markable", bound=MarkableRecord)


def mark_in_error(
    actor: Actor,
    row: Markable,
    patient: Patient,
    *,
    reason: str,
    permission: Permission,
    category: str,
    object_type: str,
) -> Markable:
    """A mistaken bedside entry stays on the record, struck through, with the reason;
    only a final entry can be marked, once."""
    same_org(actor, patient)
    require_patient_access(actor, permission, patient, category=category)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say what was wrong with this entry."})
    with transaction.atomic():
        locked = type(row)._default_manager.select_for_update().get(pk=row.pk)  # type: ignore[attr-defined]
        if locked.status != "final":
            raise Conflict("This entry is already marked entered in error.")
        locked.status = "entered_in_error"
        locked.error_reason = reason.strip()
        locked.save(update_fields=["status", "error_reason", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=category,
            object_type=object_type,
            object_id=locked.public_id,
            detail={"status": "entered_in_error"},
        )
    return locked
