"""The named writes of an aftercare plan: start it, save its sections, record its
review with the patient, end it at the patient's choice, restart it. Each checks
access, runs in one transaction, keeps the earlier text in the plan's history and
writes its audit row."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, ChangeKind, PlanChange, PlanStatus
from stepwise.aftercare.rules import plan as rules
from stepwise.aftercare.rules.schedule import HORIZON, local_day
from stepwise.aftercare.services.common import (
    CATEGORY,
    in_structured_care,
    open_stay_of,
    plan_of,
    same_org,
    settings_of,
)
from stepwise.aftercare.services.schedule import add_change, schedule_start, schedule_stop
from stepwise.care.selectors import patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient


def _check(actor: Actor, patient: Patient) -> None:
    same_org(actor, patient)
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)


def _lock(plan: AftercarePlan) -> AftercarePlan:
    return AftercarePlan.objects.select_for_update().select_related("patient").get(pk=plan.pk)


def _audit(actor: Actor, plan: AftercarePlan, action: str, detail: dict[str, Any]) -> None:
    audit_record(
        action=action,
        actor=actor,
        patient_public_id=plan.patient.public_id,
        category=CATEGORY,
        object_type="aftercare_plan",
        object_id=plan.public_id,
        detail=detail,
    )


def _not_ended(plan: AftercarePlan) -> None:
    if plan.is_ended:
        raise Conflict(
            f"The patient ended this plan on {plan.ended_on:%Y-%m-%d}; restart it with them "
            "to change it."
        )


def plan_start(actor: Actor, patient: Patient, *, at: datetime | None = None) -> AftercarePlan:
    """Start the patient's aftercare plan as a draft, with the usual crisis steps to go
    through with them. A patient has one plan; an ended one is restarted instead."""
    _check(actor, patient)
    started = event_time(at, "at")
    found = settings_of(patient.organization_id)
    zone = patient_time_zone(patient)
    with transaction.atomic():
        # Two people starting the plan at once: the second waits, then is refused.
        Patient.objects.select_for_update().filter(pk=patient.pk).first()
        existing = plan_of(patient)
        if existing is not None:
            if existing.is_ended:
                raise Conflict("This patient's plan was ended; restart it instead.")
            raise Conflict(
                f"{patient.display_name} already has an aftercare plan "
                f"({existing.get_status_display().lower()})."
            )
        plan = AftercarePlan.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            started_at=started,
            started_by_id=actor.user_id,
            crisis_steps=list(rules.DEFAULT_CRISIS_STEPS),
            checkin_method=found.default_method,
            time_zone=zone,
        )
        add_change(
            plan,
            kind=ChangeKind.STARTED,
            by_id=actor.user_id,
            at=started,
            content={rules.Section.CRISIS.value: list(rules.DEFAULT_CRISIS_STEPS)},
        )
        plan.save(update_fields=["revision", "updated_at"])
        _audit(actor, plan, AuditAction.CREATE, {"status": PlanStatus.DRAFT})
    return plan


def _who(change: PlanChange | None) -> str:
    if change is None:
        return "someone else"
    if change.by is None:
        return "Stepwise"
    return str(change.by.get_full_name() or change.by.get_username())


def plan_sections_save(
    actor: Actor,
    plan: AftercarePlan,
    sections: Mapping[str, Any],
    *,
    expected_revision: int | None = None,
    at: datetime | None = None,
) -> AftercarePlan:
    """Save the new entries of one or more sections. A section whose entries did not
    change is left alone; each one that did keeps its earlier text in the history.
    `expected_revision` (the revision the editor opened) refuses a save over someone
    else's change, so nothing they wrote is overwritten unseen."""
    _check(actor, plan.patient)
    changed_at = event_time(at, "at")
    if not sections:
        raise ValidationFailed({"sections": "Give at least one section to save."})
    parsed: dict[rules.Section, list[Any]] = {}
    errors: dict[str, str] = {}
    for name, raw in sections.items():
        try:
            parsed[rules.Section(name)] = rules.parse_section(name, raw)
        except rules.SectionError as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = _lock(plan)
        _not_ended(locked)
        if expected_revision is not None and locked.revision != expected_revision:
            last = (
                PlanChange.objects.filter(plan=locked)
                .select_related("by")
                .order_by("-sequence")
                .first()
            )
            raise Conflict(
                f"{_who(last)} changed this plan since you opened it. What you typed is "
                "kept below: compare it with the plan and save again."
            )
        changed: list[str] = []
        for section, entries in parsed.items():
            stored = rules.dump_section(entries)
            if stored == getattr(locked, section.value):
                continue
            setattr(locked, section.value, stored)
            add_change(
                locked,
                kind=ChangeKind.SECTION,
                by_id=actor.user_id,
                at=changed_at,
                section=section.value,
                content=stored,
            )
            changed.append(section.value)
        if changed:
            locked.save()
            _audit(
                actor,
                locked,
                AuditAction.UPDATE,
                {"sections": changed, "revision": locked.revision},
            )
    return locked


def _backfill_in_reach(day: date, zone: str) -> None:
    earliest = local_day(timezone.now(), zone) - HORIZON
    if day < earliest:
        raise ValidationFailed(
            {
                "reviewed_at": f"Check-ins are made from a review's day at most "
                f"{HORIZON.days} days back: give a review from {earliest:%Y-%m-%d} to now, "
                "or record it without making the earlier check-ins."
            }
        )


