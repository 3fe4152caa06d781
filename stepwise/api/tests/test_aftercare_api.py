"""The aftercare plan and its check-ins in the JSON API: read, start, save sections,
review, end and restart the plan; list and record check-ins. The same services and
audit rows as the pages, and the same refusals."""

from __future__ import annotations

from datetime import timedelta
from html import escape
from typing import Any

import pytest
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, Checkin, PlanChange
from stepwise.aftercare.rules.crisis import EMERGENCY, LIFELINE, STAND_IN
from stepwise.aftercare.rules.plan import DEFAULT_CRISIS_STEPS
from stepwise.aftercare.services.configuration import aftercare_settings_save
from stepwise.aftercare.tests.support import NA_GROUP, active_plan, discharged, written_plan
from stepwise.api.tests.support import audit_rows
from stepwise.care.services import episode_admit


def path(cast: Any, tail: str = "") -> str:
    return f"/patients/{cast.patient.public_id}/aftercare{tail}"


def patch(api: Any, who: str, target: str, body: Any) -> Any:
    import json

    return api.client.patch(
        "/api/v1" + target, json.dumps(body), content_type="application/json", **api.headers(who)
    )


def test_read_before_and_after_a_plan_is_started(api, cast):
    empty = api.get("owner", path(cast))
    assert empty.status_code == 200
    assert empty.json()["plan"] is None
    assert empty.json()["crisis_lines"][0].startswith("Call or text 988")
    assert empty.json()["crisis_note"] == ""  # no steps yet, nothing stands in
    started = api.post("owner", path(cast), {})
    assert started.status_code == 201
    plan = started.json()
    assert plan["status"] == "draft" and plan["crisis_steps"] and plan["revision"] == 1
    assert api.post("owner", path(cast), {}).status_code == 409
    read = api.get("readonly", path(cast)).json()["plan"]
    assert read["id"] == plan["id"]
    assert audit_rows(category="aftercare", action="read", actor_username="readonly")


def test_the_crisis_lines_are_the_pages_own(api, cast):
    """Without a 24/7 line, steps sending the patient to it get the same stand-in the
    page and the printed copy show; with one set, its number instead and no note."""
    active_plan(cast)  # the usual steps, which name the program's 24/7 line
    page = cast.client_for("owner").get(f"/aftercare/patients/{cast.patient.public_id}/")
    read = api.get("owner", path(cast)).json()
    assert read["crisis_note"] == STAND_IN
    assert escape(STAND_IN) in page.content.decode()
    assert read["crisis_lines"] == [LIFELINE, EMERGENCY]
    patch(api, "owner", path(cast, "/sections"), {"crisis_steps": ["Call my sister"]})
    assert api.get("owner", path(cast)).json()["crisis_note"] == ""
    patch(api, "owner", path(cast, "/sections"), {"crisis_steps": list(DEFAULT_CRISIS_STEPS)})
    aftercare_settings_save(
        cast.actors["director"],
        crisis_line_name="Riverside 24/7 line",
        crisis_line_phone="555-0111",
    )
    read = api.get("owner", path(cast)).json()
    assert read["crisis_note"] == ""
    assert read["crisis_lines"] == [
        LIFELINE,
        "Riverside 24/7 line: 555-0111, any time, day or night.",
        EMERGENCY,
    ]


def test_sections_are_saved_whole_and_bad_entries_named(api, cast):
    api.post("owner", path(cast), {})
    saved = patch(
        api,
        "owner",
        path(cast, "/sections"),
        {
            "revision": 1,
            "supports": [NA_GROUP],
            "triggers": ["Payday"],
            "people_to_avoid": [{"who": "J.", "relationship": "enabler"}],
            "emergency_contacts": [
                {"name": "Maria", "relationship": "sister", "phone": "555-0101"}
            ],
        },
    )
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["supports"][0]["group"] == "na" and body["triggers"] == ["Payday"]
    assert body["revision"] == 5
    stale = patch(api, "owner", path(cast, "/sections"), {"revision": 1, "triggers": []})
    assert stale.status_code == 409
    bad = patch(
        api, "owner", path(cast, "/sections"), {"supports": [{"kind": "sponsor", "name": ""}]}
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"supports[0].kind", "supports[0].name"}
    assert patch(api, "owner", path(cast, "/sections"), {"revision": 5}).status_code == 422
    plan = AftercarePlan.objects.get(patient=cast.patient)
    assert PlanChange.objects.filter(plan=plan, kind="section").count() == 4


