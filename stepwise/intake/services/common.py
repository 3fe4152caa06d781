"""What the admissions-line services share: the settings in force, the audit row of an
inquiry, and the organization check."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.configuration import settings_stored
from stepwise.core.errors import NotFound
from stepwise.intake.models import Inquiry, IntakeSettings

CATEGORY = "intake"


def settings_of(organization_id: int) -> IntakeSettings:
    """The stored settings, or the defaults (unsaved) when none are stored."""
    return settings_stored(IntakeSettings, organization_id)


def length_errors(model: type[Model], values: dict[str, str]) -> dict[str, str]:
    """A message for each text longer than its column allows."""
    errors = {}
    for name, value in values.items():
        limit = model._meta.get_field(name).max_length  # type: ignore[union-attr]
        if limit is not None and len(value.strip()) > limit:
            errors[name] = f"At most {limit} characters."
    return errors


def same_org(actor: Actor, *objects: Any) -> None:
    for obj in objects:
        if obj.organization_id != actor.organization_id:
            raise NotFound()


def audit_inquiry(
    actor: Actor,
    action: str,
    inquiry: Inquiry,
    *,
    object_type: str = "inquiry",
    object_id: object = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The inquiry's audit row; it names the patient once the caller became one."""
    audit_record(
        action=action,
        actor=actor,
        patient_public_id=inquiry.patient.public_id if inquiry.patient else None,
        category=CATEGORY,
        object_type=object_type,
        object_id=object_id or inquiry.public_id,  # type: ignore[arg-type]
        detail={"inquiry": str(inquiry.public_id), **(detail or {})},
    )
