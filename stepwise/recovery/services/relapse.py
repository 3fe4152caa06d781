"""Relapse events: proposed, recorded, confirmed, dismissed; and their response.

Confirming a return to use starts the response checklist (recovery.rules.relapse),
raises the overdose-risk flag when tolerance may be lost, and opens the outreach task.
Nothing here moves the patient between programs: the reassessment item links to the
placement page, where a clinician decides.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone

from stepwise.care import rules as care_rules
from stepwise.care.selectors import open_episode_of
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, ValidationFailed, allowed_values
from stepwise.core.ids import one_of_organization
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.instruments.models import Assessment, AssessmentStatus
from stepwise.patients.access import require_patient_access
from stepwise.patients.flags import LOST_TOLERANCE, risk_flag_raise
from stepwise.patients.models import Patient, RiskFlag
from stepwise.patients.tasks import task_cancel_from_source, task_done_from_source, task_raise
from stepwise.recovery.models import RelapseEvent, RelapseStatus, ResponseItem
from stepwise.recovery.rules import relapse as rules
from stepwise.recovery.services.common import (
    CATEGORY,
    local_day,
    patient_zone,
    record_start,
    same_org,
    settings_of,
)

# Tasks a relapse raises: confirm a proposal; reach the patient.
REVIEW_TASK = "relapse_review"
OUTREACH_TASK = "relapse_outreach"


@dataclass(frozen=True)
class UseDetails:
    """What the clinician records of a return to use."""

    used_on: date | None
    kind: str
    substances: Sequence[int] = ()
    route: int = -9
    overdose: bool = False
    context: str = ""
    triggers: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def _details_errors(
    patient: Patient, details: UseDetails, now: datetime, zone: ZoneInfo
) -> dict[str, str]:
    """What is wrong with the details; days are the facility's calendar days."""
    errors: dict[str, str] = {}
    if details.used_on is None:
        errors["used_on"] = "Give the day of use (an earlier day is fine)."
    elif details.used_on > local_day(now, zone):
        errors["used_on"] = "The day of use cannot be after today."
    else:
        start = record_start(patient, zone)
        if details.used_on < start:
            errors["used_on"] = (
                f"The patient's record starts on {start:%Y-%m-%d} (first admission); "
                "a use before it is history taken at admission, not a relapse."
            )
    if details.kind not in rules.Kind.__members__.values():
        errors["kind"] = "Allowed values: " + ", ".join(k.value for k in rules.Kind) + "."
    substance_codes = dict(care_rules.SUBSTANCES)
    if not details.substances:
        errors["substances"] = "Name at least one substance (Not recorded, -9, when nobody knows)."
    elif any(code not in substance_codes or code == 1 for code in details.substances):
        errors["substances"] = "Allowed values: " + allowed_values(
            [(c, t) for c, t in care_rules.SUBSTANCES if c != 1]
        )
    elif len(set(details.substances)) != len(details.substances):
        errors["substances"] = "Name each substance once."
    if details.route not in dict(care_rules.ROUTES):
        errors["route"] = "Allowed values: " + allowed_values(care_rules.ROUTES)
    return errors


def relapse_propose(
    actor: Actor | None,
    patient: Patient,
    *,
    source: str,
    source_type: str,
    source_id: uuid.UUID,
    used_on: date | None = None,
    substances: Sequence[int] = (),
    note: str = "",
) -> RelapseEvent:
    """Propose a relapse for a clinician to confirm or dismiss: from an unexpected
    positive screen, a check-in reporting use, or a non-fatal overdose. Call inside the
    caller's transaction (its audit row names the proposal); one proposal per source."""
    if source not in (rules.Source.SCREEN, rules.Source.CHECKIN, rules.Source.OVERDOSE):
        raise ValidationFailed({"source": "Allowed values: screen, checkin, overdose."})
    existing = RelapseEvent.objects.filter(
        organization_id=patient.organization_id, source_type=source_type, source_id=source_id
    ).first()
    if existing is not None:
        return existing
    episode = open_episode_of(patient)
    event = RelapseEvent.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        episode=episode,
        status=RelapseStatus.PROPOSED,
        source=source,
        source_type=source_type,
        source_id=source_id,
        used_on=used_on,
        substances=list(substances),
        overdose=source == rules.Source.OVERDOSE,
        proposal=note.strip(),
        recorded_by_id=actor.user_id if actor else None,
    )
    audit_record(
        action=AuditAction.CREATE,
        actor=actor,
        actor_username="" if actor else "stepwise",
        organization_id=patient.organization_id,
        patient_public_id=patient.public_id,
        category=CATEGORY,
        object_type="relapse_event",
        object_id=event.public_id,
        detail={"status": event.status, "source": source, "from": source_type},
    )
    task_raise(
        actor,
        patient,
        kind=REVIEW_TASK,
        title=f"Confirm or dismiss a possible return to use ({rules.SOURCE_LABELS[rules.Source(source)].lower()})",
        detail=note.strip(),
        due_at=timezone.now() + timedelta(days=1),
        source_type="relapse_event",
        source_id=event.public_id,
    )
    return event


