from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from stepwise.accounts import session as account_session
from stepwise.core.roles import Permission, role_can


def membership(request: HttpRequest) -> dict[str, Any]:
    member = getattr(request, "membership", None)
    if member is None:
        return {"membership": None, "can": {}}
    can = {p.name.lower(): role_can(member.role, p) for p in Permission}
    return {"membership": member, "can": can, **_session_notices(request)}


def _session_notices(request: HttpRequest) -> dict[str, Any]:
    """What the idle warning and the two-factor banner need (base.html)."""
    left = account_session.seconds_left(request)
    timeout = None
    if left is not None:
        timeout = {
            "idle": left.idle,
            "absolute": left.absolute,
            "warn": settings.IDLE_WARNING_SECONDS,
        }
    verified = getattr(request.user, "is_verified", lambda: False)()
    offer = not (
        settings.REQUIRE_MFA
        or verified
        or request.session.get(account_session.MFA_BANNER_DISMISSED)
        or request.session.get(account_session.SECOND_FACTOR_PENDING)
    )
    return {"session_timeout": timeout, "offer_second_factor": offer}
