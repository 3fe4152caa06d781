"""What the note services share: the audit category, the organization check, who
changes a draft, and the roster of a group session as the group-note rules see it."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from stepwise.core.actor import Actor
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.roles import Permission, role_can
from stepwise.notes import rules
from stepwise.notes.models import NoteStatus, SignedNote
from stepwise.scheduling.models import Attendance, Session, SessionStatus

CATEGORY = "notes"
SIGNED_IS_FINAL = "A signed note is not changed; add an addendum."


def same_org(actor: Actor, *objects: Any) -> None:
    for obj in objects:
        if obj is not None and obj.organization_id != actor.organization_id:
            raise NotFound()


def require_draft_of_author(actor: Actor, note: SignedNote) -> None:
    """Only a draft changes, and only by its author."""
    if note.status == NoteStatus.ENTERED_IN_ERROR:
        raise Conflict("This note was marked entered in error; write a new one.")
    if note.status != NoteStatus.DRAFT:
        raise Conflict(SIGNED_IS_FINAL)
    if note.author_id != actor.user_id:
        raise AccessDenied("Only its author changes or signs a draft.")


def require_open_for_addendum(note: SignedNote) -> None:
    if note.status == NoteStatus.DRAFT:
        raise Conflict("This note is still a draft: change the draft instead.")
    if note.status == NoteStatus.ENTERED_IN_ERROR:
        raise Conflict("This note was marked entered in error; it takes no addendum.")


def require_may_mark_in_error(actor: Actor, note: SignedNote) -> None:
    """The author, or a supervisor (who may co-sign), marks a note entered in error."""
    if note.status == NoteStatus.ENTERED_IN_ERROR:
        raise Conflict("This note is already marked entered in error.")
    if note.author_id != actor.user_id and not role_can(actor.role, Permission.NOTE_COSIGN):
        raise AccessDenied("Only the note's author or a supervisor marks it entered in error.")


def reason_or_error(reason: str) -> str:
    text = rules.clean_text(reason)
    if not text:
        raise ValidationFailed({"reason": "Say what was wrong; the reason stays in the record."})
    if len(text) > rules.REASON_MAX:
        raise ValidationFailed({"reason": f"At most {rules.REASON_MAX} characters."})
    return text


def addendum_text_or_error(text: str) -> str:
    error = rules.text_error(text, label="Addendum", limit=rules.ADDENDUM_MAX, required=True)
    if error:
        raise ValidationFailed({"text": error})
    return rules.clean_text(text)


def goals_or_error(goals: list[str]) -> list[str]:
    errors = rules.goal_errors(goals)
    if errors:
        raise ValidationFailed(errors)
    return rules.clean_goals(goals)


def session_not_cancelled(session: Session) -> None:
    if session.status == SessionStatus.CANCELLED:
        raise Conflict(f"This session was cancelled ({session.cancel_reason}); it has no note.")


def roster_of(session: Session) -> list[Attendance]:
    """The session's seats with their patients, in name order."""
    return list(
        Attendance.objects.filter(organization_id=session.organization_id, session=session)
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name", "id")
    )


def members_of(roster: list[Attendance]) -> list[rules.Member]:
    return [
        rules.Member(str(row.patient.public_id), row.patient.display_name, row.attended)
        for row in roster
    ]


def enter_in_error(actor: Actor, locked: SignedNote, reason: str) -> str:
    """Mark a locked note entered in error with the reason (it stays, struck through);
    returns the status it had. Inside the caller's transaction."""
    require_may_mark_in_error(actor, locked)
    was = locked.status
    locked.status = NoteStatus.ENTERED_IN_ERROR
    locked.error_reason = reason
    locked.error_marked_at = timezone.now()
    locked.error_marked_by_id = actor.user_id
    locked.save(
        update_fields=["status", "error_reason", "error_marked_at", "error_marked_by", "updated_at"]
    )
    return was
