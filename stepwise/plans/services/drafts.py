"""The named writes of a plan's draft: start the plan (a draft version 1), save the
whole contents (the API, demo data), add, change or remove one item (the draft
editor's pages), and the patient's words with a review's reason. Only a draft
changes; each write checks access (the care team), locks the plan, runs in one
transaction and writes its audit row naming the patient."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import IntegrityError, transaction

from stepwise.care.selectors import open_episode_of
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.patients.models import Patient
from stepwise.plans.models import PlanVersion, ReviewTrigger, TreatmentPlan
from stepwise.plans.rules import content as rules
from stepwise.plans.rules import edits
from stepwise.plans.rules.content import Content, Goal, Intervention, Objective, Problem
from stepwise.plans.rules.diff import Item
from stepwise.plans.services.common import (
    audit_plan,
    lock_plan,
    locked_draft,
    require_open_episode,
    require_write,
    same_org,
    session_types_of,
)
from stepwise.plans.store import content_of, contents_write
from stepwise.scheduling.models import SessionType

WHY_MAX = 2000


def plan_start(actor: Actor, patient: Patient) -> PlanVersion:
    """Start the treatment plan of the patient's open episode: the plan and an empty
    draft version 1, which the care team then writes and signs."""
    require_write(actor, patient)
    with transaction.atomic():
        episode = open_episode_of(patient)
        if episode is None:
            raise Conflict("The patient has no open episode: a plan belongs to an admission.")
        if TreatmentPlan.objects.filter(episode=episode).exists():
            raise Conflict("This episode already has its treatment plan.")
        try:
            with transaction.atomic():
                plan = TreatmentPlan.objects.create(
                    organization_id=actor.organization_id,
                    patient=patient,
                    episode=episode,
                    created_by_id=actor.user_id,
                )
        except IntegrityError:
            raise Conflict("Someone else started this plan just now; reload the page.") from None
        version = PlanVersion.objects.create(
            organization_id=actor.organization_id,
            plan=plan,
            number=1,
            author_id=actor.user_id,
        )
        audit_plan(actor, version, patient, action=AuditAction.CREATE, detail={"plan": "started"})
    version.plan = plan
    return version


def checked(content: Content, session_types: dict[str, SessionType]) -> Content:
    """The contents cleaned, or every fault named by its path."""
    content = rules.cleaned(content)
    errors = rules.content_errors(content)
    codes = ", ".join(f"{code} ({t.name})" for code, t in sorted(session_types.items()))
    for path, item in _interventions_with_paths(content):
        if item.kind == "session" and item.session_type and item.session_type not in session_types:
            errors[f"{path}.session_type"] = f"Allowed values: {codes}."
    if errors:
        raise ValidationFailed(errors)
    return _with_type_names(content, session_types)


def _interventions_with_paths(content: Content) -> list[tuple[str, Intervention]]:
    found: list[tuple[str, Intervention]] = []
    for i, problem in enumerate(content.problems):
        found += [
            (f"problems.{i}.interventions.{n}", x) for n, x in enumerate(problem.interventions)
        ]
        for j, goal in enumerate(problem.goals):
            at = f"problems.{i}.goals.{j}.interventions"
            found += [(f"{at}.{n}", x) for n, x in enumerate(goal.interventions)]
    return found


def _with_type_names(content: Content, session_types: dict[str, SessionType]) -> Content:
    """Interventions name their session type as the organization does (for the diff)."""

    def named(items: tuple[Intervention, ...]) -> tuple[Intervention, ...]:
        return tuple(
            replace(i, session_type_name=session_types[i.session_type].name)
            if i.kind == "session"
            else i
            for i in items
        )

    return replace(
        content,
        problems=tuple(
            replace(
                p,
                interventions=named(p.interventions),
                goals=tuple(replace(g, interventions=named(g.interventions)) for g in p.goals),
            )
            for p in content.problems
        ),
    )


@dataclass(frozen=True)
class ReviewReason:
    """What led to a review and why the plan is revised (versions after the first)."""

    trigger: str
    why: str


def reason_errors(reason: ReviewReason) -> dict[str, str]:
    errors: dict[str, str] = {}
    if reason.trigger not in ReviewTrigger.values:
        errors["trigger"] = f"Allowed values: {rules.allowed(dict(ReviewTrigger.choices))}."
    why = rules.clean_text(reason.why)
    if not why:
        errors["why"] = "Say why the plan is revised; the reason is kept with the version."
    elif len(why) > WHY_MAX:
        errors["why"] = f"At most {WHY_MAX} characters."
    return errors


def _write(
    actor: Actor,
    version: PlanVersion,
    change: Callable[[Content], Content],
    *,
    detail: dict[str, str],
    reason: ReviewReason | None = None,
) -> PlanVersion:
    """Apply `change` to the draft's contents, check the whole and store it."""
    same_org(actor, version)
    patient = version.plan.patient
    require_write(actor, patient)
    if reason is not None:
        errors = reason_errors(reason)
        if version.number == 1:
            errors = {"trigger": "The first version of a plan is not a review."}
        if errors:
            raise ValidationFailed(errors)
    session_types = session_types_of(actor.organization_id)
    with transaction.atomic():
        plan = lock_plan(version.plan)
        require_open_episode(plan)
        draft = locked_draft(plan, version)
        try:
            content = change(content_of(draft))
        except edits.UnknownItem:
            raise Conflict("That item is no longer in the draft; reload the page.") from None
        content = checked(content, session_types)
        contents_write(draft, content, session_types)
        fields = ["updated_at"]
        if content.patient_words != draft.patient_words:
            draft.patient_words = content.patient_words
            fields.append("patient_words")
        if reason is not None:
            draft.trigger, draft.why = reason.trigger, rules.clean_text(reason.why)
            fields += ["trigger", "why"]
        draft.save(update_fields=fields)
        audit_plan(actor, draft, patient, detail=detail)
    draft.plan = plan
    plan.patient = patient
    return draft


