"""Admission from a call: the caller becomes a patient (or is matched, with the
worker's confirmation, to the patient they already are) and is admitted through
`episode_admit`, carrying everything the call captured."""

from __future__ import annotations

import secrets
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from stepwise.care.models import Episode, Program
from stepwise.care.services import AdmissionDetails, SubstanceUse, episode_admit
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.intake.models import CallerKind, Inquiry, Outcome, Screening, WaitlistExit
from stepwise.intake.rules.priority import days_between
from stepwise.intake.services.common import CATEGORY, audit_inquiry, same_org
from stepwise.intake.services.inquiries import close_waitlist_entries
from stepwise.intake.services.places import still_held
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import ContactRelationship, Patient
from stepwise.patients.services import PatientData, contact_add, patient_create
from stepwise.recovery.models import RelapseEvent
from stepwise.recovery.rules.relapse import Source as RelapseSource
from stepwise.recovery.services.common import patient_zone, record_start
from stepwise.recovery.services.relapse import relapse_propose

MRN_PREFIX = "A"


@dataclass(frozen=True)
class Admitted:
    patient: Patient
    episode: Episode
    created_patient: bool


def _new_mrn(organization_id: int) -> str:
    """A record number not yet used in the organization, for a patient registered from
    a call (a clash among 10^8 numbers is rare; a few tries make it vanishing)."""
    for _ in range(5):
        mrn = f"{MRN_PREFIX}{secrets.randbelow(10**8):08d}"
        if not Patient.objects.filter(organization_id=organization_id, mrn=mrn).exists():
            return mrn
    raise Conflict("Could not find a free record number; give one.")


def _person_errors(inquiry: Inquiry) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not inquiry.given_name.strip():
        errors["given_name"] = "The person's given name is needed to register them."
    if not inquiry.family_name.strip():
        errors["family_name"] = "The person's family name is needed to register them."
    if inquiry.date_of_birth is None:
        errors["date_of_birth"] = "The person's date of birth is needed to register them."
    return errors


def _match_errors(inquiry: Inquiry, patient: Patient, mrn: str) -> dict[str, str]:
    """The patient confirmed as the caller must be one the match would show: the same
    family name and date of birth; a record number is only for a new patient."""
    errors: dict[str, str] = {}
    same_person = (
        inquiry.date_of_birth == patient.date_of_birth
        and inquiry.family_name.strip().lower() == patient.family_name.strip().lower()
    )
    if not same_person:
        errors["patient"] = (
            "This patient does not match the call's family name and date of birth; "
            "correct the call's details or register a new patient."
        )
    if mrn.strip():
        errors["mrn"] = "A record number is given only when registering a new patient."
    return errors


def _days_waiting(inquiry: Inquiry, admitted_at: datetime, program: Program) -> int:
    """TEDS DAYWAIT: days from the first request for treatment (this call) to the
    admission, counted in the facility's own days."""
    zone = zoneinfo.ZoneInfo(program.facility.time_zone)
    return days_between(
        inquiry.received_at.astimezone(zone).date(), admitted_at.astimezone(zone).date()
    )


# The words callers use for themselves, and the contact relationship each means.
_FAMILY_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["parent", "mother", "father", "mom", "dad", "stepmother", "stepfather"],
        ContactRelationship.PARENT,
    ),
    **dict.fromkeys(
        ["spouse", "partner", "wife", "husband", "girlfriend", "boyfriend"],
        ContactRelationship.SPOUSE,
    ),
    **dict.fromkeys(["sibling", "sister", "brother"], ContactRelationship.SIBLING),
    **dict.fromkeys(["child", "son", "daughter"], ContactRelationship.CHILD),
}


def contact_relationship(caller_kind: str, said: str) -> str | None:
    """The contact relationship of a caller who may become the patient's contact:
    a friend, or a family member by the word they gave; None for anyone else."""
    if caller_kind == CallerKind.FRIEND:
        return ContactRelationship.FRIEND
    if caller_kind != CallerKind.FAMILY:
        return None
    word = said.strip().lower()
    return _FAMILY_WORDS.get(word, ContactRelationship.OTHER_FAMILY)


