"""The named writes of an individual note: draft it, change the draft, sign it, co-sign
it, add an addendum, mark it entered in error. Each checks access (the patient's care
team), runs in one transaction and writes its audit row naming the patient."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from stepwise.care.selectors import open_episode_of, patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, role_can
from stepwise.notes import rules
from stepwise.notes.models import Addendum, ClinicalNote, NoteStatus
from stepwise.notes.objectives import ObjectiveOption, objectives_of
from stepwise.notes.services.common import (
    CATEGORY,
    addendum_text_or_error,
    enter_in_error,
    reason_or_error,
    require_draft_of_author,
    require_open_for_addendum,
    same_org,
)
from stepwise.notes.services.progress import (
    given_ratings,
    note_progress_replace,
    options_by_key,
    ratings_errors,
)
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.scheduling.models import Attendance, Session, SessionStatus
from stepwise.scheduling.services.common import settings_of


@dataclass(frozen=True)
class NoteDraft:
    """What an individual note says: its format, the text of each section, the goals
    it addressed, when the service took place, the session it documents, and the
    progress on the patient's treatment-plan objectives (objective key -> rating; an
    empty rating: not addressed). Progress left as None keeps what the draft has."""

    format: str
    sections: Mapping[str, Any]
    goals: list[str] = field(default_factory=list)
    occurred_at: datetime | None = None
    session: Session | None = None
    progress: Mapping[Any, str] | None = None


@dataclass(frozen=True)
class _Checked:
    format: str
    sections: dict[str, str]
    goals: list[str]
    occurred_at: datetime
    session: Session | None
    progress: dict[str, str] | None
    options: dict[str, ObjectiveOption]


def _checked(
    actor: Actor, patient: Patient, draft: NoteDraft, kept_time: datetime | None = None
) -> _Checked:
    """The draft cleaned, or every fault named by its field. Without a time, the note
    keeps `kept_time` (a draft being changed), else takes its session's start or now."""
    errors = rules.section_errors(draft.format, draft.sections)
    errors.update(rules.goal_errors(draft.goals))
    progress = None if draft.progress is None else given_ratings(draft.progress)
    options: dict[str, ObjectiveOption] = {}
    if progress is not None:
        options = options_by_key(objectives_of(actor.organization_id, patient.pk))
        errors.update(ratings_errors(options, progress, "progress_"))
    session = draft.session
    if session is not None:
        same_org(actor, session)
        if session.status == SessionStatus.CANCELLED:
            errors["session"] = "That session was cancelled."
        elif not Attendance.objects.filter(
            organization_id=actor.organization_id, session=session, patient=patient
        ).exists():
            errors["session"] = "The patient is not on that session's roster."
    occurred: datetime | None = None
    default = session.starts_at if session is not None else kept_time
    try:
        occurred = event_time(draft.occurred_at or default, "occurred_at")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    assert occurred is not None
    return _Checked(
        format=draft.format,
        sections=rules.clean_sections(draft.format, draft.sections),
        goals=rules.clean_goals(draft.goals),
        occurred_at=occurred,
        session=session,
        progress=progress,
        options=options,
    )


def _progress_detail(checked: _Checked) -> dict[str, Any]:
    return {} if checked.progress is None else {"objectives_rated": len(checked.progress)}


