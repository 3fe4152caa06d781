"""Every page: who may see it, what it refuses, what it audits, and what it costs in queries."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, EpisodeStatus
from stepwise.care.services import episode_admit, episode_discharge, stay_transition
from stepwise.core.models import AuditEvent


def chart_url(cast) -> str:
    return f"/patients/{cast.patient.public_id}/"


def open_episode(cast, program=None, days=3) -> Episode:
    return episode_admit(
        cast.actors["owner"],
        cast.patient,
        program or cast.detox,
        at=timezone.now() - timedelta(days=days),
    )


def routes(cast, episode: Episode) -> dict[str, str]:
    base = chart_url(cast)
    return {
        "census": "/",
        "patient_list": "/patients/",
        "patient_new": "/patients/new/",
        "chart": base,
        "admit": f"{base}admit/",
        "transition": f"{base}episodes/{episode.public_id}/transition/",
        "discharge": f"{base}episodes/{episode.public_id}/discharge/",
        "audit": "/audit/",
        "settings": "/settings/",
    }


# Expected status of GET for each member of the cast. The outsider never learns
# that Riverside's patient exists (404); a role without the right gets 403.
EXPECTED = {
    "owner": {
        "census": 200,
        "patient_list": 200,
        "patient_new": 200,
        "chart": 200,
        "admit": 200,
        "transition": 200,
        "discharge": 200,
        "audit": 403,
        "settings": 200,
    },
    # A nurse not on the patient's care team.
    "colleague": {
        "census": 200,
        "patient_list": 200,
        "patient_new": 200,
        "chart": 403,
        "admit": 403,
        "transition": 403,
        "discharge": 403,
        "audit": 403,
        "settings": 200,
    },
    "readonly": {
        "census": 200,
        "patient_list": 200,
        "patient_new": 403,
        "chart": 200,
        "admit": 403,
        "transition": 403,
        "discharge": 403,
        "audit": 200,
        "settings": 200,
    },
    "admin": {
        "census": 200,
        "patient_list": 403,
        "patient_new": 403,
        "chart": 403,
        "admit": 403,
        "transition": 403,
        "discharge": 403,
        "audit": 403,
        "settings": 200,
    },
    "director": {
        "census": 200,
        "patient_list": 200,
        "patient_new": 200,
        "chart": 200,
        "admit": 200,
        "transition": 200,
        "discharge": 200,
        "audit": 200,
        "settings": 200,
    },
    "outsider": {
        "census": 200,
        "patient_list": 200,
        "patient_new": 200,
        "chart": 404,
        "admit": 404,
        "transition": 404,
        "discharge": 404,
        "audit": 200,
        "settings": 200,
    },
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_route_for_every_member_of_the_cast(cast, who):
    episode = open_episode(cast)
    client = cast.client_for(who)
    for name, url in routes(cast, episode).items():
        response = client.get(url)
        assert response.status_code == EXPECTED[who][name], (who, name, url)
        if response.status_code in (403, 404):
            assert b"Rivera" not in response.content, (who, name)


def test_anonymous_visitors_are_sent_to_sign_in(cast):
    episode = open_episode(cast)
    client = Client()
    for url in routes(cast, episode).values():
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/"), url
    assert client.get("/login/").status_code == 200
    assert client.get("/health").json()["status"] == "ok"


def test_outsider_cannot_write_to_another_organization(cast):
    episode = open_episode(cast)
    client = cast.client_for("outsider")
    urls = routes(cast, episode)
    assert (
        client.post(
            urls["transition"], {"to_program": cast.iop.public_id, "reason": "x"}
        ).status_code
        == 404
    )
    assert client.post(urls["discharge"], {"reason": "1"}).status_code == 404
    assert client.post(urls["admit"], {"program": cast.other_program.public_id}).status_code == 404
    assert Episode.objects.get(pk=episode.pk).status == EpisodeStatus.OPEN


def test_a_random_patient_id_is_404_and_audited(cast):
    client = cast.client_for("owner")
    missing = uuid.uuid4()
    assert client.get(f"/patients/{missing}/").status_code == 404
    assert AuditEvent.objects.filter(action="access_denied", object_id=str(missing)).exists()


def test_chart_read_is_audited(cast):
    open_episode(cast)
    cast.client_for("readonly").get(chart_url(cast))
    event = AuditEvent.objects.filter(action="read", category="chart").latest("id")
    assert event.patient_public_id == cast.patient.public_id
    assert event.actor_username == "readonly" and event.actor_role == "privacy_officer"
    assert event.request_id and event.client_address == "127.0.0.1"


def test_chart_shows_the_timeline(cast):
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
        owner, episode, reason=2, note="Left against advice", at=start + timedelta(days=6)
    )
    html = cast.client_for("owner").get(chart_url(cast)).content.decode()
    assert "Admitted to Detox" in html and "Court/criminal justice" in html
    assert "Step down: Detox (3.7-WM) → Residential (3.5)" in html and "Withdrawal resolved" in html
    assert (
        "Discharged: Dropped out of treatment (TEDS reason 2)" in html
        and "Left against advice" in html
    )
    assert "Readmit to a program" in html


def test_admit_through_the_form(cast):
    client = cast.client_for("owner")
    response = client.post(
        f"{chart_url(cast)}admit/", {"program": cast.iop.public_id, "referral_source": "1"}
    )
    assert response.status_code == 302
    assert Episode.objects.get(patient=cast.patient).stays.get().program == cast.iop
    assert AuditEvent.objects.filter(
        action="admit", patient_public_id=cast.patient.public_id
    ).exists()


def test_admit_form_errors_name_the_field(cast):
    client = cast.client_for("owner")
    response = client.post(f"{chart_url(cast)}admit/", {"program": "", "referral_source": "1"})
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()
    future = (timezone.now() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        f"{chart_url(cast)}admit/",
        {"program": cast.iop.public_id, "referral_source": "1", "admitted_at": future},
    )
    assert response.status_code == 422 and "cannot be in the future" in response.content.decode()
    assert not Episode.objects.exists()


def test_admit_into_a_full_program_says_so(cast):
    owner = cast.actors["owner"]
    episode_admit(owner, cast.new_patient("A"), cast.detox)
    episode_admit(owner, cast.new_patient("B"), cast.detox)
    response = cast.client_for("owner").post(
        f"{chart_url(cast)}admit/", {"program": cast.detox.public_id, "referral_source": "-9"}
    )
    assert response.status_code == 409
    assert "Detox is full: 2 of 2 beds are occupied" in response.content.decode()


def test_transition_works_out_the_kind_and_requires_a_reason(cast):
    episode = open_episode(cast)
    prepare_exit(cast.actors["owner"], episode, cast.detox, timezone.now(), ends_episode=False)
    client = cast.client_for("owner")
    url = routes(cast, episode)["transition"]
    response = client.post(
        url, {"to_program": cast.residential.public_id, "kind": "", "reason": ""}
    )
    assert response.status_code == 422 and "This field is required" in response.content.decode()
    response = client.post(
        url, {"to_program": cast.residential.public_id, "kind": "step_up", "reason": "x"}
    )
    assert (
        response.status_code == 422 and "is a step down, not a step up" in response.content.decode()
    )
    response = client.post(
        url, {"to_program": cast.residential.public_id, "kind": "", "reason": "Stable"}
    )
    assert response.status_code == 302
    assert list(episode.stays.values_list("entry_kind", flat=True)) == ["admission", "step_down"]


def test_transition_time_is_read_in_the_facility_time_zone(cast):
    episode = open_episode(cast, days=3)
    local = (timezone.now() - timedelta(days=1)).astimezone(timezone.get_fixed_timezone(0))
    prepare_exit(cast.actors["owner"], episode, cast.detox, local, ends_episode=False)
    typed = local.strftime("%Y-%m-%dT%H:%M")
    cast.client_for("owner").post(
        routes(cast, episode)["transition"],
        {"to_program": cast.residential.public_id, "kind": "", "reason": "Stable", "at": typed},
    )
    moved = episode.stays.get(sequence=2).started_at
    # Typed as New York wall time, stored in UTC: 4 or 5 hours later than the same digits in UTC.
    assert (moved - local.replace(second=0, microsecond=0)) in (
        timedelta(hours=4),
        timedelta(hours=5),
    )


def test_discharge_through_the_form(cast):
    episode = open_episode(cast)
    prepare_exit(cast.actors["owner"], episode, cast.detox, timezone.now(), ends_episode=True)
    client = cast.client_for("owner")
    url = routes(cast, episode)["discharge"]
    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "1", "note": "Done"}).status_code == 302
    episode.refresh_from_db()
    assert episode.discharge_reason == 1 and episode.status == EpisodeStatus.DISCHARGED
    assert client.get(url).status_code == 404  # nothing left to discharge


def test_new_patient_form(cast):
    client = cast.client_for("owner")
    response = client.post(
        "/patients/new/",
        {
            "mrn": "RR-1",
            "given_name": "",
            "family_name": "X",
            "date_of_birth": "2999-01-01",
            "sex": "7",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "This field is required" in html and "Select a valid choice" in html
    response = client.post(
        "/patients/new/",
        {
            "mrn": "RR-1",
            "given_name": "Ben",
            "family_name": "Stone",
            "date_of_birth": "1985-02-03",
            "sex": "1",
            "race": "5",
            "ethnicity": "4",
            "education": "3",
            "employment": "3",
            "living_arrangement": "3",
        },
    )
    assert response.status_code == 422 and "already in use" in response.content.decode()
    response = client.post(
        "/patients/new/",
        {
            "mrn": "RR-2",
            "given_name": "Ben",
            "family_name": "Stone",
            "date_of_birth": "1985-02-03",
            "sex": "1",
            "race": "5",
            "ethnicity": "4",
            "education": "3",
            "employment": "3",
            "living_arrangement": "3",
        },
    )
    assert response.status_code == 302


def test_search_by_name_date_of_birth_and_record_number(cast):
    cast.new_patient("RR-77", "Marcus", "Lee")
    client = cast.client_for("owner")

    def results(query: str) -> str:
        # The htmx fragment: just the results, as the search box receives them.
        html = client.get("/patients/", {"q": query}, HTTP_HX_REQUEST="true").content.decode()
        assert "<html" not in html
        return html

    assert "Rivera, Ana" in results("riv") and "Rivera, Ana" in results("ana riv")
    assert "Rivera" not in results("lee")
    assert "Lee, Marcus" in results("1990-05-17") and "Lee, Marcus" in results("05/17/1990")
    assert "Lee, Marcus" in results("RR-77")
    assert "Other" not in results("oth")  # another organization's patient
    assert "No patient matches" in results("zzz")
    assert "Rivera, Ana" in client.get("/patients/?q=riv").content.decode()


def test_audit_page_filters_and_sorts(cast):
    open_episode(cast)
    client = cast.client_for("director")
    client.get(chart_url(cast))
    html = client.get(f"/audit/?patient={cast.patient.mrn}&action=admit").content.decode()
    assert "Admit" in html and "Rivera, Ana" in html
    html = client.get("/audit/?user=nobody").content.decode()
    assert "No event matches" in html
    for column in ("time", "-user", "action", "-outcome"):
        assert client.get(f"/audit/?sort={column}").status_code == 200
    outsider_view = cast.client_for("outsider").get("/audit/").content.decode()
    assert "Rivera" not in outsider_view and "owner" not in outsider_view


def queries_for(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_patient_list_query_count_is_constant(cast):
    client = cast.client_for("owner")
    for n in range(3):
        episode_admit(cast.actors["owner"], cast.new_patient(f"S{n}"), cast.iop)
    small = queries_for(client, "/patients/")
    for n in range(3, 30):
        patient = cast.new_patient(f"S{n}")
        if n % 2:
            episode_admit(cast.actors["owner"], patient, cast.iop)
    assert queries_for(client, "/patients/") == small
    assert queries_for(client, "/patients/?q=doe") == small


def test_chart_query_count_is_constant(cast):
    client = cast.client_for("owner")
    owner = cast.actors["owner"]
    start = timezone.now() - timedelta(days=300)
    episode = episode_admit(owner, cast.patient, cast.detox, at=start)
    small = queries_for(client, chart_url(cast))
    prepare_exit(owner, episode, cast.detox, start + timedelta(days=4), ends_episode=False)
    stay_transition(
        owner, episode, cast.residential, kind="step_down", reason="a", at=start + timedelta(days=4)
    )
    stay_transition(
        owner, episode, cast.iop, kind="step_down", reason="b", at=start + timedelta(days=30)
    )
    episode_discharge(owner, episode, reason=1, at=start + timedelta(days=60))
    for k in range(4):
        later = start + timedelta(days=70 + 40 * k)
        again = episode_admit(owner, cast.patient, cast.iop, at=later)
        stay_transition(
            owner, again, cast.iop_east, kind="transfer", reason="c", at=later + timedelta(days=5)
        )
        episode_discharge(owner, again, reason=2, at=later + timedelta(days=20))
    assert queries_for(client, chart_url(cast)) == small


def test_census_query_count_is_constant_and_counts_today(cast):
    client = cast.client_for("owner")
    small = queries_for(client, "/")
    owner = cast.actors["owner"]
    for n in range(6):
        episode_admit(owner, cast.new_patient(f"C{n}"), cast.iop)
    gone = episode_admit(
        owner, cast.new_patient("D"), cast.residential, at=timezone.now() - timedelta(days=3)
    )
    prepare_exit(owner, gone, cast.residential, timezone.now(), ends_episode=True)
    episode_discharge(owner, gone, reason=1)
    assert queries_for(client, "/") == small
    html = client.get("/").content.decode()
    row = re.search(r"Evening IOP</th>(.*?)</tr>", html, re.S)
    assert row is not None
    cells = re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)
    assert cells[1].strip().startswith("6") and cells[3].strip() == "6"  # occupied, admitted today


def test_opening_a_form_that_shows_the_patient_is_an_audited_read(cast):
    response = cast.client_for("owner").get(f"{chart_url(cast)}admit/")
    assert response.status_code == 200
    (read,) = AuditEvent.objects.filter(action="read", actor_username="owner")
    assert read.patient_public_id == cast.patient.public_id
    assert read.category == "demographics" and read.detail == {"form": "admit"}


def test_a_search_with_a_nul_character_is_an_ordinary_search(cast):
    response = cast.client_for("director").get("/patients/", {"q": "Riv\x00era"})
    assert response.status_code == 200 and "Rivera" in response.content.decode()
