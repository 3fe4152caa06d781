"""The organization's withdrawal-management settings: the safety thresholds (one row
per organization) and each withdrawal-management program's reassessment rhythm.

Only the clinical director changes them, inside the published ranges of
``rules.thresholds``; every change is audited with the old and new values.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from stepwise.care.models import Program
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.configuration import settings_row_change
from stepwise.core.errors import NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.withdrawal.models import SafetySettings, UnitSettings
from stepwise.withdrawal.rules import thresholds

# Audit category of a settings change: organization configuration, no patient data.
CATEGORY = "system"
UNIT_SETTINGS_BY_NAME = {s.name: s for s in thresholds.UNIT_SETTINGS}


def _not_whole_numbers(values: dict[str, Any]) -> dict[str, str]:
    # bool is an int in Python; a checkbox's True is not a threshold.
    return {
        name: "Give a whole number."
        for name, value in values.items()
        if not isinstance(value, int) or isinstance(value, bool)
    }


def unit_setting_errors(values: dict[str, int]) -> dict[str, str]:
    """One message per rhythm setting outside its range (or unknown)."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        setting = UNIT_SETTINGS_BY_NAME.get(name)
        if setting is None:
            errors[name] = "Unknown setting."
            continue
        message = setting.error(value)
        if message:
            errors[name] = message
    return errors


def _changes(row: Any, values: dict[str, int]) -> dict[str, list[int]]:
    """Set the values on the row; returns {name: [old, new]} for what changed."""
    changed: dict[str, list[int]] = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changed[name] = [old, value]
            setattr(row, name, value)
    return changed


def safety_settings_update(actor: Actor, values: dict[str, int]) -> SafetySettings:
    """Change some of the organization's safety thresholds (the others keep theirs)."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category=CATEGORY)
    errors = _not_whole_numbers(values) or thresholds.threshold_errors(values)
    if errors:
        raise ValidationFailed(errors)
    return settings_row_change(
        actor, SafetySettings, values, category=CATEGORY, object_type="safety_settings"
    )


def require_unit_settings(actor: Actor, program: Program) -> None:
    """Only the clinical director keeps a unit's settings, and only for the
    organization's own withdrawal-management programs (others are not found)."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category=CATEGORY)
    if program.organization_id != actor.organization_id or not program.is_withdrawal_management:
        raise NotFound()


def unit_settings_update(actor: Actor, program: Program, values: dict[str, int]) -> UnitSettings:
    """Change a withdrawal-management program's reassessment rhythm."""
    require_unit_settings(actor, program)
    errors = _not_whole_numbers(values) or unit_setting_errors(values)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row, _ = UnitSettings.objects.select_for_update().get_or_create(program=program)
        changed = _changes(row, values)
        if changed:
            row.save()
            audit_record(
                action=AuditAction.SETTINGS_CHANGE,
                actor=actor,
                category=CATEGORY,
                object_type="unit_settings",
                object_id=program.public_id,
                detail=changed,
            )
    return row
