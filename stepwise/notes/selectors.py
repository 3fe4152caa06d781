"""Reads of notes: scoped to the organization, behind the care team, audited, in a
fixed number of queries.

The group-note privacy rule lives here: a patient's chart shows of a group note the
shared narrative, the shared addenda, and only that patient's own entry and own
addenda. Entries are always queried filtered by the patient, so another member's
entry is never even loaded for someone's chart, API answer or printout."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from stepwise.care.chart import patient_access, record_read
from stepwise.care.models import ProgramStaff
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission, needs_care_relationship, sees_all_patients
from stepwise.notes.models import (
    Addendum,
    ClinicalNote,
    GroupNote,
    GroupNoteEntry,
    NoteStatus,
    ObjectiveProgress,
    ProgressRating,
)
from stepwise.notes.services.common import CATEGORY, roster_of
from stepwise.notes.services.group import require_group_write
from stepwise.patients.access import cared_for
from stepwise.patients.models import Patient
from stepwise.scheduling.models import Attendance, Session

# How many notes the chart's panel shows, and the most a list or the API returns.
PANEL_NOTES = 6
LIST_LIMIT = 200
_SIGNATURES = ("author", "signed_by", "cosigned_by", "error_marked_by")


def _visible(actor: Actor, prefix: str = "") -> Q:
    """Notes anyone reading the chart sees: all but drafts, which stay their author's
    until signed."""
    return ~Q(**{f"{prefix}status": NoteStatus.DRAFT}) | Q(**{f"{prefix}author_id": actor.user_id})


def _clinical_of(actor: Actor, patient: Patient) -> QuerySet[ClinicalNote]:
    return (
        ClinicalNote.objects.filter(organization_id=actor.organization_id, patient=patient)
        .filter(_visible(actor))
        .select_related(*_SIGNATURES, "session")
        .order_by("-occurred_at", "-id")
    )


def _own_entries(actor: Actor, patient: Patient) -> QuerySet[GroupNoteEntry]:
    """The patient's own entries, each with its group note: the only way a group note
    reaches a chart."""
    return (
        GroupNoteEntry.objects.filter(organization_id=actor.organization_id, patient=patient)
        .filter(_visible(actor, "group_note__"))
        .select_related(
            "group_note__session__program__facility",
            *(f"group_note__{name}" for name in _SIGNATURES),
        )
        .order_by("-group_note__session__starts_at", "-id")
    )


def _member_addenda(patient: Patient) -> Q:
    """Addenda of a group note a member's chart shows: shared ones and their own."""
    return Q(patient__isnull=True) | Q(patient=patient)


@dataclass
class MemberGroupNote:
    """A group note as one member's chart shows it: the shared part, that member's own
    entry, the shared addenda and the addenda about that member."""

    note: GroupNote
    patient: Patient
    entry: GroupNoteEntry
    addenda: list[Addendum] = field(default_factory=list)
    progress: list[ObjectiveProgress] = field(default_factory=list)

    @property
    def session(self) -> Session:
        return self.note.session

    @property
    def zone(self) -> str:
        return str(self.note.session.program.facility.time_zone)


@dataclass
class ChartNote:
    """One item of a patient's notes, individual or group, newest first."""

    at: datetime
    zone: str
    clinical: ClinicalNote | None = None
    group: MemberGroupNote | None = None
    addenda: list[Addendum] = field(default_factory=list)
    # The objectives it rated (filled by attach_progress; a group note's: this
    # patient's own entry's only).
    progress: list[ObjectiveProgress] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "group" if self.group is not None else "individual"

    @property
    def status(self) -> str:
        note = self.clinical or (self.group.note if self.group else None)
        assert note is not None
        return str(note.status)


def _items(
    clinical: list[ClinicalNote], entries: list[GroupNoteEntry], patient: Patient
) -> list[ChartNote]:
    items = [ChartNote(n.occurred_at, n.time_zone, clinical=n) for n in clinical]
    for entry in entries:
        entry.patient = patient
        member = MemberGroupNote(entry.group_note, patient, entry)
        items.append(ChartNote(member.session.starts_at, member.zone, group=member))
    items.sort(key=lambda item: item.at, reverse=True)
    return items


