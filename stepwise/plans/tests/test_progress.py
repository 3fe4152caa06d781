"""Progress from notes: a note ticks the objectives of the patient's plan that the
session addressed, each with a rating (individual notes, and each member's entry of
a group note); the plan shows per objective the signed notes that addressed it, the
latest rating, how many and when last. Notes of a patient without a plan keep their
free-text goals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.utils.html import escape

from stepwise.core.errors import ValidationFailed
from stepwise.notes.models import ObjectiveProgress, SignedNoteChanged
from stepwise.notes.services.group import GroupDraft, group_note_save, group_note_sign
from stepwise.notes.services.individual import NoteDraft, note_create, note_sign, note_update
from stepwise.notes.tests.support import (
    ANA_ENTRY,
    BEN_ENTRY,
    DAP,
    NARRATIVE,
    Group,
    group_with_attendance,
)
from stepwise.plans.selectors import plan_page
from stepwise.plans.tests.support import TODAY, at, signed


@pytest.fixture(autouse=True)
def _after_the_group() -> Iterator[None]:
    """The evening IOP group meets 18:00-21:00 on TODAY; these notes are written after."""
    with time_machine.travel(at(TODAY, 21, 30), tick=True):
        yield


@pytest.fixture
def group(cast: Any) -> Group:
    """Ana and Ben (present, late) each have a signed plan; Sam (absent) has none."""
    found = group_with_attendance(cast)
    signed(cast, found.ana)
    signed(cast, found.ben)
    return found


def keys_of(cast: Any, patient: Any) -> list[str]:
    version = plan_page(cast.actors["owner"], patient.public_id).active
    assert version is not None
    return [str(o.key) for o in version.content.objectives()]


def progress_of(cast: Any, patient: Any) -> list[tuple[int, str | None]]:
    """(notes, latest rating) of each objective of the plan in force, in plan order."""
    page = plan_page(cast.actors["owner"], patient.public_id)
    assert page.active is not None
    return [(o.progress.count, o.progress.latest) for o in page.active.objectives()]


def test_an_individual_note_rates_the_objectives_it_addressed(cast, group):
    owner = cast.actors["owner"]
    meetings, urges, housing = keys_of(cast, group.ana)
    draft = NoteDraft("dap", DAP, ["Cravings"], progress={meetings: "progressing", urges: ""})
    note = note_create(owner, group.ana, draft)
    assert ObjectiveProgress.objects.get().objective_text.startswith("1.1.1 Attends 3")
    assert progress_of(cast, group.ana) == [(0, None), (0, None), (0, None)]  # a draft
    # Left out (the API's notes), progress stays; given, it becomes exactly that.
    note_update(owner, note, NoteDraft("dap", DAP, ["Cravings"]))
    note = note_update(
        owner, note, NoteDraft("dap", DAP, progress={meetings: "met", housing: "regressed"})
    )
    note_sign(owner, note)
    assert note.goals == []
    assert progress_of(cast, group.ana) == [(1, "met"), (0, None), (1, "regressed")]
    row = ObjectiveProgress.objects.filter(rating="met").get()
    row.rating = "regressed"
    with pytest.raises(SignedNoteChanged):
        row.save()
    page = plan_page(owner, group.ana.public_id)
    assert page.active is not None
    first = page.active.objectives()[0]
    assert [n.note_id for n in first.notes] == [note.public_id]


def test_ratings_are_checked_against_the_plan(cast, group):
    owner = cast.actors["owner"]
    ben_key = keys_of(cast, group.ben)[0]
    meetings = keys_of(cast, group.ana)[0]
    with pytest.raises(ValidationFailed) as refused:
        note_create(
            owner, group.ana, NoteDraft("dap", DAP, progress={ben_key: "met", meetings: "great"})
        )
    assert refused.value.errors == {
        f"progress_{ben_key}": "This objective is not on the patient's current treatment plan.",
        f"progress_{meetings}": "Allowed values: progressing (Progressing), no_change (No "
        "change), regressed (Regressed), met (Met).",
    }
    # Sam has no plan: his notes keep their free-text goals.
    note = note_sign(owner, note_create(owner, group.sam, NoteDraft("dap", DAP, ["Sleep"])))
    assert note.goals == ["Sleep"] and not ObjectiveProgress.objects.exists()


def test_each_member_of_a_group_note_gets_their_own_ratings(cast, group):
    owner = cast.actors["owner"]
    ana, ben, sam = (str(p.public_id) for p in group.members)
    ana_meetings = keys_of(cast, group.ana)[0]
    ben_urges = keys_of(cast, group.ben)[1]
    entries = group.entries(ana=ANA_ENTRY)
    with pytest.raises(ValidationFailed) as refused:
        group_note_save(
            owner,
            group.session,
            GroupDraft(
                NARRATIVE,
                [],
                entries,
                {ana: {ana_meetings: "progressing"}, ben: {ben_urges: "met"}},
            ),
        )
    assert refused.value.errors == {
        f"progress_{ben}_{ben_urges}": "Write Ben Ortiz's entry to record progress on their objectives."
    }
    entries = group.entries(ana=ANA_ENTRY, ben=BEN_ENTRY)
    with pytest.raises(ValidationFailed) as wrong:
        group_note_save(
            owner, group.session, GroupDraft(NARRATIVE, [], entries, {ana: {ben_urges: "met"}})
        )
    assert list(wrong.value.errors) == [f"progress_{ana}_{ben_urges}"]
    ratings = {ana: {ana_meetings: "progressing"}, ben: {ben_urges: "no_change"}, sam: {}}
    note = group_note_save(owner, group.session, GroupDraft(NARRATIVE, [], entries, ratings))
    group_note_sign(owner, note)
    assert progress_of(cast, group.ana) == [(1, "progressing"), (0, None), (0, None)]
    assert progress_of(cast, group.ben) == [(0, None), (1, "no_change"), (0, None)]
    page = plan_page(owner, group.ana.public_id)
    assert page.active is not None
    assert page.active.objectives()[0].notes[0].kind == "group"


def test_the_note_pages_offer_and_show_the_objectives(cast, group):
    client = cast.client_for("owner")
    meetings = keys_of(cast, group.ana)[0]
    ana, ben = str(group.ana.public_id), str(group.ben.public_id)
    new = client.get(f"/notes/patients/{ana}/new/").content.decode()
    assert f'name="progress_{meetings}"' in new and "Not addressed" in new
    no_plan = client.get(f"/notes/patients/{group.sam.public_id}/new/").content.decode()
    assert 'name="progress_' not in no_plan and 'name="goals"' in no_plan
    saved = client.post(
        f"/notes/patients/{ana}/new/",
        {**DAP, "format": "dap", f"progress_{meetings}": "met", "action": "sign"},
    )
    assert saved.status_code == 302
    note_page = client.get(saved["Location"]).content.decode()
    assert (
        "Treatment-plan objectives addressed" in note_page and "<strong>Met</strong>" in note_page
    )

    group_url = f"/notes/sessions/{group.session.public_id}/group-note/"
    page = client.get(group_url).content.decode()
    assert f'name="progress_{ana}_{meetings}"' in page
    assert f'name="progress_{group.sam.public_id}_' not in page  # absent: no entry, no ratings
    ben_key = keys_of(cast, group.ben)[2]
    form = {
        "narrative": NARRATIVE,
        f"entry_{ana}": ANA_ENTRY,
        f"entry_{ben}": BEN_ENTRY,
        f"progress_{ana}_{meetings}": "progressing",
        f"progress_{ben}_{ben_key}": "regressed",
        "action": "sign",
    }
    assert client.post(group_url, form).status_code == 302
    member = client.get(f"/notes/patients/{ben}/").content.decode()
    assert escape(BEN_ENTRY) in member
    plan = client.get(f"/plans/patients/{ana}/").content.decode()
    assert "Progress: <strong" in plan and "2 notes" in plan
    assert escape("Visits two sober living houses") in plan
    assert progress_of(cast, group.ben)[2] == (1, "regressed")
