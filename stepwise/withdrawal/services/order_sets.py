"""A withdrawal-management program's own order sets, kept by the clinical director:
create, change, retire, and whether the unit offers Stepwise's default comfort set.

A set holds comfort and rescue medication only. MOUD starts are guarded by safety
rules that read the patient's record at the time; a physician orders them one by one
and sees each check. Orders copy a set's lines, so changing a set changes no order.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.care.models import Program
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.withdrawal.models import OrderSet, OrderSetLine, UnitSettings
from stepwise.withdrawal.order_sets import DEFAULT_NAME
from stepwise.withdrawal.rules import formulary, schedule
from stepwise.withdrawal.services.configuration import CATEGORY, require_unit_settings
from stepwise.withdrawal.services.medications import OrderInput, order_errors

MAX_LINES = 20
SET_DRUGS = formulary.ORDER_SET_DRUGS


@dataclass(frozen=True)
class LineInput:
    drug: str
    dose_mg: Decimal
    route: str
    frequency: str
    prn_indication: str = ""
    max_daily_mg: Decimal | None = None

    def summary(self) -> str:
        return line_summary(
            self.drug,
            self.dose_mg,
            self.route,
            self.frequency,
            self.prn_indication,
            self.max_daily_mg,
        )


def line_summary(
    drug: str,
    dose_mg: Decimal,
    route: str,
    frequency: str,
    prn_indication: str,
    max_daily_mg: Decimal | None,
) -> str:
    """One line of a set as the audit log keeps it: every field that bounds a dose."""
    text = f"{drug} {dose_mg.normalize():f} mg {route} {frequency}"
    if prn_indication.strip():
        text += f" for {prn_indication.strip()}"
    if max_daily_mg is not None:
        text += f", at most {max_daily_mg.normalize():f} mg in 24 h"
    return text


def _stored_summary(line: OrderSetLine) -> str:
    return line_summary(
        line.drug,
        line.dose_mg,
        line.route,
        line.frequency,
        line.prn_indication,
        line.max_daily_mg,
    )


def _line_errors(index: int, line: LineInput) -> dict[str, str]:
    info = formulary.DRUGS_BY_CODE.get(line.drug)
    if info is not None and info.drug_class is formulary.DrugClass.MOUD:
        return {
            f"lines.{index}.drug": (
                f"{info.name} is MOUD: order it on its own so its safety check is seen. "
                "Allowed in a set: " + ", ".join(d.code for d in SET_DRUGS) + "."
            )
        }
    as_order = OrderInput(
        drug=line.drug,
        dose_mg=line.dose_mg,
        route=line.route,
        frequency=line.frequency,
        prn_indication=line.prn_indication,
        max_daily_mg=line.max_daily_mg,
    )
    return {
        f"lines.{index}.{name}": message
        for name, message in order_errors(as_order, timezone.now()).items()
    }


def order_set_errors(
    program: Program, name: str, lines: list[LineInput], *, keep: OrderSet | None = None
) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = name.strip()
    if not name:
        errors["name"] = "Give the set a name."
    elif len(name) > 100:
        errors["name"] = "At most 100 characters."
    elif name.casefold() == DEFAULT_NAME.casefold():
        errors["name"] = "That is the name of Stepwise's default set; choose another."
    else:
        taken = OrderSet.objects.filter(program=program, is_active=True, name__iexact=name)
        if keep is not None:
            taken = taken.exclude(pk=keep.pk)
        if taken.exists():
            errors["name"] = f"{program.name} already has an active set named “{name}”."
    if not lines:
        errors["lines"] = "Add at least one medication."
    elif len(lines) > MAX_LINES:
        errors["lines"] = f"A set holds at most {MAX_LINES} medications."
    seen: dict[str, int] = {}
    for index, line in enumerate(lines):
        errors.update(_line_errors(index, line))
        field = f"lines.{index}.drug"
        if line.drug in seen and field not in errors:
            # As-needed spacing and the 24-hour maximum are counted per order.
            errors[field] = (
                f"{formulary.drug(line.drug).name} is already line {seen[line.drug] + 1}; "
                "one line per medication."
            )
        seen.setdefault(line.drug, index)
        frequency = schedule.FREQUENCIES_BY_CODE.get(line.frequency)
        info = formulary.DRUGS_BY_CODE.get(line.drug)
        # Comfort medication as needed gets a ceiling; rescue naloxone must not have one.
        comfort = info is not None and info.drug_class is formulary.DrugClass.COMFORT
        if comfort and frequency is not None and frequency.is_prn and line.max_daily_mg is None:
            errors.setdefault(
                f"lines.{index}.max_daily_mg",
                "An as-needed comfort medication in a set needs its maximum in 24 hours.",
            )
    both = sorted(set(seen) & formulary.ALPHA2_AGONISTS)
    if len(both) > 1:
        errors["lines"] = (
            "Clonidine and lofexidine are both alpha-2 agonists: together they lower blood "
            "pressure and pulse further. Keep one of them in the set."
        )
    return errors


def _write_lines(order_set: OrderSet, lines: list[LineInput]) -> None:
    OrderSetLine.objects.bulk_create(
        OrderSetLine(
            order_set=order_set,
            position=index,
            drug=line.drug,
            dose_mg=line.dose_mg,
            route=line.route,
            frequency=line.frequency,
            prn_indication=line.prn_indication.strip(),
            max_daily_mg=line.max_daily_mg,
        )
        for index, line in enumerate(lines)
    )


def _audit(actor: Actor, order_set: OrderSet, detail: dict[str, Any]) -> None:
    audit_record(
        action=AuditAction.SETTINGS_CHANGE,
        actor=actor,
        category=CATEGORY,
        object_type="order_set",
        object_id=order_set.public_id,
        detail={"program": str(order_set.program.public_id), "name": order_set.name, **detail},
    )


def order_set_create(
    actor: Actor, program: Program, *, name: str, lines: list[LineInput], description: str = ""
) -> OrderSet:
    require_unit_settings(actor, program)
    errors = order_set_errors(program, name, lines)
    if len(description) > 300:
        errors["description"] = "At most 300 characters."
    if errors:
        raise ValidationFailed(errors)
    try:
        with transaction.atomic():
            order_set = OrderSet.objects.create(
                organization_id=actor.organization_id,
                program=program,
                name=name.strip(),
                description=description.strip(),
                changed_by_id=actor.user_id,
            )
            _write_lines(order_set, lines)
            _audit(actor, order_set, {"created": [line.summary() for line in lines]})
    except IntegrityError:
        raise _name_taken(program, name) from None
    return order_set


def order_set_update(
    actor: Actor, order_set: OrderSet, *, name: str, lines: list[LineInput], description: str = ""
) -> OrderSet:
    """Replace a set's name, description and lines (orders already placed keep theirs)."""
    program = order_set.program
    require_unit_settings(actor, program)
    errors = order_set_errors(program, name, lines, keep=order_set)
    if len(description) > 300:
        errors["description"] = "At most 300 characters."
    if errors:
        raise ValidationFailed(errors)
    try:
        return _update(actor, order_set, name, lines, description)
    except IntegrityError:
        raise _name_taken(program, name) from None


