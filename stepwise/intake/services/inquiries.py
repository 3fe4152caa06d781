"""Calls to the admissions line: crisis triage first, then who called and the person's
situation, the clinical lead's review of a crisis call, and how the call ended."""

from __future__ import annotations

import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from stepwise.care import rules as care_rules
from stepwise.care.selectors import organization_time_zone
from stepwise.care.services import SubstanceUse
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.intake.models import (
    CallerKind,
    Channel,
    Inquiry,
    InquirySubstance,
    Outcome,
    Pregnancy,
    ReferralOutReason,
    WaitlistEntry,
    WaitlistExit,
)
from stepwise.intake.rules import triage
from stepwise.intake.services.common import CATEGORY, audit_inquiry, length_errors, same_org
from stepwise.intake.services.places import release_held_place
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient


def require_record_access(actor: Actor, inquiry: Inquiry) -> None:
    """Once the caller is a patient the call is part of their record: writing to it
    needs what writing to the chart needs (the care team, for treating roles)."""
    # Read afresh: the caller may have been admitted since this copy was loaded.
    patient = Patient.objects.filter(inquiries=inquiry.pk).first()
    if patient is not None:
        require_patient_access(actor, Permission.CARE_WRITE, patient, category=CATEGORY)


def inquiry_start(
    actor: Actor,
    *,
    signs: Iterable[str],
    channel: str = Channel.PHONE,
    received_at: datetime | None = None,
) -> Inquiry:
    """Open a call with its crisis triage answered: the signs said yes (none is a
    valid answer), the steps advised for them and when, and a flag for the clinical
    lead when there was any danger sign."""
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    answered = list(dict.fromkeys(signs))
    known = {s.value for s in triage.Sign}
    errors: dict[str, str] = {}
    unknown = [s for s in answered if s not in known]
    if unknown:
        errors["signs"] = (
            f"Unknown danger signs {', '.join(map(repr, unknown))}; allowed: "
            f"{', '.join(s.value for s in triage.Sign)}."
        )
    if channel not in Channel.values:
        errors["channel"] = f"Allowed values: {allowed_values(Channel.choices)}."
    if errors:
        raise ValidationFailed(errors)
    when = event_time(received_at, "received_at")
    signs_said = {triage.Sign(s) for s in answered}
    steps = triage.actions_for(signs_said)
    # The questions are asked as the call comes in: a call logged afterwards keeps
    # its own time for the advice too.
    now = when
    with transaction.atomic():
        inquiry = Inquiry.objects.create(
            organization_id=actor.organization_id,
            received_at=when,
            answered_by_id=actor.user_id,
            channel=channel,
            caller_kind=CallerKind.SELF,
            triaged_at=now,
            crisis_signs=[s.value for s, _ in triage.QUESTIONS if s in signs_said],
            crisis_advice=[step.advice.value for step in steps],
            lead_flagged=triage.is_crisis(signs_said),
        )
        audit_inquiry(
            actor,
            AuditAction.CREATE,
            inquiry,
            detail={"crisis_signs": inquiry.crisis_signs, "advised": inquiry.crisis_advice},
        )
    return inquiry


def crisis_note_add(actor: Actor, inquiry: Inquiry, *, note: str) -> Inquiry:
    """Add what happened after the advice (911 called, naloxone given, 988 connected),
    stamped with the time and who wrote it."""
    same_org(actor, inquiry)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    require_record_access(actor, inquiry)
    text = note.strip()
    if not text:
        raise ValidationFailed({"note": "Write what happened, e.g. '911 called at 03:12'."})
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        zone = zoneinfo.ZoneInfo(organization_time_zone(actor.organization_id))
        writer = get_user_model().objects.get(pk=actor.user_id)
        name = writer.get_full_name() or actor.username
        stamp = f"[{timezone.now().astimezone(zone):%Y-%m-%d %H:%M %Z}, {name}] {text}"
        locked.crisis_note = f"{locked.crisis_note}\n{stamp}".strip()
        locked.save(update_fields=["crisis_note", "updated_at"])
        audit_inquiry(actor, AuditAction.UPDATE, locked, detail={"fields": ["crisis_note"]})
    return locked


