"""The note pages through the real client: the evening group's note from the
attendance screen to every member's chart, an individual note from draft to addendum,
the co-signature queue; who may use each route; what the chart and the queue cost."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import escape

from stepwise.core.tests.pdftext import pages_text, squash
from stepwise.notes.models import ClinicalNote, GroupNote, NoteStatus
from stepwise.notes.services.group import group_addendum_add
from stepwise.notes.services.individual import note_addendum_add, note_create
from stepwise.notes.tests.support import (
    ANA_ENTRY,
    BEN_ENTRY,
    DAP,
    NARRATIVE,
    Group,
    cosign_required,
    dap_draft,
    individual_note,
    signed_group_note,
)


def group_url(group: Group, tail: str = "") -> str:
    return f"/notes/sessions/{group.session.public_id}/group-note/{tail}"


def note_url(patient: Any, note: ClinicalNote, tail: str = "") -> str:
    return f"/notes/patients/{patient.public_id}/{note.public_id}/{tail}"


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


# --- the evening group, from the attendance screen to each member's chart -----------------


def test_a_counselor_writes_one_group_note_that_lands_in_every_members_chart(cast, group):
    client = cast.client_for("owner")
    attendance = client.get(reverse("scheduling:session", args=[group.session.public_id]))
    assert f'href="{group_url(group)}"' in attendance.content.decode()

    page = client.get(group_url(group))
    html = page.content.decode()
    assert page.status_code == 200
    assert f'name="entry_{group.ana.public_id}"' in html
    assert f'name="entry_{group.ben.public_id}"' in html
    assert f'name="entry_{group.sam.public_id}"' not in html
    assert "Not attending (no entry): Sam Doe (absent, excused)" in html

    ana, ben = f"entry_{group.ana.public_id}", f"entry_{group.ben.public_id}"
    form = {"narrative": NARRATIVE, "goals": "Refusal skills\nSleep", ana: ANA_ENTRY, ben: ""}
    saved = client.post(group_url(group), {**form, "action": "save"})
    assert saved.status_code == 302 and saved["Location"] == group_url(group)
    assert GroupNote.objects.get().status == NoteStatus.DRAFT

    refused = client.post(group_url(group), {**form, "action": "sign"})
    assert refused.status_code == 422
    assert "Ben Ortiz: write a short entry before signing." in refused.content.decode()
    assert GroupNote.objects.get().status == NoteStatus.DRAFT

    signed = client.post(group_url(group), {**form, ben: BEN_ENTRY, "action": "sign"})
    assert signed.status_code == 302
    note = GroupNote.objects.get()
    assert note.status == NoteStatus.SIGNED and note.goals == ["Refusal skills", "Sleep"]
    shown = client.get(group_url(group)).content.decode()
    assert "each of the 2 members who attended" in shown
    assert escape(ANA_ENTRY) in shown and escape(BEN_ENTRY) in shown  # the runner sees all

    for member, own, other in (
        (group.ana, ANA_ENTRY, BEN_ENTRY),
        (group.ben, BEN_ENTRY, ANA_ENTRY),
    ):
        chart = client.get(f"/patients/{member.public_id}/").content.decode()
        assert NARRATIVE in chart and escape(own) in chart and escape(other) not in chart
        link = reverse("notes:member_group_note", args=[member.public_id, note.public_id])
        assert f'href="{link}"' in chart
    assert NARRATIVE not in client.get(f"/patients/{group.sam.public_id}/").content.decode()


def test_a_signed_group_note_takes_addenda_and_is_marked_in_error_with_a_reason(cast, group):
    note = signed_group_note(cast, group)
    client = cast.client_for("owner")
    empty = client.post(group_url(group, "addendum/"), {"text": "", "about": ""})
    assert empty.status_code == 422 and "This field is required." in empty.content.decode()
    about = client.post(
        group_url(group, "addendum/"),
        {"text": "Ben called back.", "about": str(group.ben.public_id)},
    )
    assert about.status_code == 302
    assert note.addenda.get().patient == group.ben
    stranger = client.post(
        group_url(group, "addendum/"), {"text": "x", "about": str(group.sam.public_id)}
    )
    assert stranger.status_code == 422  # Sam has no entry: not a choice
    no_reason = client.post(group_url(group, "entered-in-error/"), {"reason": ""})
    assert no_reason.status_code == 422
    marked = client.post(group_url(group, "entered-in-error/"), {"reason": "Wrong group"})
    assert marked.status_code == 302
    note.refresh_from_db()
    assert note.status == NoteStatus.ENTERED_IN_ERROR
    again = client.get(group_url(group)).content.decode()
    assert "was marked entered in error" in again and 'name="narrative"' in again


def test_someone_elses_draft_is_not_shown_nor_changed(cast, group):
    client = cast.client_for("owner")
    ana = f"entry_{group.ana.public_id}"
    client.post(group_url(group), {"narrative": NARRATIVE, ana: ANA_ENTRY, "action": "save"})
    director = cast.client_for("director")
    page = director.get(group_url(group)).content.decode()
    assert "is drafting this session's group note" in page and NARRATIVE not in page
    refused = director.post(group_url(group), {"narrative": "Mine", "action": "save"})
    assert refused.status_code == 302
    assert GroupNote.objects.get().narrative == NARRATIVE


# --- an individual note -------------------------------------------------------------------


def test_an_individual_note_from_draft_to_addendum(cast):
    client = cast.client_for("owner")
    base = f"/notes/patients/{cast.patient.public_id}/"
    new = client.get(f"{base}new/?format=soap")
    assert new.status_code == 200 and 'name="subjective"' in new.content.decode()
    saved = client.post(f"{base}new/", {"format": "dap", "data": "Seen", "action": "save"})
    note = ClinicalNote.objects.get()
    assert saved.status_code == 302 and saved["Location"] == note_url(cast.patient, note, "edit/")
    refused = client.post(
        note_url(cast.patient, note, "edit/"), {"format": "dap", "data": "Seen", "action": "sign"}
    )
    assert refused.status_code == 422
    assert "Write the plan before signing." in refused.content.decode()
    signed = client.post(note_url(cast.patient, note, "edit/"), {**DAP, "action": "sign"})
    assert signed.status_code == 302 and signed["Location"] == note_url(cast.patient, note)
    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED and note.sections == DAP
    # A signed note's edit page sends back to the note.
    assert client.get(note_url(cast.patient, note, "edit/"))["Location"] == note_url(
        cast.patient, note
    )
    page = client.get(note_url(cast.patient, note)).content.decode()
    assert escape(DAP["plan"]) in page and "Add an addendum" in page
    assert client.post(note_url(cast.patient, note, "addendum/"), {"text": ""}).status_code == 422
    added = client.post(note_url(cast.patient, note, "addendum/"), {"text": "Safety plan made."})
    assert added.status_code == 302
    assert "Safety plan made." in client.get(note_url(cast.patient, note)).content.decode()
    pdf = client.get(note_url(cast.patient, note, "pdf/"))
    text = squash(" ".join(pages_text(pdf.content)))
    assert squash(DAP["data"]) in text and squash("Safety plan made.") in text
    assert client.post(note_url(cast.patient, note, "entered-in-error/"), {}).status_code == 422
    marked = client.post(note_url(cast.patient, note, "entered-in-error/"), {"reason": "Wrong"})
    assert marked.status_code == 302
    assert "entered in error" in client.get(note_url(cast.patient, note)).content.decode()


def test_the_cosign_queue_shows_waiting_notes_and_cosigns_them(cast, group):
    cosign_required(cast)
    note = individual_note(cast)
    signed_group_note(cast, group)
    client = cast.client_for("director")
    page = client.get("/notes/cosign/").content.decode()
    assert "Ana Rivera" in page and "Evening IOP group" in page
    done = client.post(note_url(cast.patient, note, "cosign/"), {"next": "queue"})
    assert done.status_code == 302 and done["Location"] == "/notes/cosign/"
    client.post(group_url(group, "cosign/"))
    assert not ClinicalNote.objects.filter(status=NoteStatus.AWAITING_COSIGN).exists()
    assert not GroupNote.objects.filter(status=NoteStatus.AWAITING_COSIGN).exists()
    assert client.get("/notes/cosign/").content.decode().count("None waiting.") == 2


# --- who may use each route ---------------------------------------------------------------

WHO = ("owner", "colleague", "readonly", "outsider")


@pytest.fixture
def records(cast: Any, group: Group) -> dict[str, str]:
    """A signed individual note of Ana, a draft, and the group's signed note."""
    signed = individual_note(cast)
    draft = note_create(cast.actors["owner"], cast.patient, dap_draft())
    gnote = signed_group_note(cast, group)
    ana = cast.patient.public_id
    return {
        "list": f"/notes/patients/{ana}/",
        "new": f"/notes/patients/{ana}/new/",
        "note": note_url(cast.patient, signed),
        "edit": note_url(cast.patient, draft, "edit/"),
        "sign": note_url(cast.patient, draft, "sign/"),
        "cosign": note_url(cast.patient, signed, "cosign/"),
        "addendum": note_url(cast.patient, signed, "addendum/"),
        "error": note_url(cast.patient, signed, "entered-in-error/"),
        "pdf": note_url(cast.patient, signed, "pdf/"),
        "member": f"/notes/patients/{ana}/group/{gnote.public_id}/",
        "member_pdf": f"/notes/patients/{ana}/group/{gnote.public_id}/pdf/",
        "group": group_url(group),
        "group_cosign": group_url(group, "cosign/"),
        "group_addendum": group_url(group, "addendum/"),
        "group_error": group_url(group, "entered-in-error/"),
        "queue": "/notes/cosign/",
    }


