"""Clinical notes in the JSON API v1: a patient's notes as the chart shows them,
individual notes (draft, sign, co-sign, addenda, entered in error), a session's group
note for whoever runs it, and the co-signature queue. Thin over the same services,
selectors and audit rows as the pages.

A patient's answers hold of a group note only the shared part and that patient's
own entry and addenda: other members' entries are never loaded for them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from ninja import Field, Router, Schema

from stepwise.api.auth import api_actor
from stepwise.api.permissions import requires
from stepwise.api.schemas import ClinicalIn, ErrorOut, InputSchema
from stepwise.care.chart import patient_for
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound, ValidationFailed
from stepwise.core.ids import public_id_or_404
from stepwise.core.roles import Permission
from stepwise.notes import rules
from stepwise.notes.models import (
    Addendum,
    ClinicalNote,
    GroupNote,
    ObjectiveProgress,
    ProgressRating,
    SignedNote,
)
from stepwise.notes.selectors import (
    ChartNote,
    GroupNotePage,
    MemberGroupNote,
    attach_progress,
    cosign_queue,
    group_note_page,
    member_group_note_read,
    note_progress,
    note_read,
    patient_notes_read,
)
from stepwise.notes.services.group import (
    GroupDraft,
    group_addendum_add,
    group_note_cosign,
    group_note_mark_in_error,
    group_note_save,
    group_note_sign,
)
from stepwise.notes.services.individual import (
    NoteDraft,
    note_addendum_add,
    note_cosign,
    note_create,
    note_mark_in_error,
    note_sign,
    note_update,
)
from stepwise.notes.services.progress import canonical
from stepwise.patients.models import Patient
from stepwise.scheduling.models import Session
from stepwise.scheduling.services.series import session_get

router = Router(tags=["notes"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


# ---------------------------------------------------------------------------
# Shapes


class SectionOut(Schema):
    key: str
    label: str
    text: str


class AddendumOut(Schema):
    id: uuid.UUID
    author: str
    created_at: datetime
    text: str
    about: str = Field(
        description="'note' (an individual note's), 'group' (shared with every member) or "
        "'member' (about this one member of the group only)"
    )


RATINGS = ", ".join(rules.PROGRESS_RATINGS)


class ObjectiveRatingOut(Schema):
    objective: uuid.UUID = Field(description="The objective's key in the patient's plan")
    statement: str = Field(description="The objective as it read when the note was written")
    rating: str = Field(description=RATINGS)
    rating_label: str


class ObjectiveRatingIn(InputSchema):
    objective: uuid.UUID = Field(
        description="The key of an objective in progress of the patient's current plan "
        "(GET /patients/{id}/plan)"
    )
    rating: str = Field(description=f"{RATINGS}; empty: not addressed")


class SignatureOut(Schema):
    status: str = Field(description="draft, awaiting_cosign, signed or entered_in_error")
    author: str
    signed_at: datetime | None
    signed_by: str | None
    needs_cosign: bool
    cosigned_at: datetime | None
    cosigned_by: str | None
    error_reason: str


class NoteOut(SignatureOut):
    id: uuid.UUID
    kind: str = Field(description="'individual'")
    patient: uuid.UUID
    format: str = Field(description="dap, birp or soap")
    occurred_at: datetime
    session: uuid.UUID | None
    sections: list[SectionOut] = Field(description="Every section of the format, in order")
    goals: list[str] = Field(description="Treatment-plan goals addressed (short names)")
    objectives: list[ObjectiveRatingOut] = Field(
        description="The treatment-plan objectives it addressed, each with its rating"
    )
    addenda: list[AddendumOut]


class SessionRef(Schema):
    id: uuid.UUID
    title: str
    program: str
    starts_at: datetime
    ends_at: datetime


class MemberGroupNoteOut(SignatureOut):
    id: uuid.UUID
    kind: str = Field(description="'group'")
    patient: uuid.UUID
    session: SessionRef
    narrative: str = Field(description="The shared part, the same in every member's chart")
    entry: str = Field(description="This patient's own entry: the only entry shown")
    goals: list[str]
    objectives: list[ObjectiveRatingOut] = Field(
        description="This patient's objectives their entry addressed, each with its rating"
    )
    addenda: list[AddendumOut] = Field(description="Shared addenda and this patient's own")


class PatientNotesOut(Schema):
    notes: list[NoteOut]
    group_notes: list[MemberGroupNoteOut]


class EntryOut(Schema):
    patient: uuid.UUID
    name: str
    text: str
    objectives: list[ObjectiveRatingOut] = Field(
        description="The member's objectives the session addressed, each with its rating"
    )


class GroupAddendumOut(AddendumOut):
    patient: uuid.UUID | None = Field(description="The member it is about; null when shared")


class GroupNoteOut(SignatureOut):
    """The whole group note, for whoever runs the session."""

    id: uuid.UUID
    session: SessionRef
    narrative: str
    goals: list[str]
    entries: list[EntryOut]
    addenda: list[GroupAddendumOut]


class QueueNoteOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    patient_name: str
    format: str
    occurred_at: datetime
    signed_at: datetime | None
    author: str


class QueueGroupNoteOut(Schema):
    id: uuid.UUID
    session: SessionRef
    members: int
    signed_at: datetime | None
    author: str


class CosignQueueOut(Schema):
    notes: list[QueueNoteOut]
    group_notes: list[QueueGroupNoteOut]


class NoteIn(ClinicalIn):
    format: str = Field(description="dap, birp or soap")
    sections: dict[str, str] = Field(
        default_factory=dict,
        description="Section key -> text: dap data, assessment, plan; birp behavior, "
        "intervention, response, plan; soap subjective, objective, assessment, plan. "
        "A draft may leave sections empty; signing needs every one.",
    )
    goals: list[str] = Field(
        default_factory=list, description="Short names of the treatment-plan goals addressed"
    )
    occurred_at: datetime | None = Field(
        None, description="When the session took place, with its time zone; default now"
    )
    session: uuid.UUID | None = Field(None, description="The session it documents, if any")
    objectives: list[ObjectiveRatingIn] | None = Field(
        None,
        description="The objectives of the patient's current plan the session addressed, "
        "each rated, at most one entry per objective. A draft's ratings become exactly "
        "these; left out, a draft being changed keeps its own.",
    )


class GroupNoteIn(ClinicalIn):
    narrative: str = Field("", description="The shared part: every member's chart shows it")
    goals: list[str] = Field(default_factory=list)
    entries: dict[str, str] = Field(
        default_factory=dict,
        description="Patient id -> that member's short entry, for members who attended. "
        "The draft's entries become exactly these; a member left out has none.",
    )
    objectives: dict[str, list[ObjectiveRatingIn]] | None = Field(
        None,
        description="Patient id -> the objectives of that member's current plan the "
        "session addressed, each rated (a member with an entry only). A member's ratings "
        "become exactly these; a member left out keeps theirs.",
    )


class AddendumIn(ClinicalIn):
    text: str = Field(min_length=1, max_length=rules.ADDENDUM_MAX)


class GroupAddendumIn(AddendumIn):
    patient: uuid.UUID | None = Field(
        None, description="A member with an entry: the addendum is about them only"
    )


class ReasonIn(ClinicalIn):
    reason: str = Field(min_length=1, max_length=rules.REASON_MAX)


# ---------------------------------------------------------------------------
# Serialising


def _name(user: AbstractBaseUser | None) -> str | None:
    return None if user is None else str(user.get_username())


def _signature(note: SignedNote) -> dict[str, Any]:
    return {
        "status": note.status,
        "author": _name(note.author),
        "signed_at": note.signed_at,
        "signed_by": _name(note.signed_by),
        "needs_cosign": note.needs_cosign,
        "cosigned_at": note.cosigned_at,
        "cosigned_by": _name(note.cosigned_by),
        "error_reason": note.error_reason,
    }


def _addendum(addendum: Addendum) -> dict[str, Any]:
    about = "note"
    if addendum.group_note_id is not None:
        about = "member" if addendum.patient_id is not None else "group"
    return {
        "id": addendum.public_id,
        "author": _name(addendum.author),
        "created_at": addendum.created_at,
        "text": addendum.text,
        "about": about,
    }


def _ratings(rows: Sequence[ObjectiveProgress]) -> list[dict[str, Any]]:
    return [
        {
            "objective": row.objective_key,
            "statement": row.objective_text,
            "rating": row.rating,
            "rating_label": str(ProgressRating(row.rating).label),
        }
        for row in rows
    ]


def _note(
    note: ClinicalNote,
    patient: Patient,
    addenda: list[Addendum],
    progress: Sequence[ObjectiveProgress] | None = None,
) -> dict[str, Any]:
    """The note as the API shows it; its ratings are read here unless given."""
    if progress is None:
        progress = note_progress(note)
    return {
        **_signature(note),
        "id": note.public_id,
        "kind": "individual",
        "patient": patient.public_id,
        "format": note.format,
        "occurred_at": note.occurred_at,
        "session": note.session.public_id if note.session else None,
        "sections": [
            {"key": s.key, "label": s.label, "text": text} for s, text in note.section_texts()
        ],
        "goals": list(note.goals),
        "objectives": _ratings(progress),
        "addenda": [_addendum(a) for a in addenda],
    }


def _session(session: Session) -> dict[str, Any]:
    return {
        "id": session.public_id,
        "title": session.title,
        "program": session.program.name,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
    }


def _member_note(member: MemberGroupNote) -> dict[str, Any]:
    note = member.note
    return {
        **_signature(note),
        "id": note.public_id,
        "kind": "group",
        "patient": member.patient.public_id,
        "session": _session(member.session),
        "narrative": note.narrative,
        "entry": member.entry.text,
        "goals": list(note.goals),
        "objectives": _ratings(member.progress),
        "addenda": [_addendum(a) for a in member.addenda],
    }


def _group_note(page: GroupNotePage) -> dict[str, Any]:
    note = page.note
    if note is None or page.others_draft:
        raise NotFound("This session has no group note you can read yet.")
    return {
        **_signature(note),
        "id": note.public_id,
        "session": _session(page.session),
        "narrative": note.narrative,
        "goals": list(note.goals),
        "entries": [
            {
                "patient": e.patient.public_id,
                "name": e.patient.display_name,
                "text": e.text,
                "objectives": _ratings(page.progress.get(key, [])),
            }
            for key, e in page.entries.items()
        ],
        "addenda": [
            {**_addendum(a), "patient": a.patient.public_id if a.patient else None}
            for a in page.addenda
        ],
    }


# ---------------------------------------------------------------------------
# A patient's notes


def _items_out(items: list[ChartNote], patient: Patient) -> dict[str, Any]:
    attach_progress(items, patient)
    notes = [
        _note(i.clinical, patient, i.addenda, i.progress) for i in items if i.clinical is not None
    ]
    groups = [_member_note(i.group) for i in items if i.group is not None]
    return {"notes": notes, "group_notes": groups}


@router.get(
    "/patients/{patient_id}/notes",
    response={200: PatientNotesOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def list_notes(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """The patient's notes as the chart shows them, newest first: individual notes in
    full, and group notes with the shared part and only this patient's own entry.
    Drafts are listed to their author only."""
    patient, items = patient_notes_read(api_actor(request), patient_id)
    return _items_out(items, patient)


def _draft(actor: Actor, payload: NoteIn) -> NoteDraft:
    session = None
    if payload.session is not None:
        try:
            session = session_get(actor, payload.session)
        except NotFound:
            raise ValidationFailed(
                {"session": "No session with this id in your organization."}
            ) from None
    return NoteDraft(
        format=payload.format,
        sections=payload.sections,
        goals=payload.goals,
        occurred_at=payload.occurred_at,
        session=session,
        progress=_given(payload.objectives, "objectives"),
    )


# The services name a rating's field as the note pages do (progress_<objective>, or
# progress_<patient>_<objective> in a group note); the API names it by its place in
# the request (objectives.<n>, objectives.<patient>.<n>).


def _given(items: list[ObjectiveRatingIn] | None, field: str) -> dict[str, str] | None:
    """Ratings by objective key, as the services take them; an objective named twice
    is refused here (a mapping would silently keep the last)."""
    if items is None:
        return None
    given: dict[str, str] = {}
    for n, item in enumerate(items):
        key = str(item.objective)
        if key in given:
            raise ValidationFailed({f"{field}.{n}": "This objective is already rated above."})
        given[key] = item.rating
    return given


def _rating_fields(items: Sequence[ObjectiveRatingIn], prefix: str, field: str) -> dict[str, str]:
    return {f"{prefix}{item.objective}": f"{field}.{n}" for n, item in enumerate(items)}


@contextmanager
def _named_as_sent(fields: Mapping[str, str]) -> Iterator[None]:
    """A refusal names the ratings' fields as the request sent them."""
    try:
        yield
    except ValidationFailed as exc:
        # "progress" is the whole list's (too many ratings).
        named = {**fields, "progress": "objectives"}
        raise ValidationFailed({named.get(k, k): m for k, m in exc.errors.items()}) from None


