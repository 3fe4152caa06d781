"""Public ids: the UUIDs that URLs, the API and FHIR use instead of integer keys."""

from __future__ import annotations

import uuid
from typing import TypeVar

from django.db.models import Model, QuerySet

from stepwise.core.errors import NotFound

Row = TypeVar("Row", bound=Model)


def public_id_or_404(value: uuid.UUID | str) -> uuid.UUID:
    """A malformed id names no record, exactly like an unknown one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise NotFound() from None


def one_of_organization(
    rows: QuerySet[Row], organization_id: int, public_id: uuid.UUID | str
) -> Row:
    """The organization's row that a public id names; another organization's, an
    unknown id and a malformed one are alike not found."""
    found = rows.filter(
        organization_id=organization_id, public_id=public_id_or_404(public_id)
    ).first()
    if found is None:
        raise NotFound()
    return found


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
