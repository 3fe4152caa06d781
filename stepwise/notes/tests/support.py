"""Shared set-up of the notes tests: an evening IOP group whose attendance is taken,
and small helpers to write notes as members of the cast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import time_machine

from stepwise.care.services import episode_admit
from stepwise.notes.models import ClinicalNote, GroupNote
from stepwise.notes.services.group import GroupDraft, group_note_save, group_note_sign
from stepwise.notes.services.individual import NoteDraft, note_create, note_sign
from stepwise.patients.models import Patient
from stepwise.scheduling.models import SchedulingSettings, Session
from stepwise.scheduling.services.attendance import Mark, attendance_record
from stepwise.scheduling.tests.support import at, iop_series

# Monday 2026-11-02: the group meets 18:00-21:00 (America/New_York).
GROUP_DAY = date(2026, 11, 2)
DAP = {
    "data": "Discussed cravings after work; used urge surfing twice this week.",
    "assessment": "Engaged, coping skills improving; no safety concerns.",
    "plan": "Continue IOP; practise urge surfing daily; next session Wednesday.",
}
NARRATIVE = "The group practised refusal skills in role play and shared weekend plans."
ANA_ENTRY = "Ana led the first role play and named her brother's visits as a trigger."
BEN_ENTRY = "Ben arrived late (bus); he spoke about a lapse on Saturday and asked for help."


@dataclass
class Group:
    session: Session
    ana: Patient  # present
    ben: Patient  # late
    sam: Patient  # absent, excused

    @property
    def members(self) -> list[Patient]:
        return [self.ana, self.ben, self.sam]

    def entries(self, **texts: str) -> dict[str, str]:
        by_name = {"ana": self.ana, "ben": self.ben, "sam": self.sam}
        return {str(by_name[name].public_id): text for name, text in texts.items()}


def group_with_attendance(cast: Any) -> Group:
    """The evening IOP group of Monday: Ana present, Ben late, Sam absent (excused);
    the counselor (owner) facilitates and is on each member's care team."""
    series = iop_series(cast)
    ana = cast.patient
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    sam = cast.new_patient("RR-3", "Sam", "Doe")
    with time_machine.travel(at(GROUP_DAY, 9), tick=False):
        for patient in (ana, ben, sam):
            episode_admit(cast.actors["owner"], patient, cast.iop)
    session = Session.objects.get(series=series, occurrence_on=GROUP_DAY)
    with time_machine.travel(at(GROUP_DAY, 21), tick=False):
        attendance_record(
            cast.actors["owner"],
            session,
            [
                Mark(ana.public_id, "present"),
                Mark(ben.public_id, "late", 150),
                Mark(sam.public_id, "absent_excused"),
            ],
        )
    return Group(session, ana, ben, sam)


def signed_group_note(cast: Any, group: Group, who: str = "owner") -> GroupNote:
    actor = cast.actors[who]
    draft = GroupDraft(NARRATIVE, ["Refusal skills"], group.entries(ana=ANA_ENTRY, ben=BEN_ENTRY))
    note = group_note_save(actor, group.session, draft)
    return group_note_sign(actor, note)


def cosign_required(cast: Any) -> None:
    """The organization asks for a supervisor's co-signature of unlicensed staff's notes."""
    SchedulingSettings.objects.update_or_create(
        organization=cast.org, defaults={"cosign_required": True}
    )


def dap_draft(**sections: str) -> NoteDraft:
    return NoteDraft(format="dap", sections={**DAP, **sections}, goals=["Manage cravings"])


def individual_note(
    cast: Any, patient: Patient | None = None, *, who: str = "owner", sign: bool = True
) -> ClinicalNote:
    actor = cast.actors[who]
    note = note_create(actor, patient or cast.patient, dap_draft())
    return note_sign(actor, note) if sign else note
