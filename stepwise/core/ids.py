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


# Path parameters that name a patient, in pages and in the API.
PATIENT_PATH_PARAMETERS = ("public_id", "patient_id")


def requested_patient(path_kwargs: dict[str, object]) -> uuid.UUID | None:
    """The patient id a request's path names, if any, for the audit row of a refusal.

    Not looked up: a refused request learns nothing, and the log shows what was asked.
    """
    for name in PATIENT_PATH_PARAMETERS:
        value = path_kwargs.get(name)
        if value is not None:
            try:
                return uuid.UUID(str(value))
            except ValueError:
                return None
    return None
