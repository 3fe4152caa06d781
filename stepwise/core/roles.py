"""Roles and what each may do: the one table of access. Pure data, no Django imports.

Two questions decide every access:
- may this role do this at all (``role_can``)?
- for a patient's record, must the actor be on that patient's care team
  (``needs_care_relationship``)? Roles whose job spans the facility are not.
"""

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
    # Any signed-in member: their own account, password, second factor, tokens.
    ACCOUNT_SELF = "account.self"
    CENSUS_READ = "census.read"
    PATIENT_LIST = "patient.list"
    PATIENT_CREATE = "patient.create"
    CHART_READ = "chart.read"
    PATIENT_WRITE = "patient.write"
    CARE_WRITE = "care.write"
    BREAK_GLASS = "chart.break_glass"
    # Instrument definitions, scoring without storing, placement without a patient.
    INSTRUMENTS_USE = "instruments.use"
    # Review of emergency chart accesses and emergency (§2.51) disclosures.
    PRIVACY_REVIEW = "privacy.review"
    CONSENT_READ = "consent.read"
    CONSENT_WRITE = "consent.write"
    DISCLOSURE_RELEASE = "disclosure.release"
    DISCLOSURE_EMERGENCY = "disclosure.emergency"
    DISCLOSURE_ACCOUNTING = "disclosure.accounting"
    AUDIT_READ = "audit.read"
    STAFF_ADMIN = "staff.admin"
    # Withdrawal management: the unit board, bedside observations, the eMAR.
    UNIT_BOARD = "unit.board"
    MEDICAL_WRITE = "medical.write"
    MEDICATION_ORDER = "medication.order"
    MEDICAL_REVIEW = "medical.review"
    MEDICATION_ADMINISTER = "medication.administer"
    SAFETY_OVERRIDE = "safety.override"
    # The safe-discharge bundle's items: clinical acts of the care team (a naloxone kit,
    # overdose education, the MOUD offer, the aftercare booking).
    DISCHARGE_BUNDLE = "discharge.bundle"
    # Organization-wide clinical thresholds (the induction COWS threshold...).
    CLINICAL_SETTINGS = "clinical.settings"
    # The admissions line: calls, crisis triage, screening, the waitlist and held places.
    INTAKE_READ = "intake.read"
    INTAKE_WRITE = "intake.write"
    # The clinical lead's review of calls flagged in crisis triage.
    INTAKE_LEAD = "intake.lead"
    # Programs' schedules: calendars (no patient names), series, rooms and holidays.
    SCHEDULE_READ = "schedule.read"
    SCHEDULE_MANAGE = "schedule.manage"
    # Running a session: its roster, attendance and the group note.
    SESSION_RUN = "session.run"
    # Clinical notes of a patient (individual notes, group-note entries).
    NOTE_WRITE = "note.write"
    # A supervisor's co-signature of a note that needs one.
    NOTE_COSIGN = "note.cosign"
    # Recovery: relapse events and their response, urine drug screens, the aftercare
    # plan and its check-ins.
    RECOVERY_WRITE = "recovery.write"
    # The treatment plan: problems, goals, objectives, interventions and its reviews.
    PLAN_WRITE = "plan.write"
    # Sober living: residences, houses, beds and who lives there (vacancies, residents).
    RESIDENCE_READ = "residence.read"
    RESIDENCE_MANAGE = "residence.manage"


# Clinicians whose access to a chart follows the care team.
_TREATING = frozenset({Role.NURSE, Role.PHYSICIAN, Role.COUNSELOR, Role.CASE_MANAGER})
# Roles whose job spans the facility for what they are granted: admissions for
# intake, the director for oversight, the privacy officer for review.
_FACILITY_WIDE = frozenset({Role.ADMISSIONS, Role.DIRECTOR, Role.PRIVACY_OFFICER})
_CLINICAL = _TREATING | {Role.ADMISSIONS, Role.DIRECTOR}
_EVERYONE = frozenset(Role)

