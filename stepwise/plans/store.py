"""A version's contents between the tables and the rules' plain data: read in four
queries however many versions and items, written as a whole into a draft."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date

from stepwise.plans.models import (
    PlanGoal,
    PlanIntervention,
    PlanObjective,
    PlanProblem,
    PlanVersion,
)
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.scheduling.models import SessionType


def _intervention(row: PlanIntervention) -> Intervention:
    kind = row.session_type
    return Intervention(
        key=row.key,
        kind=row.kind,
        responsible_role=row.responsible_role,
        session_type=kind.code if kind else "",
        session_type_name=kind.name if kind else "",
        sessions_per_week=row.sessions_per_week,
        medication=row.medication,
        referral_to=row.referral_to,
        referral_for=row.referral_for,
        detail=row.detail,
    )


def contents_of(versions: Iterable[PlanVersion]) -> dict[int, Content]:
    """Each version's contents by version id: four queries (none for no version)."""
    found = list(versions)
    ids = [v.pk for v in found]
    if not ids:
        return {}
    organization_id = found[0].organization_id
    scope = {"organization_id": organization_id, "version_id__in": ids}
    problems = list(PlanProblem.objects.filter(**scope).order_by("version_id", "position", "id"))
    goals = list(PlanGoal.objects.filter(**scope).order_by("position", "id"))
    objectives = list(PlanObjective.objects.filter(**scope).order_by("position", "id"))
    interventions = list(
        PlanIntervention.objects.filter(**scope)
        .select_related("session_type")
        .order_by("position", "id")
    )
    objectives_of: dict[int, list[Objective]] = defaultdict(list)
    for o in objectives:
        objectives_of[o.goal_id].append(
            Objective(key=o.key, statement=o.statement, target_on=o.target_on, status=o.status)
        )
    on_goal: dict[int, list[Intervention]] = defaultdict(list)
    on_problem: dict[int, list[Intervention]] = defaultdict(list)
    for i in interventions:
        if i.goal_id is not None:
            on_goal[i.goal_id].append(_intervention(i))
        else:
            on_problem[i.problem_id].append(_intervention(i))
    goals_of: dict[int, list[Goal]] = defaultdict(list)
    for g in goals:
        goals_of[g.problem_id].append(
            Goal(
                key=g.key,
                statement=g.statement,
                objectives=tuple(objectives_of[g.pk]),
                interventions=tuple(on_goal[g.pk]),
            )
        )
    problems_of: dict[int, list[Problem]] = defaultdict(list)
    for p in problems:
        problems_of[p.version_id].append(
            Problem(
                key=p.key,
                dimension=p.dimension,
                statement=p.statement,
                goals=tuple(goals_of[p.pk]),
                interventions=tuple(on_problem[p.pk]),
            )
        )
    return {
        v.pk: Content(problems=tuple(problems_of[v.pk]), patient_words=v.patient_words)
        for v in found
    }


def content_of(version: PlanVersion) -> Content:
    return contents_of([version])[version.pk]


def contents_write(
    version: PlanVersion, content: Content, session_types: Mapping[str, SessionType]
) -> None:
    """Make a draft's items exactly `content`'s (the caller holds the draft's lock and
    has checked the contents). Items are rewritten; their keys carry them over."""
    PlanProblem.objects.filter(version=version).delete()
    base = {"organization_id": version.organization_id, "version": version}
    problems = PlanProblem.objects.bulk_create(
        [
            PlanProblem(**base, key=p.key, position=n, dimension=p.dimension, statement=p.statement)
            for n, p in enumerate(content.problems)
        ]
    )
    goal_rows: list[PlanGoal] = []
    for problem, row in zip(content.problems, problems, strict=True):
        goal_rows += [
            PlanGoal(**base, problem=row, key=g.key, position=n, statement=g.statement)
            for n, g in enumerate(problem.goals)
        ]
    goals = PlanGoal.objects.bulk_create(goal_rows)
    goal_by_key = {g.key: g for g in goals}
    objective_rows: list[PlanObjective] = []
    intervention_rows: list[PlanIntervention] = []
    for problem, problem_row in zip(content.problems, problems, strict=True):
        intervention_rows += _intervention_rows(
            base, problem.interventions, problem_row, None, session_types
        )
        for goal in problem.goals:
            goal_row = goal_by_key[goal.key]
            objective_rows += [
                PlanObjective(
                    **base,
                    goal=goal_row,
                    key=o.key,
                    position=n,
                    statement=o.statement,
                    target_on=_target(o),
                    status=o.status,
                )
                for n, o in enumerate(goal.objectives)
            ]
            intervention_rows += _intervention_rows(
                base, goal.interventions, problem_row, goal_row, session_types
            )
    PlanObjective.objects.bulk_create(objective_rows)
    PlanIntervention.objects.bulk_create(intervention_rows)


def _target(objective: Objective) -> date:
    # Checked before writing (content_errors): an objective always has its target date.
    if objective.target_on is None:
        raise ValueError("An objective needs its target date.")
    return objective.target_on


def _intervention_rows(
    base: dict[str, object],
    items: tuple[Intervention, ...],
    problem: PlanProblem,
    goal: PlanGoal | None,
    session_types: Mapping[str, SessionType],
) -> list[PlanIntervention]:
    return [
        PlanIntervention(
            **base,
            problem=problem,
            goal=goal,
            key=i.key,
            position=n,
            kind=i.kind,
            session_type=session_types[i.session_type] if i.kind == "session" else None,
            sessions_per_week=i.sessions_per_week,
            medication=i.medication,
            referral_to=i.referral_to,
            referral_for=i.referral_for,
            detail=i.detail,
            responsible_role=i.responsible_role,
        )
        for n, i in enumerate(items)
    ]
