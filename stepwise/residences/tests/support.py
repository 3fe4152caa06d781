"""Shared set-up of the sober-living tests: a residence of the cast with two houses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from stepwise.patients.models import Patient
from stepwise.residences.models import Bed, House, Residence, Residency
from stepwise.residences.services.residency import residency_move_in
from stepwise.residences.services.setup import (
    HouseData,
    ResidenceData,
    bed_create,
    house_create,
    residence_create,
)

RULES = "No alcohol or drugs.\nCurfew as posted.\nChores on Saturday."


@dataclass
class Sober:
    residence: Residence
    oak: House  # men, 4 beds
    elm: House  # women, 2 beds
    oak_beds: list[Bed]
    elm_beds: list[Bed]


def sober_living(
    cast: Any,
    *,
    name: str = "Riverside Sober Living",
    oak_beds: int = 4,
    elm_beds: int = 2,
    by: str = "director",
) -> Sober:
    actor = cast.actors[by]
    residence = residence_create(
        actor,
        ResidenceData(
            name=name,
            operator_name="Riverside Recovery",
            address="12 Oak St",
            phone="555-0100",
            certification="NARR level II",
            time_zone="America/New_York",
        ),
        rules_text=RULES,
    )
    oak = house_create(
        actor,
        residence,
        HouseData(name=f"Oak House {name[:3]}", house_for="men", curfew_weekday=time(22, 0)),
    )
    elm = house_create(actor, residence, HouseData(name=f"Elm House {name[:3]}", house_for="women"))
    return Sober(
        residence,
        oak,
        elm,
        [bed_create(actor, oak, label=f"Bed {n + 1}") for n in range(oak_beds)],
        [bed_create(actor, elm, label=f"Bed {n + 1}") for n in range(elm_beds)],
    )


def move_in(
    cast: Any,
    patient: Patient,
    bed: Bed,
    *,
    by: str = "owner",
    at: datetime | None = None,
    version: int | None = None,
) -> Residency:
    bed.refresh_from_db()
    residence = bed.house.residence
    residence.refresh_from_db()
    return residency_move_in(
        cast.actors[by],
        patient,
        bed,
        rules_version=version or residence.rules_version,
        at=at,
    )
