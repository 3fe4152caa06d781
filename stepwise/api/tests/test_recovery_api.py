"""Recovery in the API: a return to use recorded and worked to a settled response, a
screen's unexpected positive confirmed or dismissed, results recorded later, field
errors, who may call what, and what the recovery record costs in queries."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from stepwise.api.tests.support import Api, audit_rows
from stepwise.care.models import Stay
from stepwise.instruments.services import assessment_record
from stepwise.patients.models import RiskFlag, Task
from stepwise.recovery.models import DrugScreen, RelapseEvent, ResponseItem, ScreenResult
from stepwise.recovery.services.relapse import relapse_record
from stepwise.recovery.services.screens import ScreenInput, screen_record
from stepwise.recovery.tests.test_services import HIGH_ASAM, NOW, TODAY, admit, propose, use


@pytest.fixture(autouse=True)
def _monday_afternoon() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def recovery_of(patient: Any) -> str:
    return f"/patients/{patient.public_id}/recovery"


def relapses_of(patient: Any) -> str:
    return f"/patients/{patient.public_id}/relapses"


def screens_of(patient: Any) -> str:
    return f"/patients/{patient.public_id}/drug-screens"


def day(days_ago: int) -> str:
    return (TODAY - timedelta(days=days_ago)).isoformat()


USE = {
    "used_on": day(1),
    "kind": "relapse",
    "substances": [7],
    "route": 2,
    "context": "Alone after a shift",
    "triggers": "Payday",
}


# --- a return to use, from record to settled response -------------------------------------


def test_a_relapse_recorded_and_worked_to_a_settled_response(api, cast):
    admit(cast)
    stays = list(Stay.objects.values_list("id", "program_id", "ended_at"))
    created = api.post("owner", relapses_of(cast.patient), USE)
    assert created.status_code == 201
    body = created.json()
    assert body["status"] == "confirmed" and body["source"] == "clinician"
    assert body["used_on"] == day(1) and body["abstinent_days"] == 59
    assert body["substance_names"] == [
        "Other opiates and synthetics (fentanyl, prescription opioids)"
    ]
    assert body["confirmed_by"] == "owner" and body["flag_until"] is not None
    assert [i["item"] for i in body["items"]] == [
        "naloxone",
        "reassessment",
        "moud",
        "plan_review",
        "outreach",
    ]
    assert body["items"][4]["due_at"] is not None and not body["settled"]
    path = f"{relapses_of(cast.patient)}/{body['id']}"

    refused = api.post("owner", f"{path}/response/reassessment", {"state": "done", "note": "x"})
    assert refused.status_code == 422 and "No ASAM assessment" in refused.json()["errors"]["state"]
    asam = assessment_record(cast.actors["owner"], cast.patient, "asam3", HIGH_ASAM)
    steps = {
        "naloxone": {"state": "done", "note": "Kit and teaching"},
        "reassessment": {"state": "done", "note": "Rated again"},
        "moud": {"state": "done", "moud_answer": "accepted"},
        "plan_review": {"state": "declined", "note": "Reviewed at Thursday's meeting"},
        "outreach": {"state": "done", "note": "Called; coming tomorrow"},
    }
    for item, entry in steps.items():
        response = api.post("owner", f"{path}/response/{item}", entry)
        assert response.status_code == 200, (item, response.json())
    read = api.get("owner", path).json()
    assert read["settled"] and {i["state"] for i in read["items"]} == {"done", "declined"}
    assert read["items"][1]["evidence_id"] == str(asam.public_id)
    assert read["items"][2]["moud_answer"] == "accepted"
    again = api.post("owner", f"{path}/response/naloxone", {"state": "done", "note": "Again"})
    assert again.status_code == 409
    unknown = api.post("owner", f"{path}/response/prayer", {"state": "done", "note": "x"})
    assert unknown.status_code == 422 and "plan_review" in unknown.json()["errors"]["item"]
    # The response never moved her: a step up is the placement's, by a clinician.
    assert list(Stay.objects.values_list("id", "program_id", "ended_at")) == stays
    assert Task.objects.get(kind="relapse_outreach").status == "done"

    record = api.get("owner", recovery_of(cast.patient)).json()
    assert record["time"]["last_use"] == day(1) and record["time"]["days_since_last_use"] == 1
    assert record["time"]["longest"] == {
        "start": day(60),
        "end": day(1),
        "days": 59,
        "ongoing": False,
    }
    assert [e["id"] for e in record["events"]] == [body["id"]]
    assert {r.object_type for r in audit_rows(category="recovery", action="update")} == {
        "relapse_response"
    }
    assert audit_rows(category="recovery", action="create")[0].object_type == "relapse_event"


def test_a_refused_relapse_names_each_field(api, cast):
    admit(cast)
    response = api.post(
        "owner",
        relapses_of(cast.patient),
        {**USE, "used_on": day(-2), "kind": "binge", "substances": [99], "route": 42},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"used_on", "kind", "substances", "route"}
    assert "lapse, relapse" in errors["kind"] and "4 (Injection" in errors["route"]
    shape = api.post("owner", relapses_of(cast.patient), {"kind": "relapse", "route": "x"})
    assert shape.status_code == 422 and "route" in shape.json()["errors"]
    assert not RelapseEvent.objects.exists()


def test_a_proposal_confirmed_with_what_the_proposal_gave(api, cast):
    admit(cast)
    screen_record(
        cast.actors["owner"],
        cast.patient,
        ScreenInput(medications=["buprenorphine"], results={"fentanyl": "positive"}),
    )
    proposal = RelapseEvent.objects.get()
    path = f"{relapses_of(cast.patient)}/{proposal.public_id}"
    shown = api.get("owner", path).json()
    assert shown["status"] == "proposed" and shown["items"] == [] and shown["substances"] == [7]
    assert shown["source_type"] == "drug_screen"
    missing = api.post("owner", f"{path}/confirm", {"kind": "lapse"})
    assert missing.status_code == 422 and set(missing.json()["errors"]) == {"used_on"}
    confirmed = api.post("owner", f"{path}/confirm", {"kind": "lapse", "used_on": day(2)})
    assert confirmed.status_code == 200
    body = confirmed.json()
    assert body["status"] == "confirmed" and body["substances"] == [7]
    assert body["source"] == "screen" and len(body["items"]) == 5
    assert api.post("owner", f"{path}/confirm", {"kind": "lapse"}).status_code == 409
    assert api.post("owner", f"{path}/dismiss", {"reason": "No"}).status_code == 409
    marked = api.post("owner", f"{path}/entered-in-error", {"reason": "Wrong patient's cup"})
    assert marked.status_code == 200 and marked.json()["status"] == "entered_in_error"
    assert ResponseItem.objects.filter(event=proposal).count() == 5


def test_a_proposal_dismissed_with_its_reason(api, cast):
    admit(cast)
    proposal = propose(cast)
    path = f"{relapses_of(cast.patient)}/{proposal.public_id}"
    empty = api.post("owner", f"{path}/dismiss", {"reason": ""})
    assert empty.status_code == 422 and "reason" in empty.json()["errors"]
    blank = api.post("owner", f"{path}/dismiss", {"reason": "   "})
    assert blank.status_code == 422 and "reason" in blank.json()["errors"]
    dismissed = api.post("owner", f"{path}/dismiss", {"reason": "Meant last year"})
    assert dismissed.status_code == 200
    assert dismissed.json()["status"] == "dismissed"
    assert dismissed.json()["close_reason"] == "Meant last year"
    assert api.get("owner", recovery_of(cast.patient)).json()["time"]["uses"] == 0


# --- drug screens ---------------------------------------------------------------------------


def test_a_screen_with_an_unexpected_positive_proposes_a_relapse(api, cast):
    admit(cast)
    response = api.post(
        "owner",
        screens_of(cast.patient),
        {
            "observed": True,
            "medications": ["buprenorphine"],
            "results": {"fentanyl": "positive", "buprenorphine": "negative"},
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "resulted" and body["collected_by"] == "owner"
    assert {r["analyte"]: r["finding"] for r in body["results"]} == {
        "fentanyl": "unexpected_positive",
        "buprenorphine": "missing_expected",
    }
    proposal = RelapseEvent.objects.get()
    assert body["proposed_relapse"] == str(proposal.public_id)
    read = api.get("readonly", f"{screens_of(cast.patient)}/{body['id']}")
    assert read.status_code == 200 and read.json() == body
    record = api.get("owner", recovery_of(cast.patient)).json()
    assert record["screens"][0]["proposed_relapse"] == str(proposal.public_id)
    assert record["events"][0]["status"] == "proposed"
    assert record["time"]["uses"] == 0  # proposed, not counted


def test_a_screen_collected_now_and_resulted_later(api, cast):
    admit(cast)
    collected = api.post(
        "owner",
        screens_of(cast.patient),
        {"collected_at": (NOW - timedelta(hours=2)).isoformat(), "medications": ["methadone"]},
    )
    assert collected.status_code == 201
    body = collected.json()
    assert body["status"] == "collected" and body["results"] == []
    assert body["proposed_relapse"] is None
    path = f"{screens_of(cast.patient)}/{body['id']}"
    bad = api.post("owner", f"{path}/results", {"results": {"kratom": "positive"}, "validity": "?"})
    assert bad.status_code == 422 and set(bad.json()["errors"]) == {"results.kratom", "validity"}
    resulted = api.post(
        "owner",
        f"{path}/results",
        {"results": {"methadone": "negative", "fentanyl": "negative"}, "validity": "dilute"},
    )
    assert resulted.status_code == 200
    assert {r["finding"] for r in resulted.json()["results"]} == {"not_interpretable"}
    assert resulted.json()["validity"] == "dilute"
    twice = api.post("owner", f"{path}/results", {"results": {"fentanyl": "positive"}})
    assert twice.status_code == 409
    marked = api.post("owner", f"{path}/entered-in-error", {"reason": "Recorded twice"})
    assert marked.status_code == 200 and marked.json()["status"] == "entered_in_error"
    assert not RelapseEvent.objects.exists()


def test_a_refused_screen_names_each_field_and_its_allowed_values(api, cast):
    admit(cast)
    response = api.post(
        "owner",
        screens_of(cast.patient),
        {
            "validity": "cloudy",
            "medications": ["suboxone"],
            "results": {"fentanyl": "maybe", "kratom": "positive"},
        },
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"validity", "medications", "results.fentanyl", "results.kratom"}
    assert "dilute" in errors["validity"] and "methadone" in errors["medications"]
    assert "not_tested" in errors["results.fentanyl"]
    naive = api.post("owner", screens_of(cast.patient), {"collected_at": "2026-11-02T10:00:00"})
    assert naive.status_code == 422 and set(naive.json()["errors"]) == {"collected_at"}
    assert not DrugScreen.objects.exists() and not ScreenResult.objects.exists()


def test_a_screen_entered_in_error_dismisses_its_proposal(api, cast):
    admit(cast)
    body = api.post(
        "owner", screens_of(cast.patient), {"results": {"heroin_6mam": "positive"}}
    ).json()
    marked = api.post(
        "owner",
        f"{screens_of(cast.patient)}/{body['id']}/entered-in-error",
        {"reason": "Another patient's cup"},
    )
    assert marked.status_code == 200
    event = api.get("owner", f"{relapses_of(cast.patient)}/{body['proposed_relapse']}").json()
    assert event["status"] == "dismissed" and "Another patient's cup" in event["close_reason"]


# --- who may call what ----------------------------------------------------------------------


@pytest.fixture
def paths(cast: Any) -> dict[str, str]:
    admit(cast)
    confirmed = relapse_record(cast.actors["owner"], cast.patient, use(5))
    proposal = propose(cast)
    proposal_2 = propose(cast)
    collected = screen_record(cast.actors["owner"], cast.patient, ScreenInput())
    resulted = screen_record(
        cast.actors["owner"], cast.patient, ScreenInput(results={"thc": "negative"})
    )
    relapses, screens = relapses_of(cast.patient), screens_of(cast.patient)
    return {
        "recovery": recovery_of(cast.patient),
        "relapses": relapses,
        "confirmed": f"{relapses}/{confirmed.public_id}",
        "proposal": f"{relapses}/{proposal.public_id}",
        "proposal_2": f"{relapses}/{proposal_2.public_id}",
        "screens": screens,
        "collected": f"{screens}/{collected.public_id}",
        "resulted": f"{screens}/{resulted.public_id}",
    }


READ = {"owner": 200, "colleague": 403, "readonly": 200, "director": 200, "outsider": 404}
WRITE = {"colleague": 403, "readonly": 403, "admin": 403, "outsider": 404}
# (method, path key, tail, body, success status)
OPERATIONS: dict[str, tuple[str, str, str, Any, int]] = {
    "recovery": ("get", "recovery", "", None, 200),
    "read_relapse": ("get", "confirmed", "", None, 200),
    "read_screen": ("get", "resulted", "", None, 200),
    "record": ("post", "relapses", "", USE, 201),
    "confirm": ("post", "proposal", "/confirm", {**USE, "kind": "lapse"}, 200),
    "dismiss": ("post", "proposal_2", "/dismiss", {"reason": "No"}, 200),
    "in_error": ("post", "confirmed", "/entered-in-error", {"reason": "No"}, 200),
    "response": (
        "post",
        "confirmed",
        "/response/naloxone",
        {"state": "done", "note": "Kit"},
        200,
    ),
    "screen": ("post", "screens", "", {"results": {"fentanyl": "negative"}}, 201),
    "results": ("post", "collected", "/results", {"results": {"thc": "negative"}}, 200),
    "screen_in_error": ("post", "resulted", "/entered-in-error", {"reason": "Twice"}, 200),
}


def _call(api: Api, who: str, method: str, path: str, body: Any) -> Any:
    return api.get(who, path) if method == "get" else api.post(who, path, body)


@pytest.mark.parametrize("operation", list(OPERATIONS))
def test_who_may_call_each_operation(api, cast, paths, operation):
    method, key, tail, body, ok = OPERATIONS[operation]
    path = paths[key] + tail
    expected = READ if method == "get" else WRITE
    rows_before = (
        RelapseEvent.objects.count(),
        DrugScreen.objects.count(),
        list(ResponseItem.objects.values_list("state", flat=True)),
        list(RelapseEvent.objects.values_list("status", flat=True)),
        list(DrugScreen.objects.values_list("status", flat=True)),
    )
    for who, status in expected.items():
        response = _call(api, who, method, path, body)
        assert response.status_code == status, (who, response.content)
        text = response.content.decode()
        if status != 200:
            for planted in ("Rivera", "Ana", "RR-1", "fentanyl", "Alone at home"):
                assert planted not in text, (who, planted)
    if method == "post":  # every refusal wrote nothing
        assert rows_before == (
            RelapseEvent.objects.count(),
            DrugScreen.objects.count(),
            list(ResponseItem.objects.values_list("state", flat=True)),
            list(RelapseEvent.objects.values_list("status", flat=True)),
            list(DrugScreen.objects.values_list("status", flat=True)),
        )
        assert api.post("readonly", path, {}).status_code == 403  # refused before the body
    response = _call(api, "owner", method, path, body)
    assert response.status_code == ok, response.content


def test_an_outsider_is_refused_with_an_audit_row_and_learns_nothing(api, cast, paths):
    response = api.get("outsider", paths["confirmed"])
    assert response.status_code == 404 and response.json() == {"detail": "Not found."}
    assert audit_rows(outcome="denied", actor_username="outsider")


def test_records_of_another_patient_or_unknown_ids_are_not_found(api, cast, paths):
    other = cast.new_patient("RR-2", "Ben", "Ortiz")
    event_id = paths["confirmed"].rsplit("/", 1)[1]
    screen_id = paths["resulted"].rsplit("/", 1)[1]
    for path in [
        f"{relapses_of(other)}/{event_id}",
        f"{screens_of(other)}/{screen_id}",
        f"{relapses_of(cast.patient)}/not-an-id",
        f"{screens_of(cast.patient)}/{event_id}",
    ]:
        assert api.get("owner", path).status_code == 404, path
    wrong = api.post(
        "owner", f"{relapses_of(other)}/{event_id}/response/naloxone", {"state": "done"}
    )
    assert wrong.status_code == 404
    assert not RiskFlag.objects.filter(patient=other).exists()


# --- what the recovery record costs ---------------------------------------------------------


def _queries(api: Api, path: str) -> int:
    api.get("owner", path)  # warm up: the token's first use records last_used_at
    with CaptureQueriesContext(connection) as captured:
        assert api.get("owner", path).status_code == 200
    return len(captured.captured_queries)


def _history(cast: Any, events: int) -> None:
    owner = cast.actors["owner"]
    for n in range(events):
        relapse_record(owner, cast.patient, use(n + 1))
        screen_record(owner, cast.patient, ScreenInput(results={"fentanyl": "positive"}))


def test_the_recovery_record_costs_the_same_however_long(api, cast):
    admit(cast)
    _history(cast, 1)
    few = _queries(api, recovery_of(cast.patient))
    _history(cast, 4)
    many = _queries(api, recovery_of(cast.patient))
    found = api.get("owner", recovery_of(cast.patient)).json()
    assert len(found["events"]) == 10 and len(found["screens"]) == 5
    # Token and membership (2); the patient and the care team, by the token's check and
    # again by the read (4); events, items, screens, results, the record's start (5);
    # the read's audit row with its chain head, in savepoints here (7).
    assert few == many == 19
