"""The group-note privacy rule: a member's chart, API answer and printout hold the
shared narrative, the shared addenda, and only that member's own entry and addenda;
never another member's. The entries are not even loaded for someone else's chart."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils.html import escape

from stepwise.api.tests.support import Api
from stepwise.core.tests.pdftext import pages_text, squash
from stepwise.notes.models import GroupNote
from stepwise.notes.services.group import GroupDraft, group_addendum_add, group_note_save
from stepwise.notes.tests.support import (
    ANA_ENTRY,
    BEN_ENTRY,
    NARRATIVE,
    Group,
    signed_group_note,
)

SHARED = "Handout on refusal skills sent to every member."
ABOUT_BEN = "Ben phoned the next morning: no use since, sponsor called."
ABOUT_ANA = "Ana asked for a family session about her brother."


@pytest.fixture
def note(cast: Any, group: Group) -> GroupNote:
    note = signed_group_note(cast, group)
    owner = cast.actors["owner"]
    group_addendum_add(owner, note, SHARED)
    group_addendum_add(owner, note, ABOUT_BEN, patient=group.ben)
    group_addendum_add(owner, note, ABOUT_ANA, patient=group.ana)
    return note


def _only_own_entries_loaded(queries: list[dict[str, str]], patient_pk: int) -> None:
    """Every read of group-note entries is narrowed to this one patient in SQL."""
    reads = [q["sql"] for q in queries if 'FROM "notes_groupnoteentry"' in q["sql"]]
    assert reads, "no entry was read at all"
    for sql in reads:
        assert f'"notes_groupnoteentry"."patient_id" = {patient_pk}' in sql, sql


def _html_shows_only_anas_part(html: str) -> None:
    assert NARRATIVE in html and escape(ANA_ENTRY) in html
    assert SHARED in html and ABOUT_ANA in html
    for other in (BEN_ENTRY, escape(BEN_ENTRY), ABOUT_BEN, "Ortiz"):
        assert other not in html, other


def test_the_chart_shows_the_shared_part_and_only_the_members_own_entry(cast, group, note):
    client = cast.client_for("owner")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"/patients/{group.ana.public_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert NARRATIVE in html and escape(ANA_ENTRY) in html
    assert escape(BEN_ENTRY) not in html and "Ortiz" not in html
    _only_own_entries_loaded(captured.captured_queries, group.ana.pk)
    ben_chart = client.get(f"/patients/{group.ben.public_id}/").content.decode()
    assert escape(BEN_ENTRY) in ben_chart and escape(ANA_ENTRY) not in ben_chart
    # Sam did not attend: the note is not in his chart at all.
    sam_chart = client.get(f"/patients/{group.sam.public_id}/").content.decode()
    assert NARRATIVE not in sam_chart and "No notes yet." in sam_chart


def test_the_members_note_page_and_list_show_only_their_part(cast, group, note):
    client = cast.client_for("readonly")  # the privacy officer reads every chart
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/notes/patients/{group.ana.public_id}/group/{note.public_id}/")
    assert page.status_code == 200
    _html_shows_only_anas_part(page.content.decode())
    _only_own_entries_loaded(captured.captured_queries, group.ana.pk)
    listing = client.get(f"/notes/patients/{group.ana.public_id}/").content.decode()
    assert escape(ANA_ENTRY)[:100] in listing and escape(BEN_ENTRY)[:100] not in listing
    # The note is not reached through a chart it is not in.
    assert (
        client.get(f"/notes/patients/{group.sam.public_id}/group/{note.public_id}/").status_code
        == 404
    )


def test_the_printout_holds_the_shared_part_and_only_the_members_own_entry(cast, group, note):
    client = cast.client_for("owner")
    response = client.get(f"/notes/patients/{group.ana.public_id}/group/{note.public_id}/pdf/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    text = squash(" ".join(pages_text(response.content)))
    for shown in (NARRATIVE, ANA_ENTRY, SHARED, ABOUT_ANA, "Ana Rivera", "RR-1"):
        assert squash(shown) in text, shown
    for hidden in (BEN_ENTRY, ABOUT_BEN, "Ortiz", "RR-2"):
        assert squash(hidden) not in text, hidden
    ben_pdf = client.get(f"/notes/patients/{group.ben.public_id}/group/{note.public_id}/pdf/")
    ben_text = squash(" ".join(pages_text(ben_pdf.content)))
    assert squash(BEN_ENTRY) in ben_text and squash(ANA_ENTRY) not in ben_text
    assert squash(ABOUT_ANA) not in ben_text and squash(ABOUT_BEN) in ben_text


def test_the_api_answers_with_only_the_members_own_entry(cast, group, note):
    api = Api(cast)
    listed = api.get("owner", f"/patients/{group.ana.public_id}/notes")
    assert listed.status_code == 200
    (shown,) = listed.json()["group_notes"]
    assert shown["narrative"] == NARRATIVE and shown["entry"] == ANA_ENTRY
    assert {a["text"]: a["about"] for a in shown["addenda"]} == {
        SHARED: "group",
        ABOUT_ANA: "member",
    }
    one = api.get("owner", f"/patients/{group.ana.public_id}/group-notes/{note.public_id}")
    assert one.status_code == 200 and one.json() == shown
    for body in (listed.content.decode(), one.content.decode()):
        for hidden in (BEN_ENTRY, ABOUT_BEN, "Ortiz", str(group.ben.public_id)):
            assert hidden not in body, hidden
    sam = api.get("owner", f"/patients/{group.sam.public_id}/group-notes/{note.public_id}")
    assert sam.status_code == 404
    assert api.get("owner", f"/patients/{group.sam.public_id}/notes").json()["group_notes"] == []


def test_a_draft_stays_its_authors_until_signed(cast, group):
    group_note_save(
        cast.actors["owner"], group.session, GroupDraft(NARRATIVE, [], group.entries(ana=ANA_ENTRY))
    )
    director_view = cast.client_for("director").get(f"/patients/{group.ana.public_id}/")
    assert NARRATIVE not in director_view.content.decode()
    owner_view = cast.client_for("owner").get(f"/patients/{group.ana.public_id}/")
    assert NARRATIVE in owner_view.content.decode()
