"""Session types: every organization starts with the defaults and keeps its own."""

from __future__ import annotations

from django.db import transaction

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.scheduling import rules
from stepwise.scheduling.models import SessionMode, SessionType
from stepwise.scheduling.services.common import CATEGORY


def ensure_default_types(organization_id: int) -> int:
    """Add the default types the organization does not have yet (by code)."""
    have = set(
        SessionType.objects.filter(organization_id=organization_id).values_list("code", flat=True)
    )
    made = SessionType.objects.bulk_create(
        SessionType(
            organization_id=organization_id,
            code=code,
            name=name,
            mode=SessionMode.GROUP if group else SessionMode.INDIVIDUAL,
            default_minutes=minutes,
            counts_clinical=clinical,
        )
        for code, name, group, minutes, clinical in rules.DEFAULT_SESSION_TYPES
        if code not in have
    )
    return len(made)


def session_type_save(
    actor: Actor,
    *,
    code: str,
    name: str,
    mode: str,
    default_minutes: int,
    counts_clinical: bool,
    is_active: bool = True,
) -> SessionType:
    """Add a session type, or change the one with this code (codes never change)."""
    require_permission(actor, Permission.SCHEDULE_MANAGE, category=CATEGORY)
    errors: dict[str, str] = {}
    code = code.strip().lower()
    if not code or len(code) > 40 or not all(c.isalnum() or c == "_" for c in code):
        errors["code"] = "Letters, digits and _ only, up to 40 characters."
    if not name.strip() or len(name.strip()) > 100:
        errors["name"] = "Name the type (up to 100 characters)."
    if mode not in SessionMode.values:
        errors["mode"] = "Allowed values: group, individual."
    if not 5 <= default_minutes <= 600:
        errors["default_minutes"] = "5 to 600 minutes."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        kind, created = SessionType.objects.select_for_update().get_or_create(
            organization_id=actor.organization_id,
            code=code,
            defaults={
                "name": name.strip(),
                "mode": mode,
                "default_minutes": default_minutes,
                "counts_clinical": counts_clinical,
                "is_active": is_active,
            },
        )
        if not created:
            if kind.mode != mode:
                raise Conflict(
                    "A type keeps its mode (group or individual); add a new type instead."
                )
            kind.name = name.strip()
            kind.default_minutes = default_minutes
            kind.counts_clinical = counts_clinical
            kind.is_active = is_active
            kind.save()
        audit_record(
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            actor=actor,
            category=CATEGORY,
            object_type="session_type",
            object_id=kind.public_id,
            detail={"code": code},
        )
    return kind