@dataclass
class CallDetails:
    """Who called, the person and their situation, and who referred them."""

    caller_kind: str = CallerKind.SELF
    caller_name: str = ""
    caller_relationship: str = ""
    caller_phone: str = ""
    callback_ok: bool = False
    message_ok: bool = False
    given_name: str = ""
    family_name: str = ""
    date_of_birth: date | None = None
    phone: str = ""
    substances: Sequence[SubstanceUse] = field(default_factory=list)
    last_use_at: datetime | None = None
    prior_treatment: int = -9
    prior_treatment_note: str = ""
    pregnancy: str = Pregnancy.UNKNOWN
    last_overdose_on: date | None = None
    situation_note: str = ""
    referral_source: int = -9
    referring_organization: str = ""
    referring_person: str = ""
    referring_contact: str = ""


TEXT_FIELDS = (
    "caller_name",
    "caller_relationship",
    "caller_phone",
    "given_name",
    "family_name",
    "phone",
    "prior_treatment_note",
    "situation_note",
    "referring_organization",
    "referring_person",
    "referring_contact",
)
VALUE_FIELDS = (
    "caller_kind",
    "callback_ok",
    "message_ok",
    "date_of_birth",
    "last_use_at",
    "prior_treatment",
    "pregnancy",
    "last_overdose_on",
    "referral_source",
)


def substance_errors(substances: Sequence[SubstanceUse]) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(substances) > 3:
        errors["substances"] = "At most three substances (the main one first)."
    seen: set[int] = set()
    for rank, use in enumerate(substances, start=1):
        if use.substance not in dict(care_rules.SUBSTANCES) or use.substance == -9:
            allowed = allowed_values(c for c in care_rules.SUBSTANCES if c[0] != -9)
            errors[f"substance_{rank}"] = f"Allowed values: {allowed}."
        elif use.substance in seen:
            errors[f"substance_{rank}"] = "Each substance is listed once."
        seen.add(use.substance)
        if use.route not in dict(care_rules.ROUTES):
            errors[f"route_{rank}"] = f"Allowed values: {allowed_values(care_rules.ROUTES)}."
        if use.frequency not in dict(care_rules.FREQUENCIES):
            errors[f"frequency_{rank}"] = (
                f"Allowed values: {allowed_values(care_rules.FREQUENCIES)}."
            )
    return errors


