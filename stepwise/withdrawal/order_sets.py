"""Reads of the order sets a withdrawal-management unit offers its physicians:
Stepwise's default comfort set (unless the unit turned it off) and the program's
own sets."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db.models import Prefetch

from stepwise.care.models import Program
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.withdrawal.models import OrderSet, OrderSetLine, UnitSettings
from stepwise.withdrawal.rules import formulary, schedule

# The key of the built-in set in forms and the API (a program set's key is its UUID).
DEFAULT_KEY = "comfort"
DEFAULT_NAME = "Opioid-withdrawal comfort set"
DEFAULT_DESCRIPTION = (
    "Stepwise's default: as-needed adjuncts for opioid withdrawal symptoms, each with "
    "its indication and a daily maximum."
)


@dataclass(frozen=True)
class SetLine:
    drug: str
    dose_mg: str
    route: str
    frequency: str
    prn_indication: str
    max_daily_mg: str

    @classmethod
    def of(cls, line: formulary.OrderSetLine) -> SetLine:
        return cls(
            line.drug,
            line.dose_mg,
            line.route.value,
            line.frequency,
            line.prn_indication,
            line.max_daily_mg,
        )

    @property
    def drug_name(self) -> str:
        return formulary.drug(self.drug).name

    @property
    def frequency_label(self) -> str:
        return schedule.FREQUENCIES_BY_CODE[self.frequency].label

    @property
    def route_label(self) -> str:
        return formulary.ROUTE_LABELS[formulary.Route(self.route)]


@dataclass(frozen=True)
class AvailableSet:
    key: str
    name: str
    description: str
    lines: tuple[SetLine, ...]
    builtin: bool = False


DEFAULT_SET = AvailableSet(
    DEFAULT_KEY,
    DEFAULT_NAME,
    DEFAULT_DESCRIPTION,
    tuple(SetLine.of(line) for line in formulary.DEFAULT_COMFORT_SET),
    builtin=True,
)


def _lines(order_set: OrderSet) -> tuple[SetLine, ...]:
    return tuple(SetLine.of(line.as_rule_input()) for line in order_set.lines.all())


def _with_lines(active_only: bool, program: Program) -> list[OrderSet]:
    found = OrderSet.objects.filter(
        organization_id=program.organization_id, program=program
    ).prefetch_related(Prefetch("lines", queryset=OrderSetLine.objects.order_by("position")))
    if active_only:
        found = found.filter(is_active=True)
    return list(found.select_related("changed_by"))


def offers_default(program: Program) -> bool:
    row = UnitSettings.objects.filter(program=program).only("offer_default_comfort_set").first()
    return True if row is None else row.offer_default_comfort_set


def available_sets(program: Program) -> list[AvailableSet]:
    """What a physician of the program may order in one step (three queries)."""
    own = [
        AvailableSet(str(s.public_id), s.name, s.description, _lines(s))
        for s in _with_lines(True, program)
    ]
    return [DEFAULT_SET, *own] if offers_default(program) else own


def available_set(program: Program, key: str) -> AvailableSet | None:
    return next((s for s in available_sets(program) if s.key == key), None)


@dataclass(frozen=True)
class ProgramSets:
    """The director's view of a program's sets: the default and whether it is offered,
    the program's active sets and the retired ones."""

    program: Program
    offers_default: bool
    active: list[tuple[OrderSet, tuple[SetLine, ...]]]
    retired: list[tuple[OrderSet, tuple[SetLine, ...]]]
    default: AvailableSet = DEFAULT_SET


def program_sets(program: Program) -> ProgramSets:
    sets = _with_lines(False, program)
    return ProgramSets(
        program=program,
        offers_default=offers_default(program),
        active=[(s, _lines(s)) for s in sets if s.is_active],
        retired=[(s, _lines(s)) for s in sets if not s.is_active],
    )


def order_set_of(program: Program, set_id: uuid.UUID | str) -> OrderSet:
    found = (
        OrderSet.objects.filter(
            organization_id=program.organization_id,
            program=program,
            public_id=public_id_or_404(set_id),
        )
        .prefetch_related(Prefetch("lines", queryset=OrderSetLine.objects.order_by("position")))
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def set_lines(order_set: OrderSet) -> tuple[SetLine, ...]:
    return _lines(order_set)