def chart_notes(actor: Actor, patient: Patient, limit: int = PANEL_NOTES) -> list[ChartNote]:
    """The patient's latest notes for the chart's panel: two queries however many
    notes there are. Audited by the chart read that calls it."""
    clinical = list(_clinical_of(actor, patient)[:limit])
    entries = list(_own_entries(actor, patient)[:limit])
    return _items(clinical, entries, patient)[:limit]


def _attach_addenda(items: list[ChartNote], patient: Patient) -> None:
    """Each item's addenda in one query (group notes: shared and this member's own)."""
    notes = {i.clinical.pk: i for i in items if i.clinical is not None}
    groups = {i.group.note.pk: i for i in items if i.group is not None}
    if not notes and not groups:
        return
    rows = (
        Addendum.objects.filter(organization_id=patient.organization_id)
        .filter(
            Q(clinical_note_id__in=list(notes))
            | Q(group_note_id__in=list(groups)) & _member_addenda(patient)
        )
        .select_related("author")
        .order_by("created_at", "id")
    )
    for addendum in rows:
        if addendum.clinical_note_id is not None:
            notes[addendum.clinical_note_id].addenda.append(addendum)
        elif addendum.group_note_id is not None:
            item = groups[addendum.group_note_id]
            item.addenda.append(addendum)
            assert item.group is not None
            item.group.addenda.append(addendum)


def patient_notes_read(actor: Actor, public_id: uuid.UUID | str) -> tuple[Patient, list[ChartNote]]:
    """Every note of the patient as the chart shows them, with their addenda, audited."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    clinical = list(_clinical_of(actor, patient)[:LIST_LIMIT])
    entries = list(_own_entries(actor, patient)[:LIST_LIMIT])
    items = _items(clinical, entries, patient)
    _attach_addenda(items, patient)
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="note_list",
        object_id=patient.public_id,
        detail={"shown": str(len(items))},
    )
    return patient, items


def note_read(
    actor: Actor,
    public_id: uuid.UUID | str,
    note_id: uuid.UUID | str,
    *,
    permission: Permission = Permission.CHART_READ,
) -> tuple[Patient, ClinicalNote, list[Addendum]]:
    """One individual note of the patient with its addenda, audited."""
    patient, basis = patient_access(actor, public_id, permission=permission, category=CATEGORY)
    note = _clinical_of(actor, patient).filter(public_id=public_id_or_404(note_id)).first()
    if note is None:
        raise NotFound()
    note.patient = patient
    addenda = list(
        Addendum.objects.filter(organization_id=actor.organization_id, clinical_note=note)
        .select_related("author")
        .order_by("created_at", "id")
    )
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="clinical_note",
        object_id=note.public_id,
    )
    return patient, note, addenda


def member_group_note_read(
    actor: Actor, public_id: uuid.UUID | str, group_note_id: uuid.UUID | str
) -> MemberGroupNote:
    """A group note as this patient's chart shows it (the shared part and only their own
    entry and addenda), audited as a read of this patient's record."""
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    entry = (
        _own_entries(actor, patient)
        .filter(group_note__public_id=public_id_or_404(group_note_id))
        .first()
    )
    if entry is None:
        raise NotFound()
    entry.patient = patient
    member = MemberGroupNote(entry.group_note, patient, entry)
    member.addenda = list(
        Addendum.objects.filter(organization_id=actor.organization_id, group_note=member.note)
        .filter(_member_addenda(patient))
        .select_related("author")
        .order_by("created_at", "id")
    )
    member.progress = list(
        ObjectiveProgress.objects.filter(
            organization_id=actor.organization_id, group_note_entry=entry
        ).order_by("id")
    )
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="group_note",
        object_id=member.note.public_id,
    )
    return member


