"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from stepwise.accounts.models import Membership
from stepwise.accounts.tokens import token_lookup
from stepwise.core.actor import Actor


class PersonalToken(HttpBearer):
    """`Authorization: Bearer stw_…`: the token's user, acting in the token's organization."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        found = token_lookup(token)
        if found is None:
            return None
        membership = Membership.objects.filter(
            user_id=found.user_id, organization_id=found.organization_id, is_active=True
        ).first()
        if membership is None:
            return None
        actor = Actor(
            user_id=found.user_id,
            username=found.user.get_username(),
            organization=found.organization,
            role=membership.role,
        )
        request.actor = actor  # type: ignore[attr-defined]
        return actor


def api_actor(request: HttpRequest) -> Actor:
    """The actor the token authenticated (set by PersonalToken)."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    return actor