def inquiry_admit(
    actor: Actor,
    inquiry: Inquiry,
    program: Program,
    *,
    patient: Patient | None = None,
    mrn: str = "",
    at: datetime | None = None,
) -> Admitted:
    """Admit the caller to the program, all or nothing.

    `patient` is the existing patient the worker confirmed as this caller; without
    it a new patient is registered from the call (a record number is made up when
    none is given). The held place, if any, is taken; the waitlist entry ends as
    admitted; substances, prior treatment, referral source, days waiting, the payer
    number and a family caller who may be called back all carry over.
    """
    same_org(actor, inquiry, program)
    require_permission(actor, Permission.INTAKE_WRITE, category=CATEGORY)
    if patient is not None:
        same_org(actor, patient)
        if errors := _match_errors(inquiry, patient, mrn):
            raise ValidationFailed(errors)
        require_patient_access(actor, Permission.CARE_WRITE, patient, category="episodes")
    elif errors := _person_errors(inquiry):
        raise ValidationFailed(errors)
    admitted_at = event_time(at, "admitted_at")
    if admitted_at < inquiry.received_at:
        raise ValidationFailed({"admitted_at": "The admission cannot come before the call."})
    with transaction.atomic():
        locked = (
            Inquiry.objects.select_for_update(of=("self",))
            .select_related("reservation__program")
            .get(pk=inquiry.pk)
        )
        if locked.outcome == Outcome.ADMITTED:
            raise Conflict("This caller has already been admitted from this call.")
        screening = Screening.objects.filter(inquiry=locked).order_by("-screened_at", "-id").first()
        created = patient is None
        if patient is None:
            patient = patient_create(
                actor,
                PatientData(
                    mrn=mrn.strip() or _new_mrn(actor.organization_id),
                    given_name=locked.given_name,
                    family_name=locked.family_name,
                    date_of_birth=locked.date_of_birth,  # type: ignore[arg-type]  # checked
                    phone=locked.phone,
                    payer_member_id=screening.payer_member_id if screening else "",
                ),
            )
        reservation = still_held(actor, locked.reservation)
        if reservation is not None and reservation.program_id != program.pk:
            raise ValidationFailed(
                {
                    "program": f"A place is held for this caller in {reservation.program.name}; "
                    "admit there, or give that place back first."
                }
            )
        substances = [
            SubstanceUse(s.substance, s.route, s.frequency) for s in locked.substances.all()
        ]
        episode = episode_admit(
            actor,
            patient,
            program,
            at=admitted_at,
            referral_source=locked.referral_source,
            admission=AdmissionDetails(
                substances=substances,
                prior_treatment=locked.prior_treatment,
                days_waiting=_days_waiting(locked, admitted_at, program),
            ),
            reservation=reservation,
        )
        overdose = None if created else _overdose_since_care(actor, locked, patient)
        contact = None
        relationship = contact_relationship(locked.caller_kind, locked.caller_relationship)
        if created and relationship and locked.callback_ok and locked.caller_phone:
            contact = contact_add(
                actor,
                patient,
                name=locked.caller_name,
                relationship=relationship,
                phone=locked.caller_phone,
            )
        left = close_waitlist_entries(
            actor, locked, WaitlistExit.ADMITTED, f"Admitted to {program.name}", admitted_at
        )
        locked.patient = patient
        locked.episode = episode
        locked.outcome = Outcome.ADMITTED
        locked.outcome_at = admitted_at
        locked.follow_up_due_at = None
        locked.follow_up_note = ""
        locked.save()
        audit_inquiry(
            actor,
            AuditAction.ADMIT,
            locked,
            detail={
                "episode": str(episode.public_id),
                "patient_matched": not created,
                **({"contact": str(contact.public_id)} if contact else {}),
                **({"waitlist_left": left} if left else {}),
                **({"relapse_proposed": str(overdose.public_id)} if overdose else {}),
            },
        )
    return Admitted(patient, episode, created)


def _overdose_since_care(actor: Actor, inquiry: Inquiry, patient: Patient) -> RelapseEvent | None:
    """A former patient coming back after a non-fatal overdose: the overdose is a return
    to use in their recovery record, proposed for the care team to confirm."""
    day = inquiry.last_overdose_on
    if day is None or day < record_start(patient, patient_zone(patient)):
        return None
    substances = [s.substance for s in inquiry.substances.all() if s.substance != 1]
    return relapse_propose(
        actor,
        patient,
        source=RelapseSource.OVERDOSE,
        source_type="inquiry",
        source_id=inquiry.public_id,
        used_on=day,
        substances=substances or [-9],
        note=f"A non-fatal overdose on {day:%Y-%m-%d}, told to the admissions line at readmission.",
    )
