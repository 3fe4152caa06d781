"""Treatment-plan objectives in the notes API: a note (and each member's entry of a
group note) names the objectives of the patient's current plan it addressed, each
rated, through the same services and checks as the note pages; reading a note shows
them. Another patient's objective, an unknown rating or an objective named twice is
refused naming its place in the request; only the care team writes them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stepwise.api.tests.support import BASE, Api
from stepwise.notes.models import ClinicalNote, ObjectiveProgress
from stepwise.notes.tests.support import (
    ANA_ENTRY,
    BEN_ENTRY,
    DAP,
    GROUP_DAY,
    NARRATIVE,
    Group,
    group_with_attendance,
)
from stepwise.plans.store import content_of
from stepwise.plans.tests.support import signed
from stepwise.scheduling.tests.support import at

ALLOWED = (
    "Allowed values: progressing (Progressing), no_change (No change), regressed "
    "(Regressed), met (Met)."
)
NOT_ON_PLAN = "This objective is not on the patient's current treatment plan."


@pytest.fixture(autouse=True)
def _evening_of_the_group() -> Iterator[None]:
    with time_machine.travel(at(GROUP_DAY, 21, 30), tick=True):
        yield


@pytest.fixture
def group(cast: Any) -> Group:
    """Ana and Ben (who came) each have a signed plan; Sam (absent) has none."""
    found = group_with_attendance(cast)
    signed(cast, found.ana)
    signed(cast, found.ben)
    return found


def keys_of(patient: Any) -> list[str]:
    version = patient.treatment_plans.get().versions.get(status="active")
    return [str(o.key) for o in content_of(version).objectives()]


def put(api: Api, who: str, path: str, body: Any) -> Any:
    return api.client.put(
        BASE + path, json.dumps(body), content_type="application/json", **api.headers(who)
    )


def notes_of(patient: Any) -> str:
    return f"/patients/{patient.public_id}/notes"


def rated(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"objective": key, "rating": rating} for key, rating in pairs]


def shown(body: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(o["objective"], o["rating"], o["rating_label"]) for o in body["objectives"]]


def test_a_note_rates_the_objectives_it_addressed(api, cast, group):
    meetings, urges, housing = keys_of(group.ana)
    created = api.post(
        "owner",
        notes_of(group.ana),
        {"format": "dap", "sections": DAP, "objectives": rated((meetings, "progressing"))},
    )
    assert created.status_code == 201
    body = created.json()
    assert shown(body) == [(meetings, "progressing", "Progressing")]
    assert body["objectives"][0]["statement"].startswith("1.1.1 Attends 3 mutual-help")
    path = f"{notes_of(group.ana)}/{body['id']}"
    # Left out, a draft keeps its ratings; given, they become exactly those.
    kept = put(api, "owner", path, {"format": "dap", "sections": DAP})
    assert shown(kept.json()) == [(meetings, "progressing", "Progressing")]
    changed = put(
        api,
        "owner",
        path,
        {
            "format": "dap",
            "sections": DAP,
            "objectives": rated((urges, "no_change"), (housing, "met"), (meetings, "")),
        },
    )
    assert changed.status_code == 200
    assert [o[:2] for o in shown(changed.json())] == [(urges, "no_change"), (housing, "met")]
    signed_note = api.post("owner", f"{path}/sign", {})
    assert len(signed_note.json()["objectives"]) == 2
    for who in ("owner", "readonly"):
        read = api.get(who, path).json()
        assert [o[:2] for o in shown(read)] == [(urges, "no_change"), (housing, "met")]
    listed = api.get("owner", notes_of(group.ana)).json()["notes"]
    assert [o[:2] for o in shown(listed[0])] == [(urges, "no_change"), (housing, "met")]
    # The plan counts the signed note's ratings.
    plan = api.get("owner", f"/patients/{group.ana.public_id}/plan").json()
    objectives = plan["active"]["problems"][1]["goals"][0]["objectives"]
    assert objectives[0]["progress"]["latest"] == "met"


def test_a_refused_rating_names_its_place_and_writes_nothing(api, cast, group):
    meetings, urges, _ = keys_of(group.ana)
    bens = keys_of(group.ben)[0]
    refused = api.post(
        "owner",
        notes_of(group.ana),
        {
            "format": "dap",
            "sections": {"data": "Seen"},
            "objectives": rated((meetings, "met"), (bens, "met"), (urges, "great")),
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"objectives.1": NOT_ON_PLAN, "objectives.2": ALLOWED}
    twice = api.post(
        "owner",
        notes_of(group.ana),
        {"format": "dap", "objectives": rated((meetings, "met"), (meetings, "regressed"))},
    )
    assert twice.status_code == 422
    assert twice.json()["errors"] == {"objectives.1": "This objective is already rated above."}
    # Sam has no plan: any objective is refused, an empty list is fine.
    sams = api.post("owner", notes_of(group.sam), {"format": "dap", "objectives": []})
    assert sams.status_code == 201 and sams.json()["objectives"] == []
    assert api.post(
        "owner", notes_of(group.sam), {"format": "dap", "objectives": rated((meetings, "met"))}
    ).json()["errors"] == {"objectives.0": NOT_ON_PLAN}
    assert ClinicalNote.objects.filter(patient=group.ana).count() == 0
    assert not ObjectiveProgress.objects.exists()


def test_only_the_care_team_writes_ratings_and_outsiders_learn_nothing(api, cast, group):
    meetings = keys_of(group.ana)[0]
    body = {"format": "dap", "sections": DAP, "objectives": rated((meetings, "met"))}
    for who, want in (("colleague", 403), ("readonly", 403), ("outsider", 404)):
        response = api.post(who, notes_of(group.ana), body)
        assert response.status_code == want, who
        assert meetings not in response.content.decode()
    assert not ObjectiveProgress.objects.exists()
    created = api.post("owner", notes_of(group.ana), body).json()
    path = f"{notes_of(group.ana)}/{created['id']}"
    api.post("owner", f"{path}/sign", {})
    for who, want in (("colleague", 403), ("outsider", 404)):
        response = api.get(who, path)
        assert response.status_code == want, who
        assert "Attends 3" not in response.content.decode()
    draft = put(api, "readonly", path, {"format": "dap", "objectives": []})
    assert draft.status_code == 403
    assert ObjectiveProgress.objects.get().rating == "met"


def test_each_member_of_a_group_note_gets_their_own_ratings(api, cast, group):
    ana, ben, sam = (str(p.public_id) for p in group.members)
    ana_meetings = keys_of(group.ana)[0]
    ben_urges = keys_of(group.ben)[1]
    path = f"/sessions/{group.session.public_id}/group-note"
    entries = group.entries(ana=ANA_ENTRY, ben=BEN_ENTRY)
    draft = {"narrative": NARRATIVE, "entries": entries}
    refused = put(
        api,
        "owner",
        path,
        {
            **draft,
            "objectives": {ana: rated((ben_urges, "met")), sam: rated((ana_meetings, "met"))},
        },
    )
    assert refused.status_code == 422
    assert refused.json()["errors"] == {
        f"objectives.{ana}.0": NOT_ON_PLAN,
        f"objectives.{sam}.0": "Write Sam Doe's entry to record progress on their objectives.",
    }
    saved = put(
        api,
        "owner",
        path,
        {
            **draft,
            "objectives": {
                ana: rated((ana_meetings, "progressing")),
                ben: rated((ben_urges, "regressed")),
            },
        },
    )
    assert saved.status_code == 200
    by_member = {e["name"]: shown(e) for e in saved.json()["entries"]}
    assert by_member == {
        "Ana Rivera": [(ana_meetings, "progressing", "Progressing")],
        "Ben Ortiz": [(ben_urges, "regressed", "Regressed")],
    }
    # A member left out keeps theirs.
    kept = put(api, "owner", path, {**draft, "objectives": {ana: []}})
    assert {e["name"]: len(e["objectives"]) for e in kept.json()["entries"]} == {
        "Ana Rivera": 0,
        "Ben Ortiz": 1,
    }
    note = api.post("owner", f"{path}/sign", {}).json()
    # Each member's chart shows only their own ratings.
    ben_chart = api.get("owner", notes_of(group.ben)).json()["group_notes"][0]
    assert shown(ben_chart) == [(ben_urges, "regressed", "Regressed")]
    assert api.get("owner", notes_of(group.ana)).json()["group_notes"][0]["objectives"] == []
    member = api.get("readonly", f"/patients/{ben}/group-notes/{note['id']}").json()
    assert shown(member) == [(ben_urges, "regressed", "Regressed")]


def _queries(api: Api, path: str) -> int:
    api.get("owner", path)  # warm up: the token's first use records last_used_at
    with CaptureQueriesContext(connection) as captured:
        assert api.get("owner", path).status_code == 200
    return len(captured.captured_queries)


def test_a_patients_notes_with_ratings_cost_the_same_however_many(api, cast, group):
    keys = keys_of(group.ana)
    body = {"format": "dap", "sections": DAP, "objectives": rated((keys[0], "met"))}
    api.post("owner", notes_of(group.ana), body)
    few = _queries(api, notes_of(group.ana))
    for key in keys:
        api.post("owner", notes_of(group.ana), {**body, "objectives": rated((key, "met"))})
    many = _queries(api, notes_of(group.ana))
    assert len(api.get("owner", notes_of(group.ana)).json()["notes"]) == 4
    assert few == many
