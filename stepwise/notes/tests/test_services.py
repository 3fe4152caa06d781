"""The note services: draft, sign, co-sign, addendum, entered in error, for individual
and group notes; refusals name the field; a signed note never changes, not even
through save()."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from stepwise.care.models import ProgramStaff
from stepwise.core.errors import AccessDenied, Conflict, NotFound, OutsideCareTeam, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.notes.models import (
    Addendum,
    ClinicalNote,
    GroupNote,
    GroupNoteEntry,
    NoteStatus,
    SignedNoteChanged,
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
from stepwise.notes.tests.support import (
    ANA_ENTRY,
    BEN_ENTRY,
    DAP,
    NARRATIVE,
    cosign_required,
    dap_draft,
    individual_note,
    signed_group_note,
)
from stepwise.patients.services import care_team_join
from stepwise.scheduling.models import Session
from stepwise.scheduling.services.series import session_cancel

SIGNED_IS_FINAL = "A signed note is not changed; add an addendum."


def rows(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(category="notes", **filters).order_by("id"))


# --- individual notes: drafting ---------------------------------------------------------


def test_a_draft_is_stored_with_the_episode_the_zone_and_an_audit_row(cast, group):
    note = note_create(
        cast.actors["owner"],
        group.ana,
        NoteDraft("birp", {"behavior": " Calm\r\n", "plan": "Next week"}, ["Sleep", "Sleep"]),
    )
    assert note.status == NoteStatus.DRAFT and note.author == cast.users["owner"]
    assert note.sections == {
        "behavior": "Calm",
        "intervention": "",
        "response": "",
        "plan": "Next week",
    }
    assert note.goals == ["Sleep"]
    assert note.episode is not None and note.episode.patient == group.ana
    assert note.time_zone == "America/New_York"
    (event,) = rows(object_type="clinical_note")
    assert event.action == "create" and event.patient_public_id == group.ana.public_id
    assert event.data_class == "part2" and event.detail == {"format": "birp", "status": "draft"}


def test_a_draft_refused_names_each_field(cast):
    with pytest.raises(ValidationFailed) as refused:
        note_create(
            cast.actors["owner"],
            cast.patient,
            NoteDraft(
                "dap",
                {"data": "x", "subjective": "y"},
                ["x" * 300],
                occurred_at=timezone.now() + timedelta(days=1),
            ),
        )
    assert set(refused.value.errors) == {"sections", "goals", "occurred_at"}
    with pytest.raises(ValidationFailed) as unknown:
        note_create(cast.actors["owner"], cast.patient, NoteDraft("narrative", {}))
    assert "dap" in unknown.value.errors["format"]
    assert not ClinicalNote.objects.exists()


def test_a_note_of_a_session_needs_the_patient_on_its_roster(cast, group):
    stranger = cast.new_patient("RR-9", "Nia", "Stone")
    with pytest.raises(ValidationFailed) as refused:
        note_create(cast.actors["owner"], stranger, NoteDraft("dap", {}, session=group.session))
    assert refused.value.errors == {"session": "The patient is not on that session's roster."}
    note = note_create(cast.actors["owner"], group.ben, NoteDraft("dap", {}, session=group.session))
    assert note.occurred_at == group.session.starts_at and note.session == group.session


def test_only_the_care_team_writes_a_note(cast):
    with pytest.raises(OutsideCareTeam):
        note_create(cast.actors["colleague"], cast.patient, dap_draft())
    with pytest.raises(AccessDenied):
        note_create(cast.actors["readonly"], cast.patient, dap_draft())
    with pytest.raises(NotFound):
        note_create(cast.actors["outsider"], cast.patient, dap_draft())
    assert not ClinicalNote.objects.exists()
    refusals = AuditEvent.objects.filter(outcome="denied", patient_public_id=cast.patient.public_id)
    assert refusals.count() == 2


def test_the_author_changes_the_draft_and_nobody_else(cast):
    note = individual_note(cast, sign=False)
    changed = note_update(cast.actors["owner"], note, dap_draft(plan="Refer to the physician"))
    assert changed.sections["plan"] == "Refer to the physician"
    assert changed.occurred_at == note.occurred_at  # kept when no time is given
    with pytest.raises(AccessDenied, match="Only its author"):
        note_update(cast.actors["director"], note, dap_draft(plan="Mine now"))


# --- signing and co-signing ------------------------------------------------------------


def test_signing_needs_every_section_and_names_the_empty_ones(cast):
    note = note_create(cast.actors["owner"], cast.patient, NoteDraft("dap", {"data": "Seen"}))
    with pytest.raises(ValidationFailed) as refused:
        note_sign(cast.actors["owner"], note)
    assert refused.value.errors == {
        "assessment": "Write the assessment before signing.",
        "plan": "Write the plan before signing.",
    }
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT and note.signed_at is None


def test_a_signed_note_is_final_and_signing_is_audited(cast):
    note = individual_note(cast)
    assert note.status == NoteStatus.SIGNED and not note.needs_cosign
    assert note.signed_by == cast.users["owner"] and note.signed_at is not None
    assert rows(action="update")[-1].detail == {"status": "signed"}
    with pytest.raises(Conflict, match=SIGNED_IS_FINAL):
        note_update(cast.actors["owner"], note, dap_draft(plan="Changed my mind"))
    with pytest.raises(Conflict, match=SIGNED_IS_FINAL):
        note_sign(cast.actors["owner"], note)


def test_with_cosign_required_a_counselor_note_waits_for_a_supervisor(cast):
    cosign_required(cast)
    note = individual_note(cast)
    assert note.status == NoteStatus.AWAITING_COSIGN and note.needs_cosign
    with pytest.raises(Conflict, match=SIGNED_IS_FINAL):
        note_update(cast.actors["owner"], note, dap_draft())
    with pytest.raises(AccessDenied):  # a nurse does not co-sign
        note_cosign(cast.actors["colleague"], note)
    done = note_cosign(cast.actors["director"], note)
    assert done.status == NoteStatus.SIGNED and done.cosigned_by == cast.users["director"]
    assert rows(action="review")[-1].patient_public_id == cast.patient.public_id
    with pytest.raises(Conflict, match="not waiting"):
        note_cosign(cast.actors["director"], done)


def test_a_supervisor_signs_without_cosign_and_never_cosigns_their_own(cast):
    cosign_required(cast)
    note = individual_note(cast, who="director")
    assert note.status == NoteStatus.SIGNED and not note.needs_cosign
    physician = cast.new_member("physician", "doc")
    care_team_join(
        cast.actors["owner"], cast.patient, user_id=cast.users["doc"].pk, role="physician", why="t"
    )
    own = individual_note(cast, who="doc")
    assert own.status == NoteStatus.SIGNED  # a physician may co-sign, so needs none
    ClinicalNote.objects.filter(pk=own.pk).update(
        status=NoteStatus.AWAITING_COSIGN, needs_cosign=True
    )
    own.refresh_from_db()
    with pytest.raises(AccessDenied, match="other than its author"):
        note_cosign(physician, own)


# --- addenda and entered in error ------------------------------------------------------


def test_an_addendum_goes_on_a_signed_note_and_is_final(cast):
    draft = individual_note(cast, sign=False)
    with pytest.raises(Conflict, match="still a draft"):
        note_addendum_add(cast.actors["owner"], draft, "Later thought")
    note = note_sign(cast.actors["owner"], draft)
    with pytest.raises(ValidationFailed) as empty:
        note_addendum_add(cast.actors["owner"], note, "   ")
    assert set(empty.value.errors) == {"text"}
    addendum = note_addendum_add(cast.actors["owner"], note, "Called the patient: safe.")
    assert addendum.clinical_note == note and addendum.author == cast.users["owner"]
    event = rows(object_type="addendum")[-1]
    assert event.patient_public_id == cast.patient.public_id
    addendum.text = "Rewritten"
    with pytest.raises(SignedNoteChanged):
        addendum.save()
    with pytest.raises(SignedNoteChanged):
        addendum.delete()


def test_entered_in_error_needs_a_reason_and_the_author_or_a_supervisor(cast):
    note = individual_note(cast)
    with pytest.raises(ValidationFailed) as refused:
        note_mark_in_error(cast.actors["owner"], note, reason=" ")
    assert set(refused.value.errors) == {"reason"}
    other = cast.new_member("counselor", "second")
    care_team_join(
        cast.actors["owner"],
        cast.patient,
        user_id=cast.users["second"].pk,
        role="counselor",
        why="t",
    )
    with pytest.raises(AccessDenied, match="author or a supervisor"):
        note_mark_in_error(other, note, reason="Wrong patient")
    with pytest.raises(OutsideCareTeam):
        note_mark_in_error(cast.actors["colleague"], note, reason="Wrong patient")
    marked = note_mark_in_error(cast.actors["director"], note, reason="Wrong patient")
    assert marked.status == NoteStatus.ENTERED_IN_ERROR and marked.error_reason == "Wrong patient"
    assert marked.signed_at is not None  # it was signed: that stays in the record
    assert rows(action="update")[-1].detail == {"status": "entered_in_error", "was": "signed"}
    with pytest.raises(Conflict, match="already"):
        note_mark_in_error(cast.actors["owner"], marked, reason="Again")
    with pytest.raises(Conflict, match="entered in error"):
        note_addendum_add(cast.actors["owner"], marked, "More")


# --- immutability in the model ---------------------------------------------------------


def test_save_refuses_to_change_the_text_of_a_signed_note(cast):
    individual_note(cast)
    stored = ClinicalNote.objects.get()
    stored.sections = {**DAP, "plan": "Quietly rewritten"}
    with pytest.raises(SignedNoteChanged, match="sections"):
        stored.save()
    stored = ClinicalNote.objects.get()
    stored.goals.append("Another goal")  # changed in place, caught all the same
    with pytest.raises(SignedNoteChanged, match="goals"):
        stored.save(update_fields=["goals"])
    with pytest.raises(SignedNoteChanged):
        ClinicalNote.objects.get().delete()
    assert ClinicalNote.objects.get().sections == DAP


def test_a_signed_note_never_goes_back_to_a_draft(cast):
    individual_note(cast)
    stored = ClinicalNote.objects.get()
    stored.status = "draft"
    with pytest.raises(SignedNoteChanged, match="cannot become draft"):
        stored.save()
    assert ClinicalNote.objects.get().status == "signed"


def test_save_knows_a_note_was_signed_after_a_refresh_or_when_built_by_hand(cast):
    draft = individual_note(cast, sign=False)
    note_sign(cast.actors["owner"], ClinicalNote.objects.get(pk=draft.pk))
    draft.refresh_from_db()
    draft.sections = {**DAP, "data": "Changed after signing"}
    with pytest.raises(SignedNoteChanged):
        draft.save()
    stored = ClinicalNote.objects.get()
    by_hand = ClinicalNote(
        pk=stored.pk,
        public_id=stored.public_id,
        organization=cast.org,
        patient=cast.patient,
        author=cast.users["owner"],
        format="dap",
        sections={**DAP, "plan": "Forged"},
        occurred_at=stored.occurred_at,
        status=NoteStatus.SIGNED,
        signed_at=stored.signed_at,
        signed_by=cast.users["owner"],
    )
    with pytest.raises(SignedNoteChanged, match="sections"):
        by_hand.save()
    assert ClinicalNote.objects.get().sections == DAP


def test_save_lets_a_draft_change_and_a_signed_note_change_status(cast):
    draft = individual_note(cast, sign=False)
    stored = ClinicalNote.objects.get(pk=draft.pk)
    stored.sections = {**DAP, "plan": "Changed while a draft"}
    stored.save()
    note_sign(cast.actors["owner"], stored)
    signed = ClinicalNote.objects.get(pk=draft.pk)
    signed.updated_at = timezone.now()
    signed.save(update_fields=["updated_at"])  # nothing of the text changed


# --- group notes -----------------------------------------------------------------------


def test_a_group_draft_keeps_an_entry_per_attending_member_audited_per_member(cast, group):
    draft = GroupDraft(NARRATIVE, ["Refusal skills"], group.entries(ana=ANA_ENTRY, ben=""))
    note = group_note_save(cast.actors["owner"], group.session, draft)
    assert note.status == NoteStatus.DRAFT and note.narrative == NARRATIVE
    assert [e.patient for e in note.entries.all()] == [group.ana]
    (event,) = rows(object_type="group_note")
    assert event.action == "create" and event.patient_public_id == group.ana.public_id
    # Saving again makes the entries exactly those given: Ben's added, Ana's removed.
    group_note_save(
        cast.actors["owner"], group.session, GroupDraft(NARRATIVE, [], group.entries(ben="B"))
    )
    assert [e.patient for e in GroupNoteEntry.objects.all()] == [group.ben]
    touched = {e.patient_public_id for e in rows(object_type="group_note", action="update")}
    assert touched == {group.ana.public_id, group.ben.public_id}


def test_an_entry_for_a_member_who_did_not_attend_is_refused_by_name(cast, group):
    stranger = cast.new_patient("RR-9", "Nia", "Stone")
    draft = GroupDraft(
        NARRATIVE,
        [],
        {**group.entries(sam="Was he there?"), str(stranger.public_id): "Not in this group"},
    )
    with pytest.raises(ValidationFailed) as refused:
        group_note_save(cast.actors["owner"], group.session, draft)
    assert refused.value.errors == {
        f"entry_{group.sam.public_id}": "Sam Doe did not attend; an entry is only for who attended.",
        f"entry_{stranger.public_id}": "This patient is not on the session's roster.",
    }
    assert not GroupNote.objects.exists()


def test_a_group_note_waits_for_the_session_and_none_for_a_cancelled_one(cast, group):
    wednesday = Session.objects.get(series=group.session.series, occurrence_on=date(2026, 11, 4))
    with pytest.raises(ValidationFailed) as early:
        group_note_save(cast.actors["owner"], wednesday, GroupDraft(NARRATIVE))
    assert set(early.value.errors) == {"session"}
    session_cancel(cast.actors["director"], wednesday, reason="Snow")
    wednesday.refresh_from_db()
    with pytest.raises(Conflict, match="cancelled"):
        group_note_save(cast.actors["owner"], wednesday, GroupDraft(NARRATIVE))


def test_only_who_runs_the_session_writes_its_note(cast, group):
    cast.new_member("counselor", "stranger")
    with pytest.raises(AccessDenied):
        group_note_save(cast.actors["stranger"], group.session, GroupDraft(NARRATIVE))
    with pytest.raises(AccessDenied):
        group_note_save(cast.actors["readonly"], group.session, GroupDraft(NARRATIVE))
    mine = group_note_save(cast.actors["owner"], group.session, GroupDraft(NARRATIVE))
    with pytest.raises(AccessDenied, match="Only its author"):
        group_note_save(cast.actors["director"], group.session, GroupDraft("Mine"))
    assert GroupNote.objects.get() == mine


def test_signing_a_group_note_names_the_missing_entries_by_member(cast, group):
    note = group_note_save(
        cast.actors["owner"], group.session, GroupDraft("", [], group.entries(ana=ANA_ENTRY))
    )
    with pytest.raises(ValidationFailed) as refused:
        group_note_sign(cast.actors["owner"], note)
    assert refused.value.errors == {
        "narrative": "Write the shared narrative before signing.",
        f"entry_{group.ben.public_id}": "Ben Ortiz: write a short entry before signing.",
    }
    assert GroupNote.objects.get().status == NoteStatus.DRAFT


def test_a_signed_group_note_reaches_each_attending_member_and_is_final(cast, group):
    note = signed_group_note(cast, group)
    assert note.status == NoteStatus.SIGNED
    signed = rows(object_type="group_note", action="update")
    assert {e.patient_public_id for e in signed} == {group.ana.public_id, group.ben.public_id}
    with pytest.raises(Conflict, match=SIGNED_IS_FINAL):
        group_note_save(cast.actors["owner"], group.session, GroupDraft("Rewritten"))
    stored = GroupNote.objects.get()
    stored.narrative = "Rewritten behind the service's back"
    with pytest.raises(SignedNoteChanged, match="narrative"):
        stored.save()
    entry = GroupNoteEntry.objects.get(patient=group.ben)
    entry.text = "Rewritten"
    with pytest.raises(SignedNoteChanged):
        entry.save()
    with pytest.raises(SignedNoteChanged):
        GroupNoteEntry.objects.get(patient=group.ana).delete()
    assert GroupNoteEntry.objects.get(patient=group.ben).text == BEN_ENTRY


def test_a_group_note_cosigned_by_a_supervisor_who_may_run_it(cast, group):
    cosign_required(cast)
    note = signed_group_note(cast, group)
    assert note.status == NoteStatus.AWAITING_COSIGN
    doc = cast.new_member("physician", "doc")
    with pytest.raises(AccessDenied):  # not the facilitator nor the program's staff
        group_note_cosign(doc, note)
    with pytest.raises(AccessDenied):
        group_note_cosign(cast.actors["owner"], note)
    done = group_note_cosign(cast.actors["director"], note)
    assert done.status == NoteStatus.SIGNED and done.cosigned_by == cast.users["director"]
    reviewed = rows(object_type="group_note", action="review")
    assert {e.patient_public_id for e in reviewed} == {group.ana.public_id, group.ben.public_id}


def test_group_addenda_are_shared_or_about_one_member(cast, group):
    note = signed_group_note(cast, group)
    shared = group_addendum_add(cast.actors["owner"], note, "Handout sent to everyone.")
    about_ben = group_addendum_add(
        cast.actors["owner"], note, "Ben called back: safe.", patient=group.ben
    )
    assert shared.patient is None and about_ben.patient == group.ben
    with pytest.raises(ValidationFailed) as refused:
        group_addendum_add(cast.actors["owner"], note, "About Sam", patient=group.sam)
    assert set(refused.value.errors) == {"patient"}
    added = rows(object_type="addendum")
    assert [e.patient_public_id for e in added[-1:]] == [group.ben.public_id]
    assert {e.patient_public_id for e in added[:-1]} == {group.ana.public_id, group.ben.public_id}
    assert Addendum.objects.count() == 2


def test_a_group_note_in_error_leaves_room_for_a_new_one(cast, group):
    note = signed_group_note(cast, group)
    cast.new_member("counselor", "co")
    ProgramStaff.objects.create(
        organization=cast.org,
        program=cast.iop,
        user=cast.users["co"],
        added_by=cast.users["director"],
    )
    with pytest.raises(AccessDenied, match="author or a supervisor"):
        group_note_mark_in_error(cast.actors["co"], note, reason="Wrong group")
    marked = group_note_mark_in_error(cast.actors["owner"], note, reason="Wrong group")
    assert marked.status == NoteStatus.ENTERED_IN_ERROR
    fresh = group_note_save(cast.actors["owner"], group.session, GroupDraft(NARRATIVE))
    assert fresh.pk != note.pk and GroupNote.objects.count() == 2


def test_a_member_with_an_entry_in_the_signed_note_is_not_marked_absent_after(cast, group):
    from stepwise.core.errors import Conflict
    from stepwise.scheduling.models import Attendance
    from stepwise.scheduling.services.attendance import Mark, attendance_record

    signed_group_note(cast, group)
    with pytest.raises(Conflict, match=r"Ortiz.*has an entry in this session's signed group note"):
        attendance_record(
            cast.actors["owner"], group.session, [Mark(group.ben.public_id, "absent_excused")]
        )
    assert Attendance.objects.get(session=group.session, patient=group.ben).status == "late"
    # Minutes of an attending member can still be corrected.
    attendance_record(cast.actors["owner"], group.session, [Mark(group.ben.public_id, "late", 120)])
