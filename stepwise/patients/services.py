"""The named writes on patients: each checks access, runs in a transaction and audits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict, NotFound, ValidationFailed, allowed_values
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, Role, needs_care_relationship
from stepwise.patients import teds
from stepwise.patients.access import require_care_team_change, require_patient_access
from stepwise.patients.models import (
    CareTeamMember,
    CareTeamRole,
    Contact,
    ContactRelationship,
    Patient,
)

CODED_FIELDS: dict[str, list[tuple[str, str]]] = {
    "sex": teds.SEX,
    "race": teds.RACE,
    "ethnicity": teds.ETHNICITY,
    "education": teds.EDUCATION,
    "employment": teds.EMPLOYMENT,
    "living_arrangement": teds.LIVING_ARRANGEMENT,
}


@dataclass
class PatientData:
    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    preferred_name: str = ""
    sex: str = teds.MISSING
    race: str = teds.MISSING
    ethnicity: str = teds.MISSING
    education: str = teds.MISSING
    employment: str = teds.MISSING
    living_arrangement: str = teds.MISSING
    phone: str = ""
    email: str = ""
    ssn: str = ""
    payer_member_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


PAYER_MEMBER_ID_MAX = 40


def ssn_digits(value: str) -> str:
    """A social security number as its 9 digits, whether typed with dashes or spaces."""
    return value.strip().replace("-", "").replace(" ", "")


def validate_patient_data(data: PatientData, today: date) -> dict[str, str]:
    errors: dict[str, str] = {}
    for name in ("mrn", "given_name", "family_name"):
        if not str(getattr(data, name)).strip():
            errors[name] = "This field is required."
    if data.date_of_birth > today:
        errors["date_of_birth"] = "The date of birth cannot be in the future."
    elif data.date_of_birth.year < 1900:
        errors["date_of_birth"] = "The date of birth must be in 1900 or later."
    if data.email.strip():
        try:
            validate_email(data.email.strip())
        except DjangoValidationError:
            errors["email"] = "Enter a valid email address."
    if data.ssn.strip() and not re.fullmatch(r"[0-9]{9}", ssn_digits(data.ssn)):
        errors["ssn"] = "A social security number has 9 digits (123-45-6789 or 123456789)."
    if len(data.payer_member_id.strip()) > PAYER_MEMBER_ID_MAX:
        errors["payer_member_id"] = (
            f"A payer member number has at most {PAYER_MEMBER_ID_MAX} characters."
        )
    for name, choices in CODED_FIELDS.items():
        value = getattr(data, name)
        if value not in dict(choices):
            errors[name] = f"{value!r} is not allowed; allowed values: {allowed_values(choices)}."
    return errors


# A treating clinician who registers a patient joins the care team, or the care-team
# wall would shut them out of the record they just opened.
_TEAM_ROLE_OF = {
    Role.COUNSELOR: CareTeamRole.PRIMARY_COUNSELOR,
    Role.NURSE: CareTeamRole.NURSE,
    Role.PHYSICIAN: CareTeamRole.PRESCRIBER,
    Role.CASE_MANAGER: CareTeamRole.CASE_MANAGER,
}


def _join_care_team_as_registrar(actor: Actor, patient: Patient) -> None:
    if not needs_care_relationship(actor.role, Permission.CHART_READ):
        return
    member = CareTeamMember.objects.create(
        organization_id=actor.organization_id,
        patient=patient,
        user_id=actor.user_id,
        team_role=_TEAM_ROLE_OF.get(Role(actor.role), CareTeamRole.OTHER),
    )
    audit_record(
        action=AuditAction.CREATE,
        actor=actor,
        patient_public_id=patient.public_id,
        category="care_team",
        object_type="care_team_member",
        object_id=member.public_id,
        detail={"why": "registered the patient"},
    )


def care_team_join(
    actor: Actor, patient: Patient, *, user_id: int, role: str, why: str
) -> CareTeamMember | None:
    """Put a member of staff on the care team in the team role of their job, inside the
    caller's transaction (a program's staff when the patient enters the program).
    Returns the new membership, or None when they were on the team already."""
    team_role = _TEAM_ROLE_OF.get(Role(role), CareTeamRole.OTHER)
    member, created = CareTeamMember.objects.get_or_create(
        organization_id=patient.organization_id,
        patient=patient,
        user_id=user_id,
        team_role=team_role,
    )
    if not created:
        return None
    audit_record(
        action=AuditAction.CREATE,
        actor=actor,
        patient_public_id=patient.public_id,
        category="care_team",
        object_type="care_team_member",
        object_id=member.public_id,
        detail={"why": why},
    )
    return member


def patient_create(actor: Actor, data: PatientData) -> Patient:
    require_permission(actor, Permission.PATIENT_CREATE, category="demographics")
    errors = validate_patient_data(data, timezone.localdate())
    if errors:
        raise ValidationFailed(errors)
    patient = Patient(
        organization=actor.organization,
        mrn=data.mrn.strip(),
        given_name=data.given_name.strip(),
        family_name=data.family_name.strip(),
        preferred_name=data.preferred_name.strip(),
        date_of_birth=data.date_of_birth,
        sex=data.sex,
        race=data.race,
        ethnicity=data.ethnicity,
        education=data.education,
        employment=data.employment,
        living_arrangement=data.living_arrangement,
        phone=data.phone.strip(),
        email=data.email.strip(),
        ssn=ssn_digits(data.ssn),
        payer_member_id=data.payer_member_id.strip(),
    )
    patient.refresh_search_name()
    try:
        with transaction.atomic():
            patient.save()
            audit_record(
                action=AuditAction.CREATE,
                actor=actor,
                patient_public_id=patient.public_id,
                category="demographics",
                object_type="patient",
                object_id=patient.public_id,
            )
            _join_care_team_as_registrar(actor, patient)
    except IntegrityError:
        if Patient.objects.filter(organization=actor.organization, mrn=patient.mrn).exists():
            raise ValidationFailed(
                {"mrn": f"Record number {patient.mrn} is already in use."}
            ) from None
        raise
    return patient


def contact_add(
    actor: Actor,
    patient: Patient,
    *,
    name: str,
    relationship: str,
    phone: str = "",
    email: str = "",
    is_emergency_contact: bool = False,
) -> Contact:
    if patient.organization_id != actor.organization_id:
        raise NotFound()
    require_patient_access(actor, Permission.PATIENT_WRITE, patient, category="contacts")
    errors: dict[str, str] = {}
    if not name.strip():
        errors["name"] = "This field is required."
    if relationship not in ContactRelationship.values:
        errors["relationship"] = f"Allowed values: {', '.join(ContactRelationship.values)}."
    if not phone.strip() and not email.strip():
        errors["phone"] = "Give a phone number or an email address."
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        contact = Contact.objects.create(
            organization=actor.organization,
            patient=patient,
            name=name.strip(),
            relationship=relationship,
            phone=phone.strip(),
            email=email.strip(),
            is_emergency_contact=is_emergency_contact,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category="contacts",
            object_type="contact",
            object_id=contact.public_id,
        )
    return contact


def care_team_add(
    actor: Actor, patient: Patient, *, user_id: int, team_role: str
) -> CareTeamMember:
    if patient.organization_id != actor.organization_id:
        raise NotFound()
    require_care_team_change(actor, patient)
    if team_role not in CareTeamRole.values:
        raise ValidationFailed({"team_role": f"Allowed values: {', '.join(CareTeamRole.values)}."})
    staff = (
        get_user_model()
        .objects.filter(
            pk=user_id,
            memberships__organization_id=actor.organization_id,
            memberships__is_active=True,
        )
        .first()
    )
    if staff is None:
        raise ValidationFailed({"user": "Choose a staff member of this organization."})
    with transaction.atomic():
        member, created = CareTeamMember.objects.get_or_create(
            organization=actor.organization, patient=patient, user=staff, team_role=team_role
        )
        if not created:
            raise Conflict(
                f"{staff.get_username()} is already on the care team as {member.get_team_role_display()}."
            )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category="care_team",
            object_type="care_team_member",
            object_id=member.public_id,
        )
    return member
