"""The check-in schedule of a plan: started (from a discharge, a move into continuing
care, or a review when the patient is already out of care), paused when the patient is
back in care, and extended up to the horizon by the sweep. Called inside the caller's
transaction with the plan locked; the caller's audit row covers what is done here."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.utils import timezone

from stepwise.aftercare.models import (
    AftercarePlan,
    ChangeKind,
    Checkin,
    CheckinStatus,
    PlanChange,
)
from stepwise.aftercare.rules import schedule as rules
from stepwise.aftercare.services.common import settings_of


def add_change(
    plan: AftercarePlan,
    *,
    kind: str,
    by_id: int | None,
    at: datetime,
    section: str = "",
    content: object = None,
    note: str = "",
) -> PlanChange:
    """Append one change to the plan's history; the caller saves the plan (revision)."""
    plan.revision += 1
    return PlanChange.objects.create(
        organization_id=plan.organization_id,
        plan=plan,
        sequence=plan.revision,
        kind=kind,
        section=section,
        content=[] if content is None else content,
        note=note,
        at=at,
        by_id=by_id,
    )


def cancel_due(plan: AftercarePlan, why: str) -> int:
    """Check-ins still due are no longer due (kept, marked why)."""
    return Checkin.objects.filter(
        organization_id=plan.organization_id, plan=plan, status=CheckinStatus.DUE
    ).update(status=CheckinStatus.CANCELLED, cancelled_why=why[:200], updated_at=timezone.now())


def schedule_extend(plan: AftercarePlan, today: date, *, since: date | None = None) -> int:
    """Make the check-ins up to the horizon that do not exist yet; returns how many.
    A schedule not made yet is made from `since` (today by default). A day already
    holding a live check-in (recorded early, say) is not doubled."""
    if plan.checkins_from is None or plan.status != "active":
        return 0
    until = today + rules.HORIZON
    after = plan.checkins_through or ((since or today) - timedelta(days=1))
    if until <= after:
        return 0
    days = [d for d in rules.due_dates(plan.checkins_from, plan.taper, until) if d > after]
    taken = set(
        Checkin.objects.filter(
            organization_id=plan.organization_id, plan=plan, scheduled=True, due_on__in=days
        )
        .exclude(status=CheckinStatus.CANCELLED)
        .values_list("due_on", flat=True)
    )
    made = Checkin.objects.bulk_create(
        Checkin(
            organization_id=plan.organization_id,
            plan=plan,
            patient_id=plan.patient_id,
            due_on=day,
            time_zone=plan.time_zone,
            method=plan.checkin_method,
        )
        for day in days
        if day not in taken
    )
    plan.checkins_through = until
    plan.save(update_fields=["checkins_through", "updated_at"])
    return len(made)


def schedule_start(
    plan: AftercarePlan,
    *,
    from_day: date,
    zone: str,
    by_id: int | None,
    at: datetime,
    why: str,
    made_on: date | None = None,
) -> int:
    """Start the check-ins from `from_day` with the organization's taper in force now;
    any still due from before are no longer due. Check-ins before `made_on` (today by
    default) are not made: a back-dated discharge does not leave a trail of missed
    ones. An earlier `made_on` makes them from that day, as they would have been made
    then and on each day since (a history loaded as it happened); never later than
    today. Either way they are made up to today's horizon, so the sweep has none to
    add. Returns how many were made."""
    today = rules.local_day(timezone.now(), zone)
    made_on = today if made_on is None else min(made_on, today)
    found = settings_of(plan.organization_id)
    cancelled = cancel_due(plan, f"Schedule restarted from {from_day.isoformat()}: {why}")
    plan.checkins_from = from_day
    plan.checkins_through = None
    plan.taper_weeks = found.weekly_checkins
    plan.taper_months = found.monthly_interval
    plan.checkin_method = found.default_method
    plan.time_zone = zone
    add_change(
        plan,
        kind=ChangeKind.SCHEDULE,
        by_id=by_id,
        at=at,
        content={
            "started_on": from_day.isoformat(),
            "schedule": rules.describe(plan.taper),
            "method": plan.checkin_method,
            "no_longer_due": cancelled,
        },
        note=why,
    )
    plan.save()
    return schedule_extend(plan, today, since=made_on)


def schedule_stop(plan: AftercarePlan, *, by_id: int | None, at: datetime, why: str) -> int:
    """Stop the check-ins (the patient is back in care, ended the plan, or died); those
    still due are no longer due. Returns how many."""
    if plan.checkins_from is None:
        return cancel_due(plan, why)
    cancelled = cancel_due(plan, why)
    plan.checkins_from = None
    plan.checkins_through = None
    add_change(
        plan,
        kind=ChangeKind.SCHEDULE,
        by_id=by_id,
        at=at,
        content={"stopped": True, "no_longer_due": cancelled},
        note=why,
    )
    plan.save()
    return cancelled