def draft_save(
    actor: Actor, version: PlanVersion, content: Content, reason: ReviewReason | None = None
) -> PlanVersion:
    """Make the draft's contents (and the patient's words) exactly `content`. Items
    keep their keys; an item without one is new. A review's reason may come with it."""
    return _write(actor, version, lambda _: content, detail={"change": "contents"}, reason=reason)


def draft_details_save(
    actor: Actor, version: PlanVersion, *, patient_words: str, reason: ReviewReason | None = None
) -> PlanVersion:
    """The patient's own words (what they want from treatment) and, for a review,
    what led to it and why."""
    return _write(
        actor,
        version,
        lambda c: replace(c, patient_words=patient_words),
        detail={"change": "details"},
        reason=reason,
    )


def _item_kind(item: Item) -> str:
    return type(item).__name__.lower()


def _item_errors(item: Item) -> dict[str, str]:
    if isinstance(item, Problem):
        return rules.problem_errors(item)
    if isinstance(item, Goal):
        return rules.goal_errors(item)
    if isinstance(item, Objective):
        return rules.objective_errors(item)
    return rules.intervention_errors(rules.normalized(item))


def draft_item_add(
    actor: Actor, version: PlanVersion, item: Item, *, parent: uuid.UUID | None = None
) -> PlanVersion:
    """Add a problem, or a goal under a problem, an objective under a goal, an
    intervention under a problem or a goal (`parent` names it by key)."""
    errors = _item_errors(item)
    if errors:
        raise ValidationFailed(errors)

    def add(content: Content) -> Content:
        if isinstance(item, Problem):
            return edits.add_problem(content, item)
        if parent is None:
            raise edits.UnknownItem(item.key)
        if isinstance(item, Goal):
            return edits.add_goal(content, parent, item)
        if isinstance(item, Objective):
            return edits.add_objective(content, parent, item)
        return edits.add_intervention(content, parent, item)

    detail = {"change": f"{_item_kind(item)} added", "key": str(item.key)}
    return _write(actor, version, add, detail=detail)


def draft_item_change(actor: Actor, version: PlanVersion, item: Item) -> PlanVersion:
    """Put `item` in place of the draft's item with its key (a problem or goal keeps
    what sits under it)."""
    errors = _item_errors(item)
    if errors:
        raise ValidationFailed(errors)
    detail = {"change": f"{_item_kind(item)} changed", "key": str(item.key)}
    return _write(actor, version, lambda c: edits.change_item(c, item), detail=detail)


def draft_item_remove(actor: Actor, version: PlanVersion, key: uuid.UUID) -> PlanVersion:
    """Take an item out of the draft, with what sits under it."""
    detail = {"change": "item removed", "key": str(key)}
    return _write(actor, version, lambda c: edits.remove_item(c, key), detail=detail)