# Expected status per route and person: the counselor on the care team who runs the
# group (owner), a nurse of the organization on neither (colleague), the privacy officer
# who reads charts and writes nothing (readonly), a director of another organization.
ALLOWED = "allowed"
EXPECTED: dict[str, tuple[str, dict[str, Any]]] = {
    "list": ("get", {"owner": 200, "colleague": 403, "readonly": 200, "outsider": 404}),
    "new": ("get", {"owner": 200, "colleague": 403, "readonly": 403, "outsider": 404}),
    "note": ("get", {"owner": 200, "colleague": 403, "readonly": 200, "outsider": 404}),
    "edit": ("get", {"owner": 200, "colleague": 403, "readonly": 403, "outsider": 404}),
    "sign": ("post", {"owner": ALLOWED, "colleague": 403, "readonly": 403, "outsider": 404}),
    "cosign": ("post", {"owner": 403, "colleague": 403, "readonly": 403, "outsider": 404}),
    "addendum": ("post", {"owner": ALLOWED, "colleague": 403, "readonly": 403, "outsider": 404}),
    "error": ("post", {"owner": ALLOWED, "colleague": 403, "readonly": 403, "outsider": 404}),
    "pdf": ("get", {"owner": 200, "colleague": 403, "readonly": 200, "outsider": 404}),
    "member": ("get", {"owner": 200, "colleague": 403, "readonly": 200, "outsider": 404}),
    "member_pdf": ("get", {"owner": 200, "colleague": 403, "readonly": 200, "outsider": 404}),
    "group": ("get", {"owner": 200, "colleague": 403, "readonly": 403, "outsider": 404}),
    "group_cosign": ("post", {"owner": 403, "colleague": 403, "readonly": 403, "outsider": 404}),
    "group_addendum": (
        "post",
        {"owner": ALLOWED, "colleague": 403, "readonly": 403, "outsider": 404},
    ),
    "group_error": ("post", {"owner": ALLOWED, "colleague": 403, "readonly": 403, "outsider": 404}),
    "queue": ("get", {"owner": 403, "colleague": 403, "readonly": 403, "outsider": 200}),
}


