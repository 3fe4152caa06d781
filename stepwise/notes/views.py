"""Note pages: a patient's notes, an individual note (new, edit, sign, co-sign,
addendum, entered in error, printout), a session's group note, a group note as one
member's chart shows it, and the co-signature queue. Thin over the services and
selectors."""

from __future__ import annotations

import uuid
import zoneinfo
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from stepwise.care.chart import patient_for, patient_for_form
from stepwise.care.selectors import patient_time_zone
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.core.roles import Permission, role_can
from stepwise.core.web import actor_of, form_page_status, staff_view, submit
from stepwise.notes import rules
from stepwise.notes.forms import (
    SIGN,
    AddendumForm,
    ClinicalNoteForm,
    GroupAddendumForm,
    GroupNoteForm,
    MarkInErrorForm,
)
from stepwise.notes.models import Addendum, ClinicalNote, GroupNote
from stepwise.notes.objectives import ObjectiveOption, objectives_for, objectives_of
from stepwise.notes.printout import clinical_note_pdf, member_group_note_pdf, note_export_record
from stepwise.notes.selectors import (
    GroupNotePage,
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
from stepwise.patients.models import Patient
from stepwise.scheduling.services.common import zone_of
from stepwise.scheduling.services.series import session_get

PDF = "application/pdf"


def _show_times_for(patient: Patient) -> str:
    """Show this request's times in the patient's facility zone, as the forms take them."""
    zone = patient_time_zone(patient)
    timezone.activate(zoneinfo.ZoneInfo(zone))
    return zone


def _who(request: HttpRequest) -> str:
    user = request.user
    return str(getattr(user, "get_full_name", lambda: "")() or getattr(user, "username", ""))


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=PDF)
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # A printed record must not linger in shared or browser caches.
    response["Cache-Control"] = "no-store"
    return response


# --- a patient's notes ----------------------------------------------------------------


