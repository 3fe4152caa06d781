"""The safe-discharge bundle: its items are recorded during the stay, and care asks
this module before any withdrawal-management stay closes (domain §6.1, R-OD-1)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from stepwise.care.exits import StayExit
from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.flags import LOST_TOLERANCE, risk_flag_raise
from stepwise.patients.models import Patient
from stepwise.patients.tasks import task_raise
from stepwise.withdrawal.models import BundleClosure, BundleItem
from stepwise.withdrawal.rules import bundle as rules
from stepwise.withdrawal.services.common import OBSERVATIONS, open_stay, same_org


def bundle_records(stay: Stay) -> dict[rules.Item, rules.ItemRecord]:
    return {
        rules.Item(row.item): row.as_rule_input()
        for row in BundleItem.objects.filter(organization_id=stay.organization_id, stay=stay)
    }


def bundle_item_record(
    actor: Actor,
    patient: Patient,
    *,
    item: str,
    state: str,
    reason: str = "",
    moud_answer: str = "",
    appointment_at: datetime | None = None,
    appointment_with: str = "",
    at: datetime | None = None,
) -> BundleItem:
    """Record one bundle item as done or declined (a later entry replaces it)."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.DISCHARGE_BUNDLE, patient, category=OBSERVATIONS)
    errors: dict[str, str] = {}
    if item not in rules.Item.__members__.values():
        errors["item"] = "Allowed values: " + ", ".join(i.value for i in rules.Item) + "."
    if state not in (rules.State.DONE, rules.State.DECLINED):
        errors["state"] = "Allowed values: done, declined."
    if moud_answer and moud_answer not in rules.MoudAnswer.__members__.values():
        errors["moud_answer"] = "Allowed values: accepted, declined."
    if len(appointment_with) > 200:
        errors["appointment_with"] = "At most 200 characters."
    if errors:
        raise ValidationFailed(errors)
    if appointment_at is not None and timezone.is_naive(appointment_at):
        raise ValidationFailed({"appointment_at": "Give the time with its time zone."})
    record = rules.ItemRecord(
        item=rules.Item(item),
        state=rules.State(state),
        reason=reason.strip(),
        moud_answer=rules.MoudAnswer(moud_answer) if moud_answer else None,
        appointment_at=appointment_at if state == rules.State.DONE else None,
        appointment_with=appointment_with.strip() if state == rules.State.DONE else "",
    )
    errors = rules.item_record_errors(record)
    if errors:
        raise ValidationFailed(errors)
    recorded_at = event_time(at, "at")
    stay = open_stay(patient)
    if not stay.program.is_withdrawal_management:
        raise ValidationFailed(
            {"patient": f"{stay.program.name} is not a withdrawal-management program."}
        )
    with transaction.atomic():
        row, created = BundleItem.objects.update_or_create(
            organization_id=actor.organization_id,
            stay=stay,
            item=item,
            defaults={
                "patient": patient,
                "state": state,
                "reason": record.reason,
                "moud_answer": moud_answer if item == rules.Item.MOUD_OFFER else "",
                "appointment_at": record.appointment_at,
                "appointment_with": record.appointment_with,
                "recorded_by_id": actor.user_id,
                "recorded_at": recorded_at,
            },
        )
        audit_record(
            action=AuditAction.CREATE if created else AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=OBSERVATIONS,
            object_type="discharge_bundle_item",
            object_id=row.public_id,
            detail={"item": item, "state": state},
        )
    return row


def _leaving(exit_: StayExit) -> rules.Leaving:
    return rules.Leaving(
        at=exit_.at,
        to_next_program=exit_.to_program is not None,
        discharge_reason=exit_.discharge_reason,
    )


def check_exit(exit_: StayExit) -> None:
    """Refuse to close a withdrawal-management stay while the bundle has gaps."""
    if not exit_.stay.program.is_withdrawal_management:
        return
    leaving = _leaving(exit_)
    if rules.policy_for(leaving) is not rules.Policy.REQUIRED:
        return
    gaps = rules.bundle_gaps(bundle_records(exit_.stay), leaving)
    if gaps:
        raise ValidationFailed(
            {
                "discharge_bundle": "The safe-discharge bundle is not complete: "
                + " ".join(gaps)
                + " Record each item as done, or declined with a reason, before the "
                "patient leaves withdrawal management."
            }
        )


