"""A program's staff: the members on the care team of every patient in the program.

A unit's nurses and physicians look after whoever is in its beds. Putting them on the
program's staff puts them on the care team of each patient already there and of each
patient who comes in later (admission or transition), so the care-team wall follows
the unit's work instead of hand-kept lists. Leaving the staff stops new patients; the
care teams of patients they looked after are kept, as the record of who treated them.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from stepwise.accounts.models import Membership
from stepwise.care.models import Program, ProgramStaff, Stay
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, Role
from stepwise.patients.models import Patient
from stepwise.patients.services import care_team_join

CATEGORY = "care_team"
# Roles that treat patients, and so may be on a program's staff.
STAFF_ROLES = (Role.NURSE, Role.PHYSICIAN, Role.COUNSELOR, Role.CASE_MANAGER)


def _membership(actor: Actor, user_id: int) -> Membership:
    member = (
        Membership.objects.filter(
            organization_id=actor.organization_id, user_id=user_id, is_active=True
        )
        .select_related("user")
        .first()
    )
    if member is None:
        raise ValidationFailed({"user": "Choose an active member of staff of this organization."})
    if member.role not in STAFF_ROLES:
        allowed = ", ".join(r.value for r in STAFF_ROLES)
        raise ValidationFailed({"user": f"A program's staff are treating roles: {allowed}."})
    return member


def program_staff_add(actor: Actor, program: Program, user_id: int) -> ProgramStaff:
    """Add a member to the program's staff and to the care team of its patients now."""
    require_permission(actor, Permission.CLINICAL_SETTINGS, category=CATEGORY)
    if program.organization_id != actor.organization_id:
        raise NotFound()
    member = _membership(actor, user_id)
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = ProgramStaff.objects.create(
                    organization_id=actor.organization_id,
                    program=program,
                    user_id=user_id,
                    added_by_id=actor.user_id,
                )
        except IntegrityError:
            raise Conflict(
                f"{member.user.get_username()} is already on {program.name}'s staff."
            ) from None
        joined = 0
        for patient in Patient.objects.filter(
            organization_id=actor.organization_id,
            pk__in=Stay.objects.filter(
                organization_id=actor.organization_id, program=program, ended_at__isnull=True
            ).values("episode__patient_id"),
        ):
            joined += (
                care_team_join(
                    actor,
                    patient,
                    user_id=user_id,
                    role=member.role,
                    why=f"staff of {program.name}",
                )
                is not None
            )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            category=CATEGORY,
            object_type="program_staff",
            object_id=row.public_id,
            detail={
                "program": str(program.public_id),
                "user": member.user.get_username(),
                "joined": joined,
            },
        )
    return row


def program_staff_remove(actor: Actor, program: Program, user_id: int) -> None:
    require_permission(actor, Permission.CLINICAL_SETTINGS, category=CATEGORY)
    if program.organization_id != actor.organization_id:
        raise NotFound()
    with transaction.atomic():
        row = ProgramStaff.objects.filter(
            organization_id=actor.organization_id, program=program, user_id=user_id
        ).first()
        if row is None:
            raise NotFound()
        row.delete()
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            category=CATEGORY,
            object_type="program_staff",
            object_id=row.public_id,
            detail={"program": str(program.public_id), "removed": True},
        )


def join_program_staff(actor: Actor, patient: Patient, program: Program) -> int:
    """The program's staff join the patient's care team: called inside the admission or
    transition that brings the patient into the program. Returns how many joined."""
    roles = dict(
        Membership.objects.filter(
            organization_id=program.organization_id,
            is_active=True,
            user_id__in=ProgramStaff.objects.filter(
                organization_id=program.organization_id, program=program
            ).values("user_id"),
        ).values_list("user_id", "role")
    )
    joined = 0
    for user_id, role in roles.items():
        joined += (
            care_team_join(
                actor, patient, user_id=user_id, role=role, why=f"staff of {program.name}"
            )
            is not None
        )
    return joined


def program_staff_of(actor: Actor, program: Program) -> list[ProgramStaff]:
    return list(
        ProgramStaff.objects.filter(organization_id=actor.organization_id, program=program)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )
