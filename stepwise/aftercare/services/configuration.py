"""The organization's aftercare settings (clinical director): the check-in taper, the
grace before a check-in counts as missed, the usual way of checking in, and the
program's 24/7 line every crisis plan shows. Every change is audited with the old and
new values; a new taper applies to schedules started from then on."""

from __future__ import annotations

from typing import Any

from stepwise.aftercare.models import AftercareSettings, CheckinMethod
from stepwise.aftercare.rules import schedule as schedule_rules
from stepwise.aftercare.rules.plan import NAME_MAX, phone_error
from stepwise.aftercare.services.common import SETTINGS_CATEGORY
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.configuration import Range, settings_row_change
from stepwise.core.errors import ValidationFailed, allowed_values
from stepwise.core.roles import Permission

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
    # Phones and names are kept without the spaces around them.
    cleaned = {name: v.strip() if isinstance(v, str) else v for name, v in values.items()}
    return settings_row_change(
        actor,
        AftercareSettings,
        cleaned,
        category=SETTINGS_CATEGORY,
        object_type="aftercare_settings",
    )
