"""What the aftercare plan asks of every stay that closes or opens (registered with
care.exits when the app loads).

- A move to another program needs a plan started; a discharge needs one reviewed with
  the patient. Unplanned leavings (dropped out or left against advice, terminated by
  the facility, incarcerated) are never refused: a task goes to the care team to bring
  the plan to the patient. After a death nothing is asked and check-ins stop.
- Check-ins run while the patient is out of structured care: they start from the
  discharge (or a move into continuing care) and pause when the patient comes back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, PlanStatus
from stepwise.aftercare.rules import exits as rules
from stepwise.aftercare.rules.schedule import local_day
from stepwise.aftercare.services.common import (
    PLAN_TASK,
    plan_of,
    settings_of,
)
from stepwise.aftercare.services.plans import (
    plan_activate,
    plan_restart,
    plan_sections_save,
    plan_start,
)
from stepwise.aftercare.services.schedule import schedule_start, schedule_stop
from stepwise.care import rules as care_rules
from stepwise.care.exits import StayExit, StayStart
from stepwise.care.models import Episode, Program
from stepwise.core.actor import Actor
from stepwise.core.errors import ValidationFailed
from stepwise.patients.tasks import outreach_role, task_raise


def _leaving(exit_: StayExit) -> rules.Leaving:
    into = exit_.to_program
    return rules.Leaving(
        to_next_program=into is not None,
        discharge_reason=exit_.discharge_reason,
        into_continuing_care=into is not None and into.asam_level == care_rules.CONTINUING_CARE,
    )


def check_exit(exit_: StayExit) -> None:
    """Refuse the leaving when the plan it needs is missing, naming how to fix it."""
    need = rules.need_for(_leaving(exit_))
    if need in (rules.Need.RECORD_ONLY, rules.Need.EXEMPT):
        return
    # Locked: a plan ended at the same moment must not slip past the check.
    plan = (
        AftercarePlan.objects.select_for_update()
        .filter(organization_id=exit_.stay.organization_id, patient__episodes=exit_.stay.episode_id)
        .first()
    )
    # Gone through in an earlier episode (before this readmission): go through it again.
    episode = exit_.stay.episode
    stale = (
        episode.previous_episode_id is not None
        and plan is not None
        and plan.reviewed_at is not None
        and plan.reviewed_at < episode.admitted_at
    )
    message = rules.exit_refusal(
        need,
        plan.status if plan else None,
        ended_on=plan.ended_on.isoformat() if plan and plan.ended_on else "",
        reviewed_before=plan.reviewed_at.date().isoformat()
        if stale and plan and plan.reviewed_at
        else "",
    )
    if message:
        raise ValidationFailed({"aftercare_plan": message})


def _reason_text(reason: int | None) -> str:
    return dict(care_rules.DISCHARGE_REASONS).get(reason or 0, "discharged")


def on_exit(exit_: StayExit) -> dict[str, Any] | None:
    """After a discharge: start the check-ins from its day (plan active), stop them
    after a death, and task the team when an unplanned leaving left no active plan.
    A move between programs is handled when the next stay opens."""
    if exit_.to_program is not None:
        return None
    need = rules.need_for(_leaving(exit_))
    patient = exit_.stay.episode.patient
    plan = plan_of(patient, lock=True)
    by_id = exit_.actor.user_id
    why = f"Discharged: {_reason_text(exit_.discharge_reason)}."
    if need is rules.Need.EXEMPT:
        if plan is not None:
            schedule_stop(plan, by_id=by_id, at=exit_.at, why=why)
        return None
    detail: dict[str, Any] = {}
    if plan is not None and plan.status == PlanStatus.ACTIVE:
        zone = exit_.stay.program.facility.time_zone
        day = local_day(exit_.at, zone)
        schedule_start(plan, from_day=day, zone=zone, by_id=by_id, at=exit_.at, why=why)
        detail["aftercare_checkins_from"] = day.isoformat()
    if rules.needs_task(need, plan.status if plan else None):
        grace = settings_of(patient.organization_id).grace_hours
        missing = "no aftercare plan" if plan is None else f"the plan is {plan.status}"
        task = task_raise(
            exit_.actor,
            patient,
            kind=PLAN_TASK,
            title="Get the aftercare plan to the patient",
            detail=f"Left care ({_reason_text(exit_.discharge_reason).lower()}) with {missing}.",
            due_at=max(exit_.at, timezone.now()) + timedelta(hours=grace),
            source_type="aftercare_plan" if plan else "episode",
            source_id=plan.public_id if plan else exit_.stay.episode.public_id,
            for_role=outreach_role(patient),
        )
        detail["aftercare_task"] = str(task.public_id)
    return detail or None


def on_stay_start(entering: StayStart) -> dict[str, Any] | None:
    """A move into continuing care starts the check-ins; coming back into any other
    program pauses them (the team sees the patient there)."""
    stay = entering.stay
    plan = plan_of(stay.episode.patient, lock=True)
    if plan is None or plan.status != PlanStatus.ACTIVE:
        return None
    by_id = entering.actor.user_id
    if stay.program.asam_level == care_rules.CONTINUING_CARE:
        zone = stay.program.facility.time_zone
        day = local_day(stay.started_at, zone)
        schedule_start(
            plan,
            from_day=day,
            zone=zone,
            by_id=by_id,
            at=stay.started_at,
            why=f"Moved into {stay.program.name}.",
        )
        return {"aftercare_checkins_from": day.isoformat()}
    if plan.checkins_from is None:
        return None
    stopped = schedule_stop(
        plan, by_id=by_id, at=stay.started_at, why=f"Back in care: {stay.program.name}."
    )
    return {"aftercare_checkins_paused": stopped}


def prepare_plan_before_leaving(
    actor: Actor, episode: Episode, program: Program, at: datetime, ends_episode: bool
) -> None:
    """Where nobody is at the bedside (the demo's walk through the continuum, tests of
    care's own flows): start the plan, give it a support and record its review, through
    the same services the staff use."""
    patient = episode.patient
    when = min(at, timezone.now())
    plan = plan_of(patient)
    if plan is None:
        plan = plan_start(actor, patient, at=when)
    elif plan.is_ended:
        plan = plan_restart(actor, plan, note="Restarted before leaving care.")
    if not plan.supports:
        follow_up = {
            "kind": "other",
            "name": f"Follow-up with {program.facility.name}",
            "schedule": "As arranged before leaving",
        }
        plan = plan_sections_save(actor, plan, {"supports": [follow_up]}, at=when)
    stale = (
        episode.previous_episode_id is not None
        and plan.reviewed_at is not None
        and plan.reviewed_at < episode.admitted_at
    )
    if plan.status != PlanStatus.ACTIVE or stale:
        plan_activate(
            actor, plan, reviewed_at=max(when, plan.started_at), note="Reviewed before leaving."
        )