def plan_activate(
    actor: Actor,
    plan: AftercarePlan,
    *,
    reviewed_at: datetime | None = None,
    note: str = "",
    backfill_checkins: bool = False,
) -> AftercarePlan:
    """Record that the plan was gone through with the patient (who did it, when): the
    plan is active. Once the patient is out of structured care, check-ins start from
    the review's day; before that, they start when the patient leaves.

    A back-dated review makes no check-ins before today, unless `backfill_checkins`:
    then they are made from the review's day, as they would have been had it been
    recorded then (the demo loads its history this way), and the sweep treats those
    gone by as any other. That reaches back at most the schedule's horizon: further
    back is refused, rather than leave a run of check-ins missed at once, each with
    its outreach task."""
    _check(actor, plan.patient)
    reviewed = event_time(reviewed_at, "reviewed_at")
    if len(note) > rules.NOTE_MAX:
        raise ValidationFailed({"note": f"At most {rules.NOTE_MAX} characters."})
    with transaction.atomic():
        locked = _lock(plan)
        if locked.is_ended:
            raise Conflict(
                "The patient ended this plan; restart it with them before reviewing it again."
            )
        if reviewed < locked.started_at:
            raise ValidationFailed(
                {
                    "reviewed_at": f"The plan was started {locked.started_at:%Y-%m-%d %H:%M} UTC; "
                    "the review comes after it."
                }
            )
        gaps = rules.activation_gaps(locked.entries(rules.Section.SUPPORTS))
        if gaps:
            raise ValidationFailed(gaps)
        stay = open_stay_of(locked.patient)
        zone = stay.program.facility.time_zone if stay else locked.time_zone
        day = local_day(reviewed, zone)
        if backfill_checkins:
            _backfill_in_reach(day, zone)
        was = locked.status
        locked.status = PlanStatus.ACTIVE
        locked.reviewed_at = reviewed
        locked.reviewed_by_id = actor.user_id
        locked.review_note = note.strip()
        add_change(
            locked,
            kind=ChangeKind.REVIEWED,
            by_id=actor.user_id,
            at=reviewed,
            content={"reviewed_at": reviewed.isoformat()},
            note=locked.review_note,
        )
        locked.save()
        made = 0
        if locked.checkins_from is None and not in_structured_care(stay):
            made = schedule_start(
                locked,
                from_day=day,
                zone=zone,
                by_id=actor.user_id,
                at=reviewed,
                why="Reviewed with the patient, who is not in structured care.",
                made_on=day if backfill_checkins else None,
            )
        detail: dict[str, Any] = {"status": [was, PlanStatus.ACTIVE]}
        if made:
            detail["checkins_made"] = made
            if backfill_checkins:
                detail["checkins_backfilled"] = True
        _audit(actor, locked, AuditAction.UPDATE, detail)
    return locked


def plan_end(
    actor: Actor, plan: AftercarePlan, *, reason: str, ended_on: date | None = None
) -> AftercarePlan:
    """The patient chose to end their plan: the day and their reason are kept, and no
    more check-ins are due. It can be restarted."""
    _check(actor, plan.patient)
    today = local_day(timezone.now(), plan.time_zone)
    day = ended_on or today
    errors: dict[str, str] = {}
    if not reason.strip():
        errors["reason"] = "Give the patient's reason, in their words."
    elif len(reason) > rules.NOTE_MAX:
        errors["reason"] = f"At most {rules.NOTE_MAX} characters."
    if day > today:
        errors["ended_on"] = "The day cannot be after today."
    elif day < local_day(plan.started_at, plan.time_zone):
        errors["ended_on"] = (
            f"The plan was started on {plan.started_at:%Y-%m-%d}; give a day from then on."
        )
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = _lock(plan)
        if locked.is_ended:
            raise Conflict(f"The patient already ended this plan on {locked.ended_on:%Y-%m-%d}.")
        was = locked.status
        locked.status = PlanStatus.ENDED
        locked.ended_on = day
        locked.end_reason = reason.strip()
        locked.ended_by_id = actor.user_id
        add_change(
            locked,
            kind=ChangeKind.ENDED,
            by_id=actor.user_id,
            at=now,
            content={"ended_on": day.isoformat()},
            note=locked.end_reason,
        )
        locked.save()
        stopped = schedule_stop(
            locked, by_id=actor.user_id, at=now, why="The patient ended the plan."
        )
        _audit(
            actor,
            locked,
            AuditAction.UPDATE,
            {
                "status": [was, PlanStatus.ENDED],
                "ended_on": day.isoformat(),
                "no_longer_due": stopped,
            },
        )
    return locked


def plan_restart(actor: Actor, plan: AftercarePlan, *, note: str = "") -> AftercarePlan:
    """Take up an ended plan again, as a draft to go through with the patient; the
    ending stays in the history."""
    _check(actor, plan.patient)
    if len(note) > rules.NOTE_MAX:
        raise ValidationFailed({"note": f"At most {rules.NOTE_MAX} characters."})
    with transaction.atomic():
        locked = _lock(plan)
        if not locked.is_ended:
            raise Conflict("Only a plan the patient ended is restarted; this one is running.")
        locked.status = PlanStatus.DRAFT
        locked.ended_on = None
        locked.end_reason = ""
        locked.ended_by = None
        add_change(
            locked, kind=ChangeKind.RESTARTED, by_id=actor.user_id, at=timezone.now(), note=note
        )
        locked.save()
        _audit(actor, locked, AuditAction.UPDATE, {"status": [PlanStatus.ENDED, PlanStatus.DRAFT]})
    return locked