@staff_view(Permission.CHART_READ)
@require_GET
def patient_notes(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, items = patient_notes_read(actor, public_id)
    _show_times_for(patient)
    return render(request, "notes/patient_notes.html", {"patient": patient, "items": items})


# --- an individual note ---------------------------------------------------------------


def _format_of(request: HttpRequest, note: ClinicalNote | None = None) -> str:
    chosen = str(request.POST.get("format") or request.GET.get("format") or "")
    if chosen in rules.FORMATS:
        return chosen
    return note.format if note is not None else rules.DEFAULT_FORMAT


def _draft_of(form: ClinicalNoteForm, session: Any = None) -> NoteDraft:
    return NoteDraft(
        format=form.format_code,
        sections=form.sections(),
        goals=form.goals(),
        occurred_at=form.occurred(),
        session=session,
        progress=form.progress(),
    )


def _form_page(
    request: HttpRequest,
    patient: Patient,
    form: ClinicalNoteForm,
    note: ClinicalNote | None,
    status: int,
    session: Any = None,
) -> HttpResponse:
    context = {
        "patient": patient,
        "form": form,
        "note": note,
        "session": session,
        "format": rules.FORMATS[form.format_code],
        "formats": rules.FORMATS.values(),
    }
    return render(request, "notes/note_form.html", context, status=form_page_status(form, status))


def _after_save(
    request: HttpRequest, actor: Actor, form: ClinicalNoteForm, note: ClinicalNote
) -> tuple[HttpResponse | None, int]:
    """Sign the saved draft when asked; a refusal shows on the form (the draft is kept)."""
    if request.POST.get("action") != SIGN:
        messages.success(request, "Draft saved. Only you see it until it is signed.")
        return redirect("notes:edit", public_id=note.patient.public_id, note_id=note.public_id), 200
    signed, status = submit(form, lambda: note_sign(actor, note))
    if signed is None:
        return None, status
    messages.success(request, _signed_message(signed))
    return redirect("notes:note", public_id=note.patient.public_id, note_id=note.public_id), 200


def _signed_message(note: ClinicalNote | GroupNote) -> str:
    if note.awaits_cosign:
        return "Signed. It waits for a supervisor's co-signature; its text is final."
    return "Signed. Its text is final: correct it with an addendum."


@staff_view(Permission.NOTE_WRITE)
@require_http_methods(["GET", "POST"])
def note_new(request: HttpRequest, public_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    if request.method == "GET":
        patient = patient_for_form(actor, public_id, permission=Permission.NOTE_WRITE, form="note")
    else:
        patient = patient_for(actor, public_id, permission=Permission.NOTE_WRITE)
    session = None
    session_id = request.GET.get("session")
    if session_id:
        session = session_get(actor, session_id)
    zone = _show_times_for(patient)
    form = ClinicalNoteForm(
        request.POST or None,
        format_code=_format_of(request),
        time_zone=zone,
        objectives=objectives_of(actor.organization_id, patient.pk),
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        note, status = submit(form, lambda: note_create(actor, patient, _draft_of(form, session)))
        if note is not None:
            done, status = _after_save(request, actor, form, note)
            if done is not None:
                return done
            return _form_page(request, patient, form, note, status, session)
    return _form_page(request, patient, form, None, status, session)


@staff_view(Permission.NOTE_WRITE)
@require_http_methods(["GET", "POST"])
def note_edit(request: HttpRequest, public_id: uuid.UUID, note_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, note, _ = note_read(actor, public_id, note_id, permission=Permission.NOTE_WRITE)
    if not note.is_draft or note.author_id != actor.user_id:
        messages.info(
            request,
            "A signed note is not changed; add an addendum."
            if not note.is_draft
            else "Only its author changes a draft.",
        )
        return redirect("notes:note", public_id=patient.public_id, note_id=note.public_id)
    zone = _show_times_for(patient)
    form = ClinicalNoteForm(
        request.POST or None,
        format_code=_format_of(request, note),
        time_zone=zone,
        note=note,
        objectives=objectives_of(actor.organization_id, patient.pk),
        ratings={str(r.objective_key): r.rating for r in note_progress(note)},
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        saved, status = submit(
            form, lambda: note_update(actor, note, _draft_of(form, note.session))
        )
        if saved is not None:
            done, status = _after_save(request, actor, form, saved)
            if done is not None:
                return done
    return _form_page(request, patient, form, note, status, note.session)


def _note_page(
    request: HttpRequest,
    patient: Patient,
    note: ClinicalNote,
    addenda: list[Addendum],
    *,
    status: int = 200,
    addendum_form: AddendumForm | None = None,
    error_form: MarkInErrorForm | None = None,
) -> HttpResponse:
    actor = actor_of(request)
    _show_times_for(patient)
    mine = note.author_id == actor.user_id
    supervisor = role_can(actor.role, Permission.NOTE_COSIGN)
    context = {
        "patient": patient,
        "note": note,
        "addenda": addenda,
        "sections": note.section_texts(),
        "progress": note_progress(note),
        "may_edit": mine and note.is_draft,
        "may_cosign": supervisor and note.awaits_cosign and not mine,
        "may_add": note.is_signed and role_can(actor.role, Permission.NOTE_WRITE),
        "may_mark_error": (mine or supervisor) and not note.in_error,
        "addendum_form": addendum_form or AddendumForm(),
        "error_form": error_form or MarkInErrorForm(),
    }
    return render(request, "notes/note.html", context, status=status)


@staff_view(Permission.CHART_READ)
@require_GET
def note_page(request: HttpRequest, public_id: uuid.UUID, note_id: uuid.UUID) -> HttpResponse:
    patient, note, addenda = note_read(actor_of(request), public_id, note_id)
    return _note_page(request, patient, note, addenda)


def _back_to_note(note: ClinicalNote) -> HttpResponse:
    return redirect("notes:note", public_id=note.patient.public_id, note_id=note.public_id)


@staff_view(Permission.NOTE_WRITE)
@require_POST
def note_sign_view(request: HttpRequest, public_id: uuid.UUID, note_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    _, note, _ = note_read(actor, public_id, note_id, permission=Permission.NOTE_WRITE)
    try:
        signed = note_sign(actor, note)
    except ValidationFailed as exc:
        messages.error(request, " ".join(exc.errors.values()))
        return redirect("notes:edit", public_id=note.patient.public_id, note_id=note.public_id)
    except Conflict as exc:
        messages.error(request, exc.message)
        return _back_to_note(note)
    messages.success(request, _signed_message(signed))
    return _back_to_note(note)


@staff_view(Permission.NOTE_COSIGN)
@require_POST
def note_cosign_view(
    request: HttpRequest, public_id: uuid.UUID, note_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    _, note, _ = note_read(actor, public_id, note_id, permission=Permission.NOTE_COSIGN)
    try:
        note_cosign(actor, note)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Co-signed.")
    if request.POST.get("next") == "queue":
        return redirect("notes:cosign_queue")
    return _back_to_note(note)


@staff_view(Permission.NOTE_WRITE)
@require_POST
def note_addendum(request: HttpRequest, public_id: uuid.UUID, note_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, note, addenda = note_read(actor, public_id, note_id, permission=Permission.NOTE_WRITE)
    form = AddendumForm(request.POST)
    status = 200
    if form.is_valid():
        added, status = submit(
            form, lambda: note_addendum_add(actor, note, form.cleaned_data["text"])
        )
        if added is not None:
            messages.success(request, "Addendum added.")
            return _back_to_note(note)
    return _note_page(
        request, patient, note, addenda, status=form_page_status(form, status), addendum_form=form
    )


@staff_view(Permission.NOTE_WRITE)
@require_POST
def note_error(request: HttpRequest, public_id: uuid.UUID, note_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, note, addenda = note_read(actor, public_id, note_id, permission=Permission.NOTE_WRITE)
    form = MarkInErrorForm(request.POST)
    status = 200
    if form.is_valid():
        done, status = submit(
            form, lambda: note_mark_in_error(actor, note, reason=form.cleaned_data["reason"])
        )
        if done is not None:
            messages.success(
                request, "Marked entered in error. It stays in the record, struck through."
            )
            return _back_to_note(note)
    return _note_page(
        request, patient, note, addenda, status=form_page_status(form, status), error_form=form
    )


@staff_view(Permission.CHART_READ)
@require_GET
def note_pdf(request: HttpRequest, public_id: uuid.UUID, note_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    patient, note, addenda = note_read(actor, public_id, note_id)
    note_export_record(actor, patient, "clinical_note", note.public_id)
    content = clinical_note_pdf(
        patient, note, addenda, by=_who(request), at=timezone.now(), progress=note_progress(note)
    )
    return _pdf(content, f"note-{patient.mrn}-{note.occurred_at:%Y%m%d}.pdf")


# --- a group note as one member's chart shows it --------------------------------------------


@staff_view(Permission.CHART_READ)
@require_GET
def member_group_note(
    request: HttpRequest, public_id: uuid.UUID, group_note_id: uuid.UUID
) -> HttpResponse:
    member = member_group_note_read(actor_of(request), public_id, group_note_id)
    timezone.activate(zoneinfo.ZoneInfo(member.zone))
    context = {"patient": member.patient, "member": member, "note": member.note}
    return render(request, "notes/member_group_note.html", context)


@staff_view(Permission.CHART_READ)
@require_GET
def member_group_note_pdf_view(
    request: HttpRequest, public_id: uuid.UUID, group_note_id: uuid.UUID
) -> HttpResponse:
    actor = actor_of(request)
    member = member_group_note_read(actor, public_id, group_note_id)
    note_export_record(actor, member.patient, "group_note", member.note.public_id)
    content = member_group_note_pdf(member, by=_who(request), at=timezone.now())
    day = f"{member.session.starts_at:%Y%m%d}"
    return _pdf(content, f"group-note-{member.patient.mrn}-{day}.pdf")


# --- a session's group note ----------------------------------------------------------------


def _members(page: GroupNotePage) -> list[tuple[str, str]]:
    return [(key, entry.patient.display_name) for key, entry in page.entries.items()]


def _group_page(
    request: HttpRequest,
    page: GroupNotePage,
    *,
    form: GroupNoteForm | None = None,
    addendum_form: GroupAddendumForm | None = None,
    error_form: MarkInErrorForm | None = None,
    status: int = 200,
) -> HttpResponse:
    actor = actor_of(request)
    timezone.activate(zone_of(page.session.program))
    note = page.note
    mine = note is not None and note.author_id == actor.user_id
    supervisor = role_can(actor.role, Permission.NOTE_COSIGN)
    if form is None and page.editable:
        form = GroupNoteForm(
            attending=page.attending,
            note=note,
            entries=page.entries,
            objectives=_member_objectives(actor, page),
            ratings=page.ratings(),
        )
    rows = [
        (row, page.entries.get(key), page.progress.get(key, []))
        for row in page.roster
        if (key := str(row.patient.public_id)) in page.entries
    ]
    context = {
        "page": page,
        "session": page.session,
        "note": note,
        "form": form,
        "rows": rows,
        "shared_addenda": [a for a in page.addenda if a.patient_id is None],
        "member_addenda": [a for a in page.addenda if a.patient_id is not None],
        "may_cosign": note is not None and supervisor and note.awaits_cosign and not mine,
        "may_add": note is not None and note.is_signed,
        "may_mark_error": note is not None and (mine or supervisor),
        "addendum_form": addendum_form or GroupAddendumForm(members=_members(page)),
        "error_form": error_form or MarkInErrorForm(),
        "zone": zone_of(page.session.program).key,
    }
    return render(request, "notes/group_note.html", context, status=status)


def _member_objectives(actor: Actor, page: GroupNotePage) -> dict[str, list[ObjectiveOption]]:
    """Each attending member's treatment-plan objectives (one call for the group)."""
    found = objectives_for(actor.organization_id, [row.patient.pk for row in page.attending])
    return {
        str(row.patient.public_id): found[row.patient.pk]
        for row in page.attending
        if row.patient.pk in found
    }


def _back_to_group(session_id: uuid.UUID) -> HttpResponse:
    return redirect("notes:group_note", session_id=session_id)


@staff_view(Permission.NOTE_WRITE)
@require_http_methods(["GET", "POST"])
def group_note(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The group note of a session, from its attendance screen: the shared narrative and
    one short entry per member who attended; save as a draft, or sign."""
    actor = actor_of(request)
    session = session_get(actor, session_id)
    page = group_note_page(actor, session)
    if request.method == "GET":
        return _group_page(request, page)
    if not page.editable:
        messages.error(
            request,
            "This group note is signed: add an addendum."
            if page.note is not None and not page.note.is_draft
            else "Someone else is drafting this group note.",
        )
        return _back_to_group(session.public_id)
    form = GroupNoteForm(
        request.POST, attending=page.attending, objectives=_member_objectives(actor, page)
    )
    status = 200
    if form.is_valid():
        draft = GroupDraft(
            form.cleaned_data["narrative"], form.goals(), form.entries(), form.progress()
        )
        saved, status = submit(form, lambda: group_note_save(actor, session, draft))
        if saved is not None:
            if request.POST.get("action") != SIGN:
                messages.success(request, "Draft saved. Only you see it until it is signed.")
                return _back_to_group(session.public_id)
            signed, status = submit(form, lambda: group_note_sign(actor, saved))
            if signed is not None:
                messages.success(
                    request,
                    _signed_message(signed)
                    + f" It is in the chart of each of the {len(form.member_keys)} members "
                    "who attended.",
                )
                return _back_to_group(session.public_id)
    return _group_page(request, page, form=form, status=form_page_status(form, status))


def _live_note(page: GroupNotePage) -> GroupNote:
    if page.note is None or page.others_draft:
        raise NotFound()
    return page.note


@staff_view(Permission.NOTE_COSIGN)
@require_POST
def group_note_cosign_view(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    session = session_get(actor, session_id)
    note = _live_note(group_note_page(actor, session))
    try:
        group_note_cosign(actor, note)
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "Co-signed.")
    if request.POST.get("next") == "queue":
        return redirect("notes:cosign_queue")
    return _back_to_group(session.public_id)


@staff_view(Permission.NOTE_WRITE)
@require_POST
def group_addendum(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    session = session_get(actor, session_id)
    page = group_note_page(actor, session)
    note = _live_note(page)
    form = GroupAddendumForm(request.POST, members=_members(page))
    status = 200
    if form.is_valid():
        about = form.cleaned_data.get("about") or ""
        patient = page.entries[about].patient if about else None
        added, status = submit(
            form,
            lambda: group_addendum_add(actor, note, form.cleaned_data["text"], patient=patient),
        )
        if added is not None:
            messages.success(request, "Addendum added.")
            return _back_to_group(session.public_id)
    return _group_page(request, page, addendum_form=form, status=form_page_status(form, status))


@staff_view(Permission.NOTE_WRITE)
@require_POST
def group_error(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    actor = actor_of(request)
    session = session_get(actor, session_id)
    page = group_note_page(actor, session)
    note = page.note
    if note is None:
        raise NotFound()
    form = MarkInErrorForm(request.POST)
    status = 200
    if form.is_valid():
        done, status = submit(
            form, lambda: group_note_mark_in_error(actor, note, reason=form.cleaned_data["reason"])
        )
        if done is not None:
            messages.success(
                request,
                "Marked entered in error: it stays in each member's chart, struck through. "
                "You may write a new group note for this session.",
            )
            return _back_to_group(session.public_id)
    return _group_page(request, page, error_form=form, status=form_page_status(form, status))


# --- the co-signature queue ----------------------------------------------------------------


@staff_view(Permission.NOTE_COSIGN)
@require_GET
def cosign_queue_view(request: HttpRequest) -> HttpResponse:
    queue = cosign_queue(actor_of(request))
    return render(request, "notes/cosign_queue.html", {"queue": queue})
