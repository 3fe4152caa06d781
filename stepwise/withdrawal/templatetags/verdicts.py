"""Looking up a rule's standing override beside its verdict."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def override_for(overrides: dict[str, Any] | None, rule: str) -> Any:
    return (overrides or {}).get(rule)
