"""Sections other apps add to a residency's page.

Residence drug screens belong to the recovery app (urine drug screens); when it loads
it can register a section here, so the residency page shows the screens taken at the
house without this app importing recovery. Until then the page shows nothing there."""

from __future__ import annotations

from collections.abc import Callable

from stepwise.care.panels import ChartPanel
from stepwise.core.actor import Actor
from stepwise.residences.models import Residency

# Gets the actor and the residency (with its patient, bed, house and residence loaded);
# returns None to show nothing. Called inside the residency page's audited read, so it
# should cost a fixed number of queries and need no audit row of its own.
ResidencySectionProvider = Callable[[Actor, Residency], ChartPanel | None]
_SECTIONS: list[tuple[int, str, ResidencySectionProvider]] = []


def register_residency_section(
    name: str, provider: ResidencySectionProvider, *, order: int = 50
) -> None:
    """Add a section to the residency page; `order` places it (lower first).
    Registering the same name again replaces it (apps can be reloaded in tests)."""
    _SECTIONS[:] = [s for s in _SECTIONS if s[1] != name]
    _SECTIONS.append((order, name, provider))
    _SECTIONS.sort(key=lambda s: s[0])


def unregister_residency_section(name: str) -> None:
    _SECTIONS[:] = [s for s in _SECTIONS if s[1] != name]


def residency_sections(actor: Actor, residency: Residency) -> list[ChartPanel]:
    return [panel for _, _, provider in _SECTIONS if (panel := provider(actor, residency))]
