"""A place held for a caller who is scheduled to come in, given back when they do not
arrive in time. The place itself is care's (`place_reserve`); the call keeps the link."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from stepwise.care.models import BedReservation, Program, ReservationStatus
from stepwise.care.services import place_release, place_reserve
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.intake.models import CLOSED_OUTCOMES, Inquiry, Outcome
from stepwise.intake.services.common import CATEGORY, audit_inquiry, same_org, settings_of

# A held place blocks a bed for everyone else: only for an arrival soon.
MAX_LEAD = timedelta(days=14)


def place_hold(
    actor: Actor, inquiry: Inquiry, program: Program, *, expected_at: datetime
) -> Inquiry:
    """Hold a place in the program for the caller's expected arrival, for the
    organization's hold time after it; the call is then scheduled for admission."""
    same_org(actor, inquiry, program)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    hold = timedelta(hours=settings_of(actor.organization_id).hold_hours)
    if timezone.is_naive(expected_at):
        raise ValidationFailed({"expected_at": "Give the time with its time zone."})
    if expected_at > timezone.now() + MAX_LEAD:
        raise ValidationFailed(
            {
                "expected_at": f"A place is held for an arrival within {MAX_LEAD.days} days; "
                "for a later date, use the waitlist."
            }
        )
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        if locked.outcome in CLOSED_OUTCOMES:
            raise Conflict(
                f"This call has ended ({locked.get_outcome_display().lower()}); log a new call."
            )
        current = still_held(actor, locked.reservation)
        if current is not None:
            raise Conflict(f"A place is already held in {current.program.name}; release it first.")
        reservation = place_reserve(
            actor,
            program,
            expected_at=expected_at,
            hold_until=expected_at + hold,
            patient_public_id=locked.patient.public_id if locked.patient else None,
        )
        locked.reservation = reservation
        locked.outcome = Outcome.SCHEDULED
        locked.outcome_at = timezone.now()
        locked.save(update_fields=["reservation", "outcome", "outcome_at", "updated_at"])
        audit_inquiry(
            actor,
            AuditAction.UPDATE,
            locked,
            detail={"outcome": Outcome.SCHEDULED, "reservation": str(reservation.public_id)},
        )
    return locked


LAPSED = "Did not arrive by the hold time."


def still_held(actor: Actor, reservation: BedReservation | None) -> BedReservation | None:
    """The call's place if it still holds one; a place past its hold time (it stopped
    counting then) is closed as lapsed here, inside the caller's transaction."""
    if reservation is None or reservation.status != ReservationStatus.HELD:
        return None
    if reservation.holds_place(timezone.now()):
        return reservation
    place_release(actor, reservation, reason=LAPSED, lapsed=True)
    return None


def outcome_without_place(inquiry: Inquiry) -> str:
    """Where a call stands once its held place is gone: still waiting if it is on a
    waitlist, else screened if it was, else just open."""
    if inquiry.waitlist.filter(left_at__isnull=True).exists():
        return Outcome.WAITLISTED
    return Outcome.SCREENED if inquiry.screenings.exists() else ""


def release_held_place(actor: Actor, inquiry: Inquiry, *, reason: str) -> str | None:
    """Give back the inquiry's held place, inside the caller's transaction; returns
    the reservation's id, or None when nothing was held."""
    held = inquiry.reservation
    if held is None or held.status != ReservationStatus.HELD:
        return None
    lapsed = held.hold_until <= timezone.now()
    place_release(actor, held, reason=reason, lapsed=lapsed)
    return str(held.public_id)


def place_give_back(actor: Actor, inquiry: Inquiry, *, reason: str) -> Inquiry:
    """Release the place held for this caller (plans changed); the call goes back to
    waitlisted, screened or open, so it shows among the calls still needing someone."""
    same_org(actor, inquiry)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why the place is given back."})
    with transaction.atomic():
        locked = Inquiry.objects.select_for_update().get(pk=inquiry.pk)
        released = release_held_place(actor, locked, reason=reason.strip())
        if released is None:
            raise Conflict("No place is held for this caller.")
        if locked.outcome == Outcome.SCHEDULED:
            locked.outcome = outcome_without_place(locked)
            locked.outcome_at = timezone.now()
            locked.save(update_fields=["outcome", "outcome_at", "updated_at"])
        audit_inquiry(actor, AuditAction.UPDATE, locked, detail={"place_released": released})
    return locked


def lapsed_places_close(actor: Actor, now: datetime | None = None) -> list[Inquiry]:
    """Close every place whose caller did not arrive by the hold time (the places
    stopped counting then) and ask for a call back on each of those calls."""
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    moment = now or timezone.now()
    overdue = list(
        Inquiry.objects.filter(
            organization_id=actor.organization_id,
            reservation__status=ReservationStatus.HELD,
            reservation__hold_until__lte=moment,
        ).select_related("reservation__program", "patient")
    )
    closed = []
    for inquiry in overdue:
        with transaction.atomic():
            locked = Inquiry.objects.select_for_update(of=("self",)).get(pk=inquiry.pk)
            reservation = locked.reservation
            # Admitted or given back since the list was read: nothing to close.
            if reservation is None or reservation.status != ReservationStatus.HELD:
                continue
            place_release(actor, reservation, reason=LAPSED, lapsed=True)
            locked.outcome = outcome_without_place(locked)
            locked.outcome_at = moment
            locked.follow_up_due_at = moment
            locked.follow_up_note = (
                f"Expected at {reservation.program.name} but did not arrive: call back."
            )
            locked.save(
                update_fields=[
                    "outcome",
                    "outcome_at",
                    "follow_up_due_at",
                    "follow_up_note",
                    "updated_at",
                ]
            )
            audit_inquiry(
                actor,
                AuditAction.UPDATE,
                locked,
                detail={"place_lapsed": str(reservation.public_id)},
            )
        closed.append(locked)
    return closed
