"""Roles and what each may do. Pure data: no Django imports."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMISSIONS = "admissions"
    NURSE = "nurse"
    PHYSICIAN = "physician"
    COUNSELOR = "counselor"
    CASE_MANAGER = "case_manager"
    DIRECTOR = "director"
    PRIVACY_OFFICER = "privacy_officer"
    ADMIN = "admin"


ROLE_LABELS: dict[Role, str] = {
    Role.ADMISSIONS: "Admissions coordinator",
    Role.NURSE: "Nurse",
    Role.PHYSICIAN: "Physician",
    Role.COUNSELOR: "Counselor",
    Role.CASE_MANAGER: "Case manager",
    Role.DIRECTOR: "Clinical director",
    Role.PRIVACY_OFFICER: "Privacy officer",
    Role.ADMIN: "Administrator",
}


class Permission(StrEnum):
    CHART_READ = "chart.read"
    PATIENT_WRITE = "patient.write"
    CARE_WRITE = "care.write"
    AUDIT_READ = "audit.read"
    CENSUS_READ = "census.read"


_CLINICAL = {
    Role.ADMISSIONS,
    Role.NURSE,
    Role.PHYSICIAN,
    Role.COUNSELOR,
    Role.CASE_MANAGER,
    Role.DIRECTOR,
}

# The privacy officer reads charts to review access but changes nothing clinical;
# the administrator runs the system and sees no clinical content.
GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.CHART_READ: frozenset(_CLINICAL | {Role.PRIVACY_OFFICER}),
    Permission.PATIENT_WRITE: frozenset(_CLINICAL),
    Permission.CARE_WRITE: frozenset(_CLINICAL),
    Permission.AUDIT_READ: frozenset({Role.DIRECTOR, Role.PRIVACY_OFFICER}),
    Permission.CENSUS_READ: frozenset(set(Role)),
}


def role_can(role: str, permission: Permission) -> bool:
    try:
        return Role(role) in GRANTS[permission]
    except ValueError:
        return False
