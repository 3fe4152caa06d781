"""A note's printout lists the treatment-plan objectives the session addressed, each
with its rating, when there are any; a group note's printout lists only that
member's own. The objectives come from a stand-in plan registered for these tests
(the plans app is not needed to print a note)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from stepwise.core.tests.pdftext import pages_text, squash
from stepwise.notes import objectives
from stepwise.notes.objectives import ObjectiveOption
from stepwise.notes.services.group import GroupDraft, group_note_save, group_note_sign
from stepwise.notes.services.individual import NoteDraft, note_create, note_sign
from stepwise.notes.tests.support import ANA_ENTRY, BEN_ENTRY, DAP, NARRATIVE, Group

HEADING = "Treatment-plan objectives addressed"
MEETINGS = ObjectiveOption(uuid.uuid4(), "Attends 3 meetings a week", "1.1.1")
URGES = ObjectiveOption(uuid.uuid4(), "Uses urge surfing when cravings come", "1.1.2")
HOUSING = ObjectiveOption(uuid.uuid4(), "Visits two sober living houses", "2.1.1")


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch, group: Group) -> None:
    """Ana's plan has meetings and urge surfing; Ben's, housing; Sam has none."""
    offered = {group.ana.pk: [MEETINGS, URGES], group.ben.pk: [HOUSING]}

    def source(organization_id: int, patient_ids: Sequence[int]) -> dict[int, Any]:
        return {pk: offered[pk] for pk in patient_ids if pk in offered}

    monkeypatch.setitem(objectives._SOURCES, "stand-in plans", source)


def pdf_text(client: Any, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    return squash(" ".join(pages_text(response.content)))


def test_an_individual_notes_printout_lists_the_objectives_and_ratings(cast, group, plans):
    owner = cast.actors["owner"]
    progress = {MEETINGS.key: "progressing", URGES.key: "met"}
    note = note_sign(owner, note_create(owner, group.ana, NoteDraft("dap", DAP, progress=progress)))
    client = cast.client_for("owner")
    text = pdf_text(client, f"/notes/patients/{group.ana.public_id}/{note.public_id}/pdf/")
    assert squash(HEADING) in text
    assert squash("1.1.1 Attends 3 meetings a week: Progressing") in text
    assert squash("1.1.2 Uses urge surfing when cravings come: Met") in text
    # A note that rated none prints no such heading.
    plain = note_sign(owner, note_create(owner, group.ana, NoteDraft("dap", DAP, ["Sleep"])))
    text = pdf_text(client, f"/notes/patients/{group.ana.public_id}/{plain.public_id}/pdf/")
    assert squash(HEADING) not in text and squash("Sleep") in text


def test_a_group_notes_printout_lists_only_the_members_own_ratings(cast, group, plans):
    owner = cast.actors["owner"]
    ana, ben = str(group.ana.public_id), str(group.ben.public_id)
    draft = GroupDraft(
        NARRATIVE,
        [],
        group.entries(ana=ANA_ENTRY, ben=BEN_ENTRY),
        {ana: {URGES.key: "no_change"}, ben: {HOUSING.key: "regressed"}},
    )
    note = group_note_sign(owner, group_note_save(owner, group.session, draft))
    client = cast.client_for("owner")
    anas = pdf_text(client, f"/notes/patients/{ana}/group/{note.public_id}/pdf/")
    assert squash(HEADING) in anas
    assert squash("1.1.2 Uses urge surfing when cravings come: No change") in anas
    assert squash("sober living") not in anas
    bens = pdf_text(client, f"/notes/patients/{ben}/group/{note.public_id}/pdf/")
    assert squash("2.1.1 Visits two sober living houses: Regressed") in bens
    assert squash("urge surfing") not in bens
