"""Writes on staff accounts: personal API tokens."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.models import ApiToken, hash_token
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import NotFound, ValidationFailed
from stepwise.core.models import AuditAction

MAX_TOKEN_DAYS = 365


def token_create(actor: Actor, *, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a personal access token; returns it with the raw secret, shown only once."""
    days = settings.API_TOKEN_DEFAULT_DAYS if days is None else days
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "Name the token after where it is used, e.g. 'reporting script'."
    if not 1 <= days <= MAX_TOKEN_DAYS:
        errors["days"] = f"A token lives from 1 to {MAX_TOKEN_DAYS} days."
    if errors:
        raise ValidationFailed(errors)
    raw = ApiToken.generate_raw()
    with transaction.atomic():
        token = ApiToken.objects.create(
            user_id=actor.user_id,
            organization_id=actor.organization_id,
            name=name.strip()[:100],
            token_hash=hash_token(raw),
            hint=raw[:10],
            expires_at=timezone.now() + timedelta(days=days),
        )
        audit_record(
            action=AuditAction.TOKEN_CREATE,
            actor=actor,
            category="api_token",
            object_type="api_token",
            object_id=token.public_id,
            detail={"days": days},
        )
    return token, raw


def token_revoke(actor: Actor, public_id: uuid.UUID | str) -> ApiToken:
    """Revoke one of the actor's own tokens at once."""
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .filter(user_id=actor.user_id, public_id=public_id)
            .first()
        )
        if token is None:
            raise NotFound()
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at", "updated_at"])
            audit_record(
                action=AuditAction.TOKEN_REVOKE,
                actor=actor,
                category="api_token",
                object_type="api_token",
                object_id=token.public_id,
            )
    return token