@pytest.mark.parametrize("route", sorted(EXPECTED))
def test_each_route_is_open_to_whom_it_should_be(cast, records, route):
    method, expected = EXPECTED[route]
    for who in WHO:
        client = cast.client_for(who)
        response = getattr(client, method)(records[route], {})
        want = expected[who]
        if want == ALLOWED:
            assert response.status_code in (200, 302, 409, 422), (who, route)
        else:
            assert response.status_code == want, (who, route, response.status_code)
        if response.status_code in (403, 404):
            body = response.content.decode()
            assert "Rivera" not in body and "Ortiz" not in body, (who, route)


def test_the_director_reads_every_note_but_not_anothers_draft(cast, records):
    director = cast.client_for("director")
    for route in ("list", "note", "pdf", "member", "group", "queue"):
        assert director.get(records[route]).status_code == 200, route
    draft = records["edit"].removesuffix("edit/")
    assert director.get(draft).status_code == 404


# --- what the chart and the queue cost ------------------------------------------------------


def test_the_chart_costs_the_same_with_no_note_and_with_many(cast, group):
    client = cast.client_for("owner")
    chart = f"/patients/{group.ana.public_id}/"
    none = queries_for(client, chart)
    assert "No notes yet." in client.get(chart).content.decode()
    signed_group_note(cast, group)
    for n in range(4):
        individual_note(cast, group.ana, sign=bool(n % 2))
    individual_note(cast, group.ana, who="director")
    many = queries_for(client, chart)
    html = client.get(chart).content.decode()
    assert NARRATIVE in html and html.count("DAP note") == 5
    assert none == many


def test_the_cosign_queue_costs_the_same_however_long(cast, group):
    cosign_required(cast)
    client = cast.client_for("director")
    individual_note(cast)
    one = queries_for(client, "/notes/cosign/")
    for n in range(5):
        individual_note(cast, cast.new_patient(f"RR-{n + 10}", f"Given{n}", "Waiting"))
    signed_group_note(cast, group)
    many = queries_for(client, "/notes/cosign/")
    page = client.get("/notes/cosign/").content.decode()
    assert all(f"Given{n} Waiting" in page for n in range(5))
    assert one == many


def test_the_note_pages_cost_the_same_however_many_notes_and_addenda(cast, group):
    client = cast.client_for("owner")
    note = individual_note(cast, group.ana)
    gnote = signed_group_note(cast, group)
    ana = group.ana.public_id
    pages = [
        f"/notes/patients/{ana}/",
        note_url(group.ana, note),
        note_url(group.ana, note, "pdf/"),
        f"/notes/patients/{ana}/group/{gnote.public_id}/",
        f"/notes/patients/{ana}/group/{gnote.public_id}/pdf/",
        group_url(group),
    ]
    before = [queries_for(client, url) for url in pages]
    for n in range(4):
        individual_note(cast, group.ana)
        note_addendum_add(cast.actors["owner"], note, f"Addendum {n}")
        group_addendum_add(cast.actors["owner"], gnote, f"Shared {n}")
        group_addendum_add(cast.actors["owner"], gnote, f"About Ben {n}", patient=group.ben)
    after = [queries_for(client, url) for url in pages]
    assert before == after
