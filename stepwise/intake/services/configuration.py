"""The organization's admissions settings (clinical director): how long a place is
held past the expected arrival, what counts as a recent overdose, the open-capacity
feed, and the cap on places of each ambulatory program."""

from __future__ import annotations

import secrets

from django.db import transaction

from stepwise.care.models import Program
from stepwise.care.services import program_place_cap_set
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.intake.models import IntakeSettings
from stepwise.intake.services.common import CATEGORY

HOLD_HOURS = (1, 72)
RECENT_OVERDOSE_DAYS = (1, 365)


def intake_settings_update(
    actor: Actor,
    *,
    hold_hours: int,
    recent_overdose_days: int,
    capacity_feed_enabled: bool,
    new_feed_key: bool = False,
) -> IntakeSettings:
    require_permission(actor, Permission.CLINICAL_SETTINGS, category="system")
    errors: dict[str, str] = {}
    for name, value, (low, high) in (
        ("hold_hours", hold_hours, HOLD_HOURS),
        ("recent_overdose_days", recent_overdose_days, RECENT_OVERDOSE_DAYS),
    ):
        if not low <= value <= high:
            errors[name] = f"Allowed values: {low} to {high}."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row, _ = IntakeSettings.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        before = {
            "hold_hours": row.hold_hours,
            "recent_overdose_days": row.recent_overdose_days,
            "capacity_feed_enabled": row.capacity_feed_enabled,
        }
        # A new address each time the feed is switched on: one that leaked while it
        # was on does not come back to life.
        switched_on = capacity_feed_enabled and not row.capacity_feed_enabled
        row.hold_hours = hold_hours
        row.recent_overdose_days = recent_overdose_days
        row.capacity_feed_enabled = capacity_feed_enabled
        key_changed = capacity_feed_enabled and (
            new_feed_key or switched_on or not row.capacity_feed_key
        )
        if key_changed:
            row.capacity_feed_key = secrets.token_urlsafe(24)
        row.changed_by_id = actor.user_id
        row.save()
        audit_record(
            action=AuditAction.SETTINGS_CHANGE,
            actor=actor,
            category=CATEGORY,
            object_type="intake_settings",
            object_id=row.pk,
            detail={
                "before": before,
                "after": {
                    "hold_hours": hold_hours,
                    "recent_overdose_days": recent_overdose_days,
                    "capacity_feed_enabled": capacity_feed_enabled,
                },
                "feed_key_changed": key_changed,
            },
        )
    return row


def place_caps_update(actor: Actor, caps: dict[Program, int | None]) -> None:
    """Set the cap on places of each ambulatory program given (None: no cap)."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category="system")
    with transaction.atomic():
        for program, cap in caps.items():
            if program.place_cap != cap:
                program_place_cap_set(actor, program, cap)
