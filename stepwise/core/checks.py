"""System checks that fail fast on unsafe configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_secrets(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(Error("STEPWISE_SECRET_KEY is the development default.", id="stepwise.E001"))
    if settings.AUDIT_HMAC_KEY == settings.DEV_AUDIT_KEY:
        errors.append(Error("STEPWISE_AUDIT_KEY is the development default.", id="stepwise.E002"))
    return errors


@register()
def check_time_zone_and_audit(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    found: list[Error | Warning] = []
    if settings.TIME_ZONE != "UTC":
        found.append(
            Error("TIME_ZONE must be UTC; facilities carry their own zones.", id="stepwise.E003")
        )
    if not settings.AUDIT_ENABLED:
        found.append(
            Warning(
                "The audit log is off (STEPWISE_AUDIT_ENABLED=0): for benchmarks only.",
                id="stepwise.W001",
            )
        )
    return found
