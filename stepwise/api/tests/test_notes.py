"""Clinical notes in the API: an individual note from draft to addendum, co-signature,
a session's group note for whoever runs it, who may call what, and what a patient's
notes cost in queries. (The group-note privacy rule in the API is tested with the
chart and the printout in stepwise/notes/tests/test_privacy.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stepwise.api.tests.support import BASE, Api, audit_rows
from stepwise.notes.models import ClinicalNote, GroupNote, NoteStatus
from stepwise.notes.services.individual import note_create
from stepwise.notes.tests.support import (
    ANA_ENTRY,
    BEN_ENTRY,
    DAP,
    GROUP_DAY,
    NARRATIVE,
    Group,
    cosign_required,
    dap_draft,
    group_with_attendance,
    individual_note,
    signed_group_note,
)
from stepwise.scheduling.tests.support import at

SIGNED_IS_FINAL = "A signed note is not changed; add an addendum."


@pytest.fixture(autouse=True)
def _evening_of_the_group() -> Iterator[None]:
    with time_machine.travel(at(GROUP_DAY, 21, 30), tick=True):
        yield


@pytest.fixture
def group(cast: Any) -> Group:
    return group_with_attendance(cast)


def put(api: Api, who: str, path: str, body: Any) -> Any:
    return api.client.put(
        BASE + path, json.dumps(body), content_type="application/json", **api.headers(who)
    )


def notes_of(patient: Any) -> str:
    return f"/patients/{patient.public_id}/notes"


# --- an individual note ----------------------------------------------------------------


def test_an_individual_note_from_draft_to_addendum(api, cast):
    created = api.post(
        "owner", notes_of(cast.patient), {"format": "dap", "sections": {"data": "Seen"}}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "draft" and body["kind"] == "individual"
    assert [s["key"] for s in body["sections"]] == ["data", "assessment", "plan"]
    path = f"{notes_of(cast.patient)}/{body['id']}"
    refused = api.post("owner", f"{path}/sign", {})
    assert refused.status_code == 422
    assert set(refused.json()["errors"]) == {"assessment", "plan"}
    updated = put(api, "owner", path, {"format": "dap", "sections": DAP, "goals": ["Sleep"]})
    assert updated.status_code == 200 and updated.json()["goals"] == ["Sleep"]
    signed = api.post("owner", f"{path}/sign", {})
    assert signed.status_code == 200 and signed.json()["status"] == "signed"
    again = put(api, "owner", path, {"format": "dap", "sections": DAP})
    assert again.status_code == 409 and again.json()["detail"] == SIGNED_IS_FINAL
    added = api.post("owner", f"{path}/addenda", {"text": "Called: safe."})
    assert added.status_code == 201 and added.json()["about"] == "note"
    read = api.get("owner", path).json()
    assert [a["text"] for a in read["addenda"]] == ["Called: safe."]
    assert read["sections"][2] == {"key": "plan", "label": "Plan", "text": DAP["plan"]}
    marked = api.post("owner", f"{path}/entered-in-error", {"reason": "Wrong patient"})
    assert marked.status_code == 200 and marked.json()["status"] == "entered_in_error"
    assert api.get("owner", notes_of(cast.patient)).json()["notes"][0]["error_reason"] == (
        "Wrong patient"
    )
    assert {r.object_type for r in audit_rows(category="notes", action="create")} == {
        "clinical_note",
        "addendum",
    }


def test_a_refused_note_names_each_field(api, cast):
    response = api.post(
        "owner",
        notes_of(cast.patient),
        {
            "format": "dap",
            "sections": {"subjective": "x"},
            "occurred_at": "2026-11-02T18:00:00",
            "session": "7f9d6c1e-0000-4000-8000-000000000000",
        },
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"occurred_at"}  # a naive time: refused first
    response = api.post(
        "owner",
        notes_of(cast.patient),
        {"format": "soapy", "session": "7f9d6c1e-0000-4000-8000-000000000000"},
    )
    assert response.status_code == 422 and set(response.json()["errors"]) == {"session"}
    response = api.post("owner", notes_of(cast.patient), {"format": "soapy"})
    assert response.status_code == 422 and "dap" in response.json()["errors"]["format"]
    assert not ClinicalNote.objects.exists()


def test_only_the_care_team_writes_and_only_a_supervisor_cosigns(api, cast):
    cosign_required(cast)
    note = individual_note(cast)
    assert note.status == NoteStatus.AWAITING_COSIGN
    path = f"{notes_of(cast.patient)}/{note.public_id}"
    body = {"format": "dap", "sections": DAP}
    assert api.post("colleague", notes_of(cast.patient), body).status_code == 403
    assert api.post("readonly", notes_of(cast.patient), body).status_code == 403
    assert api.post("outsider", notes_of(cast.patient), body).status_code == 404
    assert api.get("colleague", path).status_code == 403
    assert api.get("readonly", path).status_code == 200
    assert api.post("owner", f"{path}/cosign", {}).status_code == 403
    queue = api.get("director", "/notes/cosign-queue").json()
    assert [n["id"] for n in queue["notes"]] == [str(note.public_id)]
    assert api.get("owner", "/notes/cosign-queue").status_code == 403
    done = api.post("director", f"{path}/cosign", {})
    assert done.status_code == 200 and done.json()["cosigned_by"] == "director"
    assert api.get("director", "/notes/cosign-queue").json()["notes"] == []


# --- a session's group note ---------------------------------------------------------------


def test_the_facilitator_writes_and_signs_the_group_note(api, cast, group):
    path = f"/sessions/{group.session.public_id}/group-note"
    assert api.get("owner", path).status_code == 404  # none yet
    draft = {
        "narrative": NARRATIVE,
        "goals": ["Refusal skills"],
        "entries": group.entries(ana=ANA_ENTRY),
    }
    saved = put(api, "owner", path, draft)
    assert saved.status_code == 200 and saved.json()["status"] == "draft"
    refused = api.post("owner", f"{path}/sign", {})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        f"entry_{group.ben.public_id}": "Ben Ortiz: write a short entry before signing."
    }
    absent = put(api, "owner", path, {**draft, "entries": group.entries(sam="Was he here?")})
    assert absent.status_code == 422 and f"entry_{group.sam.public_id}" in absent.json()["errors"]
    put(api, "owner", path, {**draft, "entries": group.entries(ana=ANA_ENTRY, ben=BEN_ENTRY)})
    signed = api.post("owner", f"{path}/sign", {})
    assert signed.status_code == 200
    body = signed.json()
    assert body["status"] == "signed"
    assert {e["name"]: e["text"] for e in body["entries"]} == {
        "Ana Rivera": ANA_ENTRY,
        "Ben Ortiz": BEN_ENTRY,
    }
    member = api.post(
        "owner",
        f"{path}/addenda",
        {"text": "Ben called back.", "patient": str(group.ben.public_id)},
    )
    assert member.status_code == 201 and member.json()["about"] == "member"
    shared = api.post("owner", f"{path}/addenda", {"text": "Handout sent."})
    assert shared.status_code == 201 and shared.json()["patient"] is None
    nobody = api.post(
        "owner", f"{path}/addenda", {"text": "x", "patient": str(group.sam.public_id)}
    )
    assert nobody.status_code == 422 and set(nobody.json()["errors"]) == {"patient"}
    again = put(api, "owner", path, draft)
    assert again.status_code == 409 and again.json()["detail"] == SIGNED_IS_FINAL


def test_only_who_runs_the_session_reads_or_writes_its_note(api, cast, group):
    signed_group_note(cast, group)
    path = f"/sessions/{group.session.public_id}/group-note"
    assert api.get("colleague", path).status_code == 403  # not running this group
    assert api.get("readonly", path).status_code == 403
    assert api.get("outsider", path).status_code == 404
    assert api.get("director", path).status_code == 200
    assert put(api, "colleague", path, {"narrative": "x"}).status_code == 403
    assert api.post("owner", f"{path}/cosign", {}).status_code == 403
    marked = api.post("owner", f"{path}/entered-in-error", {"reason": "Wrong group"})
    assert marked.status_code == 200 and marked.json()["status"] == "entered_in_error"
    assert GroupNote.objects.get().status == NoteStatus.ENTERED_IN_ERROR


# --- what a patient's notes cost --------------------------------------------------------------


def _queries(api: Api, path: str) -> int:
    api.get("owner", path)  # warm up: the token's first use records last_used_at
    with CaptureQueriesContext(connection) as captured:
        assert api.get("owner", path).status_code == 200
    return len(captured.captured_queries)


def test_a_patients_notes_cost_the_same_however_many(api, cast, group):
    individual_note(cast, group.ana)
    few = _queries(api, notes_of(group.ana))
    signed_group_note(cast, group)
    for _ in range(5):
        note = individual_note(cast, group.ana)
        api.post("owner", f"{notes_of(group.ana)}/{note.public_id}/addenda", {"text": "More"})
    many = _queries(api, notes_of(group.ana))
    found = api.get("owner", notes_of(group.ana)).json()
    assert len(found["notes"]) == 6 and len(found["group_notes"]) == 1
    assert few == many


# --- who may call each operation --------------------------------------------------------------


@pytest.fixture
def paths(cast: Any, group: Group) -> dict[str, str]:
    signed = individual_note(cast, group.ana)
    draft = note_create(cast.actors["owner"], group.ana, dap_draft())
    gnote = signed_group_note(cast, group)
    ana = notes_of(group.ana)
    session = f"/sessions/{group.session.public_id}/group-note"
    return {
        "list": ana,
        "signed": f"{ana}/{signed.public_id}",
        "draft": f"{ana}/{draft.public_id}",
        "member": f"/patients/{group.ana.public_id}/group-notes/{gnote.public_id}",
        "session": session,
    }


NOTE = {"format": "dap", "sections": DAP}
# (method, path key, tail, body): owner (the counselor who runs the group, on the care
# team), colleague (a nurse on neither), readonly (the privacy officer), outsider.
OPERATIONS: dict[str, tuple[str, str, str, Any, dict[str, int]]] = {
    "list": ("get", "list", "", None, {"owner": 200, "colleague": 403, "readonly": 200}),
    "create": ("post", "list", "", NOTE, {"owner": 201, "colleague": 403, "readonly": 403}),
    "read": ("get", "signed", "", None, {"owner": 200, "colleague": 403, "readonly": 200}),
    "update": ("put", "draft", "", NOTE, {"owner": 200, "colleague": 403, "readonly": 403}),
    "sign": ("post", "draft", "/sign", {}, {"owner": 200, "colleague": 403, "readonly": 403}),
    "cosign": ("post", "signed", "/cosign", {}, {"owner": 403, "colleague": 403, "readonly": 403}),
    "addendum": (
        "post",
        "signed",
        "/addenda",
        {"text": "More"},
        {"owner": 201, "colleague": 403, "readonly": 403},
    ),
    "in_error": (
        "post",
        "signed",
        "/entered-in-error",
        {"reason": "Wrong"},
        {"owner": 200, "colleague": 403, "readonly": 403},
    ),
    "member": ("get", "member", "", None, {"owner": 200, "colleague": 403, "readonly": 200}),
    "group": ("get", "session", "", None, {"owner": 200, "colleague": 403, "readonly": 403}),
    "group_save": (
        "put",
        "session",
        "",
        {"narrative": "x"},
        {"owner": 409, "colleague": 403, "readonly": 403},
    ),
    "group_sign": (
        "post",
        "session",
        "/sign",
        {},
        {"owner": 409, "colleague": 403, "readonly": 403},
    ),
    "group_cosign": (
        "post",
        "session",
        "/cosign",
        {},
        {"owner": 403, "colleague": 403, "readonly": 403},
    ),
    "group_addendum": (
        "post",
        "session",
        "/addenda",
        {"text": "More"},
        {"owner": 201, "colleague": 403, "readonly": 403},
    ),
    "group_in_error": (
        "post",
        "session",
        "/entered-in-error",
        {"reason": "Wrong"},
        {"owner": 200, "colleague": 403, "readonly": 403},
    ),
}


@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_each_operation_is_open_to_whom_it_should_be(api, paths, operation):
    method, key, tail, body, expected = OPERATIONS[operation]
    path = paths[key] + tail
    # The refused first (nothing changes), the owner last; another organization's
    # director finds no such record.
    for who in ("outsider", "readonly", "colleague", "owner"):
        if method == "get":
            response = api.get(who, path)
        elif method == "put":
            response = put(api, who, path, body)
        else:
            response = api.post(who, path, body)
        want = expected.get(who, 404)
        assert response.status_code == want, (who, operation, response.content[:300])


def test_the_cosign_queue_is_for_supervisors(api, cast):
    assert api.get("owner", "/notes/cosign-queue").status_code == 403
    assert api.get("readonly", "/notes/cosign-queue").status_code == 403
    assert api.get("outsider", "/notes/cosign-queue").json() == {"notes": [], "group_notes": []}
    assert api.get("director", "/notes/cosign-queue").status_code == 200
