from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from stepwise.core.roles import Permission, role_can


def membership(request: HttpRequest) -> dict[str, Any]:
    member = getattr(request, "membership", None)
    if member is None:
        return {"membership": None, "can": {}}
    can = {p.name.lower(): role_can(member.role, p) for p in Permission}
    return {"membership": member, "can": can}