# Follow-ups raised when a patient left before an item was done.
_OUTREACH = {
    rules.Item.NALOXONE_KIT: "Reach the patient: no naloxone kit was dispensed before leaving",
    rules.Item.OVERDOSE_EDUCATION: "Reach the patient: overdose-risk education was not given",
    rules.Item.MOUD_OFFER: "Reach the patient: medication for OUD was not offered",
    rules.Item.NEXT_CARE: "Reach the patient: book an aftercare appointment within 7 days",
}


def on_exit(exit_: StayExit) -> dict[str, Any] | None:
    """After a withdrawal-management stay closes: keep the bundle's state, raise the
    30-day lost-tolerance flag, and open outreach tasks for what was left undone."""
    stay = exit_.stay
    if not stay.program.is_withdrawal_management:
        return _on_leaving_24_hour_care(exit_)
    leaving = _leaving(exit_)
    policy = rules.policy_for(leaving)
    records = bundle_records(stay)
    gaps = rules.bundle_gaps(records, leaving) if policy is rules.Policy.RECORD_ONLY else []
    window = rules.flag_window(leaving)
    patient = stay.episode.patient
    closure = BundleClosure.objects.create(
        organization_id=stay.organization_id,
        stay=stay,
        patient=patient,
        left_at=exit_.at,
        policy=policy.value,
        gaps=gaps,
        flag_until=window[1] if window else None,
    )
    if window is not None:
        risk_flag_raise(
            exit_.actor,
            patient,
            kind=LOST_TOLERANCE,
            reason=(
                "Left withdrawal management: tolerance is lost and overdose risk is high for "
                "weeks. Naloxone at hand, MOUD offered, follow-up within 7 days."
            ),
            starts_at=window[0],
            ends_at=window[1],
            source_type="bundle_closure",
            source_id=closure.public_id,
        )
    if policy is rules.Policy.RECORD_ONLY:
        for item in rules.Item:
            record = records.get(item)
            if record is None or record.state is rules.State.PENDING:
                task_raise(
                    exit_.actor,
                    patient,
                    kind=f"outreach_{item.value}",
                    title=_OUTREACH[item],
                    due_at=exit_.at + timedelta(days=1),
                    source_type="bundle_closure",
                    source_id=closure.public_id,
                )
    appointment = records.get(rules.Item.NEXT_CARE)
    if (
        appointment is not None
        and appointment.state is rules.State.DONE
        and appointment.appointment_at is not None
        and not leaving.to_next_program
    ):
        task_raise(
            exit_.actor,
            patient,
            kind="aftercare_attendance",
            title=f"Confirm the aftercare appointment with {appointment.appointment_with} was kept",
            due_at=appointment.appointment_at + timedelta(days=1),
            source_type="bundle_closure",
            source_id=closure.public_id,
        )
    return {
        "discharge_bundle": policy.value,
        **({"risk_flag_until": window[1].isoformat()} if window else {}),
        **({"bundle_gaps": len(gaps)} if gaps else {}),
    }


def _on_leaving_24_hour_care(exit_: StayExit) -> dict[str, Any] | None:
    """Detox, then residential, then home: the weeks of risk begin when the patient
    leaves 24-hour care, so the flag raised on leaving detox is renewed then."""
    stay = exit_.stay
    going_on_in_24_hour_care = exit_.to_program is not None and exit_.to_program.is_24_hour
    if not stay.program.is_24_hour or going_on_in_24_hour_care:
        return None
    if exit_.discharge_reason == rules.DEATH:
        return None
    detox = (
        BundleClosure.objects.filter(
            organization_id=stay.organization_id, stay__episode_id=stay.episode_id
        )
        .exclude(policy=rules.Policy.EXEMPT)
        .order_by("-left_at")
        .first()
    )
    if detox is None:
        return None
    ends = exit_.at + timedelta(days=rules.FLAG_DAYS)
    risk_flag_raise(
        exit_.actor,
        stay.episode.patient,
        kind=LOST_TOLERANCE,
        reason=(
            "Left 24-hour care after withdrawal management: tolerance is lost and overdose "
            "risk is high for weeks. Naloxone at hand, MOUD offered, follow-up within 7 days."
        ),
        starts_at=exit_.at,
        ends_at=ends,
        source_type="bundle_closure",
        source_id=detox.public_id,
    )
    return {"risk_flag_until": ends.isoformat()}
