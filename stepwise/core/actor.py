"""Who is acting: the user, the organization they act in and their role there."""

from __future__ import annotations

from dataclasses import dataclass

from stepwise.core.models import Organization


@dataclass(frozen=True)
class Actor:
    user_id: int
    username: str
    organization: Organization
    role: str

    @property
    def organization_id(self) -> int:
        return self.organization.pk
