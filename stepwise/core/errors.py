"""Errors raised by services and selectors, mapped to HTTP by views and the API."""

from __future__ import annotations

from collections.abc import Iterable


class StepwiseError(Exception):
    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(StepwiseError):
    """The record does not exist for this user (never says whether it exists elsewhere)."""

    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class AccessDenied(StepwiseError):
    status_code = 403

    def __init__(self, message: str = "Your role does not allow this action.") -> None:
        super().__init__(message)


class OutsideCareTeam(AccessDenied):
    """The role may do this, but not for a patient whose care team the actor is not on.

    Carries only the record's public id, so the refusal page can offer emergency
    access without showing anything about the patient.
    """

    def __init__(self, record_public_id: str) -> None:
        super().__init__("Only this patient's care team has access to this record.")
        self.record_public_id = record_public_id


class Conflict(StepwiseError):
    """The request is valid but the current state forbids it (beds full, open episode)."""

    status_code = 409


class ValidationFailed(StepwiseError):
    """One message per invalid field."""

    status_code = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {msg}" for field, msg in errors.items()))
        self.errors = errors


def allowed_values(choices: Iterable[tuple[object, str]]) -> str:
    """The codes a field takes with their meanings, for a refusal that names them:
    "1 (Oral), 2 (Smoking), ..."."""
    return ", ".join(f"{code} ({text})" for code, text in choices)