# The privacy officer reads charts to review access and releases records, but changes
# nothing clinical; the administrator runs the system and sees no clinical content.
GRANTS: dict[Permission, frozenset[Role]] = {
    Permission.ACCOUNT_SELF: _EVERYONE,
    Permission.CENSUS_READ: _EVERYONE,
    Permission.PATIENT_LIST: frozenset(_CLINICAL | {Role.PRIVACY_OFFICER}),
    Permission.PATIENT_CREATE: frozenset({Role.ADMISSIONS, Role.DIRECTOR} | _TREATING),
    Permission.CHART_READ: frozenset(_CLINICAL | {Role.PRIVACY_OFFICER}),
    Permission.PATIENT_WRITE: frozenset(_CLINICAL),
    Permission.CARE_WRITE: frozenset(_CLINICAL),
    Permission.BREAK_GLASS: _TREATING,
    Permission.INSTRUMENTS_USE: frozenset(_CLINICAL),
    Permission.PRIVACY_REVIEW: frozenset({Role.PRIVACY_OFFICER, Role.DIRECTOR}),
    Permission.CONSENT_READ: frozenset(_CLINICAL | {Role.PRIVACY_OFFICER}),
    Permission.CONSENT_WRITE: frozenset(_CLINICAL | {Role.PRIVACY_OFFICER}),
    # Admissions handles intake (consents included) but releases nothing outside.
    Permission.DISCLOSURE_RELEASE: frozenset(_TREATING | {Role.DIRECTOR, Role.PRIVACY_OFFICER}),
    Permission.DISCLOSURE_EMERGENCY: frozenset(_TREATING | {Role.DIRECTOR, Role.PRIVACY_OFFICER}),
    Permission.DISCLOSURE_ACCOUNTING: frozenset({Role.PRIVACY_OFFICER, Role.DIRECTOR}),
    Permission.AUDIT_READ: frozenset({Role.DIRECTOR, Role.PRIVACY_OFFICER}),
    Permission.STAFF_ADMIN: frozenset({Role.ADMIN}),
    Permission.UNIT_BOARD: frozenset({Role.NURSE, Role.PHYSICIAN, Role.DIRECTOR}),
    # Vital signs, the medical admission assessment, a naloxone challenge.
    Permission.MEDICAL_WRITE: frozenset({Role.NURSE, Role.PHYSICIAN}),
    # Orders only by physicians, administrations only by nurses (issue 5), and only a
    # physician overrides a safety rule.
    Permission.MEDICATION_ORDER: frozenset({Role.PHYSICIAN}),
    # The physician signs off the nurse's medical admission assessment.
    Permission.MEDICAL_REVIEW: frozenset({Role.PHYSICIAN}),
    Permission.MEDICATION_ADMINISTER: frozenset({Role.NURSE}),
    Permission.SAFETY_OVERRIDE: frozenset({Role.PHYSICIAN}),
    Permission.DISCHARGE_BUNDLE: _TREATING,
    Permission.CLINICAL_SETTINGS: frozenset({Role.DIRECTOR}),
    # Whoever answers the line at night (admissions, a nurse on the unit, a counselor)
    # logs and screens calls; the call log is the front door, not one patient's chart.
    Permission.INTAKE_READ: frozenset(_CLINICAL | {Role.PRIVACY_OFFICER}),
    Permission.INTAKE_WRITE: frozenset(_CLINICAL),
    Permission.INTAKE_LEAD: frozenset({Role.DIRECTOR, Role.PHYSICIAN}),
    Permission.SCHEDULE_READ: frozenset(_CLINICAL),
    Permission.SCHEDULE_MANAGE: frozenset({Role.DIRECTOR, Role.COUNSELOR, Role.CASE_MANAGER}),
    Permission.SESSION_RUN: frozenset(_TREATING | {Role.DIRECTOR}),
    Permission.NOTE_WRITE: frozenset(_TREATING | {Role.DIRECTOR}),
    Permission.NOTE_COSIGN: frozenset({Role.DIRECTOR, Role.PHYSICIAN}),
    Permission.RECOVERY_WRITE: frozenset(_TREATING | {Role.DIRECTOR}),
    Permission.PLAN_WRITE: frozenset(_TREATING | {Role.DIRECTOR}),
    Permission.RESIDENCE_READ: frozenset(_CLINICAL),
    # Case managers place patients in sober living; counselors and the director too.
    Permission.RESIDENCE_MANAGE: frozenset({Role.CASE_MANAGER, Role.COUNSELOR, Role.DIRECTOR}),
}

# Permissions that act on one patient's record: treating roles need a care
# relationship (care team, or an active break-glass access) for these.
PATIENT_SCOPED = frozenset(
    {
        Permission.CHART_READ,
        Permission.PATIENT_WRITE,
        Permission.CARE_WRITE,
        Permission.CONSENT_READ,
        Permission.CONSENT_WRITE,
        Permission.DISCLOSURE_RELEASE,
        Permission.DISCLOSURE_EMERGENCY,
        Permission.MEDICAL_WRITE,
        Permission.MEDICATION_ORDER,
        Permission.MEDICAL_REVIEW,
        Permission.MEDICATION_ADMINISTER,
        Permission.SAFETY_OVERRIDE,
        Permission.DISCHARGE_BUNDLE,
        Permission.NOTE_WRITE,
        Permission.NOTE_COSIGN,
        Permission.RECOVERY_WRITE,
        Permission.PLAN_WRITE,
    }
)


# What an emergency (break-glass) access does not allow: it is for the emergency in
# front of the clinician (reading, treating, a §2.51 disclosure to medical
# personnel), not for routine releases or for changing what the patient consented to.
NOT_UNDER_EMERGENCY_ACCESS = frozenset(
    {Permission.DISCLOSURE_RELEASE, Permission.CONSENT_WRITE, Permission.PATIENT_WRITE}
)


def role_can(role: str, permission: Permission) -> bool:
    try:
        return Role(role) in GRANTS[permission]
    except ValueError:
        return False


def needs_care_relationship(role: str, permission: Permission) -> bool:
    """True when this role may use the permission only for patients it cares for."""
    if permission not in PATIENT_SCOPED:
        return False
    try:
        return Role(role) not in _FACILITY_WIDE
    except ValueError:
        return True


def sees_all_patients(role: str) -> bool:
    """Whether the patient list shows the whole organization or only the actor's patients."""
    try:
        return Role(role) in _FACILITY_WIDE
    except ValueError:
        return False
