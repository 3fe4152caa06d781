"""Sober living through the JSON API: occupancy and vacancies without names, a house's
residents for residence staff, a patient's residencies for their chart readers, and
move-in, move-out, bed moves, rules re-acceptance and curfew check-ins with the same
walls, refusals and audit rows as the services."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.api.tests.support import audit_rows
from stepwise.care.services import episode_admit
from stepwise.core.errors import NotFound
from stepwise.residences.models import Residency
from stepwise.residences.services.curfew import curfew_record
from stepwise.residences.services.residency import residency_move_bed
from stepwise.residences.services.setup import rules_update
from stepwise.residences.tests.support import move_in, sober_living

NY = ZoneInfo("America/New_York")


def test_residences_with_occupancy_and_no_names(api, cast):
    s = sober_living(cast)
    placed = move_in(cast, cast.patient, s.oak_beds[0])
    response = api.get("colleague", "/residences")
    assert response.status_code == 200
    (residence,) = response.json()
    assert residence["name"] == "Riverside Sober Living" and residence["rules_version"] == 1
    assert residence["counts"] == {"occupied": 1, "vacant": 5, "out_of_service": 0}
    oak = next(h for h in residence["houses"] if h["name"].startswith("Oak"))
    assert oak["counts"]["occupied"] == 1 and oak["curfew_weekday"] == "22:00"
    assert "Rivera" not in response.content.decode()
    # At an instant before anyone moved in.
    earlier = (placed.moved_in_at - timedelta(microseconds=1)).isoformat()
    before = api.get("colleague", "/residences", at=earlier).json()
    assert before[0]["counts"]["occupied"] == 0
    assert api.get("colleague", "/residences", at="2026-01-01T10:00:00").status_code == 422
    assert api.get("readonly", "/residences").status_code == 403
    assert api.get("outsider", "/residences").json() == []


def test_a_residence_with_its_beds_and_rules_and_the_vacancies(api, cast):
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    detail = api.get("colleague", f"/residences/{s.residence.public_id}").json()
    assert detail["rules_text"].startswith("No alcohol")
    oak = next(h for h in detail["houses"] if h["name"].startswith("Oak"))
    assert [b["state"] for b in oak["beds"]] == ["occupied", "vacant", "vacant", "vacant"]
    assert api.get("outsider", f"/residences/{s.residence.public_id}").status_code == 404
    assert api.get("colleague", "/residences/not-a-uuid").status_code == 404
    vacancies = api.get("colleague", "/residences/vacancies").json()
    assert {v["house"]["name"]: v["vacant"] for v in vacancies} == {
        s.elm.name: 2,
        s.oak.name: 3,
    }
    oak_vacant = next(v for v in vacancies if v["house"]["name"] == s.oak.name)
    assert [b["label"] for b in oak_vacant["beds"]] == ["Bed 2", "Bed 3", "Bed 4"]


def test_residents_are_for_residence_staff_and_audited(api, cast):
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    url = f"/houses/{s.oak.public_id}/residents"
    (resident,) = api.get("owner", url).json()
    assert resident["name"] == "Ana Rivera" and resident["bed"]["label"] == "Bed 1"
    assert audit_rows(object_type="house_residents")[-1].detail["patients"] == [
        str(cast.patient.public_id)
    ]
    assert api.get("colleague", url).status_code == 403
    assert api.get("outsider", url).status_code == 404


def test_move_in_move_out_and_the_patients_residencies(api, cast):
    episode_admit(
        cast.actors["owner"], cast.patient, cast.iop, at=timezone.now() - timedelta(days=1)
    )
    s = sober_living(cast)
    body = {
        "patient": str(cast.patient.public_id),
        "bed": str(s.oak_beds[0].public_id),
        "rules_version": 1,
    }
    made = api.post("owner", "/residencies", body)
    assert made.status_code == 201, made.json()
    residency = made.json()
    assert residency["stay"]["level"] == "2.1" and residency["rules_in_force"] == 1
    assert residency["bed"] == {"id": str(s.oak_beds[0].public_id), "label": "Bed 1"}
    again = api.post("owner", "/residencies", body)
    assert again.status_code == 409 and "lives at" in again.json()["detail"]
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    taken = api.post("director", "/residencies", {**body, "patient": str(ben.public_id)})
    assert taken.status_code == 409 and "is taken: Ana Rivera lives there" in taken.json()["detail"]
    out = api.post(
        "owner",
        f"/residencies/{residency['id']}/move-out",
        {"reason": "completed", "note": "Nine months sober"},
    )
    assert out.status_code == 200 and out.json()["move_out_reason"] == "completed"
    mine = api.get("owner", f"/patients/{cast.patient.public_id}/residencies").json()
    assert [r["id"] for r in mine["residencies"]] == [residency["id"]]
    assert (
        api.get("colleague", f"/patients/{cast.patient.public_id}/residencies").status_code == 403
    )
    assert api.get("readonly", f"/patients/{cast.patient.public_id}/residencies").status_code == 200


def test_write_refusals_name_the_field(api, cast):
    s = sober_living(cast)
    base = {"patient": str(cast.patient.public_id), "bed": str(s.oak_beds[0].public_id)}
    no_rules = api.post("owner", "/residencies", {**base, "rules_version": None})
    assert no_rules.status_code == 422 and "rules_accepted" in no_rules.json()["errors"]
    stale = api.post("owner", "/residencies", {**base, "rules_version": 7})
    assert "changed" in stale.json()["errors"]["rules_accepted"]
    unknown = api.post(
        "owner",
        "/residencies",
        {**base, "bed": str(cast.other_patient.public_id), "rules_version": 1},
    )
    assert unknown.status_code == 422 and "No bed" in unknown.json()["errors"]["bed"]
    foreign = api.post(
        "owner",
        "/residencies",
        {**base, "patient": str(cast.other_patient.public_id), "rules_version": 1},
    )
    assert foreign.status_code == 422 and "No patient" in foreign.json()["errors"]["patient"]
    extra = api.post("owner", "/residencies", {**base, "rules_version": 1, "bedd": "x"})
    assert extra.status_code == 422 and "bedd" in extra.json()["errors"]
    naive = api.post(
        "owner", "/residencies", {**base, "rules_version": 1, "moved_in_at": "2026-01-01T10:00:00"}
    )
    assert naive.status_code == 422
    assert api.post("colleague", "/residencies", {**base, "rules_version": 1}).status_code == 403
    assert not Residency.objects.exists()


def test_moves_rules_and_curfew(api, cast):
    with time_machine.travel(datetime(2026, 11, 5, 18, 0, tzinfo=NY), tick=False) as clock:
        s = sober_living(cast)
        residency = move_in(cast, cast.patient, s.oak_beds[0])
        clock.move_to(datetime(2026, 11, 5, 19, 0, tzinfo=NY))
        moved = api.post(
            "owner",
            f"/residencies/{residency.public_id}/move",
            {"bed": str(s.oak_beds[1].public_id)},
        )
        assert moved.status_code == 201
        new_id = moved.json()["id"]
        assert moved.json()["moved_from"] == str(residency.public_id)
        rules_update(cast.actors["director"], s.residence, text="Version two")
        accepted = api.post(
            "owner", f"/residencies/{new_id}/rules-acceptance", {"rules_version": 2}
        )
        assert accepted.status_code == 200 and accepted.json()["rules_version"] == 2
        clock.move_to(datetime(2026, 11, 5, 22, 5, tzinfo=NY))
        mark = api.post("owner", f"/residencies/{new_id}/curfew", {"mark": "arrived"})
        assert mark.status_code == 200
        assert (mark.json()["status"], mark.json()["minutes_late"]) == ("late", 5)
        assert mark.json()["night"] == "2026-11-05"
        bad = api.post("owner", f"/residencies/{new_id}/curfew", {"mark": "home"})
        assert bad.status_code == 422 and "mark" in bad.json()["errors"]
        far = api.post(
            "owner", f"/residencies/{new_id}/curfew", {"mark": "missed", "night": "0001-01-01"}
        )
        assert far.status_code == 422
        assert (
            api.post("colleague", f"/residencies/{new_id}/curfew", {"mark": "arrived"}).status_code
            == 403
        )
        assert (
            api.post("outsider", f"/residencies/{new_id}/curfew", {"mark": "arrived"}).status_code
            == 404
        )
        history = api.get("owner", f"/patients/{cast.patient.public_id}/residencies").json()
        assert history["curfew"][0]["residency"] == new_id


def _count(api: Any, who: str, path: str) -> int:
    api.get(who, path)  # the token's first use records when it was used
    with CaptureQueriesContext(connection) as captured:
        assert api.get(who, path).status_code == 200
    return len(captured.captured_queries)


def test_reads_cost_the_same_queries_for_more_residences_and_residents(api, cast):
    with time_machine.travel(timezone.now() - timedelta(hours=1), tick=False):
        s = sober_living(cast)
        move_in(cast, cast.patient, s.oak_beds[0])
    paths = [
        ("colleague", "/residences"),
        ("colleague", "/residences/vacancies"),
        ("colleague", f"/residences/{s.residence.public_id}"),
        ("owner", f"/houses/{s.oak.public_id}/residents"),
        ("owner", f"/patients/{cast.patient.public_id}/residencies"),
    ]
    few = [_count(api, who, path) for who, path in paths]
    for name in ("Second Wind", "Third Step"):
        sober_living(cast, name=name)
    for n in range(2):
        move_in(cast, cast.new_patient(f"RR-{n + 5}"), s.oak_beds[n + 1])
    # Ana's history grows: a bed move and a curfew mark.
    first = Residency.objects.get(patient=cast.patient)
    moved = residency_move_bed(cast.actors["owner"], first, s.oak_beds[3])
    curfew_record(cast.actors["owner"], moved, mark="excused", reason="Work")
    assert [_count(api, who, path) for who, path in paths] == few


def test_a_refused_patient_lookup_is_audited(api, cast):
    s = sober_living(cast)
    move_in(cast, cast.patient, s.oak_beds[0])
    path = f"/patients/{cast.patient.public_id}/residencies"
    refused = api.get("outsider", path)
    assert refused.status_code == 404 and "Rivera" not in refused.content.decode()
    (denied,) = audit_rows(action="access_denied", actor_username="outsider")
    assert denied.object_type == "patient" and denied.object_id == str(cast.patient.public_id)
    assert denied.outcome == "denied"
    assert not audit_rows(object_type="patient_residences", actor_username="outsider")
    # Off the care team: 403, refused on the care team and audited as such.
    assert api.get("colleague", path).status_code == 403
    (off_team,) = audit_rows(action="access_denied", actor_username="colleague")
    assert off_team.patient_public_id == cast.patient.public_id
    assert off_team.detail == {"permission": "chart.read", "why": "not on the care team"}
    # An unknown id is refused the same way as a foreign one.
    unknown = "/patients/00000000-0000-0000-0000-000000000000/residencies"
    assert api.get("owner", unknown).status_code == 404
    assert audit_rows(action="access_denied", actor_username="owner")


def test_the_operation_itself_audits_a_refused_patient(cast):
    """Not only the token's check: the operation looks the patient up through the
    audited chart lookup too, as the other routers do."""
    from stepwise.api.residences import patient_residencies

    request = RequestFactory().get("/")
    request.auth = cast.actors["outsider"]  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        patient_residencies(request, str(cast.patient.public_id))
    (denied,) = audit_rows(action="access_denied", actor_username="outsider")
    assert denied.object_id == str(cast.patient.public_id)
