"""The organization's recovery settings: outreach time, the tolerance rule, the flag's
length, and which medication shows as which analyte on a drug screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.configuration import Range
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.recovery.models import RecoverySettings
from stepwise.recovery.rules import screens

# The same bounds as the form's and RecoverySettings' constraints.
RANGES = (
    Range("outreach_hours", "Hours to reach a patient after a relapse", 1, 168, "hours"),
    Range("tolerance_days", "Days without use after which tolerance may be lost", 1, 365, "days"),
    Range("flag_days", "Days the overdose-risk flag runs", 1, 365, "days"),
)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Each setting that changed, as [before, after]; the expectations table as lists."""

    def plain(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: sorted(v) for k, v in sorted(value.items())}
        return value

    return {
        name: [plain(before[name]), plain(after[name])]
        for name in after
        if plain(before[name]) != plain(after[name])
    }


def recovery_settings_update(
    actor: Actor,
    *,
    outreach_hours: int,
    tolerance_days: int,
    flag_days: int,
    expectations: Mapping[str, Sequence[str]],
) -> RecoverySettings:
    require_permission(actor, Permission.CLINICAL_SETTINGS, category="system")
    values = {
        "outreach_hours": outreach_hours,
        "tolerance_days": tolerance_days,
        "flag_days": flag_days,
    }
    errors = {r.name: message for r in RANGES if (message := r.error(values[r.name]))}
    problems = screens.expectation_errors(expectations)
    if problems:
        errors["expectations"] = " ".join(problems)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        found, _ = RecoverySettings.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        before = {name: getattr(found, name) for name in values}
        before["expectations"] = found.expectation_table()
        for name, value in values.items():
            setattr(found, name, value)
        found.expectations = {
            med: sorted(set(expectations.get(med, ()))) for med in screens.MEDICATIONS_BY_CODE
        }
        found.changed_by_id = actor.user_id
        found.save()
        audit_record(
            action=AuditAction.SETTINGS_CHANGE,
            actor=actor,
            category="system",
            object_type="recovery_settings",
            object_id=actor.organization.public_id,
            detail=_changes(before, {**values, "expectations": found.expectation_table()}),
        )
    return found