@dataclass
class GroupNotePage:
    """A session's group note for whoever runs the session: the roster, the live note
    with every entry and addendum (its author's draft, or a signed note), and earlier
    notes marked entered in error."""

    session: Session
    roster: list[Attendance]
    note: GroupNote | None
    entries: dict[str, GroupNoteEntry]
    addenda: list[Addendum]
    withdrawn: list[GroupNote]
    # Someone else's draft: its content stays theirs until signed.
    others_draft: bool = False
    # Each member's ratings of their treatment-plan objectives, by patient public id.
    progress: dict[str, list[ObjectiveProgress]] = field(default_factory=dict)

    def ratings(self) -> dict[str, dict[str, str]]:
        """Ratings by member and objective key, as the form takes them."""
        return {
            member: {str(row.objective_key): row.rating for row in rows}
            for member, rows in self.progress.items()
        }

    @property
    def attending(self) -> list[Attendance]:
        return [row for row in self.roster if row.attended]

    @property
    def absent(self) -> list[Attendance]:
        return [row for row in self.roster if not row.attended]

    @property
    def editable(self) -> bool:
        return self.note is None or (self.note.is_draft and not self.others_draft)


def group_note_page(actor: Actor, session: Session) -> GroupNotePage:
    """Everything the session's group-note page shows, audited with one row per member
    whose entry it shows (one naming no patient when it shows none)."""
    require_group_write(actor, session)
    roster = roster_of(session)
    notes = list(
        GroupNote.objects.filter(organization_id=actor.organization_id, session=session)
        .select_related(*_SIGNATURES)
        .order_by("-created_at", "-id")
    )
    live = next((n for n in notes if not n.in_error), None)
    withdrawn = [n for n in notes if n.in_error]
    others_draft = live is not None and live.is_draft and live.author_id != actor.user_id
    entries: dict[str, GroupNoteEntry] = {}
    addenda: list[Addendum] = []
    progress: dict[str, list[ObjectiveProgress]] = {}
    if live is not None and not others_draft:
        live.session = session
        patients = {row.patient_id: row.patient for row in roster}
        for entry in GroupNoteEntry.objects.filter(
            organization_id=actor.organization_id, group_note=live
        ).order_by("id"):
            entry.patient = patients.get(entry.patient_id) or entry.patient
            entries[str(entry.patient.public_id)] = entry
        addenda = list(
            Addendum.objects.filter(organization_id=actor.organization_id, group_note=live)
            .select_related("author", "patient")
            .order_by("created_at", "id")
        )
        by_entry = {entry.pk: key for key, entry in entries.items()}
        for row in ObjectiveProgress.objects.filter(
            organization_id=actor.organization_id, group_note_entry__group_note=live
        ).order_by("id"):
            member = by_entry.get(row.group_note_entry_id or 0)
            if member is not None:
                progress.setdefault(member, []).append(row)
    shown: list[uuid.UUID | None] = sorted({e.patient.public_id for e in entries.values()}, key=str)
    with transaction.atomic():
        for patient_id in shown or [None]:
            audit_record(
                action=AuditAction.READ,
                actor=actor,
                patient_public_id=patient_id,
                category=CATEGORY,
                object_type="group_note" if live else "session_roster",
                object_id=live.public_id if live else session.public_id,
                detail={"session": str(session.public_id), "roster": str(len(roster))},
            )
    return GroupNotePage(session, roster, live, entries, addenda, withdrawn, others_draft, progress)


@dataclass
class CosignQueue:
    notes: list[ClinicalNote]
    group_notes: list[GroupNote]

    def __len__(self) -> int:
        return len(self.notes) + len(self.group_notes)


def cosign_queue(actor: Actor, now: datetime | None = None) -> CosignQueue:
    """Notes waiting for the actor's co-signature: individual notes of the patients the
    actor may co-sign for, group notes of the sessions they may run; never their own.
    Two queries however long the queue, and the audit row."""
    require_permission(actor, Permission.NOTE_COSIGN, category=CATEGORY)
    notes = (
        ClinicalNote.objects.filter(
            organization_id=actor.organization_id, status=NoteStatus.AWAITING_COSIGN
        )
        .exclude(author_id=actor.user_id)
        .select_related("patient", "author")
        .order_by("signed_at", "id")
    )
    groups = (
        GroupNote.objects.filter(
            organization_id=actor.organization_id, status=NoteStatus.AWAITING_COSIGN
        )
        .exclude(author_id=actor.user_id)
        .select_related("session__program__facility", "author")
        .annotate(members=Count("entries"))
        .order_by("signed_at", "id")
    )
    if needs_care_relationship(actor.role, Permission.NOTE_COSIGN):
        mine = cared_for(
            actor,
            Patient.objects.filter(organization_id=actor.organization_id),
            now or timezone.now(),
        )
        notes = notes.filter(patient__in=mine)
    if not sees_all_patients(actor.role):
        staffed = ProgramStaff.objects.filter(
            organization_id=actor.organization_id, user_id=actor.user_id
        ).values("program_id")
        groups = groups.filter(
            Q(session__facilitator_id=actor.user_id) | Q(session__program_id__in=staffed)
        )
    found = CosignQueue(list(notes[:LIST_LIMIT]), list(groups[:LIST_LIMIT]))
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type="cosign_queue",
            detail={
                "notes": len(found.notes),
                "group_notes": len(found.group_notes),
                "patients": sorted({str(note.patient.public_id) for note in found.notes}),
            },
        )
    return found


