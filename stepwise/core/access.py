"""The one place that says whether an actor may do something."""

from __future__ import annotations

import uuid

from django.db import transaction

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import AccessDenied
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import Permission, role_can


def require_permission(
    actor: Actor,
    permission: Permission,
    *,
    patient_public_id: uuid.UUID | None = None,
    category: str = "",
) -> None:
    """Raise AccessDenied, after auditing the refusal, unless the actor's role grants it.

    Call it before opening the service's transaction, so the refusal's audit
    row is kept while the refused work is not done.
    """
    if role_can(actor.role, permission):
        return
    with transaction.atomic():
        audit_record(
            action=AuditAction.ACCESS_DENIED,
            actor=actor,
            patient_public_id=patient_public_id,
            category=category,
            outcome=AuditOutcome.DENIED,
            detail={"permission": str(permission)},
        )
    raise AccessDenied()
