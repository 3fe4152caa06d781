"""What changed between two versions of a plan, in plain language. No Django imports.

Items are matched by their key, which a review copies into the next version: an
item in both is changed or moved, one only in the newer version was added, one only
in the older was removed. An item added or removed with its parent is told with the
parent ("Added problem 2 ... with 1 goal and 2 objectives"), not line by line."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from stepwise.plans.rules.content import (
    OBJECTIVE_STATUSES,
    Content,
    Goal,
    Intervention,
    Objective,
    Problem,
    clean_text,
)

KINDS = ("problem", "goal", "objective", "intervention")
NO_CHANGE = "No change to the plan's contents."
QUOTE_MAX = 80

Item = Problem | Goal | Objective | Intervention


@dataclass(frozen=True)
class Placed:
    """An item with where it sits: its number ("1.2.3"), its parent and ancestors."""

    kind: str
    item: Item
    number: str
    parent: uuid.UUID | None
    parent_label: str
    ancestors: tuple[uuid.UUID, ...]


def placed(content: Content) -> dict[uuid.UUID, Placed]:
    """Every item of the contents by key, in reading order."""
    found: dict[uuid.UUID, Placed] = {}

    def interventions(
        items: tuple[Intervention, ...], number: str, label: str, ancestors: tuple[uuid.UUID, ...]
    ) -> None:
        for item in items:
            found[item.key] = Placed("intervention", item, number, ancestors[-1], label, ancestors)

    for i, problem in enumerate(content.problems, 1):
        p_number = str(i)
        found[problem.key] = Placed("problem", problem, p_number, None, "", ())
        p_chain = (problem.key,)
        for j, goal in enumerate(problem.goals, 1):
            g_number = f"{i}.{j}"
            found[goal.key] = Placed(
                "goal", goal, g_number, problem.key, f"problem {p_number}", p_chain
            )
            g_chain = (problem.key, goal.key)
            for k, objective in enumerate(goal.objectives, 1):
                found[objective.key] = Placed(
                    "objective", objective, f"{i}.{j}.{k}", goal.key, f"goal {g_number}", g_chain
                )
            interventions(goal.interventions, g_number, f"goal {g_number}", g_chain)
        interventions(problem.interventions, p_number, f"problem {p_number}", p_chain)
    return found


def quote(text: str) -> str:
    text = " ".join(clean_text(text).split())
    if len(text) > QUOTE_MAX:
        text = text[: QUOTE_MAX - 1].rstrip() + "…"
    return f'"{text}"'


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _with_children(
    key: uuid.UUID, side: dict[uuid.UUID, Placed], other: dict[uuid.UUID, Placed]
) -> str:
    """ ", with 2 goals and 3 objectives": the descendants that come and go with it."""
    counts = {kind: 0 for kind in KINDS}
    for k, p in side.items():
        if key in p.ancestors and k not in other:
            counts[p.kind] += 1
    parts = [_plural(n, kind) for kind, n in counts.items() if n]
    if not parts:
        return ""
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f", with {joined}"


def _text_of(item: Item) -> str:
    if isinstance(item, Intervention):
        return item.describe()
    return item.statement


def _added(p: Placed, after: dict[uuid.UUID, Placed], before: dict[uuid.UUID, Placed]) -> str:
    item, children = p.item, _with_children(p.item.key, after, before)
    if isinstance(item, Problem):
        return f"Added problem {p.number} (dimension {item.dimension}): {quote(item.statement)}{children}."
    if isinstance(item, Goal):
        return f"Added goal {p.number} under {p.parent_label}: {quote(item.statement)}{children}."
    if isinstance(item, Objective):
        target = f", target {item.target_on.isoformat()}" if item.target_on else ""
        return f"Added objective {p.number}: {quote(item.statement)}{target}."
    return f"Added intervention under {p.parent_label}: {_text_of(item)}."


def _removed(p: Placed, before: dict[uuid.UUID, Placed], after: dict[uuid.UUID, Placed]) -> str:
    children = _with_children(p.item.key, before, after)
    if p.kind == "intervention":
        return f"Removed intervention {_text_of(p.item)} (was under {p.parent_label})."
    return f"Removed {p.kind} {quote(_text_of(p.item))} (was {p.kind} {p.number}){children}."


def _moved(old: Placed, new: Placed) -> str | None:
    if old.parent == new.parent:
        return None
    return f"moved from {old.parent_label} to {new.parent_label}"


def _changed(old: Placed, new: Placed) -> str | None:
    """One line for an item in both versions that changed; None if it did not."""
    before, after = old.item, new.item
    parts: list[str] = []
    if isinstance(before, Intervention) and isinstance(after, Intervention):
        moved = _moved(old, new)
        if before.describe() == after.describe() and not moved:
            return None
        line = f"Intervention under {new.parent_label}"
        if before.describe() != after.describe():
            line += f" changed from {before.describe()} to {after.describe()}"
        if moved:
            line += f" ({moved})" if before.describe() != after.describe() else f" {moved}"
        return line + "."
    if (
        isinstance(before, Problem)
        and isinstance(after, Problem)
        and before.dimension != after.dimension
    ):
        parts.append(f"dimension from {before.dimension} to {after.dimension}")
    if isinstance(before, Objective) and isinstance(after, Objective):
        if before.target_on != after.target_on:
            parts.append(f"target date from {_day(before)} to {_day(after)}")
        if before.status != after.status:
            parts.append(
                f"status from {OBJECTIVE_STATUSES.get(before.status, before.status).lower()} "
                f"to {OBJECTIVE_STATUSES.get(after.status, after.status).lower()}"
            )
    if clean_text(_text_of(before)) != clean_text(_text_of(after)):
        parts.append(f"wording was {quote(_text_of(before))}")
    moved = _moved(old, new)
    if moved:
        parts.append(moved)
    if not parts:
        return None
    return f"{old.kind.capitalize()} {new.number} {quote(_text_of(after))}: {'; '.join(parts)}."


def _day(objective: Objective) -> str:
    return objective.target_on.isoformat() if objective.target_on else "none"


def _lines(before: dict[uuid.UUID, Placed], after: dict[uuid.UUID, Placed]) -> Iterator[str]:
    for kind in KINDS:
        for key, p in after.items():
            if p.kind == kind and key not in before and all(a in before for a in p.ancestors):
                yield _added(p, after, before)
        for key, p in before.items():
            if p.kind == kind and key not in after and all(a in after for a in p.ancestors):
                yield _removed(p, before, after)
        for key, p in after.items():
            if p.kind == kind and key in before:
                line = _changed(before[key], p)
                if line:
                    yield line


def changes(before: Content, after: Content) -> list[str]:
    """What changed from `before` to `after`, one plain sentence per change; empty
    when nothing did."""
    lines = list(_lines(placed(before), placed(after)))
    if clean_text(before.patient_words) != clean_text(after.patient_words):
        lines.append("The patient's own words changed.")
    return lines


def summary(before: Content | None, after: Content) -> list[str]:
    """What a signed version stores as its change summary: the changes since the
    version it replaces, or for a first version what it holds."""
    if before is None:
        problems, goals, objectives, interventions = after.counts()
        return [
            "First version of the plan: "
            f"{_plural(problems, 'problem')}, {_plural(goals, 'goal')}, "
            f"{_plural(objectives, 'objective')}, {_plural(interventions, 'intervention')}."
        ]
    return changes(before, after) or [NO_CHANGE]
