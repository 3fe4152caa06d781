"""One change to a draft's contents at a time (add, change or remove an item by its
key), as pure functions returning new contents. No Django imports. The draft
editor's pages make these changes; the whole contents are then checked and saved."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace

from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.plans.rules.diff import Item


class UnknownItem(LookupError):
    """No item of that kind with that key in these contents."""


def add_problem(content: Content, problem: Problem) -> Content:
    return replace(content, problems=(*content.problems, problem))


def add_goal(content: Content, problem_key: uuid.UUID, goal: Goal) -> Content:
    _require(content, problem_key, Problem)
    return replace(
        content,
        problems=tuple(
            replace(p, goals=(*p.goals, goal)) if p.key == problem_key else p
            for p in content.problems
        ),
    )


def add_objective(content: Content, goal_key: uuid.UUID, objective: Objective) -> Content:
    _require(content, goal_key, Goal)
    return replace(
        content,
        problems=tuple(
            replace(
                p,
                goals=tuple(
                    replace(g, objectives=(*g.objectives, objective)) if g.key == goal_key else g
                    for g in p.goals
                ),
            )
            for p in content.problems
        ),
    )


def add_intervention(content: Content, parent_key: uuid.UUID, item: Intervention) -> Content:
    """Add under a problem or under a goal (whichever the key names)."""
    parent = find(content, parent_key)
    if not isinstance(parent, Problem | Goal):
        raise UnknownItem(parent_key)
    problems = []
    for p in content.problems:
        if p.key == parent_key:
            p = replace(p, interventions=(*p.interventions, item))
        else:
            p = replace(
                p,
                goals=tuple(
                    replace(g, interventions=(*g.interventions, item)) if g.key == parent_key else g
                    for g in p.goals
                ),
            )
        problems.append(p)
    return replace(content, problems=tuple(problems))


def change_item(content: Content, item: Item) -> Content:
    """Put `item` in place of the item with its key. A problem or goal keeps its
    children: only what it says changes."""
    current = find(content, item.key)
    if current is None or type(current) is not type(item):
        raise UnknownItem(item.key)
    return _rebuild(content, item.key, lambda old: _merged(old, item))


def remove_item(content: Content, key: uuid.UUID) -> Content:
    """Take an item out, with whatever sits under it."""
    if find(content, key) is None:
        raise UnknownItem(key)
    return _rebuild(content, key, lambda old: None)


def find(content: Content, key: uuid.UUID) -> Item | None:
    for p in content.problems:
        if p.key == key:
            return p
        for i in p.interventions:
            if i.key == key:
                return i
        for g in p.goals:
            if g.key == key:
                return g
            for o in g.objectives:
                if o.key == key:
                    return o
            for i in g.interventions:
                if i.key == key:
                    return i
    return None


def parent_of(content: Content, key: uuid.UUID) -> Problem | Goal | None:
    """The problem or goal an item sits under (None for a problem or an unknown key)."""
    for p in content.problems:
        if any(g.key == key for g in p.goals) or any(i.key == key for i in p.interventions):
            return p
        for g in p.goals:
            if any(o.key == key for o in g.objectives) or any(
                i.key == key for i in g.interventions
            ):
                return g
    return None


def _require(content: Content, key: uuid.UUID, kind: type) -> None:
    if not isinstance(find(content, key), kind):
        raise UnknownItem(key)


def _merged(old: Item, new: Item) -> Item:
    if isinstance(old, Problem) and isinstance(new, Problem):
        return replace(old, dimension=new.dimension, statement=new.statement)
    if isinstance(old, Goal) and isinstance(new, Goal):
        return replace(old, statement=new.statement)
    return new


def _rebuild(content: Content, key: uuid.UUID, change: Callable[[Item], Item | None]) -> Content:
    """The contents with the item `key` replaced by change(item), or dropped when
    change returns None."""

    def one(item: Item) -> Item | None:
        return change(item) if item.key == key else item

    def many(items: tuple[Item, ...]) -> tuple[Item, ...]:
        return tuple(x for x in (one(i) for i in items) if x is not None)

    problems: list[Problem] = []
    for p in content.problems:
        changed = one(p)
        if changed is None:
            continue
        assert isinstance(changed, Problem)
        goals: list[Goal] = []
        for g in changed.goals:
            new_goal = one(g)
            if new_goal is None:
                continue
            assert isinstance(new_goal, Goal)
            goals.append(
                replace(
                    new_goal,
                    objectives=many(new_goal.objectives),  # type: ignore[arg-type]
                    interventions=many(new_goal.interventions),  # type: ignore[arg-type]
                )
            )
        problems.append(
            replace(
                changed,
                goals=tuple(goals),
                interventions=many(changed.interventions),  # type: ignore[arg-type]
            )
        )
    return replace(content, problems=tuple(problems))