# --- progress on treatment-plan objectives ---------------------------------------------


def note_progress(note: ClinicalNote) -> list[ObjectiveProgress]:
    """The objectives an individual note rated (one query); read with the note."""
    return list(
        ObjectiveProgress.objects.filter(
            organization_id=note.organization_id, clinical_note=note
        ).order_by("id")
    )


def attach_progress(items: list[ChartNote], patient: Patient) -> None:
    """Each item's ratings of the patient's objectives, in one query however many
    notes: an individual note's, and of a group note only this patient's own entry's
    (rows are read filtered by the patient). Read inside the caller's audited read."""
    notes = {i.clinical.pk: i for i in items if i.clinical is not None}
    entries = {i.group.entry.pk: i for i in items if i.group is not None}
    if not notes and not entries:
        return
    rows = (
        ObjectiveProgress.objects.filter(organization_id=patient.organization_id, patient=patient)
        .filter(Q(clinical_note_id__in=list(notes)) | Q(group_note_entry_id__in=list(entries)))
        .order_by("id")
    )
    for row in rows:
        if row.clinical_note_id is not None:
            notes[row.clinical_note_id].progress.append(row)
        elif row.group_note_entry_id is not None:
            item = entries[row.group_note_entry_id]
            item.progress.append(row)
            assert item.group is not None
            item.group.progress.append(row)


# Notes whose text is final: their ratings count as progress.
_FINAL = (NoteStatus.SIGNED, NoteStatus.AWAITING_COSIGN)


@dataclass(frozen=True)
class ProgressNote:
    """One signed note's rating of one objective, for the treatment plan."""

    objective_key: uuid.UUID
    rating: str
    at: datetime
    zone: str
    kind: str  # "individual" or "group"
    note_id: uuid.UUID  # the individual note's or the group note's public id

    @property
    def rating_label(self) -> str:
        return str(ProgressRating(self.rating).label)


def objective_progress(
    patient: Patient, keys: Iterable[uuid.UUID] | None = None
) -> list[ProgressNote]:
    """The ratings signed notes gave the patient's objectives (all, or those named),
    oldest first: one query however many. Group notes count only through the
    patient's own entry. Read inside the caller's audited read."""
    rows = (
        ObjectiveProgress.objects.filter(organization_id=patient.organization_id, patient=patient)
        .filter(
            Q(clinical_note__status__in=_FINAL) | Q(group_note_entry__group_note__status__in=_FINAL)
        )
        .select_related("clinical_note", "group_note_entry__group_note__session__program__facility")
    )
    if keys is not None:
        rows = rows.filter(objective_key__in=list(keys))
    found: list[ProgressNote] = []
    for row in rows:
        if row.clinical_note is not None:
            note = row.clinical_note
            found.append(
                ProgressNote(
                    row.objective_key,
                    row.rating,
                    note.occurred_at,
                    note.time_zone,
                    "individual",
                    note.public_id,
                )
            )
        elif row.group_note_entry is not None:
            group = row.group_note_entry.group_note
            found.append(
                ProgressNote(
                    row.objective_key,
                    row.rating,
                    group.session.starts_at,
                    str(group.session.program.facility.time_zone),
                    "group",
                    group.public_id,
                )
            )
    found.sort(key=lambda p: p.at)
    return found