def _confirm(
    actor: Actor, event: RelapseEvent, details: UseDetails, now: datetime, zone: ZoneInfo
) -> list[str]:
    """Fill in and confirm a locked event: tolerance, flag, checklist, outreach task.
    Returns the audit notes of what it raised."""
    assert details.used_on is not None
    patient = event.patient
    config = settings_of(patient.organization_id)
    # Tolerance is opioid tolerance: only earlier opioid uses (or uses of a substance
    # nobody knows) keep it; a cannabis or alcohol lapse does not.
    earlier = RelapseEvent.objects.filter(
        organization_id=patient.organization_id,
        patient=patient,
        status=RelapseStatus.CONFIRMED,
        used_on__isnull=False,
    ).exclude(pk=event.pk)
    opioid_days = [
        day
        for day, substances in earlier.values_list("used_on", "substances")
        if day is not None and rules.involves_opioids(substances)
    ]
    tolerance = rules.tolerance_before(
        details.used_on, opioid_days, record_start(patient, zone), config.tolerance_days
    )
    event.status = RelapseStatus.CONFIRMED
    event.used_on = details.used_on
    event.kind = details.kind
    event.substances = list(details.substances)
    event.route = details.route
    event.overdose = event.overdose or details.overdose
    event.context = details.context.strip()
    event.triggers = details.triggers.strip()
    event.confirmed_by_id = actor.user_id
    event.confirmed_at = now
    event.abstinent_days = tolerance.abstinent_days
    raised = []
    if event.overdose or (tolerance.lost and rules.involves_opioids(event.substances)):
        event.flag_until = now + timedelta(days=config.flag_days)
        why = (
            "A non-fatal overdose"
            if event.overdose
            else f"A return to use after {tolerance.abstinent_days} days without use"
        )
        risk_flag_raise(
            actor,
            patient,
            kind=LOST_TOLERANCE,
            reason=f"{why}: tolerance may be lost and overdose risk is high. Naloxone at hand.",
            starts_at=now,
            ends_at=event.flag_until,
            source_type="relapse_event",
            source_id=event.public_id,
        )
        raised.append("overdose_risk_flag")
    event.save()
    due = rules.outreach_due(now, config.outreach_hours)
    ResponseItem.objects.bulk_create(
        ResponseItem(
            organization_id=event.organization_id,
            event=event,
            item=item.value,
            due_at=due if item is rules.Item.OUTREACH else None,
        )
        for item in rules.checklist()
    )
    task_raise(
        actor,
        patient,
        kind=OUTREACH_TASK,
        title="Reach the patient after a return to use",
        detail="Record the outreach on the relapse's response.",
        due_at=due,
        source_type="relapse_event",
        source_id=event.public_id,
    )
    task_done_from_source(
        actor, patient, source_id=event.public_id, kind=REVIEW_TASK, note="Confirmed."
    )
    return raised


