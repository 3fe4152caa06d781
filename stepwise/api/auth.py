"""Bearer-token authentication for the JSON API."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.security import HttpBearer

from stepwise.accounts.models import Membership
from stepwise.accounts.tokens import token_lookup
from stepwise.core.actor import Actor
from stepwise.core.errors import AccessDenied


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
        if settings.REQUIRE_MFA and not found.behind_second_factor:
            # Made where two-factor sign-in was not required (the demo): it would let
            # a password alone reach patient data.
            raise AccessDenied("This token was made without two-factor sign-in; make a new one.")
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
