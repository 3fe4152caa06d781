"""Public ids: the UUIDs that URLs, the API and FHIR use instead of integer keys."""

from __future__ import annotations

import uuid

from stepwise.core.errors import NotFound


def public_id_or_404(value: uuid.UUID | str) -> uuid.UUID:
    """A malformed id names no record, exactly like an unknown one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None
