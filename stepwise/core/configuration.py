"""An organization's settings rows (one row a table per organization, made on its first
change) and how a bounded whole-number setting is checked. The apps keep their own
fields, bounds and messages; the lock, the change and its audit row are the same."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import models, transaction

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction

Row = TypeVar("Row", bound=models.Model)


@dataclass(frozen=True)
class Range:
    """A whole-number setting and its allowed range (the table's CheckConstraint's)."""

    name: str
    label: str
    low: int
    high: int
    unit: str

    def error(self, value: object) -> str | None:
        # bool is an int in Python; a checkbox's True is not a number of weeks.
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{self.label}: give a whole number, {self.low} to {self.high} {self.unit}."
        if not self.low <= value <= self.high:
            return f"{self.label}: allowed {self.low} to {self.high} {self.unit}."
        return None


def settings_stored(model: type[Row], organization_id: int) -> Row:
    """The organization's stored row, or the defaults, unsaved, when none is stored:
    a read writes nothing."""
    stored = model._default_manager.filter(organization_id=organization_id).first()
    return stored or model(organization_id=organization_id)


def settings_row_change(
    actor: Actor,
    model: type[Row],
    values: Mapping[str, Any],
    *,
    category: str,
    object_type: str,
) -> Row:
    """Set checked `values` on the organization's row of `model`, locked (or made), and
    audit the old and new of what changed; nothing is written when nothing changed.
    The caller has checked the permission and the values."""
    with transaction.atomic():
        row, _ = model._default_manager.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        changed: dict[str, list[Any]] = {}
        for name, value in values.items():
            old = getattr(row, name)
            if old != value:
                changed[name] = [old, value]
                setattr(row, name, value)
        if changed:
            row.changed_by_id = actor.user_id  # type: ignore[attr-defined]
            row.save()
            audit_record(
                action=AuditAction.SETTINGS_CHANGE,
                actor=actor,
                category=category,
                object_type=object_type,
                object_id=actor.organization.public_id,
                detail=changed,
            )
    return row
