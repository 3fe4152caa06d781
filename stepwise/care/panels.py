"""Sections other apps add to the patient's chart.

The chart lives here, below the apps that hold assessments, plans or medications;
those apps register a panel when they load, so the chart shows their data without
this app importing them (DESIGN: nothing points back up)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stepwise.core.actor import Actor
from stepwise.patients.models import Patient


@dataclass(frozen=True)
class ChartPanel:
    template: str
    context: dict[str, Any] = field(default_factory=dict)


class _Sections:
    """Sections in their order, each from a provider that may return None to show
    nothing. Registering a name again replaces it (apps can be reloaded in tests)."""

    def __init__(self) -> None:
        self._providers: list[tuple[int, str, Callable[..., ChartPanel | None]]] = []

    def register(self, order: int, name: str, provider: Callable[..., ChartPanel | None]) -> None:
        self._providers[:] = [p for p in self._providers if p[1] != name]
        self._providers.append((order, name, provider))
        self._providers.sort(key=lambda p: p[0])

    def shown(self, *args: Any) -> list[ChartPanel]:
        return [panel for _, _, provider in self._providers if (panel := provider(*args))]


PanelProvider = Callable[[Actor, Patient], ChartPanel | None]
_CHART = _Sections()


def register_chart_panel(order: int, name: str, provider: PanelProvider) -> None:
    """Add a chart section; `order` places it (lower first)."""
    _CHART.register(order, name, provider)


def chart_panels(actor: Actor, patient: Patient) -> list[ChartPanel]:
    """Each registered section for this patient. Called inside the chart read, whose
    audit row covers what the panels show."""
    return _CHART.shown(actor, patient)


# Sections other apps add to the worklist (the schedule's weekly-hours shortfalls).
WorklistProvider = Callable[[Actor, datetime], ChartPanel | None]
_WORKLIST = _Sections()


def register_worklist_section(order: int, name: str, provider: WorklistProvider) -> None:
    _WORKLIST.register(order, name, provider)


def worklist_sections(actor: Actor, now: datetime) -> list[ChartPanel]:
    """Called inside the worklist read, whose audit row covers what the sections show."""
    return _WORKLIST.shown(actor, now)


# Sections other apps add beside the bed board (sober-living vacancies). The board is
# open to every member of staff: a provider checks the actor's role itself and shows
# counts only, never a patient; it must cost a fixed number of queries.
BedBoardProvider = Callable[[Actor, datetime], ChartPanel | None]
_BED_BOARD = _Sections()


def register_bed_board_section(order: int, name: str, provider: BedBoardProvider) -> None:
    _BED_BOARD.register(order, name, provider)


def bed_board_sections(actor: Actor, now: datetime) -> list[ChartPanel]:
    return _BED_BOARD.shown(actor, now)
