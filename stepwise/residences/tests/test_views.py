"""The sober-living pages: who may open each (owner / colleague / readonly / outsider),
names shown only to residence staff, the move-in, move-out, bed-move and curfew forms
as a user works them, and fixed query counts however many residences and residents."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.core.models import AuditEvent
from stepwise.residences.models import CurfewCheckIn, Residency
from stepwise.residences.services.curfew import curfew_record
from stepwise.residences.tests.support import Sober, move_in, sober_living

NY = ZoneInfo("America/New_York")


@pytest.fixture
def placed(cast: Any) -> tuple[Sober, Residency]:
    s = sober_living(cast)
    return s, move_in(cast, cast.patient, s.oak_beds[0])


def urls(s: Sober, residency: Residency, patient: Any) -> dict[str, str]:
    """Every page, by the permission it needs: read, manage or chart."""
    r, h, b, y = (
        s.residence.public_id,
        s.oak.public_id,
        s.oak_beds[1].public_id,
        residency.public_id,
    )
    return {
        f"/residences/{r}/": "read",
        f"/residences/houses/{h}/": "read",
        f"/residences/{r}/edit/": "manage",
        f"/residences/{r}/rules/": "manage",
        f"/residences/{r}/houses/new/": "manage",
        f"/residences/houses/{h}/edit/": "manage",
        f"/residences/houses/{h}/curfew/": "manage",
        f"/residences/beds/{b}/": "manage",
        f"/residences/residencies/{y}/": "manage",
        f"/residences/residencies/{y}/move-out/": "manage",
        f"/residences/residencies/{y}/move/": "manage",
        f"/residences/move-in/?patient={patient.public_id}": "manage",
        f"/residences/patients/{patient.public_id}/": "chart",
    }


# Owner: counselor on the care team (reads, manages, charts); colleague: nurse, not on
# the team (reads only); readonly: privacy officer (charts only); outsider: 404.
EXPECTED = {
    "owner": {"read": 200, "manage": 200, "chart": 200},
    "colleague": {"read": 200, "manage": 403, "chart": 403},
    "readonly": {"read": 403, "manage": 403, "chart": 200},
    "outsider": {"read": 404, "manage": 404, "chart": 404},
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_page_is_open_exactly_to_whom_it_should_be(cast, placed, who):
    s, residency = placed
    client = cast.client_for(who)
    for url, kind in urls(s, residency, cast.patient).items():
        response = client.get(url)
        assert response.status_code == EXPECTED[who][kind], (who, url, response.status_code)
        if response.status_code in (403, 404):
            assert "Rivera" not in response.content.decode(), (who, url)


def test_list_pages_and_refused_writes(cast, placed):
    s, residency = placed
    assert cast.client_for("owner").get("/residences/").status_code == 200
    assert cast.client_for("colleague").get("/residences/").status_code == 200
    assert cast.client_for("readonly").get("/residences/").status_code == 403
    outsider = cast.client_for("outsider").get("/residences/").content.decode()
    assert s.residence.name not in outsider
    assert cast.client_for("admin").get("/residences/").status_code == 403
    # Refused writes change nothing.
    colleague = cast.client_for("colleague")
    post = colleague.post(
        f"/residences/residencies/{residency.public_id}/move-out/", {"reason": "completed"}
    )
    assert post.status_code == 403
    post = cast.client_for("outsider").post(
        f"/residences/residencies/{residency.public_id}/move-out/", {"reason": "completed"}
    )
    assert post.status_code == 404
    residency.refresh_from_db()
    assert residency.is_open


def test_names_are_shown_to_residence_staff_only_and_their_read_is_audited(cast, placed):
    s, _ = placed
    house = f"/residences/houses/{s.oak.public_id}/"
    staff = cast.client_for("owner").get(house).content.decode()
    assert "Ana Rivera" in staff
    row = AuditEvent.objects.filter(object_type="house_residents").latest("id")
    assert row.detail["patients"] == [str(cast.patient.public_id)] and row.data_class == "part2"
    before = AuditEvent.objects.filter(object_type="house_residents").count()
    nurse = cast.client_for("colleague").get(house).content.decode()
    assert "Rivera" not in nurse and "Ana" not in nurse
    assert "1</strong> occupied" in nurse and "3</strong> vacant" in nurse
    assert AuditEvent.objects.filter(object_type="house_residents").count() == before
    for url in ("/residences/", f"/residences/{s.residence.public_id}/", "/admissions/beds/"):
        assert "Rivera" not in cast.client_for("colleague").get(url).content.decode()


def test_a_case_manager_moves_someone_in_through_the_pages(cast):
    s = sober_living(cast)
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    client = cast.client_for("owner")
    choose = client.get(f"/residences/move-in/?bed={s.oak_beds[1].public_id}").content.decode()
    assert "Ortiz, Ben" in choose and f"bed={s.oak_beds[1].public_id}" in choose
    url = f"/residences/move-in/?patient={ben.public_id}&bed={s.oak_beds[1].public_id}"
    page = client.get(url).content.decode()
    assert "No alcohol or drugs." in page and "selected" in page
    seen = f"{s.residence.public_id}:1"
    refused = client.post(url, {"bed": str(s.oak_beds[1].public_id), "rules_seen": seen})
    assert refused.status_code == 422
    assert "must accept the house rules" in refused.content.decode()
    assert 'value="' + str(s.oak_beds[1].public_id) + '" selected' in refused.content.decode()
    done = client.post(
        url,
        {
            "bed": str(s.oak_beds[1].public_id),
            "rules_accepted": "on",
            "rules_seen": seen,
            "expected_move_out_on": (timezone.now() + timedelta(days=60)).date().isoformat(),
        },
    )
    assert done.status_code == 302
    residency = Residency.objects.get(patient=ben)
    assert residency.bed == s.oak_beds[1] and residency.rules_version == 1


def test_a_moved_in_time_is_read_on_the_residence_clock(cast):
    with time_machine.travel(timezone.now() - timedelta(days=3), tick=False):
        s = sober_living(cast)
    client = cast.client_for("owner")
    local = (timezone.now() - timedelta(days=1)).astimezone(NY).replace(second=0, microsecond=0)
    client.post(
        f"/residences/move-in/?patient={cast.patient.public_id}",
        {
            "bed": str(s.oak_beds[0].public_id),
            "moved_in_at": local.strftime("%Y-%m-%dT%H:%M"),
            "rules_accepted": "on",
            "rules_seen": f"{s.residence.public_id}:1",
        },
    )
    assert Residency.objects.get(patient=cast.patient).moved_in_at == local


def test_rules_changed_since_the_page_was_opened_are_shown_again(cast):
    s = sober_living(cast)
    from stepwise.residences.services.setup import rules_update

    rules_update(cast.actors["director"], s.residence, text="Version two of the rules")
    response = cast.client_for("owner").post(
        f"/residences/move-in/?patient={cast.patient.public_id}",
        {
            "bed": str(s.oak_beds[0].public_id),
            "rules_accepted": "on",
            "rules_seen": f"{s.residence.public_id}:1",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422 and "now version 2" in html
    assert "Version two of the rules" in html
    assert not Residency.objects.exists()


def test_a_taken_bed_chosen_on_the_form_is_refused_with_409(cast, placed):
    s, _ = placed
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    from stepwise.residences import selectors

    # The bed was vacant when the page was drawn; someone else took it meanwhile.
    vacant = selectors.vacant_beds(cast.actors["owner"])
    assert s.oak_beds[0] not in vacant
    response = cast.client_for("owner").post(
        f"/residences/move-in/?patient={ben.public_id}",
        {
            "bed": str(s.oak_beds[0].public_id),
            "rules_accepted": "on",
            "rules_seen": f"{s.residence.public_id}:1",
        },
    )
    assert response.status_code == 422  # not among the vacant beds offered
    assert "Choose a vacant bed from the list" in response.content.decode()


def test_move_out_and_move_bed_through_the_pages(cast, placed):
    s, residency = placed
    client = cast.client_for("owner")
    moved = client.post(
        f"/residences/residencies/{residency.public_id}/move/",
        {"bed": str(s.oak_beds[3].public_id)},
    )
    assert moved.status_code == 302
    new = Residency.objects.get(patient=cast.patient, moved_out_at__isnull=True)
    assert new.bed == s.oak_beds[3]
    page = client.get(f"/residences/residencies/{residency.public_id}/").content.decode()
    assert "Moved to another bed" in page and "the next residency" in page
    refused = client.post(
        f"/residences/residencies/{new.public_id}/move-out/", {"reason": "other", "note": ""}
    )
    assert (
        refused.status_code == 422 and "Say why the resident moved out." in refused.content.decode()
    )
    done = client.post(
        f"/residences/residencies/{new.public_id}/move-out/",
        {"reason": "higher_care", "note": "Back to residential"},
    )
    assert done.status_code == 302
    new.refresh_from_db()
    assert new.move_out_reason == "higher_care"
    patient_page = client.get(f"/residences/patients/{cast.patient.public_id}/").content.decode()
    assert "Returned to a higher level of care" in patient_page
    assert "Not living in a residence now." in patient_page


def test_setting_up_through_the_pages(cast):
    client = cast.client_for("director")
    made = client.post(
        "/residences/new/",
        {
            "name": "Hope House",
            "operator_name": "Hope Inc",
            "time_zone": "America/New_York",
            "rules_text": "Be kind.",
        },
    )
    assert made.status_code == 302
    residence_url = made["Location"]
    refused = client.post(residence_url + "houses/new/", {"name": "", "house_for": "any"})
    assert refused.status_code == 422 and "Name the house." in refused.content.decode()
    house = client.post(
        residence_url + "houses/new/",
        {
            "name": "Main",
            "house_for": "women",
            "curfew_weekday": "22:30",
            "curfew_weekend": "23:30",
        },
    )
    assert house.status_code == 302
    bed = client.post(house["Location"] + "beds/", {"label": "Bed A"})
    assert bed.status_code == 302
    again = client.post(house["Location"] + "beds/", {"label": "bed a"})
    assert again.status_code == 409 and 'value="bed a"' in again.content.decode()
    rules = client.post(residence_url + "rules/", {"rules_text": "Be kind.\nNo pets."})
    assert rules.status_code == 302
    page = client.get(residence_url).content.decode()
    assert "version 2" in page and "Earlier versions" in page and "No pets." in page


def test_curfew_quick_marks_from_a_phone(cast):
    with time_machine.travel(datetime(2026, 11, 5, 18, 0, tzinfo=NY), tick=False) as clock:
        s = sober_living(cast)
        ana = move_in(cast, cast.patient, s.oak_beds[0])
        ben = move_in(cast, cast.new_patient("RR-2", "Ben", "Ortiz"), s.oak_beds[1])
        client = cast.client_for("owner")
        curfew = f"/residences/houses/{s.oak.public_id}/curfew/"
        page = client.get(curfew).content.decode()
        assert "Curfew <strong>22:00</strong>" in page and "2 not back yet" in page
        assert ">Missed<" not in page  # not before the curfew
        clock.move_to(datetime(2026, 11, 5, 22, 12, tzinfo=NY))
        client = cast.client_for("owner")  # a fresh sign-in after the idle time-out
        done = client.post(
            f"/residences/residencies/{ana.public_id}/curfew/",
            {"mark": "arrived", "night": "2026-11-05"},
        )
        assert done.status_code == 302 and done["Location"].endswith(f"#r-{ana.public_id}")
        mark = CurfewCheckIn.objects.get(patient=cast.patient)
        assert (mark.status, mark.minutes_late) == ("late", 12)
        refused = client.post(
            f"/residences/residencies/{ben.public_id}/curfew/",
            {"mark": "excused", "night": "2026-11-05", "reason": ""},
        )
        assert refused.status_code == 422
        html = refused.content.decode()
        assert "Say why the resident is excused" in html and 'class="has-error"' in html
        page = client.get(curfew).content.decode()
        assert "Out past curfew" in page and "1 still out" in page and ">Missed<" in page
        assert "Late 12 min" in page


def queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def _screen_at_the_house(cast: Any, residency: Residency) -> None:
    from stepwise.recovery.services.screens import RESIDENCY_SETTING, ScreenInput, screen_record

    screen_record(
        cast.actors["owner"],
        residency.patient,
        ScreenInput(
            results={"fentanyl": "positive"},
            setting=RESIDENCY_SETTING,
            setting_id=residency.public_id,
        ),
    )


def test_pages_cost_the_same_queries_for_few_or_many_residents(cast, placed):
    s, residency = placed
    owner = cast.client_for("owner")
    nurse = cast.client_for("colleague")
    # Residence staff off the care team (the page leaves the drug tests out) and the
    # director (a facility-wide role: no care-team query).
    cast.new_member("case_manager", "manager")
    manager = cast.client_for("manager")
    director = cast.client_for("director")
    _screen_at_the_house(cast, residency)
    pages = {
        "list": (owner, "/residences/"),
        "list_nurse": (nurse, "/residences/"),
        "residence": (owner, f"/residences/{s.residence.public_id}/"),
        "house": (owner, f"/residences/houses/{s.oak.public_id}/"),
        "house_nurse": (nurse, f"/residences/houses/{s.oak.public_id}/"),
        "curfew": (owner, f"/residences/houses/{s.oak.public_id}/curfew/"),
        "patient": (owner, f"/residences/patients/{cast.patient.public_id}/"),
        "residency": (owner, f"/residences/residencies/{residency.public_id}/"),
        "residency_manager": (manager, f"/residences/residencies/{residency.public_id}/"),
        "residency_director": (director, f"/residences/residencies/{residency.public_id}/"),
        "choose": (owner, "/residences/move-in/"),
    }
    for client, url in pages.values():
        client.get(url)  # warm the session
    small = {name: queries(client, url) for name, (client, url) in pages.items()}
    # Two more residences, more residents with curfew marks, an out-of-service bed.
    sober_living(cast, name="Second Wind")
    sober_living(cast, name="Third Step")
    for n in range(3):
        patient = cast.new_patient(f"RR-{n + 10}", f"P{n}", "Many")
        placed_row = move_in(cast, patient, s.oak_beds[n + 1])
        curfew_record(cast.actors["owner"], placed_row, mark="excused", reason="Work")
    curfew_record(cast.actors["owner"], residency, mark="excused", reason="Work")
    for _ in range(3):
        _screen_at_the_house(cast, residency)
    from stepwise.residences.services.setup import bed_create, bed_retire

    bed_retire(cast.actors["director"], bed_create(cast.actors["director"], s.oak, label="Cot"))
    large = {name: queries(client, url) for name, (client, url) in pages.items()}
    assert large == small


def test_other_apps_fill_the_residency_page_through_its_registry(cast, placed):
    """The place left for residence drug screens (the recovery app registers them)."""
    from stepwise.care.panels import ChartPanel
    from stepwise.residences.sections import (
        register_residency_section,
        unregister_residency_section,
    )

    _, residency = placed
    seen: list[Residency] = []

    def screens(actor: Any, row: Residency) -> ChartPanel:
        seen.append(row)
        return ChartPanel("residences/_bed_board.html", {"houses": [], "vacant": 0})

    url = f"/residences/residencies/{residency.public_id}/"
    assert "Sober living vacancies" not in cast.client_for("owner").get(url).content.decode()
    register_residency_section("test.screens", screens)
    try:
        html = cast.client_for("owner").get(url).content.decode()
    finally:
        unregister_residency_section("test.screens")
    assert "Sober living vacancies" in html and seen == [residency]


def test_read_only_roles_cannot_write(cast, placed):
    s, residency = placed
    client = cast.client_for("readonly")
    writes = {
        "/residences/new/": {"name": "X", "operator_name": "Y", "rules_text": "Z"},
        f"/residences/move-in/?patient={cast.patient.public_id}": {
            "bed": str(s.oak_beds[1].public_id)
        },
        f"/residences/residencies/{residency.public_id}/move-out/": {"reason": "completed"},
        f"/residences/residencies/{residency.public_id}/curfew/": {"mark": "arrived"},
        f"/residences/houses/{s.oak.public_id}/beds/": {"label": "Bed 9"},
        f"/residences/beds/{s.oak_beds[1].public_id}/": {"action": "retire"},
    }
    for url, data in writes.items():
        assert client.post(url, data).status_code == 403, url
    residency.refresh_from_db()
    assert residency.is_open and not CurfewCheckIn.objects.exists()
    s.oak_beds[1].refresh_from_db()
    assert s.oak_beds[1].is_active
