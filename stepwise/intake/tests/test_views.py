"""The admissions pages over real HTTP: a night call from the first ring to a held
detox bed and the admission, the board, the waitlist and settings pages, who may use
them, and what each costs in queries."""

from __future__ import annotations

import re
import zoneinfo
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.care.models import BedReservation, Episode, Stay
from stepwise.care.services import episode_admit, stay_plan_end
from stepwise.core.models import AuditEvent
from stepwise.intake.models import Inquiry, IntakeSettings, Outcome
from stepwise.intake.services.inquiries import CallDetails, call_details_update, inquiry_start
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.waitlist import waitlist_add
from stepwise.patients.models import Patient

pytestmark = pytest.mark.django_db

SCREEN = {
    "withdrawal_estimate": "moderate",
    "d1": "3",
    "d2": "1",
    "d3": "1",
    "d4": "1",
    "d5": "2",
    "d6": "2",
    "payer_type": "medicaid",
    "payer_member_id": "MCD-7781234",
    "authorization": "pending",
}


def _details(**changes: str) -> dict[str, str]:
    data = {
        "caller_kind": "family",
        "caller_name": "Maria Soto",
        "caller_relationship": "mother",
        "caller_phone": "555-0101",
        "callback_ok": "on",
        "given_name": "Luis",
        "family_name": "Soto",
        "date_of_birth": "1994-02-11",
        "phone": "555-0199",
        "substance_1": "7",
        "route_1": "4",
        "frequency_1": "daily",
        "substance_2": "",
        "route_2": "-9",
        "frequency_2": "unknown",
        "substance_3": "",
        "route_3": "-9",
        "frequency_3": "unknown",
        "last_use_at": "",
        "pregnancy": "unknown",
        "prior_treatment": "1",
        "referral_source": "3",
        "referring_organization": "St. Mary's ED",
        "next": "screen",
    }
    data.update(changes)
    return data


@pytest.fixture
def night(cast):
    cast.new_member("admissions")
    return cast.client_for("admissions")


