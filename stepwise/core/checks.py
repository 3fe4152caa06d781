"""System checks that fail fast on unsafe configuration."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from stepwise.core.crypto import key_problems


@register(Tags.security, deploy=True)
def check_secrets(app_configs: Any, **kwargs: Any) -> list[Error]:
    errors = []
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        errors.append(Error("STEPWISE_SECRET_KEY is the development default.", id="stepwise.E001"))
    if settings.AUDIT_HMAC_KEY == settings.DEV_AUDIT_KEY:
        errors.append(Error("STEPWISE_AUDIT_KEY is the development default.", id="stepwise.E002"))
    if settings.DEV_FIELD_KEY in settings.FIELD_ENCRYPTION_KEYS:
        errors.append(
            Error("STEPWISE_FIELD_KEYS includes the development key.", id="stepwise.E004")
        )
    return errors


@register(Tags.security)
def check_field_keys(app_configs: Any, **kwargs: Any) -> list[Error]:
    """Unusable field keys would fail on the first encrypted read or write: say so at start."""
    return [
        Error(problem, id="stepwise.E005")
        for problem in key_problems(settings.FIELD_ENCRYPTION_KEYS)
    ]


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
