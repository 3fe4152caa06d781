"""Who a house is for, checked at a move: a house for men or for women against the sex
recorded on the patient (TEDS). Stepwise records no gender identity, and programs
house transgender residents by it, so the check supports staff and does not decide
alone: without a reason a bed in a house for the other sex is refused; with one the
move goes through and its audit row keeps the override and the reason.

The refusal is worded by house only (whoever moves a resident to another bed may not
read the patient's chart), listing the houses in use that fit and have a vacant bed."""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from stepwise.core.errors import ValidationFailed
from stepwise.patients.models import Patient
from stepwise.residences import rules
from stepwise.residences.models import Bed, House, HouseFor, Residency
from stepwise.residences.services.common import clean_text

REASON_LIMIT = 500
# Houses named in a refusal; the rest are counted ("and 3 more").
LISTED = 5


def _kind(code: str) -> str:
    return str(dict(HouseFor.choices)[code]).lower()


def house_label(house: House) -> str:
    return f"{house.residence.name} · {house.name} ({_kind(house.house_for)})"


def _with_vacant_beds(patient: Patient, allowed: frozenset[str]) -> list[House]:
    """Houses in use of these kinds with a bed in service and nobody in it now."""
    occupied = Residency.objects.filter(bed_id=OuterRef("pk"), moved_out_at__isnull=True)
    vacant = Bed.objects.filter(house_id=OuterRef("pk"), is_active=True).exclude(Exists(occupied))
    return list(
        House.objects.filter(
            organization_id=patient.organization_id,
            house_for__in=allowed,
            is_active=True,
            residence__is_active=True,
        )
        .filter(Exists(vacant))
        .select_related("residence")
        .order_by("residence__name", "name", "id")
    )


def refusal(patient: Patient, house: House) -> str:
    """Why the bed is refused, by house: the houses that fit with a vacant bed (a
    handful, the rest counted), and that a reason lets staff place the resident."""
    allowed = rules.houses_allowed(patient.sex) or frozenset()
    kinds = " or ".join(_kind(code) for code in HouseFor.values if code in allowed)
    fitting = _with_vacant_beds(patient, allowed)
    named = ", ".join(house_label(h) for h in fitting[:LISTED])
    more = len(fitting) - LISTED
    if more > 0:
        named += f" and {more} more"
    choose = (
        f"choose a bed in a house for {kinds}: {named}."
        if fitting
        else f"no house for {kinds} in use has a vacant bed."
    )
    return (
        f"{house.name} is a house for {_kind(house.house_for)}; {choose} To place the "
        "resident here, give the reason."
    )


def house_for_check(patient: Patient, bed: Bed, reason: str | None) -> dict[str, str]:
    """What the move's audit row adds: nothing when the bed's house takes the patient
    (or the sex is not recorded; a reason is then not needed and not kept); the
    override and its reason otherwise. Refused on `bed` and `house_for_reason` when
    no reason is given."""
    house = bed.house
    if rules.house_admits(house.house_for, patient.sex):
        return {}
    errors: dict[str, str] = {}
    text = clean_text(errors, "house_for_reason", reason or "", "Reason", REASON_LIMIT)
    if errors:
        raise ValidationFailed(errors)
    if not text:
        raise ValidationFailed(
            {
                "bed": refusal(patient, house),
                "house_for_reason": "Give the reason for placing the resident in a house for "
                f"{_kind(house.house_for)} (up to {REASON_LIMIT} characters).",
            }
        )
    return {"house_for_override": house.house_for, "house_for_reason": text}
