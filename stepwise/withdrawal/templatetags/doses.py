"""Doses as clinicians write them: 0.1 mg, not 0.100 mg."""

from __future__ import annotations

from decimal import Decimal

from django import template

register = template.Library()


@register.filter
def mg(value: Decimal | None) -> str:
    if value is None:
        return ""
    return f"{Decimal(value).normalize():f} mg"
