"""The organization's scheduling settings (clinical director): how far ahead series'
sessions exist, when missed sessions call for outreach and how soon, and whether
notes of staff without their own licence wait for a co-signature.

The ranges here are the ones the table's CheckConstraints enforce; every change is
audited with the old and new values."""

from __future__ import annotations

from typing import Any

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.configuration import Range, settings_row_change
from stepwise.core.errors import ValidationFailed
from stepwise.core.roles import Permission
from stepwise.scheduling.models import SchedulingSettings

# Audit category of a settings change: organization configuration, no patient data.
CATEGORY = "system"


# The same bounds as SchedulingSettings.Meta.constraints.
RANGES: tuple[Range, ...] = (
    Range("horizon_weeks", "Sessions made ahead", 2, 52, "weeks"),
    Range(
        "absences_for_outreach", "Unexcused absences in a row before outreach", 1, 10, "sessions"
    ),
    Range("days_without_attendance", "Days without attendance before outreach", 3, 30, "days"),
    Range("outreach_due_hours", "Time to reach the patient", 1, 168, "hours"),
)
RANGES_BY_NAME = {r.name: r for r in RANGES}
SWITCHES = ("cosign_required",)
FIELDS = (*RANGES_BY_NAME, *SWITCHES)


def settings_errors(values: dict[str, Any]) -> dict[str, str]:
    """One message per value outside its range, of the wrong kind, or unknown."""
    errors: dict[str, str] = {}
    for name, value in values.items():
        if name in RANGES_BY_NAME:
            message = RANGES_BY_NAME[name].error(value)
            if message:
                errors[name] = message
        elif name in SWITCHES:
            if not isinstance(value, bool):
                errors[name] = "Co-signature required: yes or no."
        else:
            errors[name] = f"Unknown setting; allowed: {', '.join(FIELDS)}."
    return errors


def scheduling_settings_save(actor: Actor, **values: Any) -> SchedulingSettings:
    """Change some of the organization's scheduling settings (the others keep theirs).

    A shorter or longer horizon applies from the next daily sweep; sessions already
    made stay."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category=CATEGORY)
    errors = settings_errors(values)
    if errors:
        raise ValidationFailed(errors)
    return settings_row_change(
        actor,
        SchedulingSettings,
        values,
        category=CATEGORY,
        object_type="scheduling_settings",
    )