def test_a_night_call_from_first_ring_to_a_held_detox_bed_and_the_admission(cast, night):
    page = night.get("/admissions/calls/new/")
    assert page.status_code == 200
    assert b"not breathing" in page.content

    # Two taps: a sign, then "show what to do now".
    response = night.post("/admissions/calls/new/", {"signs": ["unresponsive"], "go": "crisis"})
    inquiry = Inquiry.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/admissions/calls/{inquiry.public_id}/"
    call = night.get(response["Location"]).content.decode()
    assert "Call 911 now" in call and "Give naloxone" in call and "Rescue breathing" in call
    assert inquiry.lead_flagged and inquiry.crisis_advice[0] == "call_911"

    night.post(f"/admissions/calls/{inquiry.public_id}/crisis-note/", {"note": "EMS arrived"})
    inquiry.refresh_from_db()
    assert "EMS arrived" in inquiry.crisis_note

    response = night.post(f"/admissions/calls/{inquiry.public_id}/details/", _details())
    assert response.status_code == 302
    assert response["Location"].endswith("/screen/")
    response = night.post(f"/admissions/calls/{inquiry.public_id}/screen/", SCREEN)
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.outcome == Outcome.SCREENED
    call = night.get(f"/admissions/calls/{inquiry.public_id}/").content.decode()
    assert "Suggested: Detox" in call

    local = timezone.localtime(
        timezone.now() + timedelta(hours=2), zoneinfo.ZoneInfo(cast.detox.facility.time_zone)
    )
    response = night.post(
        f"/admissions/calls/{inquiry.public_id}/hold/",
        {"program": str(cast.detox.public_id), "expected_at": local.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 302
    held = BedReservation.objects.get()
    assert held.program == cast.detox and held.status == "held"

    board = night.get("/admissions/beds/").content.decode()
    detox_row = re.search(r"<th scope=\"row\">Detox .*?</tr>", board, re.S)
    assert detox_row is not None
    numbers = re.findall(r'<td class="num">(?:<strong>)?(\d+)', detox_row.group(0))
    # capacity, occupied, reserved, available now, expected tomorrow
    assert numbers == ["2", "0", "1", "1", "1"]

    admit_page = night.get(f"/admissions/calls/{inquiry.public_id}/admit/")
    assert admit_page.status_code == 200
    response = night.post(
        f"/admissions/calls/{inquiry.public_id}/admit/",
        {"program": str(cast.detox.public_id), "patient": "new", "mrn": "", "admitted_at": ""},
    )
    assert response.status_code == 302
    episode = Episode.objects.get(patient__family_name="Soto")
    held.refresh_from_db()
    assert held.status == "admitted" and held.episode == episode
    assert episode.referral_source == 3 and episode.days_waiting == 0
    chart = night.get(response["Location"]).content.decode()
    assert "From the admissions line" in chart and "St. Mary" in chart


def test_the_triage_screen_goes_straight_to_the_call_when_no_sign(cast, night):
    response = night.post("/admissions/calls/new/", {"go": "none"})
    inquiry = Inquiry.objects.get()
    assert response["Location"] == f"/admissions/calls/{inquiry.public_id}/details/"
    assert inquiry.crisis_signs == [] and not inquiry.lead_flagged


def test_an_unknown_sign_is_refused_naming_the_allowed_ones(night):
    response = night.post("/admissions/calls/new/", {"signs": ["sleepy"]})
    assert response.status_code == 422
    assert Inquiry.objects.count() == 0


def test_bad_call_details_name_the_field_and_keep_the_input(cast, night):
    inquiry = inquiry_start(cast.actors["admissions"], signs=[])
    response = night.post(
        f"/admissions/calls/{inquiry.public_id}/details/",
        _details(route_1="9", date_of_birth="2090-01-01"),
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Select a valid choice" in body or "Allowed values" in body
    assert "Maria Soto" in body  # nothing typed is lost
    inquiry.refresh_from_db()
    assert inquiry.caller_name == ""


def test_admitting_shows_a_matching_patient_for_confirmation(cast, night):
    existing = cast.new_patient("RR-77", "Luis", "Soto", born=date(1994, 2, 11))
    admissions = cast.actors["admissions"]
    inquiry = call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Luis", family_name="soto", date_of_birth=date(1994, 2, 11)),
    )
    page = night.get(f"/admissions/calls/{inquiry.public_id}/admit/").content.decode()
    assert "RR-77" in page and "never merges" in page
    # Without a choice, nothing happens.
    response = night.post(
        f"/admissions/calls/{inquiry.public_id}/admit/", {"program": str(cast.iop.public_id)}
    )
    assert response.status_code == 422
    response = night.post(
        f"/admissions/calls/{inquiry.public_id}/admit/",
        {"program": str(cast.iop.public_id), "patient": str(existing.public_id)},
    )
    assert response.status_code == 302
    assert Episode.objects.get().patient == existing
    assert Inquiry.objects.get().patient == existing


def test_a_full_program_refuses_the_admission_and_writes_nothing(cast, night):
    for mrn in ("F-1", "F-2"):
        episode_admit(cast.actors["owner"], cast.new_patient(mrn), cast.detox)
    admissions = cast.actors["admissions"]
    inquiry = call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Kim", family_name="Lee", date_of_birth=date(1990, 1, 1)),
    )
    response = night.post(
        f"/admissions/calls/{inquiry.public_id}/admit/",
        {"program": str(cast.detox.public_id), "patient": "new"},
    )
    assert response.status_code == 409
    assert "Detox is full" in response.content.decode()
    assert not Episode.objects.filter(patient__family_name="Lee").exists()
    assert not Patient.objects.filter(family_name="Lee").exists()


def test_the_waitlist_page_orders_by_priority_and_takes_people_off(cast, night):
    admissions = cast.actors["admissions"]
    calm = call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Calm", family_name="A"),
    )
    pregnant = call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Preg", family_name="B", pregnancy="yes"),
    )
    waitlist_add(admissions, calm, cast.residential)
    entry = waitlist_add(admissions, pregnant, cast.residential)
    page = night.get("/admissions/waitlist/").content.decode()
    assert page.index("Preg B") < page.index("Calm A")
    leave = f"/admissions/waitlist/{entry.public_id}/leave/"
    assert "<form" not in page.split("<table", 1)[1]  # the list stays a light table
    assert night.get(leave).status_code == 200
    refused = night.post(leave, {"exit": "referred", "reason": "Closer to home"})
    assert refused.status_code == 422
    assert "Name the program or service the person is referred to" in refused.content.decode()
    response = night.post(leave, {"exit": "lost_contact", "reason": "Three calls unanswered"})
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.exit == "lost_contact" and entry.exit_reason == "Three calls unanswered"
    pregnant.refresh_from_db()
    assert pregnant.outcome == Outcome.NO_FURTHER_CONTACT


