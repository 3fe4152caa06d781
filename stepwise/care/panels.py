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


PanelProvider = Callable[[Actor, Patient], ChartPanel | None]
_PROVIDERS: list[tuple[int, str, PanelProvider]] = []


def register_chart_panel(order: int, name: str, provider: PanelProvider) -> None:
    """Add a chart section; `order` places it (lower first). Registering the same name
    again replaces it (apps can be reloaded in tests)."""
    _PROVIDERS[:] = [p for p in _PROVIDERS if p[1] != name]
    _PROVIDERS.append((order, name, provider))
    _PROVIDERS.sort(key=lambda p: p[0])


def chart_panels(actor: Actor, patient: Patient) -> list[ChartPanel]:
    """Each registered section for this patient; a provider returns None to show nothing.
    Called inside the chart read, whose audit row covers what the panels show."""
    return [panel for _, _, provider in _PROVIDERS if (panel := provider(actor, patient))]


# Sections other apps add to the worklist (the schedule's weekly-hours shortfalls).
WorklistProvider = Callable[[Actor, datetime], ChartPanel | None]
_WORKLIST: list[tuple[int, str, WorklistProvider]] = []


def register_worklist_section(order: int, name: str, provider: WorklistProvider) -> None:
    """Add a worklist section; a provider returns None to show nothing. Registering
    the same name again replaces it."""
    _WORKLIST[:] = [p for p in _WORKLIST if p[1] != name]
    _WORKLIST.append((order, name, provider))
    _WORKLIST.sort(key=lambda p: p[0])


def worklist_sections(actor: Actor, now: datetime) -> list[ChartPanel]:
    """Called inside the worklist read, whose audit row covers what the sections show."""
    return [panel for _, _, provider in _WORKLIST if (panel := provider(actor, now))]


# Sections other apps add beside the bed board (sober-living vacancies). The board is
# open to every member of staff: a provider checks the actor's role itself and shows
# counts only, never a patient; it must cost a fixed number of queries.
BedBoardProvider = Callable[[Actor, datetime], ChartPanel | None]
_BED_BOARD: list[tuple[int, str, BedBoardProvider]] = []


def register_bed_board_section(order: int, name: str, provider: BedBoardProvider) -> None:
    """Add a bed-board section; a provider returns None to show nothing. Registering
    the same name again replaces it."""
    _BED_BOARD[:] = [p for p in _BED_BOARD if p[1] != name]
    _BED_BOARD.append((order, name, provider))
    _BED_BOARD.sort(key=lambda p: p[0])


def bed_board_sections(actor: Actor, now: datetime) -> list[ChartPanel]:
    return [panel for _, _, provider in _BED_BOARD if (panel := provider(actor, now))]
