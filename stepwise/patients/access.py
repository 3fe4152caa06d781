"""The care-team wall: who may open which patient's record.

The role table (core.roles) says what a role may do; this module adds the
patient-level rule: treating clinicians reach a record only while on the
patient's care team or under an active emergency (break-glass) access.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import AccessDenied, OutsideCareTeam
from stepwise.core.models import AuditAction, AuditOutcome
from stepwise.core.roles import NOT_UNDER_EMERGENCY_ACCESS, Permission, needs_care_relationship
from stepwise.patients.models import BreakGlassAccess, CareTeamMember, Patient


class AccessBasis(StrEnum):
    """Why an access was allowed; break-glass reads are audited as such."""

    FACILITY_ROLE = "facility_role"
    CARE_TEAM = "care_team"
    BREAK_GLASS = "break_glass"


def _on_team(actor: Actor) -> Exists:
    return Exists(CareTeamMember.objects.filter(patient_id=OuterRef("pk"), user_id=actor.user_id))


def _emergency(actor: Actor, now: datetime) -> Exists:
    return Exists(
        BreakGlassAccess.objects.filter(
            patient_id=OuterRef("pk"),
            user_id=actor.user_id,
            started_at__lte=now,
            expires_at__gt=now,
        )
    )


def cared_for(actor: Actor, patients: QuerySet[Patient], now: datetime) -> QuerySet[Patient]:
    """Narrow a patient query to those on the actor's care team or under their active
    emergency access. Two uncorrelated subqueries, which the database runs once each
    (a set to probe), rather than a correlated check per patient of the organization."""
    on_team = CareTeamMember.objects.filter(
        organization_id=actor.organization_id, user_id=actor.user_id
    ).values("patient_id")
    emergency = BreakGlassAccess.objects.filter(
        organization_id=actor.organization_id,
        user_id=actor.user_id,
        started_at__lte=now,
        expires_at__gt=now,
    ).values("patient_id")
    return patients.filter(Q(pk__in=on_team) | Q(pk__in=emergency))


def care_basis(actor: Actor, patient: Patient, now: datetime) -> AccessBasis | None:
    """The actor's relationship to the patient, in one query; None if there is none."""
    flags = (
        Patient.objects.filter(pk=patient.pk)
        .annotate(on_team=_on_team(actor), emergency=_emergency(actor, now))
        .values_list("on_team", "emergency")
        .first()
    )
    if flags is None:
        return None
    on_team, emergency = flags
    if on_team:
        return AccessBasis.CARE_TEAM
    return AccessBasis.BREAK_GLASS if emergency else None


def active_break_glass(actor: Actor, patient: Patient, now: datetime) -> BreakGlassAccess | None:
    return (
        BreakGlassAccess.objects.filter(
            organization_id=actor.organization_id,
            patient=patient,
            user_id=actor.user_id,
            started_at__lte=now,
            expires_at__gt=now,
        )
        .order_by("-expires_at")
        .first()
    )


def _audit_refusal(
    actor: Actor, patient: Patient, permission: Permission, category: str, why: str
) -> None:
    with transaction.atomic():
        audit_record(
            action=AuditAction.ACCESS_DENIED,
            actor=actor,
            patient_public_id=patient.public_id,
            category=category,
            outcome=AuditOutcome.DENIED,
            detail={"permission": str(permission), "why": why},
        )


def require_patient_access(
    actor: Actor,
    permission: Permission,
    patient: Patient,
    *,
    category: str,
    now: datetime | None = None,
) -> AccessBasis:
    """Why the actor may use the permission on this patient; raises (after auditing
    the refusal) if they may not. The role must grant it, and treating roles must
    care for the patient."""
    require_permission(actor, permission, patient_public_id=patient.public_id, category=category)
    if not needs_care_relationship(actor.role, permission):
        return AccessBasis.FACILITY_ROLE
    basis = care_basis(actor, patient, now or timezone.now())
    if basis is AccessBasis.CARE_TEAM or (
        basis is AccessBasis.BREAK_GLASS and permission not in NOT_UNDER_EMERGENCY_ACCESS
    ):
        return basis
    if basis is AccessBasis.BREAK_GLASS:
        _audit_refusal(actor, patient, permission, category, "emergency access")
        raise AccessDenied("Emergency access allows reading and treating, not this action.")
    _audit_refusal(actor, patient, permission, category, "not on the care team")
    raise OutsideCareTeam(str(patient.public_id))


def require_care_team_change(actor: Actor, patient: Patient) -> None:
    """Who may change a care team: its members and facility-wide roles, never someone
    inside an emergency access (that would turn a reviewed hour into lasting access)."""
    basis = require_patient_access(actor, Permission.CARE_WRITE, patient, category="care_team")
    if basis is not AccessBasis.BREAK_GLASS:
        return
    _audit_refusal(actor, patient, Permission.CARE_WRITE, "care_team", "emergency access")
    raise AccessDenied("Emergency access does not allow changing the care team.")