def test_pages_cost_the_same_queries_for_few_or_many_calls(cast, night, django_assert_num_queries):
    admissions = cast.actors["admissions"]

    def calls(n: int) -> None:
        for i in range(n):
            inquiry = call_details_update(
                admissions,
                inquiry_start(admissions, signs=["suicidal"] if i % 2 else []),
                CallDetails(given_name=f"P{i}", family_name="Q"),
            )
            waitlist_add(admissions, inquiry, cast.residential)

    calls(1)
    counts = {}
    for page in ("/admissions/", "/admissions/waitlist/", "/admissions/beds/"):
        night.get(page)  # warm the session
        with CaptureQueriesContext(connection) as one:
            assert night.get(page).status_code == 200
        counts[page] = len(one)
    calls(12)
    for page, expected in counts.items():
        with django_assert_num_queries(expected):
            assert night.get(page).status_code == 200


def test_the_desk_read_is_audited_naming_each_call(cast, night):
    admissions = cast.actors["admissions"]
    inquiry = inquiry_start(admissions, signs=[])
    night.get("/admissions/")
    row = AuditEvent.objects.filter(object_type="call_desk").latest("id")
    assert str(inquiry.public_id) in row.detail["inquiries"]


def test_the_capacity_feed_is_off_by_default_and_shows_counts_only(cast, night):
    assert night.get("/admissions/capacity/riverside/anything.json").status_code == 404
    director = cast.client_for("director")
    response = director.post(
        "/admissions/settings/",
        {"hold_hours": "6", "recent_overdose_days": "30", "capacity_feed_enabled": "on"},
    )
    assert response.status_code == 302
    key = IntakeSettings.objects.get().capacity_feed_key
    assert key
    feed = Client().get(f"/admissions/capacity/riverside/{key}.json")
    assert feed.status_code == 200
    data = feed.json()
    detox = next(p for p in data["programs"] if p["name"] == "Detox")
    assert detox["capacity"] == 2 and detox["available_now"] == 2
    assert "Rivera" not in feed.content.decode()
    assert Client().get("/admissions/capacity/riverside/wrong.json").status_code == 404
    assert Client().get(f"/admissions/capacity/harbor/{key}.json").status_code == 404


def test_settings_cap_an_ambulatory_program_and_the_board_counts_it(cast):
    director = cast.client_for("director")
    data = {"hold_hours": "4", "recent_overdose_days": "30", f"cap_{cast.iop.pk}": "12"}
    assert director.post("/admissions/settings/", data).status_code == 302
    cast.iop.refresh_from_db()
    assert cast.iop.place_cap == 12
    board = director.get("/admissions/beds/").content.decode()
    iop_row = re.search(r"<th scope=\"row\">Evening IOP .*?</tr>", board, re.S)
    assert iop_row is not None
    assert re.findall(r'<td class="num">(?:<strong>)?(\d+)', iop_row.group(0))[0] == "12"
    refused = director.post("/admissions/settings/", {**data, "hold_hours": "0"})
    assert refused.status_code == 422


def test_no_clinical_access_sees_no_call(cast):
    inquiry = inquiry_start(cast.actors["director"], signs=[])
    admin = cast.client_for("admin")  # runs the system, sees no clinical content
    assert admin.get(f"/admissions/calls/{inquiry.public_id}/").status_code == 403
    assert admin.get("/admissions/").status_code == 403
    outsider = cast.client_for("outsider")  # a director of another organization
    assert outsider.get(f"/admissions/calls/{inquiry.public_id}/").status_code == 404
    desk = outsider.get("/admissions/")
    assert desk.status_code == 200 and str(inquiry.public_id) not in desk.content.decode()