def note_create(actor: Actor, patient: Patient, draft: NoteDraft) -> ClinicalNote:
    """Start an individual note as a draft (sections may still be empty)."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.NOTE_WRITE, patient, category=CATEGORY)
    checked = _checked(actor, patient, draft)
    zone = patient_time_zone(patient)
    with transaction.atomic():
        note = ClinicalNote.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            episode=open_episode_of(patient),
            session=checked.session,
            format=checked.format,
            sections=checked.sections,
            goals=checked.goals,
            occurred_at=checked.occurred_at,
            time_zone=zone,
            author_id=actor.user_id,
        )
        if checked.progress is not None:
            note_progress_replace(note, checked.progress, checked.options)
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="clinical_note",
            object_id=note.public_id,
            detail={"format": note.format, "status": note.status, **_progress_detail(checked)},
        )
    return note


def note_update(actor: Actor, note: ClinicalNote, draft: NoteDraft) -> ClinicalNote:
    """Change a draft (its author only). A signed note is never changed."""
    same_org(actor, note)
    patient = note.patient
    require_patient_access(actor, Permission.NOTE_WRITE, patient, category=CATEGORY)
    require_draft_of_author(actor, note)
    checked = _checked(actor, patient, draft, note.occurred_at)
    with transaction.atomic():
        locked = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        require_draft_of_author(actor, locked)
        locked.format = checked.format
        locked.sections = checked.sections
        locked.goals = checked.goals
        locked.occurred_at = checked.occurred_at
        locked.session = checked.session
        locked.save()
        if checked.progress is not None:
            note_progress_replace(locked, checked.progress, checked.options)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="clinical_note",
            object_id=locked.public_id,
            detail={
                "format": locked.format,
                "status": locked.status,
                **_progress_detail(checked),
            },
        )
    locked.patient = patient
    return locked


def note_sign(actor: Actor, note: ClinicalNote, *, now: datetime | None = None) -> ClinicalNote:
    """The author signs a draft whose every section is written. Where the organization
    asks for co-signatures and the author may not co-sign, it then waits for a
    supervisor; either way its text is final."""
    same_org(actor, note)
    patient = note.patient
    require_patient_access(actor, Permission.NOTE_WRITE, patient, category=CATEGORY)
    require_draft_of_author(actor, note)
    cosign = rules.needs_cosign(
        settings_of(actor.organization_id).cosign_required,
        role_can(actor.role, Permission.NOTE_COSIGN),
    )
    with transaction.atomic():
        locked = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        require_draft_of_author(actor, locked)
        missing = rules.missing_sections(locked.format, locked.sections)
        if missing:
            raise ValidationFailed(missing)
        locked.status = NoteStatus.AWAITING_COSIGN if cosign else NoteStatus.SIGNED
        locked.signed_at = now or timezone.now()
        locked.signed_by_id = actor.user_id
        locked.needs_cosign = cosign
        locked.save(
            update_fields=["status", "signed_at", "signed_by", "needs_cosign", "updated_at"]
        )
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="clinical_note",
            object_id=locked.public_id,
            detail={"status": locked.status},
        )
    locked.patient = patient
    return locked


def note_cosign(actor: Actor, note: ClinicalNote, *, now: datetime | None = None) -> ClinicalNote:
    """A supervisor other than the author co-signs a note waiting for it."""
    same_org(actor, note)
    patient = note.patient
    require_patient_access(actor, Permission.NOTE_COSIGN, patient, category=CATEGORY)
    if note.author_id == actor.user_id:
        raise AccessDenied("A note is co-signed by a supervisor other than its author.")
    with transaction.atomic():
        locked = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        if locked.status != NoteStatus.AWAITING_COSIGN:
            raise Conflict("This note is not waiting for a co-signature.")
        locked.status = NoteStatus.SIGNED
        locked.cosigned_at = now or timezone.now()
        locked.cosigned_by_id = actor.user_id
        locked.save(update_fields=["status", "cosigned_at", "cosigned_by", "updated_at"])
        audit_record(
            action=AuditAction.REVIEW,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="clinical_note",
            object_id=locked.public_id,
            detail={"status": locked.status, "cosigned": True},
        )
    locked.patient = patient
    return locked


def note_addendum_add(actor: Actor, note: ClinicalNote, text: str) -> Addendum:
    """Add to a signed note; the addendum is final when written."""
    same_org(actor, note)
    patient = note.patient
    require_patient_access(actor, Permission.NOTE_WRITE, patient, category=CATEGORY)
    cleaned = addendum_text_or_error(text)
    with transaction.atomic():
        locked = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        require_open_for_addendum(locked)
        addendum = Addendum.objects.create(
            organization_id=actor.organization_id,
            clinical_note=locked,
            author_id=actor.user_id,
            text=cleaned,
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="addendum",
            object_id=addendum.public_id,
            detail={"clinical_note": str(locked.public_id)},
        )
    return addendum


def note_mark_in_error(actor: Actor, note: ClinicalNote, *, reason: str) -> ClinicalNote:
    """Withdraw a mistaken note (wrong patient, wrong session): it stays in the record,
    struck through, with the reason. Its author or a supervisor does it."""
    same_org(actor, note)
    patient = note.patient
    require_patient_access(actor, Permission.NOTE_WRITE, patient, category=CATEGORY)
    cleaned = reason_or_error(reason)
    with transaction.atomic():
        locked = ClinicalNote.objects.select_for_update().get(pk=note.pk)
        was = enter_in_error(actor, locked, cleaned)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="clinical_note",
            object_id=locked.public_id,
            detail={"status": locked.status, "was": was},
        )
    locked.patient = patient
    return locked
