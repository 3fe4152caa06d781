"""What the residence services share: the audit category, the organization check,
lookups by public id, text checks and local times for messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import one_of_organization
from stepwise.residences.models import Bed, House, Residence, Residency

# Audit category of everything here. Rows naming a patient are Part 2 data (the
# category is not in core's table, and a named patient makes it Part 2); settings-like
# rows (a residence, a house, a bed) name none.
CATEGORY = "residences"


def same_org(actor: Actor, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != actor.organization_id:
            raise NotFound()


def zone_of(residence: Residence) -> ZoneInfo:
    """Curfews and nights of a residence run in its zone."""
    return ZoneInfo(residence.time_zone)


def local_text(at: datetime, zone: ZoneInfo) -> str:
    """'Mon 2026-12-07 22:15' in the residence's zone, for messages."""
    return at.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def clean_text(errors: dict[str, str], field: str, value: str, label: str, limit: int) -> str:
    """The value trimmed; a message on `field` when it is too long or holds NUL."""
    text = (value or "").strip()
    if "\x00" in text:
        errors[field] = f"{label}: text may not contain NUL characters."
    elif len(text) > limit:
        errors[field] = f"{label}: up to {limit} characters."
    return text


def residence_get(actor: Actor, public_id: uuid.UUID | str) -> Residence:
    return one_of_organization(Residence.objects.all(), actor.organization_id, public_id)


def house_get(actor: Actor, public_id: uuid.UUID | str) -> House:
    houses = House.objects.select_related("residence")
    return one_of_organization(houses, actor.organization_id, public_id)


def bed_get(actor: Actor, public_id: uuid.UUID | str) -> Bed:
    beds = Bed.objects.select_related("house__residence")
    return one_of_organization(beds, actor.organization_id, public_id)


def residency_get(actor: Actor, public_id: uuid.UUID | str) -> Residency:
    rows = Residency.objects.select_related("patient", "bed__house__residence", "stay__program")
    return one_of_organization(rows, actor.organization_id, public_id)
