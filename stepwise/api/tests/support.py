"""Helpers of the API tests: a bearer-token client for each member of the fixed cast."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from stepwise.accounts.services import token_create
from stepwise.core.models import AuditEvent

BASE = "/api/v1"


class Api:
    """Calls /api/v1/ as a member of the cast, with a personal access token of their own."""

    def __init__(self, cast: Any) -> None:
        self.cast = cast
        self.client = Client()
        self.raw: dict[str, str] = {}

    def token(self, who: str) -> str:
        if who not in self.raw:
            _, self.raw[who] = token_create(self.cast.actors[who], name=f"{who} tests", days=30)
        return self.raw[who]

    def headers(self, who: str | None) -> dict[str, Any]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token(who)}"} if who else {}

    def get(self, who: str | None, path: str, **params: Any) -> Any:
        return self.client.get(BASE + path, params, **self.headers(who))

    def post(self, who: str | None, path: str, body: Any) -> Any:
        return self.client.post(
            BASE + path, json.dumps(body), content_type="application/json", **self.headers(who)
        )


def audit_rows(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))
