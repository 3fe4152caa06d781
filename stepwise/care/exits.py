"""What other apps require, and do, when a patient enters or leaves a stay.

Care opens and closes stays; the apps above it (withdrawal management's discharge
bundle, the schedule's enrollment) may refuse a leaving or act on an entry or a leaving. They register here when they load, so care enforces
their rule on every path out of a stay without importing them (DESIGN: nothing
points back up). Both run inside the transaction that closes the stay.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from stepwise.core.actor import Actor

if TYPE_CHECKING:
    from stepwise.care.models import Episode, Program, Stay


@dataclass(frozen=True)
class StayExit:
    actor: Actor
    stay: Stay  # the stay being closed, locked, with its program
    at: datetime
    to_program: Program | None = None  # a transition within the episode
    discharge_reason: int | None = None  # the episode ends (TEDS reason)


# A check raises ValidationFailed or Conflict to refuse; an effect returns what its
# audit detail should add (or None).
ExitCheck = Callable[[StayExit], None]
ExitEffect = Callable[[StayExit], dict[str, Any] | None]
_HOOKS: dict[str, tuple[ExitCheck, ExitEffect]] = {}


def register_stay_exit(name: str, check: ExitCheck, effect: ExitEffect) -> None:
    """Registering the same name again replaces it (apps can be reloaded in tests)."""
    _HOOKS[name] = (check, effect)


def run_exit_checks(leaving: StayExit) -> None:
    for check, _ in _HOOKS.values():
        check(leaving)


def run_exit_effects(leaving: StayExit) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for _, effect in _HOOKS.values():
        detail.update(effect(leaving) or {})
    return detail


@dataclass(frozen=True)
class StayStart:
    actor: Actor
    stay: Stay  # the stay just opened (admission or transition), with its program


StartEffect = Callable[[StayStart], dict[str, Any] | None]
_START_HOOKS: dict[str, StartEffect] = {}


def register_stay_start(name: str, effect: StartEffect) -> None:
    """Run `effect` inside the transaction that opens a stay, after any leaving's
    effects; it returns what the audit detail should add."""
    _START_HOOKS[name] = effect


def run_start_effects(entering: StayStart) -> dict[str, Any]:
    detail: dict[str, Any] = {}
    for effect in _START_HOOKS.values():
        detail.update(effect(entering) or {})
    return detail


# What the staff of the apps above do before a patient leaves (the discharge bundle),
# done for them where nobody is at the bedside: the demo's walk through the continuum,
# and tests of care's own flows. Never called by a user-facing path.
Preparation = Callable[[Actor, "Episode", "Program", datetime, bool], None]
_PREPARATIONS: dict[str, Preparation] = {}


def register_exit_preparation(name: str, step: Preparation) -> None:
    _PREPARATIONS[name] = step


def prepare_exit(
    actor: Actor, episode: Episode, program: Program, at: datetime, *, ends_episode: bool
) -> None:
    for step in _PREPARATIONS.values():
        step(actor, episode, program, at, ends_episode)
