"""When a clinical event happened, as given by a form or the API."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from stepwise.core.errors import ValidationFailed

# Clocks of tablets and servers differ a little; a time this far ahead is still "now".
CLOCK_SKEW = timedelta(minutes=5)


def event_time(at: datetime | None, field: str) -> datetime:
    """The time given (aware, not in the future), or now when none is given."""
    now = timezone.now()
    if at is None:
        return now
    if timezone.is_naive(at):
        raise ValidationFailed({field: "Give the time with its time zone."})
    if at > now + CLOCK_SKEW:
        raise ValidationFailed({field: "The time cannot be in the future."})
    return at
