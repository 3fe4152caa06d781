"""The named writes of a group note: save the draft (narrative, goals, one entry per
attending member), sign, co-sign, add an addendum (shared, or about one member), mark
entered in error. Who runs the session writes its note; each write is audited with
one row per member whose chart it touches."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, role_can
from stepwise.notes import rules
from stepwise.notes.models import Addendum, GroupNote, GroupNoteEntry, NoteStatus
from stepwise.notes.services.common import (
    CATEGORY,
    addendum_text_or_error,
    enter_in_error,
    members_of,
    reason_or_error,
    require_draft_of_author,
    require_open_for_addendum,
    roster_of,
    same_org,
    session_not_cancelled,
)
from stepwise.notes.services.progress import (
    canonical,
    entries_progress_replace,
    given_ratings,
    member_options,
    ratings_errors,
)
from stepwise.patients.models import Patient
from stepwise.scheduling.models import ATTENDED_STATUSES, Attendance, Session
from stepwise.scheduling.services.common import require_run, settings_of

# A group note is written from when attendance opens (shortly before the start).
OPENS_BEFORE = timedelta(minutes=30)


@dataclass(frozen=True)
class GroupDraft:
    """What a group note says: the shared narrative, the goals addressed, the
    entries by member (patient public id -> text; a member left out has no entry),
    and progress on each member's treatment-plan objectives (patient public id ->
    objective key -> rating). Progress left as None keeps what the draft has; a
    member left out of it keeps theirs."""

    narrative: str
    goals: list[str] = field(default_factory=list)
    entries: Mapping[str, str] = field(default_factory=dict)
    progress: Mapping[str, Mapping[Any, str]] | None = None


def require_group_write(actor: Actor, session: Session) -> None:
    """Who writes a session's note: a role that writes notes, running this session
    (its facilitator, the program's staff, facility-wide roles)."""
    same_org(actor, session)
    require_permission(actor, Permission.NOTE_WRITE, category=CATEGORY)
    require_run(actor, session)


def _audit_members(
    actor: Actor,
    note: GroupNote,
    patients: Iterable[uuid.UUID],
    *,
    action: str,
    object_type: str = "group_note",
    object_id: uuid.UUID | None = None,
    detail: dict[str, str] | None = None,
) -> None:
    """One audit row per member whose record the write touched (each is that patient's
    record); one row naming no patient when it touched none (a narrative only)."""
    base = {"session": str(note.session.public_id), **(detail or {})}
    if object_type != "group_note":
        base["group_note"] = str(note.public_id)
    named: list[uuid.UUID | None] = sorted(set(patients), key=str)
    for patient_id in named or [None]:
        audit_record(
            action=action,
            actor=actor,
            patient_public_id=patient_id,
            category=CATEGORY,
            object_type=object_type,
            object_id=object_id or note.public_id,
            detail=base,
        )


def _member_key(key: object) -> str:
    """A patient id as the roster keys it (lower-case, hyphenated), whatever its spelling."""
    try:
        return str(uuid.UUID(str(key)))
    except ValueError:
        return str(key)


def _entries_by_patient(note: GroupNote) -> dict[str, GroupNoteEntry]:
    return {
        str(entry.patient.public_id): entry
        for entry in GroupNoteEntry.objects.filter(
            organization_id=note.organization_id, group_note=note
        ).select_related("patient")
    }


def group_note_save(
    actor: Actor, session: Session, draft: GroupDraft, *, now: datetime | None = None
) -> GroupNote:
    """Start or change the session's group note as a draft (its author only)."""
    require_group_write(actor, session)
    session_not_cancelled(session)
    if session.starts_at - OPENS_BEFORE > (now or timezone.now()):
        raise ValidationFailed({"session": "A group note is written once the session has begun."})
    errors: dict[str, str] = {}
    narrative_error = rules.text_error(
        draft.narrative, label="Narrative", limit=rules.NARRATIVE_MAX
    )
    if narrative_error:
        errors["narrative"] = narrative_error
    errors.update(rules.goal_errors(draft.goals))
    entries = {_member_key(key): rules.clean_text(text) for key, text in draft.entries.items()}
    progress = _given_progress(draft)
    with transaction.atomic():
        roster = roster_of(session)
        errors.update(rules.entry_errors(members_of(roster), entries))
        options = _progress_options(actor, roster, entries, progress, errors)
        if errors:
            raise ValidationFailed(errors)
        note = (
            GroupNote.objects.select_for_update()
            .filter(organization_id=actor.organization_id, session=session)
            .exclude(status=NoteStatus.ENTERED_IN_ERROR)
            .first()
        )
        if note is None:
            try:
                with transaction.atomic():
                    note = GroupNote.objects.create(
                        organization_id=actor.organization_id,
                        session=session,
                        author_id=actor.user_id,
                        narrative=rules.clean_text(draft.narrative),
                        goals=rules.clean_goals(draft.goals),
                    )
            except IntegrityError:
                raise Conflict(
                    "Someone else started this session's group note just now; reload the page."
                ) from None
            action = AuditAction.CREATE
        else:
            require_draft_of_author(actor, note)
            note.narrative = rules.clean_text(draft.narrative)
            note.goals = rules.clean_goals(draft.goals)
            note.save(update_fields=["narrative", "goals", "updated_at"])
            action = AuditAction.UPDATE
        note.session = session
        touched = _save_entries(actor, note, roster_patients(roster), entries)
        detail = {"status": note.status}
        if progress:
            entries_progress_replace(_entries_by_patient(note), progress, options)
            detail["objectives_rated"] = str(sum(len(r) for r in progress.values()))
        _audit_members(actor, note, touched, action=action, detail=detail)
    return note


def _given_progress(draft: GroupDraft) -> dict[str, dict[str, str]]:
    if draft.progress is None:
        return {}
    return {canonical(member): given_ratings(r) for member, r in draft.progress.items()}


def _progress_options(
    actor: Actor,
    roster: list[Attendance],
    entries: dict[str, str],
    progress: dict[str, dict[str, str]],
    errors: dict[str, str],
) -> dict[str, dict[str, Any]]:
    """Each rated member's objectives on offer (one call for the group); a rating is
    for a member who attended and has an entry, on one of their objectives."""
    if not progress:
        return {}
    patients = roster_patients(roster)
    rated = {key: patients[key] for key in progress if key in patients}
    options = member_options(actor.organization_id, rated)
    names = {str(row.patient.public_id): row.patient.display_name for row in roster}
    for member, ratings in progress.items():
        prefix = f"progress_{member}_"
        if member not in patients:
            errors[f"{prefix}"] = "This patient is not on the session's roster."
        elif ratings and not entries.get(member):
            for key in ratings:
                errors[f"{prefix}{key}"] = (
                    f"Write {names[member]}'s entry to record progress on their objectives."
                )
        else:
            errors.update(ratings_errors(options.get(member, {}), ratings, prefix))
    return options


def roster_patients(roster: Iterable[Attendance]) -> dict[str, Patient]:
    return {str(row.patient.public_id): row.patient for row in roster}


def _save_entries(
    actor: Actor, note: GroupNote, patients: dict[str, Patient], entries: dict[str, str]
) -> set[uuid.UUID]:
    """Make the draft's entries exactly the non-empty ones given; returns the members
    whose entry was kept, written or removed."""
    existing = _entries_by_patient(note)
    touched: set[uuid.UUID] = set()
    for key, entry in existing.items():
        if not entries.get(key):
            entry.delete()
            touched.add(entry.patient.public_id)
    for key, text in entries.items():
        if not text:
            continue
        patient = patients[key]
        touched.add(patient.public_id)
        found = existing.get(key)
        if found is None:
            GroupNoteEntry.objects.create(
                organization_id=actor.organization_id, group_note=note, patient=patient, text=text
            )
        elif found.text != text:
            found.text = text
            found.save(update_fields=["text", "updated_at"])
    return touched


def group_note_sign(actor: Actor, note: GroupNote, *, now: datetime | None = None) -> GroupNote:
    """The author signs the note once the narrative is written and every member who
    attended has an entry; then each entry reaches its member's chart."""
    session = note.session
    require_group_write(actor, session)
    require_draft_of_author(actor, note)
    cosign = rules.needs_cosign(
        settings_of(actor.organization_id).cosign_required,
        role_can(actor.role, Permission.NOTE_COSIGN),
    )
    with transaction.atomic():
        locked = GroupNote.objects.select_for_update().get(pk=note.pk)
        require_draft_of_author(actor, locked)
        session_not_cancelled(session)
        roster = roster_of(session)
        members = members_of(roster)
        entries = {key: e.text for key, e in _entries_by_patient(locked).items()}
        errors = rules.group_sign_errors(locked.narrative, members, entries)
        errors.update(rules.entry_errors(members, entries))
        if errors:
            raise ValidationFailed(errors)
        locked.status = NoteStatus.AWAITING_COSIGN if cosign else NoteStatus.SIGNED
        locked.signed_at = now or timezone.now()
        locked.signed_by_id = actor.user_id
        locked.needs_cosign = cosign
        locked.save(
            update_fields=["status", "signed_at", "signed_by", "needs_cosign", "updated_at"]
        )
        locked.session = session
        _audit_members(
            actor,
            locked,
            (uuid.UUID(key) for key in entries),
            action=AuditAction.UPDATE,
            detail={"status": locked.status},
        )
    return locked


def _member_ids(note: GroupNote) -> list[uuid.UUID]:
    return list(
        GroupNoteEntry.objects.filter(
            organization_id=note.organization_id, group_note=note
        ).values_list("patient__public_id", flat=True)
    )


def group_note_cosign(actor: Actor, note: GroupNote, *, now: datetime | None = None) -> GroupNote:
    """A supervisor who may run the session, other than the author, co-signs."""
    session = note.session
    same_org(actor, session)
    require_permission(actor, Permission.NOTE_COSIGN, category=CATEGORY)
    require_run(actor, session)
    if note.author_id == actor.user_id:
        raise AccessDenied("A note is co-signed by a supervisor other than its author.")
    with transaction.atomic():
        locked = GroupNote.objects.select_for_update().get(pk=note.pk)
        if locked.status != NoteStatus.AWAITING_COSIGN:
            raise Conflict("This note is not waiting for a co-signature.")
        locked.status = NoteStatus.SIGNED
        locked.cosigned_at = now or timezone.now()
        locked.cosigned_by_id = actor.user_id
        locked.save(update_fields=["status", "cosigned_at", "cosigned_by", "updated_at"])
        locked.session = session
        _audit_members(
            actor,
            locked,
            _member_ids(locked),
            action=AuditAction.REVIEW,
            detail={"status": locked.status, "cosigned": "yes"},
        )
    return locked


def group_addendum_add(
    actor: Actor, note: GroupNote, text: str, *, patient: Patient | None = None
) -> Addendum:
    """Add to a signed group note: shared (every member's chart shows it) or, naming a
    member, about that member only (only their chart shows it)."""
    session = note.session
    require_group_write(actor, session)
    cleaned = addendum_text_or_error(text)
    if patient is not None:
        same_org(actor, patient)
    with transaction.atomic():
        locked = GroupNote.objects.select_for_update().get(pk=note.pk)
        require_open_for_addendum(locked)
        members = _member_ids(locked)
        if patient is not None and patient.public_id not in members:
            raise ValidationFailed({"patient": "This patient has no entry in this group note."})
        addendum = Addendum.objects.create(
            organization_id=actor.organization_id,
            group_note=locked,
            patient=patient,
            author_id=actor.user_id,
            text=cleaned,
        )
        locked.session = session
        _audit_members(
            actor,
            locked,
            [patient.public_id] if patient is not None else members,
            action=AuditAction.CREATE,
            object_type="addendum",
            object_id=addendum.public_id,
            detail={"about": "member" if patient is not None else "shared"},
        )
    return addendum


def group_note_mark_in_error(actor: Actor, note: GroupNote, *, reason: str) -> GroupNote:
    """Withdraw a mistaken group note from every member's chart (it stays, struck
    through, with the reason); the session may then get a new one."""
    session = note.session
    require_group_write(actor, session)
    cleaned = reason_or_error(reason)
    with transaction.atomic():
        locked = GroupNote.objects.select_for_update().get(pk=note.pk)
        was = enter_in_error(actor, locked, cleaned)
        locked.session = session
        _audit_members(
            actor,
            locked,
            _member_ids(locked),
            action=AuditAction.UPDATE,
            detail={"status": locked.status, "was": was},
        )
    return locked


def entries_follow_attendance(session: Session, changing: list[tuple[Patient, str]]) -> None:
    """Refuse marking absent a member who has an entry in the session's signed group
    note: the entry says they took part. Correct the note first (an addendum about that
    member, or entered in error), then the attendance."""
    absent = [patient for patient, status in changing if status not in ATTENDED_STATUSES]
    if not absent:
        return
    written = set(
        GroupNoteEntry.objects.filter(
            group_note__session=session,
            patient__in=absent,
        )
        .exclude(group_note__status__in=[NoteStatus.DRAFT, NoteStatus.ENTERED_IN_ERROR])
        .values_list("patient_id", flat=True)
    )
    for patient in absent:
        if patient.pk in written:
            raise Conflict(
                f"{patient.display_name} has an entry in this session's signed group note; "
                "correct the note (an addendum, or entered in error) before marking them absent."
            )
