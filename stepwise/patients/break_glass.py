"""Emergency ("break-glass") access to a chart by a clinician outside the care team.

HIPAA requires an emergency access procedure (164.312(a)(2)(ii)). Here it is
deliberate and visible: a reason, the clinician's password again, a time limit,
an audit row marked as such, and a review by the privacy officer afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.ids import public_id_or_404
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import Permission
from stepwise.patients.access import care_basis
from stepwise.patients.models import BreakGlassAccess, Patient

CATEGORY = "break_glass"
MIN_REASON_LENGTH = 15


def break_glass_open(
    actor: Actor, patient: Patient, *, reason: str, password_confirmed: bool, now: datetime
) -> BreakGlassAccess:
    """Give the actor time-limited access to a chart they do not care for.

    The caller confirms the actor's password first, through the sign-in checks
    (accounts.reauth), so wrong guesses count toward the lockout like any other.
    """
    if patient.organization_id != actor.organization_id:
        raise NotFound()
    require_permission(
        actor, Permission.BREAK_GLASS, patient_public_id=patient.public_id, category=CATEGORY
    )
    errors: dict[str, str] = {}
    if len(reason.strip()) < MIN_REASON_LENGTH:
        errors["reason"] = (
            f"Describe the emergency in at least {MIN_REASON_LENGTH} characters; "
            "the privacy officer reviews every emergency access."
        )
    if not password_confirmed:
        errors["password"] = "The password is not correct."  # noqa: S105 (a message) # nosec B105
        with transaction.atomic():
            audit_record(
                action=AuditAction.ACCESS_DENIED,
                actor=actor,
                patient_public_id=patient.public_id,
                category=CATEGORY,
                outcome=AuditOutcome.DENIED,
                detail={"why": "password not confirmed"},
            )
    if errors:
        raise ValidationFailed(errors)
    if care_basis(actor, patient, now) is not None:
        raise Conflict("You already have access to this chart; emergency access is not needed.")
    minutes = settings.BREAK_GLASS_MINUTES
    with transaction.atomic():
        access = BreakGlassAccess.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            user_id=actor.user_id,
            reason=reason.strip(),
            started_at=now,
            expires_at=now + timedelta(minutes=minutes),
        )
        audit_record(
            action=AuditAction.BREAK_GLASS,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="break_glass_access",
            object_id=access.public_id,
            detail={"access": "break_glass", "minutes": minutes, "reason": access.reason[:500]},
        )
    return access


def break_glass_review(
    actor: Actor, access: BreakGlassAccess, *, note: str, now: datetime
) -> BreakGlassAccess:
    """The privacy officer's review of one emergency access, with a note."""
    if access.organization_id != actor.organization_id:
        raise NotFound()
    require_permission(
        actor,
        Permission.PRIVACY_REVIEW,
        patient_public_id=access.patient.public_id,
        category=CATEGORY,
    )
    if not note.strip():
        raise ValidationFailed({"note": "Write what the review found (for example: justified)."})
    if access.user_id == actor.user_id:
        raise Conflict("Another person must review your own emergency access.")
    with transaction.atomic():
        locked = BreakGlassAccess.objects.select_for_update().get(pk=access.pk)
        if locked.reviewed_at is not None:
            raise Conflict("This emergency access has already been reviewed.")
        locked.reviewed_at = now
        locked.reviewed_by_id = actor.user_id
        locked.review_note = note.strip()
        locked.save(update_fields=["reviewed_at", "reviewed_by", "review_note", "updated_at"])
        audit_record(
            action=AuditAction.REVIEW,
            actor=actor,
            patient_public_id=locked.patient.public_id,
            category=CATEGORY,
            object_type="break_glass_access",
            object_id=locked.public_id,
            detail={"reviewed": True},
        )
    return locked


def break_glass_queue(actor: Actor, *, reviewed: bool) -> QuerySet[BreakGlassAccess]:
    """Emergency accesses of the actor's organization awaiting review (or reviewed)."""
    require_permission(actor, Permission.PRIVACY_REVIEW, category=CATEGORY)
    return (
        BreakGlassAccess.objects.filter(
            organization_id=actor.organization_id, reviewed_at__isnull=not reviewed
        )
        .select_related("patient", "user", "reviewed_by")
        .order_by("-started_at" if reviewed else "started_at")
    )


@dataclass(frozen=True)
class ReviewQueue:
    pending: list[BreakGlassAccess]
    reviewed: list[BreakGlassAccess]


def break_glass_queue_read(actor: Actor, *, reviewed_shown: int = 50) -> ReviewQueue:
    """The review page's data; showing it is a read of those patients, audited."""
    with transaction.atomic():
        queue = ReviewQueue(
            pending=list(break_glass_queue(actor, reviewed=False)),
            reviewed=list(break_glass_queue(actor, reviewed=True)[:reviewed_shown]),
        )
        shown = {str(a.patient.public_id) for a in [*queue.pending, *queue.reviewed]}
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type="break_glass_queue",
            detail={"patients": sorted(shown)},
        )
    return queue


def break_glass_get(actor: Actor, public_id: str) -> BreakGlassAccess:
    access = (
        BreakGlassAccess.objects.filter(
            organization_id=actor.organization_id, public_id=public_id_or_404(public_id)
        )
        .select_related("patient", "user")
        .first()
    )
    if access is None:
        raise NotFound()
    return access
