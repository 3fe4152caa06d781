"""Admitting, moving and discharging patients through the API, and reading the timeline."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.http import HttpResponse
from django.utils import timezone

from stepwise.api.tests.support import audit_rows
from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, EpisodeStatus, Program, Stay
from stepwise.care.services import episode_admit, episode_discharge, stay_transition
from stepwise.patients.models import Patient


def iso(moment: datetime) -> str:
    return moment.isoformat()


def admit_path(patient: Patient) -> str:
    return f"/patients/{patient.public_id}/admit"


def admitted(
    cast: Any, program: Program | None = None, days_ago: int = 3, patient: Patient | None = None
) -> Episode:
    """An episode opened a few days ago, through the service (not the API under test)."""
    return episode_admit(
        cast.actors["owner"],
        patient or cast.patient,
        program or cast.detox,
        at=timezone.now() - timedelta(days=days_ago),
    )


def assert_reveals_nothing(response: HttpResponse) -> None:
    text = response.content.decode()
    for secret in ("Ana", "Rivera", "RR-1"):
        assert secret not in text


# --- POST /patients/{id}/admit -------------------------------------------------------------


def test_admit_returns_201_with_the_episode_and_audits(api, cast):
    at = timezone.now() - timedelta(hours=2)
    response = api.post(
        "owner",
        admit_path(cast.patient),
        {"program": str(cast.detox.public_id), "admitted_at": iso(at), "referral_source": 2},
    )
    assert response.status_code == 201
    body = response.json()
    episode = Episode.objects.get(patient=cast.patient)
    assert body["id"] == str(episode.public_id)
    assert body["patient"] == str(cast.patient.public_id)
    assert body["status"] == "open" and body["referral_source"] == 2
    assert body["discharged_at"] is None and body["discharge_reason"] is None
    assert body["previous_episode"] is None
    stay = episode.stays.get()
    assert stay.program == cast.detox and stay.started_at == at == episode.admitted_at
    (event,) = audit_rows(action="admit")
    assert event.patient_public_id == cast.patient.public_id
    assert event.object_id == str(episode.public_id) and event.actor_username == "owner"
    assert event.detail["program"] == str(cast.detox.public_id)


def test_admit_defaults_to_now_and_an_unknown_referral(api, cast):
    before = timezone.now()
    body = api.post("owner", admit_path(cast.patient), {"program": str(cast.iop.public_id)})
    assert body.status_code == 201
    episode = Episode.objects.get(public_id=body.json()["id"])
    assert before <= episode.admitted_at <= timezone.now()
    assert episode.referral_source == -9


def test_a_readmission_links_the_previous_episode(api, cast):
    first = admitted(cast, days_ago=10)
    episode_discharge(cast.actors["owner"], first, reason=2, at=timezone.now() - timedelta(days=5))
    body = api.post("owner", admit_path(cast.patient), {"program": str(cast.iop.public_id)}).json()
    assert body["previous_episode"] == str(first.public_id)


def test_admit_into_a_full_program_is_409_and_changes_nothing(api, cast):
    admitted(cast, patient=cast.new_patient("RR-2"))
    admitted(cast, patient=cast.new_patient("RR-3"))
    before = audit_rows(action="admit")
    response = api.post("owner", admit_path(cast.patient), {"program": str(cast.detox.public_id)})
    assert response.status_code == 409
    assert "Detox is full: 2 of 2 beds" in response.json()["detail"]
    assert not Episode.objects.filter(patient=cast.patient).exists()
    assert audit_rows(action="admit") == before


def test_admit_with_an_open_episode_is_409(api, cast):
    admitted(cast, program=cast.iop)
    response = api.post(
        "owner", admit_path(cast.patient), {"program": str(cast.residential.public_id)}
    )
    assert response.status_code == 409
    assert "already has an open episode" in response.json()["detail"]
    assert Episode.objects.filter(patient=cast.patient).count() == 1


def test_readonly_cannot_admit(api, cast):
    response = api.post(
        "readonly", admit_path(cast.patient), {"program": str(cast.detox.public_id)}
    )
    assert response.status_code == 403
    assert_reveals_nothing(response)
    assert not Episode.objects.exists()
    (denied,) = audit_rows(action="access_denied")
    assert (
        denied.actor_username == "readonly" and denied.patient_public_id == cast.patient.public_id
    )
    assert denied.detail["permission"] == "care.write"


def test_the_outsider_cannot_admit_a_foreign_patient(api, cast):
    response = api.post(
        "outsider", admit_path(cast.patient), {"program": str(cast.other_program.public_id)}
    )
    assert response.status_code == 404
    assert_reveals_nothing(response)
    assert not Episode.objects.exists()
    (denied,) = audit_rows(action="access_denied")
    assert denied.actor_username == "outsider" and denied.object_id == str(cast.patient.public_id)


def test_admit_into_an_unknown_or_foreign_program_is_422_on_program(api, cast):
    for program in (cast.other_program.public_id, uuid.uuid4()):
        response = api.post("owner", admit_path(cast.patient), {"program": str(program)})
        assert response.status_code == 422
        assert list(response.json()["errors"]) == ["program"]
    assert not Episode.objects.exists()


def test_admit_into_an_inactive_program_is_422(api, cast):
    cast.iop.is_active = False
    cast.iop.save(update_fields=["is_active"])
    response = api.post("owner", admit_path(cast.patient), {"program": str(cast.iop.public_id)})
    assert response.status_code == 422
    assert "inactive" in response.json()["errors"]["program"]


@pytest.mark.parametrize("source", [0, 8, 9, -1, 99])
def test_an_unknown_referral_source_is_422_listing_the_allowed_values(api, cast, source):
    response = api.post(
        "owner",
        admit_path(cast.patient),
        {"program": str(cast.detox.public_id), "referral_source": source},
    )
    assert response.status_code == 422
    message = response.json()["errors"]["referral_source"]
    assert "1 (Individual" in message and "-9 (Not recorded)" in message
    assert not Episode.objects.exists()


def test_a_future_admission_time_is_422_on_admitted_at(api, cast):
    later = timezone.now() + timedelta(hours=2)
    response = api.post(
        "owner",
        admit_path(cast.patient),
        {"program": str(cast.detox.public_id), "admitted_at": iso(later)},
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"admitted_at": "The time cannot be in the future."}


def test_an_admission_time_needs_its_time_zone(api, cast):
    response = api.post(
        "owner",
        admit_path(cast.patient),
        {"program": str(cast.detox.public_id), "admitted_at": "2024-01-02T10:00:00"},
    )
    assert response.status_code == 422
    assert "time zone" in response.json()["errors"]["admitted_at"]


def test_a_malformed_admit_body_is_422_naming_the_fields(api, cast):
    response = api.post(
        "owner", admit_path(cast.patient), {"program": "detox", "admitted_at": "soon"}
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"program", "admitted_at"}


def test_admit_of_a_malformed_patient_id_is_404(api, cast):
    response = api.post("owner", "/patients/nope/admit", {"program": str(cast.detox.public_id)})
    assert response.status_code == 404


# --- POST /episodes/{id}/transition ---------------------------------------------------------


def test_transition_returns_201_with_the_new_stay_and_audits(api, cast):
    episode = admitted(cast)
    prepare_exit(cast.actors["owner"], episode, cast.detox, timezone.now(), ends_episode=False)
    response = api.post(
        "owner",
        f"/episodes/{episode.public_id}/transition",
        {
            "to_program": str(cast.residential.public_id),
            "kind": "step_down",
            "reason": "Withdrawal resolved",
        },
    )
    assert response.status_code == 201
    body = response.json()
    first, second = episode.stays.order_by("sequence")
    assert body["id"] == str(second.public_id) and body["sequence"] == 2
    assert body["program"] == str(cast.residential.public_id)
    assert body["program_name"] == "Residential" and body["asam_level"] == "3.5"
    assert body["entry_kind"] == "step_down" and body["entry_reason"] == "Withdrawal resolved"
    assert body["ended_at"] is None
    assert first.ended_at == second.started_at
    (event,) = audit_rows(action="transition")
    assert event.patient_public_id == cast.patient.public_id
    assert event.object_id == str(second.public_id)
    assert (
        event.detail.items()
        >= {
            "from": str(cast.detox.public_id),
            "to": str(cast.residential.public_id),
            "kind": "step_down",
            "discharge_bundle": "required",
        }.items()
    )


def test_transition_needs_a_reason(api, cast):
    episode = admitted(cast)
    path = f"/episodes/{episode.public_id}/transition"
    to = str(cast.residential.public_id)
    missing = api.post("owner", path, {"to_program": to, "kind": "step_down"})
    assert missing.status_code == 422 and list(missing.json()["errors"]) == ["reason"]
    blank = api.post("owner", path, {"to_program": to, "kind": "step_down", "reason": "  "})
    assert blank.status_code == 422 and list(blank.json()["errors"]) == ["reason"]
    assert episode.stays.count() == 1


def test_transition_of_the_wrong_kind_is_422_on_kind(api, cast):
    episode = admitted(cast)
    response = api.post(
        "owner",
        f"/episodes/{episode.public_id}/transition",
        {"to_program": str(cast.residential.public_id), "kind": "step_up", "reason": "x"},
    )
    assert response.status_code == 422
    message = response.json()["errors"]["kind"]
    assert "3.7-WM" in message and "3.5" in message and "step down, not a step up" in message
    sideways = api.post(
        "owner",
        f"/episodes/{episode.public_id}/transition",
        {"to_program": str(cast.residential.public_id), "kind": "sideways", "reason": "x"},
    )
    assert sideways.status_code == 422
    assert "step_down, step_up, transfer" in sideways.json()["errors"]["kind"]
    assert episode.stays.get().ended_at is None


def test_transition_into_a_full_program_is_409_and_keeps_the_current_stay(api, cast):
    admitted(cast, patient=cast.new_patient("RR-2"))
    admitted(cast, patient=cast.new_patient("RR-3"))
    episode = admitted(cast, program=cast.residential)
    response = api.post(
        "owner",
        f"/episodes/{episode.public_id}/transition",
        {
            "to_program": str(cast.detox.public_id),
            "kind": "step_up",
            "reason": "Withdrawal returned",
        },
    )
    assert response.status_code == 409
    assert "Detox is full" in response.json()["detail"]
    stay = episode.stays.get()
    assert stay.ended_at is None and stay.program == cast.residential
    assert not audit_rows(action="transition")


def test_transition_of_a_discharged_episode_is_409(api, cast):
    episode = admitted(cast)
    prepare_exit(cast.actors["owner"], episode, cast.detox, timezone.now(), ends_episode=True)
    episode_discharge(cast.actors["owner"], episode, reason=1)
    response = api.post(
        "owner",
        f"/episodes/{episode.public_id}/transition",
        {"to_program": str(cast.residential.public_id), "kind": "step_down", "reason": "x"},
    )
    assert response.status_code == 409


def test_transition_to_an_unknown_program_is_422_on_to_program(api, cast):
    episode = admitted(cast)
    response = api.post(
        "owner",
        f"/episodes/{episode.public_id}/transition",
        {"to_program": str(cast.other_program.public_id), "kind": "step_down", "reason": "x"},
    )
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["to_program"]


def test_the_outsider_cannot_move_a_foreign_episode(api, cast):
    episode = admitted(cast)
    response = api.post(
        "outsider",
        f"/episodes/{episode.public_id}/transition",
        {"to_program": str(cast.other_program.public_id), "kind": "transfer", "reason": "x"},
    )
    assert response.status_code == 404
    assert_reveals_nothing(response)
    assert episode.stays.count() == 1
    (denied,) = audit_rows(action="access_denied")
    assert denied.actor_username == "outsider" and denied.outcome == "denied"
    assert denied.object_id == str(episode.public_id)
    assert denied.patient_public_id is None  # the refusal does not leak whose episode it was


def test_readonly_cannot_move_a_patient(api, cast):
    episode = admitted(cast)
    response = api.post(
        "readonly",
        f"/episodes/{episode.public_id}/transition",
        {"to_program": str(cast.residential.public_id), "kind": "step_down", "reason": "x"},
    )
    assert response.status_code == 403
    assert_reveals_nothing(response)
    assert audit_rows(action="access_denied", actor_username="readonly")


@pytest.mark.parametrize("episode_id", ["nope", "00000000-0000-0000-0000-000000000000"])
def test_transition_of_an_unknown_episode_is_404_and_audited(api, cast, episode_id):
    response = api.post(
        "owner",
        f"/episodes/{episode_id}/transition",
        {"to_program": str(cast.residential.public_id), "kind": "step_down", "reason": "x"},
    )
    assert response.status_code == 404
    (denied,) = audit_rows(action="access_denied")
    assert denied.actor_username == "owner" and denied.object_id == episode_id


# --- POST /episodes/{id}/discharge ----------------------------------------------------------


def test_discharge_returns_200_with_the_closed_episode_and_audits(api, cast):
    episode = admitted(cast)
    prepare_exit(cast.actors["owner"], episode, cast.detox, timezone.now(), ends_episode=True)
    response = api.post(
        "owner", f"/episodes/{episode.public_id}/discharge", {"reason": 1, "note": " Completed "}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(episode.public_id) and body["patient"] == str(cast.patient.public_id)
    assert body["status"] == "discharged" and body["discharge_reason"] == 1
    assert body["discharge_note"] == "Completed" and body["discharged_at"]
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.DISCHARGED
    assert not Stay.objects.filter(episode=episode, ended_at__isnull=True).exists()
    (event,) = audit_rows(action="discharge")
    assert event.patient_public_id == cast.patient.public_id and event.detail["reason"] == 1
    # Leaving withdrawal management adds the bundle's outcome and the risk flag.
    assert event.detail["discharge_bundle"] == "required" and "risk_flag_until" in event.detail


@pytest.mark.parametrize("reason", [0, 8, 9, -9])
def test_an_unknown_discharge_reason_is_422_listing_the_allowed_values(api, cast, reason):
    episode = admitted(cast)
    response = api.post("owner", f"/episodes/{episode.public_id}/discharge", {"reason": reason})
    assert response.status_code == 422
    message = response.json()["errors"]["reason"]
    assert "1 (Treatment completed)" in message and "7 (Other)" in message
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.OPEN


def test_a_discharge_without_a_reason_is_422(api, cast):
    episode = admitted(cast)
    response = api.post("owner", f"/episodes/{episode.public_id}/discharge", {"note": "x"})
    assert response.status_code == 422 and list(response.json()["errors"]) == ["reason"]


def test_a_second_discharge_is_409(api, cast):
    episode = admitted(cast)
    path = f"/episodes/{episode.public_id}/discharge"
    assert api.post("owner", path, {"reason": 2}).status_code == 200
    again = api.post("owner", path, {"reason": 1})
    assert again.status_code == 409
    assert "discharged" in again.json()["detail"]
    episode.refresh_from_db()
    assert episode.discharge_reason == 2
    assert len(audit_rows(action="discharge")) == 1


def test_a_discharge_in_the_future_or_before_the_stay_is_422_on_at(api, cast):
    episode = admitted(cast, days_ago=1)
    path = f"/episodes/{episode.public_id}/discharge"
    future = api.post("owner", path, {"reason": 1, "at": iso(timezone.now() + timedelta(days=1))})
    assert future.status_code == 422 and "future" in future.json()["errors"]["at"]
    early = api.post("owner", path, {"reason": 1, "at": iso(timezone.now() - timedelta(days=2))})
    assert early.status_code == 422 and "later" in early.json()["errors"]["at"]


@pytest.mark.parametrize("who,status", [("readonly", 403), ("admin", 403), ("outsider", 404)])
def test_discharge_is_refused_to_readonly_admin_and_outsider(api, cast, who, status):
    episode = admitted(cast)
    response = api.post(who, f"/episodes/{episode.public_id}/discharge", {"reason": 1})
    assert response.status_code == status
    assert_reveals_nothing(response)
    episode.refresh_from_db()
    assert episode.status == EpisodeStatus.OPEN
    assert len(audit_rows(action="access_denied", actor_username=who)) == 1


# --- GET /episodes/{id}/timeline ------------------------------------------------------------


def test_timeline_lists_admission_transition_and_discharge_with_reasons(api, cast):
    owner = cast.actors["owner"]
    start = timezone.now() - timedelta(days=10)
    episode = episode_admit(owner, cast.patient, cast.detox, at=start, referral_source=7)
    prepare_exit(owner, episode, cast.detox, start + timedelta(days=4), ends_episode=False)
    stay_transition(
        owner,
        episode,
        cast.residential,
        kind="step_down",
        reason="Withdrawal resolved",
        at=start + timedelta(days=4),
    )
    episode_discharge(
        owner, episode, reason=4, at=start + timedelta(days=9), note="To a program near family"
    )

    response = api.get("owner", f"/episodes/{episode.public_id}/timeline")
    assert response.status_code == 200
    body = response.json()
    assert body["episode"]["id"] == str(episode.public_id)
    assert body["episode"]["status"] == "discharged" and body["episode"]["discharge_reason"] == 4
    assert [s["program_name"] for s in body["stays"]] == ["Detox", "Residential"]
    assert body["stays"][0]["ended_at"] == body["stays"][1]["started_at"]
    kinds = [e["kind"] for e in body["events"]]
    assert kinds == ["admission", "transition", "discharge"]
    admission, transition, discharge = body["events"]
    assert "Detox" in admission["title"] and "Court" in admission["detail"]
    assert "Step down" in transition["title"] and "Residential (3.5)" in transition["title"]
    assert transition["detail"] == "Withdrawal resolved"
    assert "TEDS reason 4" in discharge["title"]
    assert discharge["detail"] == "To a program near family"
    assert all(e["by"] == "Owner" for e in body["events"])


def test_an_open_episode_timeline_has_only_what_happened(api, cast):
    episode = admitted(cast)
    body = api.get("owner", f"/episodes/{episode.public_id}/timeline").json()
    assert [e["kind"] for e in body["events"]] == ["admission"]
    assert body["stays"][0]["ended_at"] is None and body["episode"]["discharged_at"] is None


@pytest.mark.parametrize("who", ["owner", "director", "readonly"])
def test_each_timeline_read_is_audited_with_the_patient(api, cast, who):
    episode = admitted(cast)
    assert api.get(who, f"/episodes/{episode.public_id}/timeline").status_code == 200
    (event,) = audit_rows(action="read")
    assert event.patient_public_id == cast.patient.public_id and event.actor_username == who
    assert event.object_id == str(episode.public_id)


def test_the_timeline_is_refused_to_the_admin_and_hidden_from_the_outsider(api, cast):
    episode = admitted(cast)
    path = f"/episodes/{episode.public_id}/timeline"
    refused = api.get("admin", path)
    assert refused.status_code == 403
    hidden = api.get("outsider", path)
    assert hidden.status_code == 404
    for response in (refused, hidden):
        assert_reveals_nothing(response)
        assert "Detox" not in response.content.decode()
    assert not audit_rows(action="read")
    assert {e.actor_username for e in audit_rows(action="access_denied")} == {"admin", "outsider"}


@pytest.mark.parametrize("episode_id", ["nope", str(uuid.uuid4())])
def test_the_timeline_of_an_unknown_episode_is_404_and_audited(api, cast, episode_id):
    response = api.get("owner", f"/episodes/{episode_id}/timeline")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    (denied,) = audit_rows(action="access_denied")
    assert denied.actor_username == "owner" and denied.outcome == "denied"


def test_programs_lists_the_organizations_active_programs(api, cast):
    cast.iop_east.is_active = False
    cast.iop_east.save(update_fields=["is_active"])
    body = api.get("readonly", "/programs").json()
    assert [p["name"] for p in body] == ["Detox", "Evening IOP", "Residential"]
    detox = body[0]
    assert detox["id"] == str(cast.detox.public_id) and detox["facility"] == "Main"
    assert detox["bed_capacity"] == 2 and detox["asam_level"] == "3.7-WM"
    assert [p["name"] for p in api.get("outsider", "/programs").json()] == ["Harbor OP"]