def test_review_end_and_restart(api, cast):
    api.post("owner", path(cast), {})
    refused = api.post("owner", path(cast, "/activate"), {"note": "With Ana"})
    assert refused.status_code == 422 and "supports" in refused.json()["errors"]
    patch(api, "owner", path(cast, "/sections"), {"supports": [NA_GROUP]})
    active = api.post("owner", path(cast, "/activate"), {"note": "With Ana"})
    assert active.status_code == 200
    assert active.json()["status"] == "active" and active.json()["reviewed_by"] == "owner"
    assert active.json()["checkins_from"] is not None  # not in care: check-ins start now
    naive = api.post("owner", path(cast, "/activate"), {"reviewed_at": "2026-01-01T10:00:00"})
    assert naive.status_code == 422
    ended = api.post("owner", path(cast, "/end"), {"reason": "Moving away"})
    assert ended.json()["status"] == "ended" and ended.json()["end_reason"] == "Moving away"
    assert api.post("owner", path(cast, "/end"), {"reason": "again"}).status_code == 409
    again = api.post("owner", path(cast, "/restart"), {"note": "Back"})
    assert again.json()["status"] == "draft"


def test_writes_without_a_plan_say_to_start_one(api, cast):
    response = api.post("owner", path(cast, "/activate"), {})
    assert response.status_code == 409 and "start one" in response.json()["detail"]


def test_check_ins_are_listed_and_recorded(api, cast):
    discharged(cast)
    listed = api.get("owner", path(cast, "/checkins")).json()
    due = listed["upcoming"][0]
    assert due["status"] == "due" and listed["missed"] == [] and listed["done"] == []
    recorded = api.post(
        "owner",
        path(cast, "/checkins"),
        {
            "checkin": due["id"],
            "method": "phone",
            "wellbeing": 3,
            "craving": 4,
            "used": False,
            "supports_attended": ["NA Tuesday night"],
        },
    )
    assert recorded.status_code == 201, recorded.content
    body = recorded.json()
    assert body["status"] == "done" and body["recorded_by"] == "owner"
    assert body["wellbeing_label"] == "Getting by"
    again = api.post(
        "owner", path(cast, "/checkins"), {**body, "checkin": due["id"], "method": "phone"}
    )
    assert again.status_code == 422  # no longer due or missed
    extra = api.post(
        "owner",
        path(cast, "/checkins"),
        {"method": "portal", "wellbeing": 5, "craving": 0, "used": False},
    )
    assert extra.status_code == 201 and extra.json()["scheduled"] is False
    bad = api.post(
        "owner",
        path(cast, "/checkins"),
        {"method": "fax", "wellbeing": 6, "craving": 1, "used": True},
    )
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"method", "wellbeing", "substances"}


def test_check_ins_need_an_active_plan(api, cast):
    written_plan(cast)
    response = api.post(
        "owner",
        path(cast, "/checkins"),
        {"method": "phone", "wellbeing": 3, "craving": 1, "used": False},
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    ("who", "status"), [("colleague", 403), ("readonly", 403), ("admin", 403), ("outsider", 404)]
)
def test_who_may_write(api, cast, who, status):
    active_plan(cast)
    for target, body in [
        (path(cast), {}),
        (path(cast, "/activate"), {}),
        (path(cast, "/end"), {"reason": "x"}),
        (path(cast, "/restart"), {}),
        (path(cast, "/checkins"), {"method": "phone", "wellbeing": 3, "craving": 1, "used": False}),
    ]:
        response = api.post(who, target, body)
        assert response.status_code == status, (target, response.content)
        assert "Rivera" not in response.content.decode()
    assert patch(api, who, path(cast, "/sections"), {"triggers": ["x"]}).status_code == status
    assert AftercarePlan.objects.get(patient=cast.patient).status == "active"
    assert not Checkin.objects.filter(status="done").exists()


@pytest.mark.parametrize(("who", "status"), [("colleague", 403), ("admin", 403), ("outsider", 404)])
def test_who_may_read(api, cast, who, status):
    active_plan(cast)
    assert api.get(who, path(cast)).status_code == status
    assert api.get(who, path(cast, "/checkins")).status_code == status


def test_a_move_refused_for_want_of_a_plan_names_it(api, cast):
    episode = episode_admit(
        cast.actors["owner"], cast.patient, cast.iop, at=timezone.now() - timedelta(days=3)
    )
    response = api.post("owner", f"/episodes/{episode.public_id}/discharge", {"reason": 1})
    assert response.status_code == 422
    assert "No aftercare plan yet" in response.json()["errors"]["aftercare_plan"]
