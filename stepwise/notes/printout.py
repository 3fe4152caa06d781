"""Printable notes, one patient at a time: an individual note with its addenda, or a
group note as that patient's chart shows it (the shared part and their own entry;
never another member's)."""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction
from stepwise.core.pdf import DocumentPdf
from stepwise.notes.models import Addendum, ClinicalNote, ObjectiveProgress, SignedNote
from stepwise.notes.selectors import MemberGroupNote
from stepwise.notes.services.common import CATEGORY
from stepwise.patients.models import Patient

FOOTER = (
    "Confidential: this record is protected by federal confidentiality rules (42 CFR part 2) "
    "and may not be disclosed further without the patient's written consent."
)


def _who(user: object) -> str:
    if user is None:
        return ""
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "username", ""))


def _at(when: datetime | None, zone: str) -> str:
    if when is None:
        return ""
    return when.astimezone(zoneinfo.ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M %Z")


def _header(pdf: DocumentPdf, patient: Patient, title: str, subtitle: str) -> None:
    pdf.title_block(title, subtitle)
    pdf.facts(
        [
            ("Patient", patient.display_name),
            ("Record number", patient.mrn),
            ("Born", patient.date_of_birth.isoformat()),
        ]
    )


def _signatures(pdf: DocumentPdf, note: SignedNote, zone: str) -> None:
    rows = [("Written by", _who(note.author)), ("Status", note.get_status_display())]
    if note.signed_at:
        rows.append(("Signed", f"{_who(note.signed_by)}, {_at(note.signed_at, zone)}"))
    if note.needs_cosign:
        rows.append(
            (
                "Co-signed",
                f"{_who(note.cosigned_by)}, {_at(note.cosigned_at, zone)}"
                if note.cosigned_at
                else "Awaiting a supervisor's co-signature",
            )
        )
    if note.in_error:
        rows.append(
            (
                "Entered in error",
                f"{_who(note.error_marked_by)}, {_at(note.error_marked_at, zone)}: "
                f"{note.error_reason}",
            )
        )
    pdf.facts(rows)


def _goals(pdf: DocumentPdf, goals: list[str]) -> None:
    if goals:
        pdf.heading("Treatment-plan goals addressed")
        for goal in goals:
            pdf.paragraph(f"• {goal}")


def _objectives(pdf: DocumentPdf, progress: Sequence[ObjectiveProgress]) -> None:
    """The plan's objectives the session addressed, as worded when the note was
    written, each with its rating."""
    if progress:
        pdf.heading("Treatment-plan objectives addressed")
        for row in progress:
            pdf.paragraph(f"• {row.objective_text}: {row.get_rating_display()}")


def _addenda(pdf: DocumentPdf, addenda: list[Addendum], zone: str, patient: Patient) -> None:
    if not addenda:
        return
    pdf.heading("Addenda")
    for addendum in addenda:
        about = ""
        if addendum.group_note_id is not None:
            about = f" (about {patient.display_name})" if addendum.patient_id else " (shared)"
        pdf.paragraph(
            f"{_who(addendum.author)}, {_at(addendum.created_at, zone)}{about}", bold=True
        )
        pdf.paragraph(addendum.text)


def _printed(pdf: DocumentPdf, by: str, at: datetime, zone: str) -> None:
    pdf.paragraph(f"Printed by {by} on {_at(at, zone)}.", size=8)


def clinical_note_pdf(
    patient: Patient,
    note: ClinicalNote,
    addenda: list[Addendum],
    *,
    by: str,
    at: datetime,
    progress: Sequence[ObjectiveProgress] = (),
) -> bytes:
    zone = note.time_zone
    definition = note.definition
    pdf = DocumentPdf(title=f"{definition.name} note: {patient.display_name}", footer_notice=FOOTER)
    subtitle = f"Individual note, {definition.label}, session of {_at(note.occurred_at, zone)}"
    _header(pdf, patient, f"{definition.name} note", subtitle)
    _signatures(pdf, note, zone)
    for section, text in note.section_texts():
        pdf.heading(section.label)
        pdf.paragraph(text or "—")
    _goals(pdf, list(note.goals))
    _objectives(pdf, progress)
    _addenda(pdf, addenda, zone, patient)
    _printed(pdf, by, at, zone)
    return pdf.build()


def member_group_note_pdf(member: MemberGroupNote, *, by: str, at: datetime) -> bytes:
    """The group note as this member's chart shows it: the other members' entries are
    not loaded for it, so they cannot be printed."""
    note, patient, zone = member.note, member.patient, member.zone
    session = member.session
    pdf = DocumentPdf(title=f"Group note: {patient.display_name}", footer_notice=FOOTER)
    subtitle = (
        f"{session.title}, {session.program.name}, {_at(session.starts_at, zone)} "
        f"to {_at(session.ends_at, zone)}"
    )
    _header(pdf, patient, "Group note", subtitle)
    _signatures(pdf, note, zone)
    pdf.heading("Group narrative (shared by every member)")
    pdf.paragraph(note.narrative or "—")
    pdf.heading(f"About {patient.display_name}")
    pdf.paragraph(member.entry.text or "—")
    _goals(pdf, list(note.goals))
    _objectives(pdf, member.progress)
    _addenda(pdf, member.addenda, zone, patient)
    _printed(pdf, by, at, zone)
    return pdf.build()


def note_export_record(
    actor: Actor, patient: Patient, object_type: str, object_id: uuid.UUID
) -> None:
    """The audit row of a printout: a note left the screen as a PDF."""
    with transaction.atomic():
        audit_record(
            action=AuditAction.EXPORT,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type=object_type,
            object_id=object_id,
            detail={"format": "pdf"},
        )