def test_only_the_clinical_lead_reviews_a_crisis_call(cast, night):
    inquiry = inquiry_start(cast.actors["admissions"], signs=["suicidal"])
    assert (
        night.post(
            f"/admissions/calls/{inquiry.public_id}/lead-review/", {"note": "ok"}
        ).status_code
        == 403
    )
    director = cast.client_for("director")
    response = director.post(
        f"/admissions/calls/{inquiry.public_id}/lead-review/", {"note": "988 reached"}
    )
    assert response.status_code == 302
    inquiry.refresh_from_db()
    assert inquiry.lead_reviewed_at is not None and inquiry.lead_note == "988 reached"


def test_a_stay_planned_to_end_tomorrow_counts_as_expected(cast):
    episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    stay = Stay.objects.get()
    # Tomorrow on the facility's calendar, which the board counts in (not UTC's).
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo(cast.detox.facility.time_zone))
    stay_plan_end(cast.actors["owner"], stay, on=today + timedelta(days=1))
    board = cast.client_for("owner").get("/admissions/beds/").content.decode()
    detox_row = re.search(r"<th scope=\"row\">Detox .*?</tr>", board, re.S)
    assert detox_row is not None
    assert re.findall(r'<td class="num">(?:<strong>)?(\d+)', detox_row.group(0)) == [
        "2",
        "1",
        "0",
        "1",
        "2",
    ]


def test_the_census_counts_a_held_bed_as_not_available(cast, night):
    admissions = cast.actors["admissions"]
    inquiry = inquiry_start(admissions, signs=[])
    place_hold(admissions, inquiry, cast.detox, expected_at=timezone.now() + timedelta(hours=1))
    html = night.get("/").content.decode()
    row = re.search(r"<th scope=\"row\">Detox</th>(.*?)</tr>", html, re.S)
    assert row is not None
    available = re.findall(r'<td class="num">(.*?)</td>', row.group(1), re.S)[2]
    assert available.strip().startswith("1") and "(1 held)" in available


def test_once_admitted_the_call_is_part_of_the_record_behind_the_care_team(cast, night):
    from stepwise.intake.services.admission import inquiry_admit

    admissions = cast.actors["admissions"]
    inquiry = call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Ada", family_name="Quill", date_of_birth=date(1980, 3, 3)),
    )
    url = f"/admissions/calls/{inquiry.public_id}/"
    colleague = cast.client_for("colleague")  # a nurse, not on the patient's care team
    assert colleague.get(url).status_code == 200  # before admission: the shared call log
    inquiry_admit(admissions, inquiry, cast.iop)
    refused = colleague.get(url)
    assert refused.status_code == 403 and "Quill" not in refused.content.decode()
    assert night.get(url).status_code == 200  # admissions works across the facility


def test_the_desk_finds_a_caller_who_rings_again_and_audits_the_search(cast, night):
    admissions = cast.actors["admissions"]
    call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(
            caller_kind="family",
            caller_name="Rosa Quinn",
            given_name="Tom",
            family_name="Quinn",
            phone="555-8811",
        ),
    )
    call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Other", family_name="Person"),
    )
    for query in ("quinn", "8811"):
        page = night.get("/admissions/", {"q": query}).content.decode()
        assert "Tom Quinn" in page and "Other Person" not in page
    row = AuditEvent.objects.filter(object_type="call_search").latest("id")
    assert row.action == "search" and row.detail["query"] == "8811"
    assert len(row.detail["inquiries"]) == 1


def test_after_admission_no_call_page_opens_the_record_to_a_clinician_off_the_team(cast):
    from stepwise.core.errors import OutsideCareTeam
    from stepwise.intake.services.admission import inquiry_admit
    from stepwise.intake.services.inquiries import crisis_note_add

    admissions = (
        cast.actors["admissions"] if "admissions" in cast.actors else cast.new_member("admissions")
    )
    inquiry = call_details_update(
        admissions,
        inquiry_start(admissions, signs=["suicidal"]),
        CallDetails(given_name="Ada", family_name="Quill", date_of_birth=date(1980, 3, 3)),
    )
    inquiry_admit(admissions, inquiry, cast.iop)
    nurse = cast.client_for("colleague")
    base = f"/admissions/calls/{inquiry.public_id}/"
    for page in ("", "details/", "screen/", "admit/"):
        response = nurse.get(base + page)
        assert response.status_code == 403, page
        assert "Quill" not in response.content.decode(), page
    refused = nurse.post(base + "crisis-note/", {"note": ""})
    assert refused.status_code == 403 and "Quill" not in refused.content.decode()
    with pytest.raises(OutsideCareTeam):
        crisis_note_add(cast.actors["colleague"], inquiry, note="later")