def _name_taken(program: Program, name: str) -> ValidationFailed:
    # Another director saved the same name a moment ago (the database's constraint).
    return ValidationFailed({"name": f"{program.name} already has an active set named “{name}”."})


def _update(
    actor: Actor, order_set: OrderSet, name: str, lines: list[LineInput], description: str
) -> OrderSet:
    with transaction.atomic():
        locked = OrderSet.objects.select_for_update().get(pk=order_set.pk)
        if not locked.is_active:
            raise Conflict("This set is retired; create a new one instead.")
        before = [_stored_summary(line) for line in locked.lines.order_by("position")]
        old_name = locked.name
        locked.lines.all().delete()
        locked.name = name.strip()
        locked.description = description.strip()
        locked.changed_by_id = actor.user_id
        locked.save(update_fields=["name", "description", "changed_by", "updated_at"])
        _write_lines(locked, lines)
        _audit(
            actor,
            locked,
            {
                **({"renamed_from": old_name} if old_name != locked.name else {}),
                "lines_before": before,
                "lines_after": [line.summary() for line in lines],
            },
        )
    return locked


def order_set_retire(actor: Actor, order_set: OrderSet) -> OrderSet:
    require_unit_settings(actor, order_set.program)
    with transaction.atomic():
        locked = OrderSet.objects.select_for_update().get(pk=order_set.pk)
        if not locked.is_active:
            raise Conflict("This set is already retired.")
        locked.is_active = False
        locked.changed_by_id = actor.user_id
        locked.save(update_fields=["is_active", "changed_by", "updated_at"])
        _audit(actor, locked, {"retired": True})
    return locked


def default_set_offer(actor: Actor, program: Program, *, offered: bool) -> UnitSettings:
    """Offer Stepwise's default comfort set in the unit, or stop offering it (a unit
    with its own comfort set may not want two)."""
    require_unit_settings(actor, program)
    with transaction.atomic():
        row, _ = UnitSettings.objects.select_for_update().get_or_create(program=program)
        if row.offer_default_comfort_set != offered:
            row.offer_default_comfort_set = offered
            row.save(update_fields=["offer_default_comfort_set", "updated_at"])
            audit_record(
                action=AuditAction.SETTINGS_CHANGE,
                actor=actor,
                category=CATEGORY,
                object_type="unit_settings",
                object_id=program.public_id,
                detail={"offer_default_comfort_set": [not offered, offered]},
            )
    return row