def call_details_errors(details: CallDetails, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if details.caller_kind not in CallerKind.values:
        errors["caller_kind"] = f"Allowed values: {allowed_values(CallerKind.choices)}."
    if details.pregnancy not in Pregnancy.values:
        errors["pregnancy"] = f"Allowed values: {allowed_values(Pregnancy.choices)}."
    if details.referral_source not in dict(care_rules.REFERRAL_SOURCES):
        errors["referral_source"] = (
            f"Allowed values: {allowed_values(care_rules.REFERRAL_SOURCES)}."
        )
    if details.prior_treatment not in dict(care_rules.PRIOR_TREATMENT):
        errors["prior_treatment"] = f"Allowed values: {allowed_values(care_rules.PRIOR_TREATMENT)}."
    today = now.date()
    born = details.date_of_birth
    if born is not None and (born > today or born.year < 1900):
        errors["date_of_birth"] = "Give a date of birth between 1900 and today."
    if details.last_use_at is not None:
        if timezone.is_naive(details.last_use_at):
            errors["last_use_at"] = "Give the time with its time zone."
        elif details.last_use_at > now:
            errors["last_use_at"] = "The last use cannot be in the future."
    if details.last_overdose_on is not None and details.last_overdose_on > today:
        errors["last_overdose_on"] = "The overdose cannot be in the future."
    if details.callback_ok and not (details.caller_phone.strip() or details.phone.strip()):
        errors["caller_phone"] = "A call back needs a phone number."
    if details.caller_kind != CallerKind.SELF and not details.caller_name.strip():
        errors["caller_name"] = "Name the caller when they call about someone else."
    texts = {name: getattr(details, name) for name in TEXT_FIELDS if name != "situation_note"}
    return errors | length_errors(Inquiry, texts) | substance_errors(details.substances)


def _require_editable(inquiry: Inquiry) -> None:
    if inquiry.outcome == Outcome.ADMITTED:
        raise Conflict("This caller has been admitted; change their details in the chart instead.")


def call_details_update(actor: Actor, inquiry: Inquiry, details: CallDetails) -> Inquiry:
    """Record (or correct) who called and the person's situation, substances included."""
    same_org(actor, inquiry)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    errors = call_details_errors(details, timezone.now())
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        _require_editable(locked)
        changed = []
        for name in TEXT_FIELDS:
            value = getattr(details, name).strip()
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        for name in VALUE_FIELDS:
            value = getattr(details, name)
            if getattr(locked, name) != value:
                setattr(locked, name, value)
                changed.append(name)
        locked.save()
        before = list(
            InquirySubstance.objects.filter(inquiry=locked).values_list(
                "substance", "route", "frequency"
            )
        )
        after = [(u.substance, u.route, u.frequency) for u in details.substances]
        if before != after:
            InquirySubstance.objects.filter(inquiry=locked).delete()
            InquirySubstance.objects.bulk_create(
                InquirySubstance(
                    organization_id=actor.organization_id,
                    inquiry=locked,
                    rank=rank,
                    substance=use.substance,
                    route=use.route,
                    frequency=use.frequency,
                )
                for rank, use in enumerate(details.substances, start=1)
            )
            changed.append("substances")
        # Names only: the values are in the record, not repeated in the log.
        audit_inquiry(actor, AuditAction.UPDATE, locked, detail={"fields": changed})
    return locked


def lead_review(actor: Actor, inquiry: Inquiry, *, note: str) -> Inquiry:
    """The clinical lead's review of a call flagged in crisis triage."""
    same_org(actor, inquiry)
    require_permission(actor, Permission.INTAKE_LEAD, category=CATEGORY)
    require_record_access(actor, inquiry)
    if not note.strip():
        raise ValidationFailed({"note": "Write what you found and what follows."})
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        if not locked.lead_flagged:
            raise Conflict("This call was not flagged for the clinical lead.")
        if locked.lead_reviewed_at is not None:
            raise Conflict("This call has already been reviewed by the clinical lead.")
        locked.lead_reviewed_at = timezone.now()
        locked.lead_reviewed_by_id = actor.user_id
        locked.lead_note = note.strip()
        locked.save(
            update_fields=["lead_reviewed_at", "lead_reviewed_by", "lead_note", "updated_at"]
        )
        audit_inquiry(actor, AuditAction.REVIEW, locked)
    return locked


# Outcomes a worker gives directly; the others follow from a screening, a held place,
# the waitlist or an admission.
CONCLUSIONS = (Outcome.INFORMATION, Outcome.REFERRED_OUT, Outcome.NO_FURTHER_CONTACT)
_WAITLIST_EXIT_OF = {
    Outcome.REFERRED_OUT: WaitlistExit.REFERRED,
    Outcome.NO_FURTHER_CONTACT: WaitlistExit.LOST_CONTACT,
}


def close_waitlist_entries(
    actor: Actor, inquiry: Inquiry, exit: str, reason: str, now: datetime
) -> list[str]:
    """End the inquiry's open waitlist entry, inside the caller's transaction."""
    entries = list(
        WaitlistEntry.objects.select_for_update().filter(inquiry=inquiry, left_at__isnull=True)
    )
    for entry in entries:
        entry.left_at = now
        entry.left_by_id = actor.user_id
        entry.exit = exit
        entry.exit_reason = reason
        entry.save(update_fields=["left_at", "left_by", "exit", "exit_reason", "updated_at"])
    return [str(e.public_id) for e in entries]


def inquiry_conclude(
    actor: Actor,
    inquiry: Inquiry,
    *,
    outcome: str,
    note: str = "",
    referred_to: str = "",
    referral_out_reason: str = "",
) -> Inquiry:
    """End a call that leads to no admission here: information given, referred
    elsewhere (to whom and why) or no further contact. A place held or a waitlist
    entry is given back with the same reason."""
    same_org(actor, inquiry)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    errors: dict[str, str] = {}
    if outcome not in CONCLUSIONS:
        allowed = ", ".join(f"{o.value} ({o.label})" for o in CONCLUSIONS)
        errors["outcome"] = f"Allowed values: {allowed}."
    if outcome == Outcome.REFERRED_OUT:
        if not referred_to.strip():
            errors["referred_to"] = "Name the program or service the person is referred to."
        if referral_out_reason not in ReferralOutReason.values:
            errors["referral_out_reason"] = (
                f"Allowed values: {allowed_values(ReferralOutReason.choices)}."
            )
    errors |= length_errors(Inquiry, {"referred_to": referred_to})
    if outcome == Outcome.NO_FURTHER_CONTACT and not note.strip():
        errors["note"] = "Say why there is no further contact (e.g. three calls unanswered)."
    if errors:
        raise ValidationFailed(errors)
    now = timezone.now()
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        _require_editable(locked)
        locked.outcome = outcome
        locked.outcome_at = now
        locked.outcome_note = note.strip()
        is_referral = outcome == Outcome.REFERRED_OUT
        locked.referred_to = referred_to.strip() if is_referral else ""
        locked.referral_out_reason = referral_out_reason if is_referral else ""
        locked.follow_up_due_at = None
        locked.follow_up_note = ""
        locked.save()
        reason = note.strip() or (
            f"Referred to {referred_to.strip()}" if is_referral else Outcome(outcome).label
        )
        exit = _WAITLIST_EXIT_OF.get(Outcome(outcome))
        open_entries = WaitlistEntry.objects.filter(inquiry=locked, left_at__isnull=True)
        if exit is None and open_entries.exists():
            raise Conflict(
                "The person is on the waitlist: end the call as referred elsewhere or no "
                "further contact, which takes them off it with the reason."
            )
        left = close_waitlist_entries(actor, locked, exit, reason, now) if exit else []
        released = release_held_place(actor, locked, reason=reason)
        audit_inquiry(
            actor,
            AuditAction.UPDATE,
            locked,
            detail={
                "outcome": outcome,
                **({"referral_out_reason": referral_out_reason} if is_referral else {}),
                **({"waitlist_left": left} if left else {}),
                **({"place_released": released} if released else {}),
            },
        )
    return locked


def follow_up_set(
    actor: Actor, inquiry: Inquiry, *, due_at: datetime | None, note: str = ""
) -> Inquiry:
    """Set when someone must call back (and why), or clear it when done."""
    same_org(actor, inquiry)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    if due_at is not None and timezone.is_naive(due_at):
        raise ValidationFailed({"follow_up_due_at": "Give the time with its time zone."})
    if due_at is not None and not note.strip():
        raise ValidationFailed({"follow_up_note": "Say what the follow-up is for."})
    if errors := length_errors(Inquiry, {"follow_up_note": note}):
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        _require_editable(locked)
        locked.follow_up_due_at = due_at
        locked.follow_up_note = note.strip() if due_at else ""
        locked.save(update_fields=["follow_up_due_at", "follow_up_note", "updated_at"])
        audit_inquiry(
            actor,
            AuditAction.UPDATE,
            locked,
            detail={"follow_up_due_at": due_at.isoformat() if due_at else None},
        )
    return locked
