"""The organization's aftercare settings (clinical director): the check-in taper, the
grace before a check-in counts as missed, the usual way of checking in, and the
program's 24/7 line every crisis plan shows. Every change is audited with the old and
new values; a new taper applies to schedules started from then on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from stepwise.aftercare.models import AftercareSettings, CheckinMethod
from stepwise.aftercare.rules import schedule as schedule_rules
from stepwise.aftercare.rules.plan import NAME_MAX, phone_error
from stepwise.aftercare.services.common import SETTINGS_CATEGORY
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission


@dataclass(frozen=True)
class Range:
    name: str
    label: str
    low: int
    high: int
    unit: str

    def error(self, value: object) -> str | None:
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{self.label}: give a whole number, {self.low} to {self.high} {self.unit}."
        if not self.low <= value <= self.high:
            return f"{self.label}: allowed {self.low} to {self.high} {self.unit}."
        return None


# The same bounds as AftercareSettings.Meta.constraints.
RANGES: tuple[Range, ...] = (
    Range("weekly_checkins", "Weekly check-ins first", 0, schedule_rules.WEEKLY_MAX, "weeks"),
    Range("monthly_interval", "Then one every", 1, schedule_rules.MONTHS_MAX, "months"),
    Range(
        "grace_hours",
        "Grace before a check-in counts as missed",
        1,
        schedule_rules.GRACE_MAX,
        "hours",
    ),
)
RANGES_BY_NAME = {r.name: r for r in RANGES}
TEXTS = ("crisis_line_name", "crisis_line_phone")
FIELDS = (*RANGES_BY_NAME, "default_method", *TEXTS)


def settings_errors(values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name in RANGES_BY_NAME:
            if message := RANGES_BY_NAME[name].error(value):
                errors[name] = message
        elif name == "default_method":
            if value not in CheckinMethod.values:
                errors[name] = f"Allowed values: {allowed_values(CheckinMethod.choices)}."
        elif name in TEXTS:
            if not isinstance(value, str):
                errors[name] = "Give text."
            elif name == "crisis_line_phone" and (message := phone_error(value.strip())):
                errors[name] = message
            elif len(value) > NAME_MAX:
                errors[name] = f"At most {NAME_MAX} characters."
        else:
            errors[name] = f"Unknown setting; allowed: {', '.join(FIELDS)}."
    return errors


def aftercare_settings_save(actor: Actor, **values: Any) -> AftercareSettings:
    """Change some of the organization's aftercare settings (the others keep theirs)."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category=SETTINGS_CATEGORY)
    errors = settings_errors(values)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row, _ = AftercareSettings.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        changed: dict[str, list[Any]] = {}
        for name, value in values.items():
            new = value.strip() if isinstance(value, str) else value
            old = getattr(row, name)
            if old != new:
                changed[name] = [old, new]
                setattr(row, name, new)
        if changed:
            row.changed_by_id = actor.user_id
            row.save()
            audit_record(
                action=AuditAction.SETTINGS_CHANGE,
                actor=actor,
                category=SETTINGS_CATEGORY,
                object_type="aftercare_settings",
                object_id=actor.organization.public_id,
                detail=changed,
            )
    return row