def relapse_record(actor: Actor, patient: Patient, details: UseDetails) -> RelapseEvent:
    """A clinician records a return to use: confirmed at once, response started."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    now = timezone.now()
    zone = patient_zone(patient)
    errors = _details_errors(patient, details, now, zone)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        event = RelapseEvent(
            organization_id=patient.organization_id,
            patient=patient,
            episode=open_episode_of(patient),
            source=rules.Source.OVERDOSE if details.overdose else rules.Source.CLINICIAN,
            recorded_by_id=actor.user_id,
        )
        raised = _confirm(actor, event, details, now, zone)
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="relapse_event",
            object_id=event.public_id,
            detail={"status": event.status, "kind": event.kind, "raised": raised},
        )
    return event


def _lock(actor: Actor, event: RelapseEvent, *, status: str) -> RelapseEvent:
    locked = RelapseEvent.objects.select_for_update().select_related("patient").get(pk=event.pk)
    if locked.status != status:
        raise Conflict(f"This event is {locked.get_status_display().lower()}; reload the page.")
    return locked


def relapse_confirm(actor: Actor, event: RelapseEvent, details: UseDetails) -> RelapseEvent:
    """Confirm a proposed relapse with what the clinician learned from the patient."""
    same_org(actor, event)
    patient = event.patient
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    now = timezone.now()
    zone = patient_zone(patient)
    errors = _details_errors(patient, details, now, zone)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = _lock(actor, event, status=RelapseStatus.PROPOSED)
        raised = _confirm(actor, locked, details, now, zone)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="relapse_event",
            object_id=locked.public_id,
            detail={"status": locked.status, "kind": locked.kind, "raised": raised},
        )
    return locked


def _close(
    actor: Actor, event: RelapseEvent, *, status: str, reason: str, from_status: str
) -> RelapseEvent:
    same_org(actor, event)
    patient = event.patient
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why; the reason stays on the record."})
    with transaction.atomic():
        locked = _lock(actor, event, status=from_status)
        locked.status = status
        locked.closed_by_id = actor.user_id
        locked.closed_at = timezone.now()
        locked.close_reason = reason.strip()
        locked.save(
            update_fields=["status", "closed_by", "closed_at", "close_reason", "updated_at"]
        )
        for kind in (REVIEW_TASK, OUTREACH_TASK):
            task_cancel_from_source(
                patient, source_id=locked.public_id, kind=kind, note=reason.strip()
            )
        # A flag raised for a use that never happened (the wrong patient) ends now.
        flags_ended = RiskFlag.objects.filter(
            organization_id=locked.organization_id,
            patient=patient,
            source_id=locked.public_id,
            ends_at__gt=locked.closed_at,
        ).update(ends_at=locked.closed_at)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="relapse_event",
            object_id=locked.public_id,
            detail={"status": status, **({"flags_ended": flags_ended} if flags_ended else {})},
        )
    return locked


def relapse_dismiss(actor: Actor, event: RelapseEvent, *, reason: str) -> RelapseEvent:
    """A proposal that was not a return to use (a prescribed medication the screen
    did not know of, a false positive confirmed by the laboratory)."""
    return _close(
        actor,
        event,
        status=RelapseStatus.DISMISSED,
        reason=reason,
        from_status=RelapseStatus.PROPOSED,
    )


def relapse_mark_in_error(actor: Actor, event: RelapseEvent, *, reason: str) -> RelapseEvent:
    """A confirmed event recorded by mistake (the wrong patient): kept, with its
    response, but no longer counted. A flag it raised keeps running: safety first."""
    return _close(
        actor,
        event,
        status=RelapseStatus.ENTERED_IN_ERROR,
        reason=reason,
        from_status=RelapseStatus.CONFIRMED,
    )


def _reassessment_since(event: RelapseEvent) -> Assessment | None:
    return (
        Assessment.objects.filter(
            organization_id=event.organization_id,
            patient_id=event.patient_id,
            instrument="asam3",
            status=AssessmentStatus.FINAL,
            observed_at__gte=event.created_at,  # since it was proposed or recorded
        )
        .order_by("-observed_at")
        .first()
    )


def response_item_record(
    actor: Actor,
    event: RelapseEvent,
    *,
    item: str,
    state: str,
    note: str = "",
    moud_answer: str = "",
) -> ResponseItem:
    """Record one item of the response as done or declined with a reason."""
    same_org(actor, event)
    patient = event.patient
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    errors: dict[str, str] = {}
    if item not in rules.Item.__members__.values():
        errors["item"] = "Allowed values: " + ", ".join(i.value for i in rules.Item) + "."
    if state not in (rules.State.DONE, rules.State.DECLINED):
        errors["state"] = "Allowed values: done, declined."
    if moud_answer and moud_answer not in rules.MoudAnswer.__members__.values():
        errors["moud_answer"] = (
            "Allowed values: " + ", ".join(a.value for a in rules.MoudAnswer) + "."
        )
    if errors:
        raise ValidationFailed(errors)
    errors = rules.item_errors(
        rules.Item(item),
        rules.State(state),
        note,
        moud_answer=rules.MoudAnswer(moud_answer) if moud_answer else None,
    )
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = RelapseEvent.objects.select_for_update().get(pk=event.pk)
        if locked.status != RelapseStatus.CONFIRMED:
            raise Conflict("Only a confirmed relapse has a response to record.")
        row = ResponseItem.objects.select_for_update().get(event=locked, item=item)
        if not row.is_open:
            raise Conflict("This item is already recorded; it stays as it was.")
        evidence_type, evidence_id = "", None
        if item == rules.Item.REASSESSMENT and state == rules.State.DONE:
            assessment = _reassessment_since(locked)
            if assessment is None:
                raise ValidationFailed(
                    {
                        "state": "No ASAM assessment has been recorded since the relapse: "
                        "record one (and decide the placement), or decline with a reason."
                    }
                )
            evidence_type, evidence_id = "assessment", assessment.public_id
        _settle(actor, row, state=state, note=note, moud_answer=moud_answer)
        row.evidence_type, row.evidence_id = evidence_type, evidence_id
        row.save(update_fields=["evidence_type", "evidence_id", "updated_at"])
        if item == rules.Item.OUTREACH:
            closing = task_done_from_source if state == rules.State.DONE else _cancel_task
            closing(
                actor, patient, source_id=locked.public_id, kind=OUTREACH_TASK, note=note.strip()
            )
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="relapse_response",
            object_id=row.public_id,
            detail={"item": item, "state": state},
        )
    return row


def _cancel_task(
    actor: Actor, patient: Patient, *, source_id: uuid.UUID, kind: str, note: str
) -> int:
    return task_cancel_from_source(patient, source_id=source_id, kind=kind, note=note)


def _settle(
    actor: Actor, row: ResponseItem, *, state: str, note: str, moud_answer: str = ""
) -> None:
    row.state = state
    row.note = note.strip()
    # An answer belongs to an offer made; a declined item keeps only its reason.
    row.moud_answer = moud_answer if row.item == rules.Item.MOUD and state == "done" else ""
    row.settled_by_id = actor.user_id
    row.settled_at = timezone.now()
    row.save(
        update_fields=["state", "note", "moud_answer", "settled_by", "settled_at", "updated_at"]
    )


def response_item_settle(
    actor: Actor,
    patient: Patient,
    *,
    event_public_id: uuid.UUID,
    item: str,
    evidence_type: str,
    evidence_id: uuid.UUID,
    note: str,
) -> ResponseItem | None:
    """Mark an item done from the work that did it (a signed plan revision), inside
    that work's transaction. Nothing happens when the event is not this patient's, not
    confirmed, or the item is already recorded."""
    row = (
        ResponseItem.objects.select_for_update()
        .select_related("event__patient")
        .filter(
            organization_id=actor.organization_id,
            event__patient=patient,
            event__public_id=event_public_id,
            event__status=RelapseStatus.CONFIRMED,
            item=item,
            state=rules.State.OPEN,
        )
        .first()
    )
    if row is None:
        return None
    _settle(actor, row, state=rules.State.DONE, note=note)
    row.evidence_type, row.evidence_id = evidence_type, evidence_id
    row.save(update_fields=["evidence_type", "evidence_id", "updated_at"])
    audit_record(
        action=AuditAction.UPDATE,
        actor=actor,
        patient_public_id=row.event.patient.public_id,
        category=CATEGORY,
        object_type="relapse_response",
        object_id=row.public_id,
        detail={"item": item, "state": rules.State.DONE, "evidence": evidence_type},
    )
    return row


def relapse_get(actor: Actor, public_id: uuid.UUID | str) -> RelapseEvent:
    rows = RelapseEvent.objects.select_related("patient")
    return one_of_organization(rows, actor.organization_id, public_id)
