"""Setting up sober living: residences, their house rules, houses and beds. Like
settings, these name no patient: the case managers, counselors and the director
who run the houses (RESIDENCE_MANAGE) make them, each change audited."""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import time
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.care.selectors import organization_time_zone
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.residences.models import (
    Bed,
    House,
    HouseFor,
    Residence,
    ResidenceRules,
    Residency,
)
from stepwise.residences.services.common import CATEGORY, clean_text, same_org

RULES_LIMIT = 20000


def _require(actor: Actor) -> None:
    require_permission(actor, Permission.RESIDENCE_MANAGE, category=CATEGORY)


def _audit(actor: Actor, action: str, object_type: str, obj: Any, detail: dict[str, Any]) -> None:
    audit_record(
        action=action,
        actor=actor,
        category=CATEGORY,
        object_type=object_type,
        object_id=obj.public_id,
        detail=detail,
    )


def _changes(row: Any, values: dict[str, Any]) -> dict[str, list[Any]]:
    """Set the values on the row; what changed, as [old, new] texts for the audit row."""
    changed: dict[str, list[Any]] = {}
    for name, value in values.items():
        old = getattr(row, name)
        if old != value:
            changed[name] = [str(old), str(value)]
            setattr(row, name, value)
    return changed


# Residences.


@dataclass(frozen=True)
class ResidenceData:
    name: str
    operator_name: str
    address: str = ""
    phone: str = ""
    certification: str = ""
    # Empty: the organization's zone (its first facility's).
    time_zone: str = ""


