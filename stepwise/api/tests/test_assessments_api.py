"""Instruments, scoring, assessments and placement through the JSON API: the same
scores as the engine at every band boundary, 422s that name each item, and the same
walls as the pages."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepwise.api.tests.support import audit_rows
from stepwise.instruments.definitions.cows import COWS
from stepwise.instruments.models import Assessment
from stepwise.instruments.registry import INSTRUMENTS
from stepwise.instruments.tests.test_boundaries_pages import answers_totalling, boundaries
from stepwise.instruments.tests.test_services import COWS_13, COWS_ZERO
from stepwise.patients.models import Alert


def test_the_list_names_every_instrument_with_its_version(api: Any) -> None:
    response = api.get("owner", "/instruments")
    assert response.status_code == 200
    assert [i["code"] for i in response.json()] == list(INSTRUMENTS)
    assert {i["code"] for i in response.json()} == {
        "cows",
        "sows",
        "dsm5-oud",
        "phq9",
        "gad7",
        "dast10",
        "auditc",
        "craving",
        "asam3",
    }


def test_a_definition_has_items_in_published_order_with_allowed_values(api: Any) -> None:
    body = api.get("owner", "/instruments/cows").json()
    assert [i["id"] for i in body["items"]] == [i.id for i in COWS.items]
    pulse = body["items"][0]
    assert [a["value"] for a in pulse["anchors"]] == [0, 1, 2, 4]
    assert [(b["low"], b["high"]) for b in body["bands"]] == [
        (0, 4),
        (5, 12),
        (13, 24),
        (25, 36),
        (37, None),
    ]
    assert body["loinc"] is None and body["local_code"]
    auditc = api.get("owner", "/instruments/auditc").json()
    assert auditc["band_context"] == "sex" and set(auditc["band_sets"]) >= {"male", "female"}
    asam = api.get("owner", "/instruments/asam3").json()
    assert asam["totalled"] is False and all(i["prompts"] for i in asam["items"])
    assert api.get("owner", "/instruments/ciwa").status_code == 404


@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        (COWS_ZERO | {"pulse": 4}, 4, "below_mild"),
        (COWS_ZERO | {"pulse": 4, "sweating": 1}, 5, "mild"),
        (COWS_ZERO | {"pulse": 4, "tremor": 4, "yawning": 4}, 12, "mild"),
        (COWS_13, 13, "moderate"),
    ],
)
def test_cows_scores_at_its_band_boundaries(
    api: Any, answers: dict[str, int], total: int, band: str
) -> None:
    body = api.post("owner", "/instruments/cows/score", {"answers": answers}).json()
    assert (body["total"], body["band"]["code"], body["complete"]) == (total, band, True)
    assert body["instrument"] == "cows" and body["version"] == COWS.version
    assert [s["code"] for s in body["signals"]] == (["withdrawal_moderate"] if total >= 13 else [])


def _complete(code: str) -> st.SearchStrategy[dict[str, int]]:
    instrument = INSTRUMENTS[code]
    return st.fixed_dictionaries(
        {i.id: st.sampled_from(i.allowed) for i in instrument.items if i.required}
    )


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_api_scores_exactly_as_the_engine(api: Any, data: st.DataObject) -> None:
    code = data.draw(st.sampled_from(sorted(INSTRUMENTS)))
    answers = data.draw(_complete(code))
    context = {"sex": "female"} if code == "auditc" else {}
    expected = INSTRUMENTS[code].score(answers, context)
    body = api.post(
        "owner", f"/instruments/{code}/score", {"answers": answers, "context": context}
    ).json()
    assert body["total"] == expected.total
    assert (body["band"] or {}).get("code") == (expected.band.code if expected.band else None)
    assert [s["code"] for s in body["signals"]] == [s.code for s in expected.signals]


def test_a_partial_response_is_scored_as_far_as_it_goes(api: Any) -> None:
    body = api.post("owner", "/instruments/phq9/score", {"answers": {"feeling_down": 2}}).json()
    assert (body["total"], body["band"], body["complete"]) == (2, None, False)


def test_invalid_answers_give_422_naming_each_item_and_its_allowed_values(api: Any) -> None:
    response = api.post(
        "owner",
        "/instruments/cows/score",
        {"answers": {"pulse": 3, "mood": 1, "tremor": "2", "yawning": True}},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"pulse", "mood", "tremor", "yawning"}
    assert "allowed: 0, 1, 2, 4" in errors["pulse"]
    assert "no item 'mood'" in errors["mood"]
    bad_sex = api.post(
        "owner", "/instruments/auditc/score", {"answers": {}, "context": {"sex": "x"}}
    )
    assert "female" in bad_sex.json()["errors"]["sex"]


def test_scoring_needs_a_clinical_role_and_stores_nothing(api: Any) -> None:
    assert api.post("admin", "/instruments/cows/score", {"answers": COWS_ZERO}).status_code == 403
    assert api.post(None, "/instruments/cows/score", {"answers": COWS_ZERO}).status_code == 401
    assert not Assessment.objects.exists()


def test_record_list_and_correct_a_patients_assessment(api: Any) -> None:
    path = f"/patients/{api.cast.patient.public_id}/assessments"
    created = api.post("owner", path, {"instrument": "cows", "answers": COWS_13})
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["total"], body["band"], body["version"], body["entered_by"]) == (
        13,
        "moderate",
        "2003",
        "owner",
    )
    assert Alert.objects.filter(kind="withdrawal_moderate", status="open").exists()
    listed = api.get("owner", path, instrument="cows")
    assert [a["id"] for a in listed.json()] == [body["id"]]
    assert audit_rows(object_type="assessment_list")
    marked = api.post("owner", f"{path}/{body['id']}/entered-in-error", {"reason": "Wrong bed"})
    assert marked.json()["status"] == "entered_in_error"
    corrected = api.post(
        "owner", path, {"instrument": "cows", "answers": COWS_ZERO, "replaces": body["id"]}
    )
    assert corrected.json()["replaces"] == body["id"]


def test_a_stored_response_must_be_complete_and_valid(api: Any) -> None:
    path = f"/patients/{api.cast.patient.public_id}/assessments"
    response = api.post("owner", path, {"instrument": "cows", "answers": {"pulse": 3}})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "allowed: 0, 1, 2, 4" in errors["pulse"] and "gooseflesh" in errors
    unknown = api.post("owner", path, {"instrument": "ciwa", "answers": {}})
    assert "cows" in unknown.json()["errors"]["instrument"]
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(("who", "status"), [("colleague", 403), ("outsider", 404), ("admin", 403)])
def test_the_walls_of_the_chart_hold_for_assessments(api: Any, who: str, status: int) -> None:
    path = f"/patients/{api.cast.patient.public_id}/assessments"
    assert api.post(who, path, {"instrument": "cows", "answers": COWS_ZERO}).status_code == status
    response = api.get(who, path)
    assert response.status_code == status
    assert "Rivera" not in response.content.decode()
    assert not Assessment.objects.exists()


def test_placement_recommends_with_a_rationale_per_dimension(api: Any) -> None:
    ratings = {"d1": 3, "d2": 1, "d3": 1, "d4": 1, "d5": 1, "d6": 1}
    body = api.post("owner", "/placement/recommend", {"ratings": ratings}).json()
    assert (body["level"], body["withdrawal_level"], body["edition"]) == ("3.7", "3.7-WM", 3)
    dimensions = {line["dimension"] for line in body["rationale"] if line["dimension"]}
    assert dimensions == {1, 2, 3, 4, 5, 6}
    danger = api.post(
        "owner", "/placement/recommend", {"ratings": ratings, "facts": {"imminent_danger": True}}
    ).json()
    assert danger["level"] == "4" and any(
        line["rule"] == "F-DANGER" for line in danger["rationale"]
    )


def test_a_withdrawal_score_informs_but_never_sets_the_level(api: Any) -> None:
    ratings = {"d1": 1, "d2": 0, "d3": 0, "d4": 0, "d5": 0, "d6": 0}
    plain = api.post("owner", "/placement/recommend", {"ratings": ratings}).json()
    scored = api.post(
        "owner",
        "/placement/recommend",
        {"ratings": ratings, "facts": {"withdrawal_score": ["cows", 30]}},
    ).json()
    assert plain["level"] == scored["level"]
    assert any(line["rule"] == "WS-COWS" for line in scored["rationale"]) and scored["cautions"]


def test_placement_names_each_invalid_rating(api: Any) -> None:
    response = api.post(
        "owner",
        "/placement/recommend",
        {"ratings": {"d1": 5, "d2": -1, "d3": 0, "d4": 0, "d5": 0, "d6": "x"}},
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"ratings.d1", "ratings.d2", "ratings.d6"}
    assert "allowed: 0, 1, 2, 3, 4" in errors["ratings.d1"]


@pytest.mark.parametrize(("code", "sex", "total", "band"), boundaries())
def test_every_band_boundary_through_the_scoring_endpoint(
    api: Any, code: str, sex: str, total: int, band: str
) -> None:
    context = {"sex": {"1": "male", "2": "female"}[sex]} if sex in ("1", "2") else {}
    answers = answers_totalling(INSTRUMENTS[code], total)
    body = api.post(
        "owner", f"/instruments/{code}/score", {"answers": answers, "context": context}
    ).json()
    assert (body["total"], body["band"]["code"], body["complete"]) == (total, band, True)
