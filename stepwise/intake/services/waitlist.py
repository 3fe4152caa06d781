"""The waitlist: a person waiting for a place in a program, and how they leave it."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.care.models import Program
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.intake.models import CLOSED_OUTCOMES, Inquiry, Outcome, WaitlistEntry, WaitlistExit
from stepwise.intake.services.common import CATEGORY, audit_inquiry, same_org
from stepwise.intake.services.inquiries import inquiry_conclude


def waitlist_add(actor: Actor, inquiry: Inquiry, program: Program) -> WaitlistEntry:
    """Put the caller on the program's waitlist (one list at a time)."""
    same_org(actor, inquiry, program)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    if not program.is_active:
        raise ValidationFailed({"program": f"{program.name} is not taking patients."})
    now = timezone.now()
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        if locked.outcome in CLOSED_OUTCOMES:
            raise Conflict(
                f"This call is closed ({locked.get_outcome_display().lower()}); log a new call."
            )
        current = WaitlistEntry.objects.filter(inquiry=locked, left_at__isnull=True).first()
        if current is not None:
            raise Conflict(
                f"Already waiting for {current.program.name} since {current.added_at:%Y-%m-%d}."
            )
        try:
            with transaction.atomic():
                entry = WaitlistEntry.objects.create(
                    organization_id=actor.organization_id,
                    inquiry=locked,
                    program=program,
                    added_at=now,
                    added_by_id=actor.user_id,
                )
        except IntegrityError:
            raise Conflict("Someone put this caller on a waitlist just now; reload.") from None
        if locked.outcome != Outcome.SCHEDULED:
            locked.outcome = Outcome.WAITLISTED
            locked.outcome_at = now
            locked.save(update_fields=["outcome", "outcome_at", "updated_at"])
        audit_inquiry(
            actor,
            AuditAction.CREATE,
            locked,
            object_type="waitlist_entry",
            object_id=entry.public_id,
            detail={"program": str(program.public_id)},
        )
    return entry


# Leaving by admission happens through the admission itself.
LEAVING_BY_HAND = (WaitlistExit.REFERRED, WaitlistExit.LOST_CONTACT)


def waitlist_leave(
    actor: Actor,
    entry: WaitlistEntry,
    *,
    exit: str,
    reason: str,
    referred_to: str = "",
    referral_out_reason: str = "",
) -> WaitlistEntry:
    """Take someone off the waitlist: referred elsewhere (to whom, and why) or lost
    contact, with the reason. The call then ends the same way."""
    same_org(actor, entry)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    errors: dict[str, str] = {}
    if exit not in LEAVING_BY_HAND:
        allowed = ", ".join(f"{e.value} ({e.label})" for e in LEAVING_BY_HAND)
        errors["exit"] = f"Allowed values: {allowed}; an admission takes the person off itself."
    if not reason.strip():
        errors["reason"] = "Say why the person leaves the waitlist."
    if errors:
        raise ValidationFailed(errors)
    if not entry.is_open:
        raise Conflict("This person has already left the waitlist.")
    outcome = Outcome.REFERRED_OUT if exit == WaitlistExit.REFERRED else Outcome.NO_FURTHER_CONTACT
    inquiry_conclude(
        actor,
        entry.inquiry,
        outcome=outcome,
        note=reason,
        referred_to=referred_to,
        referral_out_reason=referral_out_reason if exit == WaitlistExit.REFERRED else "",
    )
    entry.refresh_from_db()
    return entry