def _residence_values(
    actor: Actor, data: ResidenceData, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    """The cleaned values; refuses with every field's message (and those in `errors`)."""
    errors = dict(errors or {})
    values = {
        "name": clean_text(errors, "name", data.name, "Name", 200),
        "operator_name": clean_text(errors, "operator_name", data.operator_name, "Operator", 200),
        "address": clean_text(errors, "address", data.address, "Address", 300),
        "phone": clean_text(errors, "phone", data.phone, "Phone", 40),
        "certification": clean_text(
            errors, "certification", data.certification, "Certification", 200
        ),
        "time_zone": (data.time_zone or "").strip()
        or organization_time_zone(actor.organization_id),
    }
    if not values["name"] and "name" not in errors:
        errors["name"] = "Name the residence (up to 200 characters)."
    if not values["operator_name"] and "operator_name" not in errors:
        errors["operator_name"] = "Name who runs the residence (up to 200 characters)."
    if values["time_zone"] not in zoneinfo.available_timezones():
        errors["time_zone"] = "Give an IANA time zone, e.g. America/New_York."
    if errors:
        raise ValidationFailed(errors)
    return values


def _rules_text(errors: dict[str, str], text: str) -> str:
    cleaned = clean_text(errors, "rules_text", text, "House rules", RULES_LIMIT)
    if not cleaned and "rules_text" not in errors:
        errors["rules_text"] = "Write the house rules residents accept at move-in."
    return cleaned


def _name_taken(actor: Actor, name: str, besides: int | None = None) -> bool:
    found = Residence.objects.filter(organization_id=actor.organization_id, name__iexact=name)
    if besides is not None:
        found = found.exclude(pk=besides)
    return found.exists()


def residence_create(actor: Actor, data: ResidenceData, *, rules_text: str) -> Residence:
    """A residence with its first house rules (version 1)."""
    _require(actor)
    errors: dict[str, str] = {}
    text = _rules_text(errors, rules_text)
    values = _residence_values(actor, data, errors)
    taken = Conflict(f"There is already a residence named {values['name']}.")
    with transaction.atomic():
        if _name_taken(actor, values["name"]):
            raise taken
        try:
            with transaction.atomic():
                residence = Residence.objects.create(
                    organization_id=actor.organization_id, rules_version=1, **values
                )
        except IntegrityError:
            raise taken from None
        ResidenceRules.objects.create(
            organization_id=actor.organization_id,
            residence=residence,
            version=1,
            text=text,
            adopted_by_id=actor.user_id,
        )
        _audit(actor, AuditAction.CREATE, "residence", residence, {"name": residence.name})
    return residence


def residence_update(actor: Actor, residence: Residence, data: ResidenceData) -> Residence:
    """Change a residence's name, operator, address, phone, certification or zone."""
    same_org(actor, residence)
    _require(actor)
    values = _residence_values(actor, data)
    with transaction.atomic():
        row = Residence.objects.select_for_update().get(pk=residence.pk)
        if _name_taken(actor, values["name"], besides=row.pk):
            raise Conflict(f"There is already a residence named {values['name']}.")
        changed = _changes(row, values)
        if changed:
            row.save()
            _audit(actor, AuditAction.UPDATE, "residence", row, changed)
    return row


def _open_residencies(**where: Any) -> int:
    return Residency.objects.filter(moved_out_at__isnull=True, **where).count()


def _still_living(count: int) -> str:
    return "1 resident still lives" if count == 1 else f"{count} residents still live"


def residence_retire(actor: Actor, residence: Residence) -> Residence:
    """Take a residence out of use (kept with its history); refused while anyone lives
    there."""
    same_org(actor, residence)
    _require(actor)
    with transaction.atomic():
        row = Residence.objects.select_for_update().get(pk=residence.pk)
        living = _open_residencies(bed__house__residence=row)
        if living:
            raise Conflict(f"{_still_living(living)} at {row.name}; move them out first.")
        if row.is_active:
            row.is_active = False
            row.save(update_fields=["is_active", "updated_at"])
            _audit(actor, AuditAction.UPDATE, "residence", row, {"is_active": ["True", "False"]})
    return row


def residence_reinstate(actor: Actor, residence: Residence) -> Residence:
    same_org(actor, residence)
    _require(actor)
    with transaction.atomic():
        row = Residence.objects.select_for_update().get(pk=residence.pk)
        if not row.is_active:
            row.is_active = True
            row.save(update_fields=["is_active", "updated_at"])
            _audit(actor, AuditAction.UPDATE, "residence", row, {"is_active": ["False", "True"]})
    return row


def rules_update(actor: Actor, residence: Residence, *, text: str) -> ResidenceRules:
    """New house rules: a new version (earlier ones are kept). Residents who accepted an
    earlier version are asked to accept this one."""
    same_org(actor, residence)
    _require(actor)
    errors: dict[str, str] = {}
    cleaned = _rules_text(errors, text)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        row = Residence.objects.select_for_update().get(pk=residence.pk)
        current = ResidenceRules.objects.get(residence=row, version=row.rules_version)
        if current.text == cleaned:
            raise ValidationFailed(
                {
                    "rules_text": f"These are the rules in force (version {row.rules_version}); "
                    "change them to make a new version."
                }
            )
        row.rules_version += 1
        row.save(update_fields=["rules_version", "updated_at"])
        rules = ResidenceRules.objects.create(
            organization_id=actor.organization_id,
            residence=row,
            version=row.rules_version,
            text=cleaned,
            adopted_by_id=actor.user_id,
        )
        to_accept = _open_residencies(bed__house__residence=row)
        _audit(
            actor,
            AuditAction.UPDATE,
            "residence_rules",
            rules,
            {"residence": str(row.public_id), "version": rules.version, "to_accept": to_accept},
        )
    residence.rules_version = row.rules_version
    return rules


# Houses.


@dataclass(frozen=True)
class HouseData:
    name: str
    address: str = ""
    house_for: str = HouseFor.ANY
    curfew_weekday: time = time(22, 0)
    curfew_weekend: time = time(23, 0)


def _house_values(data: HouseData) -> dict[str, Any]:
    errors: dict[str, str] = {}
    values: dict[str, Any] = {
        "name": clean_text(errors, "name", data.name, "Name", 120),
        "address": clean_text(errors, "address", data.address, "Address", 300),
        "house_for": data.house_for,
        # Curfews are kept to the minute.
        "curfew_weekday": data.curfew_weekday.replace(second=0, microsecond=0, tzinfo=None),
        "curfew_weekend": data.curfew_weekend.replace(second=0, microsecond=0, tzinfo=None),
    }
    if not values["name"] and "name" not in errors:
        errors["name"] = "Name the house (up to 120 characters)."
    if data.house_for not in HouseFor.values:
        errors["house_for"] = f"Allowed values: {allowed_values(HouseFor.choices)}."
    if errors:
        raise ValidationFailed(errors)
    return values


def _house_name_taken(residence: Residence, name: str, besides: int | None = None) -> bool:
    found = House.objects.filter(residence=residence, name__iexact=name)
    if besides is not None:
        found = found.exclude(pk=besides)
    return found.exists()


def house_create(actor: Actor, residence: Residence, data: HouseData) -> House:
    """Add a house; refused (on `residence`) while the residence is retired."""
    same_org(actor, residence)
    _require(actor)
    values = _house_values(data)
    taken = Conflict(f"{residence.name} already has a house named {values['name']}.")
    with transaction.atomic():
        row = Residence.objects.select_for_update().get(pk=residence.pk)
        if not row.is_active:
            raise ValidationFailed(
                {"residence": f"{row.name} is retired; reinstate it before adding houses."}
            )
        if _house_name_taken(row, values["name"]):
            raise taken
        try:
            with transaction.atomic():
                house = House.objects.create(
                    organization_id=actor.organization_id, residence=row, **values
                )
        except IntegrityError:
            raise taken from None
        _audit(
            actor,
            AuditAction.CREATE,
            "house",
            house,
            {"residence": str(row.public_id), "name": house.name},
        )
    return house


def house_update(actor: Actor, house: House, data: HouseData) -> House:
    """Change a house's name, address, who it is for, or its curfews (from tonight;
    curfews already recorded keep the time that applied)."""
    same_org(actor, house)
    _require(actor)
    values = _house_values(data)
    with transaction.atomic():
        row = House.objects.select_for_update().select_related("residence").get(pk=house.pk)
        if _house_name_taken(row.residence, values["name"], besides=row.pk):
            raise Conflict(f"{row.residence.name} already has a house named {values['name']}.")
        changed = _changes(row, values)
        if changed:
            row.save()
            _audit(actor, AuditAction.UPDATE, "house", row, changed)
    return row


def house_retire(actor: Actor, house: House) -> House:
    same_org(actor, house)
    _require(actor)
    with transaction.atomic():
        row = House.objects.select_for_update().get(pk=house.pk)
        living = _open_residencies(bed__house=row)
        if living:
            raise Conflict(f"{_still_living(living)} in {row.name}; move them out first.")
        if row.is_active:
            row.is_active = False
            row.save(update_fields=["is_active", "updated_at"])
            _audit(actor, AuditAction.UPDATE, "house", row, {"is_active": ["True", "False"]})
    return row


def house_reinstate(actor: Actor, house: House) -> House:
    """Put a house back in use; refused (on `residence`) while its residence is retired."""
    same_org(actor, house)
    _require(actor)
    with transaction.atomic():
        row = House.objects.select_for_update().select_related("residence").get(pk=house.pk)
        if not row.residence.is_active:
            raise ValidationFailed(
                {
                    "residence": f"{row.residence.name} is retired; reinstate it before "
                    f"putting {row.name} back in use."
                }
            )
        if not row.is_active:
            row.is_active = True
            row.save(update_fields=["is_active", "updated_at"])
            _audit(actor, AuditAction.UPDATE, "house", row, {"is_active": ["False", "True"]})
    return row


# Beds.


def _bed_label(label: str) -> str:
    errors: dict[str, str] = {}
    cleaned = clean_text(errors, "label", label, "Label", 40)
    if not cleaned and "label" not in errors:
        errors["label"] = "Label the bed (up to 40 characters), e.g. Bed 1 or Room 2 window."
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _label_taken(house: House, label: str, besides: int | None = None) -> bool:
    found = Bed.objects.filter(house=house, label__iexact=label)
    if besides is not None:
        found = found.exclude(pk=besides)
    return found.exists()


def bed_create(actor: Actor, house: House, *, label: str) -> Bed:
    """Add a bed; refused (on `house`) while the house or its residence is retired."""
    same_org(actor, house)
    _require(actor)
    cleaned = _bed_label(label)
    taken = Conflict(f"{house.name} already has a bed labelled {cleaned}.")
    with transaction.atomic():
        # Locks the residence too, so it is not retired while the bed is added.
        row = House.objects.select_for_update().select_related("residence").get(pk=house.pk)
        if not row.residence.is_active:
            raise ValidationFailed(
                {"house": f"{row.residence.name} is retired; reinstate it before adding beds."}
            )
        if not row.is_active:
            raise ValidationFailed(
                {"house": f"{row.name} is retired; reinstate the house before adding beds."}
            )
        if _label_taken(row, cleaned):
            raise taken
        try:
            with transaction.atomic():
                bed = Bed.objects.create(
                    organization_id=actor.organization_id, house=row, label=cleaned
                )
        except IntegrityError:
            raise taken from None
        _audit(
            actor, AuditAction.CREATE, "bed", bed, {"house": str(row.public_id), "label": cleaned}
        )
    return bed


def bed_update(actor: Actor, bed: Bed, *, label: str) -> Bed:
    same_org(actor, bed)
    _require(actor)
    cleaned = _bed_label(label)
    with transaction.atomic():
        row = Bed.objects.select_for_update().select_related("house").get(pk=bed.pk)
        if _label_taken(row.house, cleaned, besides=row.pk):
            raise Conflict(f"{row.house.name} already has a bed labelled {cleaned}.")
        changed = _changes(row, {"label": cleaned})
        if changed:
            row.save()
            _audit(actor, AuditAction.UPDATE, "bed", row, changed)
    return row


def bed_retire(actor: Actor, bed: Bed) -> Bed:
    """Take a bed out of service from now (repairs, a room closed); refused while
    someone lives in it, saying so without naming them."""
    same_org(actor, bed)
    _require(actor)
    with transaction.atomic():
        row = Bed.objects.select_for_update().get(pk=bed.pk)
        if not row.is_active:
            return row
        if _open_residencies(bed=row):
            raise Conflict(f"{row.label} has a resident; move them out or to another bed first.")
        row.is_active = False
        row.retired_at = timezone.now()
        row.save(update_fields=["is_active", "retired_at", "updated_at"])
        _audit(actor, AuditAction.UPDATE, "bed", row, {"is_active": ["True", "False"]})
    return row


def bed_reinstate(actor: Actor, bed: Bed) -> Bed:
    """Put a bed back in service; refused (on `house`) while its house or residence is
    retired."""
    same_org(actor, bed)
    _require(actor)
    with transaction.atomic():
        # Locks the house and residence too, so neither is retired meanwhile.
        row = Bed.objects.select_for_update().select_related("house__residence").get(pk=bed.pk)
        house = row.house
        back = f"before putting {row.label} back in service."
        if not house.residence.is_active:
            raise ValidationFailed(
                {"house": f"{house.residence.name} is retired; reinstate it {back}"}
            )
        if not house.is_active:
            raise ValidationFailed(
                {"house": f"{house.name} is retired; reinstate the house {back}"}
            )
        if not row.is_active:
            row.is_active = True
            row.retired_at = None
            row.save(update_fields=["is_active", "retired_at", "updated_at"])
            _audit(actor, AuditAction.UPDATE, "bed", row, {"is_active": ["False", "True"]})
    return row