def _note_fields(payload: NoteIn) -> dict[str, str]:
    return _rating_fields(payload.objectives or [], "progress_", "objectives")


def _group_fields(payload: GroupNoteIn) -> dict[str, str]:
    fields: dict[str, str] = {}
    for member, items in (payload.objectives or {}).items():
        prefix = f"progress_{canonical(member)}_"
        fields[prefix] = f"objectives.{member}"
        fields.update(_rating_fields(items, prefix, f"objectives.{member}"))
    return fields


@router.post(
    "/patients/{patient_id}/notes",
    response={201: NoteOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def create_note(request: HttpRequest, patient_id: str, payload: NoteIn) -> tuple[int, Any]:
    """Start an individual note as a draft; sign it with /sign."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.NOTE_WRITE)
    with _named_as_sent(_note_fields(payload)):
        note = note_create(actor, patient, _draft(actor, payload))
    return 201, _note(note, patient, [])


@router.get(
    "/patients/{patient_id}/notes/{note_id}",
    response={200: NoteOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_note(request: HttpRequest, patient_id: str, note_id: str) -> dict[str, Any]:
    patient, note, addenda = note_read(api_actor(request), patient_id, note_id)
    return _note(note, patient, addenda)


def _writable(
    request: HttpRequest, patient_id: str, note_id: str, permission: Permission
) -> tuple[Actor, Patient, ClinicalNote, list[Addendum]]:
    actor = api_actor(request)
    patient, note, addenda = note_read(actor, patient_id, note_id, permission=permission)
    return actor, patient, note, addenda


@router.put(
    "/patients/{patient_id}/notes/{note_id}",
    response={200: NoteOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def update_note(
    request: HttpRequest, patient_id: str, note_id: str, payload: NoteIn
) -> dict[str, Any]:
    """Change a draft (its author only). A signed note is not changed: 409."""
    actor, patient, note, addenda = _writable(request, patient_id, note_id, Permission.NOTE_WRITE)
    with _named_as_sent(_note_fields(payload)):
        changed = note_update(actor, note, _draft(actor, payload))
    return _note(changed, patient, addenda)


@router.post(
    "/patients/{patient_id}/notes/{note_id}/sign",
    response={200: NoteOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def sign_note(request: HttpRequest, patient_id: str, note_id: str) -> dict[str, Any]:
    """Sign a draft whose every section is written (422 names the empty ones). Where
    the organization asks for co-signatures and the author may not co-sign, the note
    then awaits a supervisor (status awaiting_cosign)."""
    actor, patient, note, addenda = _writable(request, patient_id, note_id, Permission.NOTE_WRITE)
    return _note(note_sign(actor, note), patient, addenda)


@router.post(
    "/patients/{patient_id}/notes/{note_id}/cosign",
    response={200: NoteOut, **ERRORS},
    auth=requires(Permission.NOTE_COSIGN),
)
def cosign_note(request: HttpRequest, patient_id: str, note_id: str) -> dict[str, Any]:
    actor, patient, note, addenda = _writable(request, patient_id, note_id, Permission.NOTE_COSIGN)
    return _note(note_cosign(actor, note), patient, addenda)


@router.post(
    "/patients/{patient_id}/notes/{note_id}/addenda",
    response={201: AddendumOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def add_addendum(
    request: HttpRequest, patient_id: str, note_id: str, payload: AddendumIn
) -> tuple[int, Any]:
    actor, _, note, _ = _writable(request, patient_id, note_id, Permission.NOTE_WRITE)
    return 201, _addendum(note_addendum_add(actor, note, payload.text))


@router.post(
    "/patients/{patient_id}/notes/{note_id}/entered-in-error",
    response={200: NoteOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def note_in_error(
    request: HttpRequest, patient_id: str, note_id: str, payload: ReasonIn
) -> dict[str, Any]:
    """The author or a supervisor withdraws a mistaken note; it stays in the record."""
    actor, patient, note, addenda = _writable(request, patient_id, note_id, Permission.NOTE_WRITE)
    return _note(note_mark_in_error(actor, note, reason=payload.reason), patient, addenda)


@router.get(
    "/patients/{patient_id}/group-notes/{group_note_id}",
    response={200: MemberGroupNoteOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_member_group_note(
    request: HttpRequest, patient_id: str, group_note_id: str
) -> dict[str, Any]:
    """A group note as this patient's chart shows it: the shared part and only their
    own entry and addenda."""
    return _member_note(member_group_note_read(api_actor(request), patient_id, group_note_id))


# ---------------------------------------------------------------------------
# A session's group note, for whoever runs the session


def _session_of(actor: Actor, session_id: str) -> Session:
    return session_get(actor, public_id_or_404(session_id))


def _live(actor: Actor, session: Session) -> tuple[GroupNotePage, GroupNote]:
    page = group_note_page(actor, session)
    if page.note is None:
        raise NotFound("This session has no group note yet.")
    return page, page.note


@router.get(
    "/sessions/{session_id}/group-note",
    response={200: GroupNoteOut, **READ_ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def read_group_note(request: HttpRequest, session_id: str) -> dict[str, Any]:
    """The whole group note with every member's entry, for the session's facilitator,
    the program's staff and facility-wide roles."""
    actor = api_actor(request)
    return _group_note(group_note_page(actor, _session_of(actor, session_id)))


@router.put(
    "/sessions/{session_id}/group-note",
    response={200: GroupNoteOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def save_group_note(request: HttpRequest, session_id: str, payload: GroupNoteIn) -> dict[str, Any]:
    """Start or change the session's group note as a draft (its author only)."""
    actor = api_actor(request)
    session = _session_of(actor, session_id)
    progress = None
    if payload.objectives is not None:
        progress = {
            member: _given(items, f"objectives.{member}") or {}
            for member, items in payload.objectives.items()
        }
    draft = GroupDraft(payload.narrative, payload.goals, payload.entries, progress)
    with _named_as_sent(_group_fields(payload)):
        group_note_save(actor, session, draft)
    return _group_note(group_note_page(actor, session))


@router.post(
    "/sessions/{session_id}/group-note/sign",
    response={200: GroupNoteOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def sign_group_note(request: HttpRequest, session_id: str) -> dict[str, Any]:
    """Sign: the narrative and an entry for every member who attended are needed (422
    names what is missing by member); each entry then reaches its member's chart."""
    actor = api_actor(request)
    session = _session_of(actor, session_id)
    _, note = _live(actor, session)
    group_note_sign(actor, note)
    return _group_note(group_note_page(actor, session))


@router.post(
    "/sessions/{session_id}/group-note/cosign",
    response={200: GroupNoteOut, **ERRORS},
    auth=requires(Permission.NOTE_COSIGN),
)
def cosign_group_note(request: HttpRequest, session_id: str) -> dict[str, Any]:
    actor = api_actor(request)
    session = _session_of(actor, session_id)
    _, note = _live(actor, session)
    group_note_cosign(actor, note)
    return _group_note(group_note_page(actor, session))


@router.post(
    "/sessions/{session_id}/group-note/addenda",
    response={201: GroupAddendumOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def add_group_addendum(
    request: HttpRequest, session_id: str, payload: GroupAddendumIn
) -> tuple[int, Any]:
    """An addendum shared with every member, or (naming a member) about them only."""
    actor = api_actor(request)
    page, note = _live(actor, _session_of(actor, session_id))
    patient = None
    if payload.patient is not None:
        entry = page.entries.get(str(payload.patient))
        if entry is None:
            raise ValidationFailed({"patient": "This patient has no entry in this group note."})
        patient = entry.patient
    addendum = group_addendum_add(actor, note, payload.text, patient=patient)
    return 201, {**_addendum(addendum), "patient": patient.public_id if patient else None}


@router.post(
    "/sessions/{session_id}/group-note/entered-in-error",
    response={200: GroupNoteOut, **ERRORS},
    auth=requires(Permission.NOTE_WRITE),
)
def group_note_in_error(request: HttpRequest, session_id: str, payload: ReasonIn) -> dict[str, Any]:
    """Withdraw a mistaken group note from every member's chart (it stays there, marked);
    the session may then get a new one."""
    actor = api_actor(request)
    session = _session_of(actor, session_id)
    page, note = _live(actor, session)
    marked = group_note_mark_in_error(actor, note, reason=payload.reason)
    page.note = marked
    page.others_draft = False
    return _group_note(page)


# ---------------------------------------------------------------------------
# The co-signature queue


@router.get(
    "/notes/cosign-queue",
    response={200: CosignQueueOut, **READ_ERRORS},
    auth=requires(Permission.NOTE_COSIGN),
)
def read_cosign_queue(request: HttpRequest) -> dict[str, Any]:
    """Notes waiting for the caller's co-signature, oldest first; never their own."""
    queue = cosign_queue(api_actor(request))
    return {
        "notes": [
            {
                "id": n.public_id,
                "patient": n.patient.public_id,
                "patient_name": n.patient.display_name,
                "format": n.format,
                "occurred_at": n.occurred_at,
                "signed_at": n.signed_at,
                "author": _name(n.author),
            }
            for n in queue.notes
        ],
        "group_notes": [
            {
                "id": g.public_id,
                "session": _session(g.session),
                "members": g.members,  # type: ignore[attr-defined]  # annotated count
                "signed_at": g.signed_at,
                "author": _name(g.author),
            }
            for g in queue.group_notes
        ],
    }