def test_the_admit_page_audits_the_patients_it_shows_as_matches(cast, night):
    existing = cast.new_patient("RR-88", "Bo", "Lind", born=date(1970, 7, 7))
    admissions = cast.actors["admissions"]
    inquiry = call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Bo", family_name="Lind", date_of_birth=date(1970, 7, 7)),
    )
    assert "RR-88" in night.get(f"/admissions/calls/{inquiry.public_id}/admit/").content.decode()
    row = AuditEvent.objects.filter(object_type="patient_matches").latest("id")
    assert row.detail["patients"] == [str(existing.public_id)]


def test_a_place_past_its_time_does_not_stop_an_admission_elsewhere(cast, night):
    from stepwise.intake.services.admission import inquiry_admit

    admissions = cast.actors["admissions"]
    inquiry = call_details_update(
        admissions,
        inquiry_start(admissions, signs=[]),
        CallDetails(given_name="Cy", family_name="Moss", date_of_birth=date(1985, 5, 5)),
    )
    place_hold(admissions, inquiry, cast.detox, expected_at=timezone.now() + timedelta(hours=1))
    past = timezone.now() - timedelta(minutes=1)
    BedReservation.objects.update(expected_at=past - timedelta(hours=4), hold_until=past)
    inquiry_admit(admissions, Inquiry.objects.get(pk=inquiry.pk), cast.iop)
    held = BedReservation.objects.get()
    assert held.status == "lapsed" and held.episode is None


def test_a_place_is_held_only_for_an_arrival_within_two_weeks(cast, night):
    inquiry = inquiry_start(cast.actors["admissions"], signs=[])
    later = timezone.localtime(timezone.now() + timedelta(days=20))
    response = night.post(
        f"/admissions/calls/{inquiry.public_id}/hold/",
        {"program": str(cast.detox.public_id), "expected_at": later.strftime("%Y-%m-%dT%H:%M")},
    )
    assert response.status_code == 422
    assert "within 14 days" in response.content.decode()
    assert not BedReservation.objects.exists()


def test_switching_the_feed_on_again_gives_a_new_address(cast):
    from stepwise.intake.services.configuration import intake_settings_update

    director = cast.actors["director"]
    first = intake_settings_update(
        director, hold_hours=4, recent_overdose_days=30, capacity_feed_enabled=True
    ).capacity_feed_key
    kept = intake_settings_update(
        director, hold_hours=5, recent_overdose_days=30, capacity_feed_enabled=True
    ).capacity_feed_key
    intake_settings_update(
        director, hold_hours=5, recent_overdose_days=30, capacity_feed_enabled=False
    )
    again = intake_settings_update(
        director, hold_hours=5, recent_overdose_days=30, capacity_feed_enabled=True
    ).capacity_feed_key
    assert first == kept and again != first
    assert Client().get(f"/admissions/capacity/riverside/{first}.json").status_code == 404
    assert Client().get(f"/admissions/capacity/riverside/{again}.json").status_code == 200


def test_the_waitlist_counts_days_from_the_first_call(cast, night):
    admissions = cast.actors["admissions"]
    inquiry = inquiry_start(admissions, signs=[], received_at=timezone.now() - timedelta(days=6))
    call_details_update(admissions, inquiry, CallDetails(given_name="Di", family_name="Ray"))
    waitlist_add(admissions, inquiry, cast.residential)
    page = night.get("/admissions/waitlist/").content.decode()
    row = re.search(r"Di Ray.*?</tr>", page, re.S)
    assert row is not None and '<td class="num">6</td>' in row.group(0)
