"""Treatment plans in the API: start, save the draft (keys carried through versions),
sign, a relapse review with its source, the version in force with progress from
notes, the patient's signature; who may call what; what reading a plan costs."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stepwise.api.tests.support import BASE, Api, audit_rows
from stepwise.care.models import Stay
from stepwise.care.services import episode_admit
from stepwise.notes.services.individual import NoteDraft, note_create, note_sign
from stepwise.notes.tests.support import DAP
from stepwise.plans.models import PlanVersion
from stepwise.plans.tests.support import TODAY, WORDS, admitted, at, relapse_of, signed


@pytest.fixture(autouse=True)
def _afternoon() -> Iterator[None]:
    with time_machine.travel(at(TODAY, 15), tick=True):
        yield


def put(api: Api, who: str, path: str, body: Any) -> Any:
    return api.client.put(
        BASE + path, json.dumps(body), content_type="application/json", **api.headers(who)
    )


def plan_of(patient: Any) -> str:
    return f"/patients/{patient.public_id}/plan"


def draft_body(target: str = (TODAY + timedelta(days=30)).isoformat()) -> dict[str, Any]:
    return {
        "patient_words": WORDS,
        "problems": [
            {
                "dimension": 5,
                "statement": "Cravings after work",
                "interventions": [
                    {
                        "kind": "medication",
                        "medication": "Buprenorphine continued with the prescriber",
                        "responsible_role": "physician",
                    }
                ],
                "goals": [
                    {
                        "statement": "Stay abstinent",
                        "objectives": [
                            {"statement": "Attends 3 meetings a week", "target_on": target}
                        ],
                        "interventions": [
                            {
                                "kind": "session",
                                "session_type": "group_therapy",
                                "sessions_per_week": 3,
                                "responsible_role": "counselor",
                            }
                        ],
                    }
                ],
            }
        ],
    }


def test_a_plan_from_start_to_a_relapse_review(api, cast):
    path = plan_of(cast.patient)
    empty = api.get("owner", path)
    assert empty.status_code == 200
    assert empty.json() == {"plan": None, "active": None, "draft": None, "versions": []}
    assert api.post("owner", path, {}).status_code == 409  # no open episode yet
    admitted(cast)
    started = api.post("owner", path, {})
    assert started.status_code == 201
    assert (started.json()["number"], started.json()["status"]) == (1, "draft")

    bad = put(
        api,
        "owner",
        f"{path}/draft",
        {
            "problems": [
                {
                    "dimension": 9,
                    "statement": "",
                    "goals": [{"statement": "x", "objectives": [{"statement": "y"}]}],
                }
            ]
        },
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {
        "problems.0.dimension",
        "problems.0.statement",
        "problems.0.goals.0.objectives.0.target_on",
    }
    saved = put(api, "owner", f"{path}/draft", draft_body())
    assert saved.status_code == 200
    problem = saved.json()["problems"][0]
    assert problem["dimension_name"] == "Relapse, Continued Use, or Continued Problem Potential"
    assert problem["goals"][0]["interventions"][0]["description"] == (
        "Group therapy, 3 times a week (Counselor)"
    )
    key = problem["goals"][0]["objectives"][0]["key"]
    signed_v1 = api.post("owner", f"{path}/sign", {})
    assert signed_v1.status_code == 200
    v1 = signed_v1.json()
    assert v1["status"] == "active" and v1["review_due_on"] == "2026-12-02"
    assert v1["change_summary"] == [
        "First version of the plan: 1 problem, 1 goal, 1 objective, 2 interventions."
    ]
    assert put(api, "owner", f"{path}/draft", draft_body()).status_code == 409

    owner = cast.actors["owner"]
    note_sign(
        owner,
        note_create(owner, cast.patient, NoteDraft("dap", DAP, progress={key: "progressing"})),
    )
    event = str(relapse_of(cast))
    review = api.post(
        "owner",
        f"{path}/reviews",
        {"trigger": "relapse", "why": "Used on Saturday", "source_id": event},
    )
    assert review.status_code == 201
    v2 = review.json()
    assert (v2["number"], v2["trigger"], v2["source_type"], v2["source_id"]) == (
        2,
        "relapse",
        "relapse_event",
        event,
    )
    assert v2["problems"][0]["goals"][0]["objectives"][0]["key"] == key
    body = draft_body((TODAY + timedelta(days=60)).isoformat())
    body["problems"][0]["key"] = v2["problems"][0]["key"]
    goal = body["problems"][0]["goals"][0]
    goal["key"] = v2["problems"][0]["goals"][0]["key"]
    goal["objectives"][0]["key"] = key
    goal["interventions"][0]["key"] = v2["problems"][0]["goals"][0]["interventions"][0]["key"]
    body["problems"][0]["interventions"][0]["key"] = v2["problems"][0]["interventions"][0]["key"]
    assert put(api, "owner", f"{path}/draft", body).status_code == 200
    done = api.post("owner", f"{path}/sign", {}).json()
    assert done["change_summary"] == [
        'Objective 1.1.1 "Attends 3 meetings a week": target date from 2026-12-02 to 2027-01-01.'
    ]
    plan = api.get("owner", path).json()
    assert plan["active"]["number"] == 2 and plan["draft"] is None
    assert [v["status"] for v in plan["versions"]] == ["active", "superseded"]
    progress = plan["active"]["problems"][0]["goals"][0]["objectives"][0]["progress"]
    assert progress["notes"] == 1 and progress["latest"] == "progressing"
    old = api.get("owner", f"{path}/versions/{v1['id']}").json()
    assert (
        old["status"] == "superseded"
        and old["problems"][0]["goals"][0]["objectives"][0]["target_on"] == "2026-12-02"
    )
    assert {row.detail.get("status") for row in audit_rows(category="plans", action="update")} >= {
        "draft",
        "active",
    }


def test_the_patients_signature_in_the_api(api, cast):
    admitted(cast)
    v1 = signed(cast)
    path = f"{plan_of(cast.patient)}/versions/{v1.public_id}/patient-signature"
    refused = api.post("owner", path, {"signature": "signed"})
    assert refused.status_code == 422 and set(refused.json()["errors"]) == {"name", "on"}
    done = api.post("owner", path, {"signature": "declined", "reason": "Wants to read it first"})
    assert done.status_code == 200
    assert done.json()["patient_signature"]["status"] == "declined"
    assert (
        api.post(
            "owner", path, {"signature": "signed", "name": "A", "on": "2026-11-02"}
        ).status_code
        == 409
    )


def test_a_level_of_care_review_names_a_stay_of_the_plans_episode(api, cast):
    episode = admitted(cast)
    signed(cast)
    elsewhere = episode_admit(cast.actors["outsider"], cast.other_patient, cast.other_program)
    path = f"{plan_of(cast.patient)}/reviews"
    body = {"trigger": "level_of_care", "why": "Stepped up"}
    theirs = api.post("owner", path, {**body, "source_id": str(elsewhere.stays.get().public_id)})
    unknown = api.post("owner", path, {**body, "source_id": str(uuid.uuid4())})
    # Another organization's stay reads like an id naming nothing: no hint it exists.
    assert theirs.status_code == unknown.status_code == 422
    assert theirs.json() == unknown.json()
    assert theirs.json()["errors"] == {"source_id": "That stay is not one of this episode's stays."}
    assert "Harbor" not in theirs.content.decode()
    own = str(Stay.objects.get(episode=episode).public_id)
    started = api.post("owner", path, {**body, "source_id": own})
    assert started.status_code == 201
    assert (started.json()["source_type"], started.json()["source_id"]) == ("stay", own)


def test_who_may_call_what(api, cast):
    admitted(cast)
    v1 = signed(cast)
    path = plan_of(cast.patient)
    reads = [path, f"{path}/versions/{v1.public_id}"]
    for who, want in (("owner", 200), ("colleague", 403), ("readonly", 200), ("outsider", 404)):
        for read in reads:
            response = api.get(who, read)
            assert response.status_code == want, (who, read)
            if want != 200:
                assert "Rivera" not in response.content.decode()
    review = {"trigger": "scheduled", "why": "Monthly"}
    for who, want in (("colleague", 403), ("readonly", 403), ("outsider", 404)):
        assert api.post(who, f"{path}/reviews", review).status_code == want, who
        assert api.post(who, f"{path}/sign", {}).status_code == want, who
        assert put(api, who, f"{path}/draft", draft_body()).status_code == want, who
    assert api.get(None, path).status_code == 401
    assert api.post("director", f"{path}/reviews", review).status_code == 201
    assert PlanVersion.objects.filter(status="draft").count() == 1


def test_reading_a_plan_costs_the_same_however_big(api, cast):
    admitted(cast)
    path = plan_of(cast.patient)
    api.post("owner", path, {})
    put(api, "owner", f"{path}/draft", draft_body())
    api.post("owner", f"{path}/sign", {})
    api.get("owner", path)  # the token's first use is recorded once

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert api.get("owner", path).status_code == 200
        return len(captured.captured_queries)

    small = cost()
    body = draft_body()
    goal = body["problems"][0]["goals"][0]
    goal["objectives"] = [
        {"statement": f"Objective {n}", "target_on": "2026-12-01"} for n in range(6)
    ]
    api.post("owner", f"{path}/reviews", {"trigger": "scheduled", "why": "More"})
    put(api, "owner", f"{path}/draft", body)
    assert cost() == small  # the draft's contents come in the same four queries
    api.post("owner", f"{path}/sign", {})
    assert cost() == small
