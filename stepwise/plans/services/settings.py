"""How often plans are reviewed (clinical director): the organization's interval and
each program's own, if it has one. Audited with the old and new values; a change
applies from the next signing (signed versions keep the day they were given)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from stepwise.care.models import Program
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.plans.models import PlanSettings, ProgramReviewInterval
from stepwise.plans.rules import review
from stepwise.plans.services.common import same_org

# Organization configuration, no patient data.
CATEGORY = "system"


def program_field(program: Program) -> str:
    return f"program_{program.public_id}"


def plan_settings_save(
    actor: Actor,
    *,
    review_interval_days: int,
    programs: Mapping[Program, int | None] | None = None,
) -> PlanSettings:
    """Set the organization's review interval and, for each program named, its own
    interval (None: the program follows the organization's)."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category=CATEGORY)
    programs = programs or {}
    same_org(actor, *programs)
    errors: dict[str, str] = {}
    message = review.interval_error(review_interval_days)
    if message:
        errors["review_interval_days"] = message
    for program, days in programs.items():
        if days is not None:
            message = review.interval_error(days, program.name)
            if message:
                errors[program_field(program)] = message
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row, _ = PlanSettings.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id
        )
        changed: dict[str, list[Any]] = {}
        if row.review_interval_days != review_interval_days:
            changed["review_interval_days"] = [row.review_interval_days, review_interval_days]
            row.review_interval_days = review_interval_days
            row.changed_by_id = actor.user_id
            row.save()
        own = {
            o.program_id: o
            for o in ProgramReviewInterval.objects.select_for_update().filter(
                organization_id=actor.organization_id, program__in=list(programs)
            )
        }
        for program, days in programs.items():
            current = own.get(program.pk)
            old = current.review_interval_days if current else None
            if old == days:
                continue
            changed[str(program.public_id)] = [old, days]
            if days is None and current is not None:
                current.delete()
            elif current is not None and days is not None:
                current.review_interval_days = days
                current.changed_by_id = actor.user_id
                current.save()
            elif days is not None:
                ProgramReviewInterval.objects.create(
                    organization_id=actor.organization_id,
                    program=program,
                    review_interval_days=days,
                    changed_by_id=actor.user_id,
                )
        if changed:
            audit_record(
                action=AuditAction.SETTINGS_CHANGE,
                actor=actor,
                category=CATEGORY,
                object_type="plan_settings",
                object_id=actor.organization.public_id,
                detail=changed,
            )
    return row
