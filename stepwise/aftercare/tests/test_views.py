"""The aftercare pages through the real client: who may use each route, the plan and
its section editors (a refused save keeps what was typed), the review, the ending and
restart, the history, check-ins and their record form, the settings; and what the
pages, the chart panel and the worklist section cost in queries."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.aftercare.models import AftercarePlan, AftercareSettings, Checkin, PlanChange
from stepwise.aftercare.rules.checkin import Report
from stepwise.aftercare.rules.schedule import missed_after
from stepwise.aftercare.selectors import worklist_checkins
from stepwise.aftercare.services.checkins import checkin_record
from stepwise.aftercare.services.plans import plan_sections_save
from stepwise.aftercare.tests.support import (
    active_plan,
    admitted,
    discharged,
    facility_noon,
    written_plan,
)
from stepwise.care.services import episode_admit, episode_discharge
from stepwise.core.models import AuditEvent
from stepwise.core.tests.pdftext import pages_text, squash

BASE = "/aftercare/patients/{id}/"


def url(cast: Any, tail: str = "") -> str:
    return BASE.format(id=cast.patient.public_id) + tail


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured.captured_queries)


# Who may use each route


READ_PAGES = ["", "history/", "print/", "checkins/", "checkins/{checkin}/"]
WRITE_PAGES = [
    "sections/triggers/",
    "sections/supports/",
    "review/",
    "end/",
    "restart/",
    "checkins/record/",
]
WRITES = ["start/", "sections/triggers/", "review/", "end/", "restart/", "checkins/record/"]


@pytest.fixture
def ready(cast):
    discharged(cast)
    return (
        Checkin.objects.filter(plan__patient=cast.patient, status="due").order_by("due_on").first()
    )


def paths(cast: Any, checkin: Checkin, tails: list[str]) -> list[str]:
    return [url(cast, t.format(checkin=checkin.public_id)) for t in tails]


def test_the_owner_reaches_every_page(cast, ready):
    client = cast.client_for("owner")
    for path in paths(cast, ready, READ_PAGES + WRITE_PAGES):
        response = client.get(path)
        assert response.status_code in (200, 302), path
    assert client.get(url(cast)).status_code == 200


def test_the_privacy_officer_reads_but_changes_nothing(cast, ready):
    client = cast.client_for("readonly")
    for path in paths(cast, ready, READ_PAGES):
        assert client.get(path).status_code == 200, path
    for path in paths(cast, ready, WRITE_PAGES):
        assert client.get(path).status_code == 403, path
    for path in paths(cast, ready, WRITES):
        assert (
            client.post(path, {"reason": "x", "entries": "x", "revision": "1"}).status_code == 403
        ), path
    assert AftercarePlan.objects.get(patient=cast.patient).status == "active"


def test_a_colleague_off_the_care_team_is_refused_and_offered_emergency_access(cast, ready):
    client = cast.client_for("colleague")
    for path in paths(cast, ready, READ_PAGES + WRITE_PAGES):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "Rivera" not in response.content.decode()
    for path in paths(cast, ready, WRITES):
        assert client.post(path, {}).status_code == 403, path
    assert "emergency" in client.get(url(cast)).content.decode().lower()


@pytest.mark.parametrize("who", ["outsider", "admin"])
def test_another_organization_learns_nothing_and_the_admin_sees_nothing(cast, ready, who):
    client = cast.client_for(who)
    expected = 404 if who == "outsider" else 403
    for path in paths(cast, ready, READ_PAGES + WRITE_PAGES):
        response = client.get(path)
        assert response.status_code == expected, path
        assert "Rivera" not in response.content.decode()
    for path in paths(cast, ready, WRITES):
        assert client.post(path, {}).status_code == expected, path


def test_settings_are_the_directors(cast):
    assert cast.client_for("owner").get("/aftercare/settings/").status_code == 403
    assert cast.client_for("readonly").post("/aftercare/settings/", {}).status_code == 403
    assert cast.client_for("director").get("/aftercare/settings/").status_code == 200


# The plan and its sections


def test_a_plan_is_started_from_its_page(cast):
    client = cast.client_for("owner")
    html = client.get(url(cast)).content.decode()
    assert "No aftercare plan yet" in html and "Start the aftercare plan" in html
    response = client.post(url(cast, "start/"))
    assert response.status_code == 302
    html = client.get(url(cast)).content.decode()
    assert "Draft (being written)" in html
    assert "988" in html and "911" in html
    assert NO_NUMBER in html


NO_NUMBER = "No 24-hour number is set; the printed plan will carry only 988 and 911"


def test_staff_are_warned_when_the_printed_plan_has_no_number_of_the_programs(cast):
    written_plan(cast)
    director = cast.client_for("director").get(url(cast)).content.decode()
    assert NO_NUMBER in director
    # The director is taken to the setting; others are told whose page it is on.
    warning = director[director.index('id="no-crisis-number"') :]
    warning = warning[: warning.index("</div>")]
    assert 'href="/aftercare/settings/"' in warning and "the program's 24/7 line" in warning
    owner = cast.client_for("owner").get(url(cast)).content.decode()
    warning = owner[owner.index('id="no-crisis-number"') :]
    warning = warning[: warning.index("</div>")]
    assert "Aftercare settings (the clinical director's page)" in warning
    assert "href=" not in warning
    # The usual steps send the patient to the program's line: what stands in is said.
    assert "Where my steps say to call the program&#x27;s 24/7 line: call or text 988" in owner
    settings_page = cast.client_for("director").get("/aftercare/settings/").content.decode()
    assert "No 24-hour number is set: printed plans carry only 988 and 911." in settings_page


def test_the_program_line_shows_once_set(cast):
    AftercareSettings.objects.create(
        organization=cast.org, crisis_line_name="Riverside 24/7 line", crisis_line_phone="555-0111"
    )
    written_plan(cast)
    html = cast.client_for("owner").get(url(cast)).content.decode()
    assert "Riverside 24/7 line: 555-0111, any time, day or night." in html
    assert NO_NUMBER not in html and 'id="no-crisis-number"' not in html
    assert "Where my steps say" not in html


def test_a_number_of_only_spaces_is_no_number_on_the_plan_and_the_settings_alike(cast):
    # Stored as it came (before saves stripped it): the rule strips it, so do the pages.
    AftercareSettings.objects.create(
        organization=cast.org, crisis_line_name="Riverside 24/7 line", crisis_line_phone="   "
    )
    written_plan(cast)
    director = cast.client_for("director")
    plan_page = director.get(url(cast)).content.decode()
    assert 'id="no-crisis-number"' in plan_page and "Riverside 24/7 line:" not in plan_page
    warning = "No 24-hour number is set: printed plans carry only 988 and 911."
    assert warning in director.get("/aftercare/settings/").content.decode()
    # Saved from the settings page, spaces around a number are dropped, and spaces
    # alone leave it empty.
    form = {
        "weekly_checkins": "4",
        "monthly_interval": "1",
        "grace_hours": "24",
        "default_method": "phone",
        "crisis_line_name": "Riverside 24/7 line",
    }
    saved = director.post("/aftercare/settings/", {**form, "crisis_line_phone": " 555-0111 "})
    assert saved.status_code == 302
    assert AftercareSettings.objects.get(organization=cast.org).crisis_line_phone == "555-0111"
    assert warning not in director.get("/aftercare/settings/").content.decode()
    assert (
        director.post("/aftercare/settings/", {**form, "crisis_line_phone": "   "}).status_code
        == 302
    )
    assert AftercareSettings.objects.get(organization=cast.org).crisis_line_phone == ""
    assert warning in director.get("/aftercare/settings/").content.decode()


def test_a_text_section_is_edited_one_per_line_and_the_earlier_text_kept(cast):
    plan = written_plan(cast)
    client = cast.client_for("owner")
    page = client.get(url(cast, "sections/triggers/")).content.decode()
    assert "Payday\nThe Elm Street corner</textarea>" in page
    response = client.post(
        url(cast, "sections/triggers/"),
        {"entries": "Payday\n\n  Friday nights  \n", "revision": str(plan.revision)},
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.triggers == ["Payday", "Friday nights"]
    history = client.get(url(cast, "history/")).content.decode()
    assert "Triggers to avoid changed" in history
    assert "The Elm Street corner" in history and "Friday nights" in history


def test_a_refused_save_keeps_what_was_typed(cast):
    plan = written_plan(cast)
    client = cast.client_for("owner")
    typed = "x" * 301
    response = client.post(
        url(cast, "sections/coping_strategies/"),
        {"entries": f"Walk\n{typed}", "revision": str(plan.revision)},
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "At most 300 characters." in html and typed in html


def test_a_save_over_another_change_is_refused_and_keeps_the_text(cast):
    plan = written_plan(cast)
    opened = plan.revision
    plan_sections_save(cast.actors["director"], plan, {"warning_signs": ["Not sleeping"]})
    response = cast.client_for("owner").post(
        url(cast, "sections/warning_signs/"),
        {"entries": "Skipping meetings\nIsolating", "revision": str(opened)},
    )
    html = response.content.decode()
    assert response.status_code == 409
    assert "Director changed this plan since you opened it" in html
    assert "Skipping meetings\nIsolating</textarea>" in html
    assert f'name="revision" value="{opened + 1}"' in html


def formset_data(prefix: str, rows: list[dict[str, str]], total: int) -> dict[str, str]:
    data = {f"{prefix}-TOTAL_FORMS": str(total), f"{prefix}-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{k}": v for k, v in row.items()})
    return data


def test_supports_are_edited_row_by_row(cast):
    plan = written_plan(cast)
    client = cast.client_for("owner")
    page = client.get(url(cast, "sections/supports/")).content.decode()
    assert 'value="NA Tuesday night"' in page
    data = formset_data(
        "supports",
        [
            {
                "kind": "support_group",
                "group": "smart",
                "name": "SMART Thursday",
                "schedule": "Thursdays 18:00, weekly",
            },
            {
                "kind": "medication",
                "name": "Dr. Patel, buprenorphine",
                "next_on": "2031-02-03",
                "contact": "555 0102",
            },
            {"kind": "therapist", "name": "Gone", "DELETE": "on"},
        ],
        4,
    )
    data["revision"] = str(plan.revision)
    assert client.post(url(cast, "sections/supports/"), data).status_code == 302
    plan.refresh_from_db()
    assert [s["name"] for s in plan.supports] == ["SMART Thursday", "Dr. Patel, buprenorphine"]
    assert plan.supports[1]["next_on"] == "2031-02-03"
    html = client.get(url(cast)).content.decode()
    assert "SMART Recovery" in html and "Thursdays 18:00, weekly" in html


def test_a_support_row_with_a_bad_field_shows_its_error_there(cast):
    plan = written_plan(cast)
    data = formset_data(
        "supports",
        [
            {"kind": "support_group", "name": "Tuesday meeting"},
            {"kind": "therapist", "name": "Dr. Lee", "contact": "no phone"},
        ],
        2,
    )
    data["revision"] = str(plan.revision)
    response = cast.client_for("owner").post(url(cast, "sections/supports/"), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Which group?" in html and "Give a phone number" in html
    assert 'value="Tuesday meeting"' in html and 'value="no phone"' in html


def test_the_review_page_activates_the_plan(cast):
    admitted(cast)
    written_plan(cast)
    client = cast.client_for("owner")
    response = client.post(url(cast, "review/"), {"note": "With Ana and her sister"})
    assert response.status_code == 302
    plan = AftercarePlan.objects.get(patient=cast.patient)
    assert plan.status == "active" and plan.review_note == "With Ana and her sister"
    follow = client.get(url(cast)).content.decode()
    assert "Active (reviewed with the patient)" in follow
    assert "They start when the patient leaves care." in follow


def test_a_review_without_supports_is_refused_on_the_page(cast):
    client = cast.client_for("owner")
    client.post(url(cast, "start/"))
    response = client.post(url(cast, "review/"), {"note": "typed"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Add at least one support" in html and "typed" in html


def test_the_patient_ends_and_restarts_the_plan(cast):
    active_plan(cast)
    client = cast.client_for("owner")
    refused = client.post(url(cast, "end/"), {"reason": ""})
    assert refused.status_code == 422
    assert client.post(url(cast, "end/"), {"reason": "Feeling strong"}).status_code == 302
    html = client.get(url(cast)).content.decode()
    assert (
        "Ended by the patient" in html and "Feeling strong" in html and "Restart the plan" in html
    )
    assert client.get(url(cast, "sections/triggers/")).status_code == 302
    assert client.post(url(cast, "restart/"), {"note": ""}).status_code == 302
    assert AftercarePlan.objects.get(patient=cast.patient).status == "draft"


# Check-ins


def test_check_ins_are_listed_and_one_is_recorded_from_the_form(cast, ready):
    client = cast.client_for("owner")
    html = client.get(url(cast, "checkins/")).content.decode()
    assert f"{ready.due_on:%a %Y-%m-%d}" in html
    form = client.get(url(cast, "checkins/record/")).content.decode()
    assert f'value="{ready.public_id}" selected' in form or f'value="{ready.public_id}"' in form
    response = client.post(
        url(cast, "checkins/record/"),
        {
            "checkin": str(ready.public_id),
            "method": "phone",
            "wellbeing": "4",
            "craving": "2",
            "used": "no",
            "supports_attended": ["NA Tuesday night"],
            "other_supports": "Church group",
        },
    )
    assert response.status_code == 302
    ready.refresh_from_db()
    assert ready.status == "done" and ready.supports_attended == [
        "NA Tuesday night",
        "Church group",
    ]
    done = client.get(url(cast, f"checkins/{ready.public_id}/")).content.decode()
    assert "4 · Doing well" in done and "Church group" in done


def test_a_refused_check_in_keeps_the_answers(cast, ready):
    response = cast.client_for("owner").post(
        url(cast, "checkins/record/"),
        {
            "checkin": "unscheduled",
            "method": "phone",
            "wellbeing": "2",
            "craving": "7",
            "used": "yes",
            "note": "Hard week",
        },
    )
    html = response.content.decode()
    assert response.status_code == 422
    assert "Which substances?" in html and "Hard week" in html
    assert re.search(r'value="7"[^>]*checked', html)


def test_the_missed_check_in_page_shows_how_to_reach_the_patient(cast, ready):
    cast.patient.phone = "555-0150"
    cast.patient.save()
    Checkin.objects.filter(pk=ready.pk).update(status="missed", missed_at=timezone.now())
    html = cast.client_for("owner").get(url(cast, f"checkins/{ready.public_id}/")).content.decode()
    assert "555-0150" in html and "Maria (sister)" in html and "Record this check-in" in html


# The printed copy


def test_the_printed_copy_is_in_plain_words_for_the_patient(cast, ready):
    AftercareSettings.objects.create(
        organization=cast.org, crisis_line_name="Riverside 24/7 line", crisis_line_phone="555-0111"
    )
    response = cast.client_for("owner").get(url(cast, "print/"))
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "no-store"
    text = squash(" ".join(pages_text(response.content)))
    for said in [
        "My aftercare plan",
        "Ana Rivera",
        "If I am in crisis",
        "Call or text 988 (the Suicide & Crisis Lifeline)",
        "Riverside 24/7 line: 555-0111",
        "call 911",
        "People I can call",
        "Maria (sister): 555-0101",
        "Narcotics Anonymous (NA): NA Tuesday night · Tuesdays 19:00, weekly",
        "Signs that I may be slipping",
        "Skipping meetings",
        "Payday",
        "J. from the old crew (supplier (sells or gives drugs))",
        "What I can do instead",
        "Call my sponsor",
        "When we will check in with you",
        "Every week for the first 4 weeks, then every month, by phone call.",
        f"{ready.due_on:%A} {ready.due_on.day} {ready.due_on:%B %Y}",
        "It is yours: you decide who sees it",
    ]:
        assert squash(said) in text, said
    (row,) = AuditEvent.objects.filter(action="export", category="aftercare")
    assert row.detail == {"format": "pdf"} and row.patient_public_id == cast.patient.public_id


def printed_crisis(content: bytes) -> str:
    """The printed crisis section, from its heading to the next section's (the text
    read back with its spaces squashed out: compare with squash())."""
    text = squash(" ".join(pages_text(content)))
    return text[text.index(squash("If I am in crisis")) : text.index(squash("People I can call"))]


def test_the_printed_crisis_plan_leads_with_the_programs_number_when_set(cast, ready):
    AftercareSettings.objects.create(
        organization=cast.org, crisis_line_name="Riverside 24/7 line", crisis_line_phone="555-0111"
    )
    crisis = printed_crisis(cast.client_for("owner").get(url(cast, "print/")).content)
    # 988, the program's line, 911, then the patient's own steps.
    lines = [
        "Call or text 988 (the Suicide & Crisis Lifeline), any time, day or night.",
        "Riverside 24/7 line: 555-0111, any time, day or night.",
        "If someone may be overdosing or is in danger: call 911.",
        "My steps:",
    ]
    found = [crisis.index(squash(line)) for line in lines]
    assert found == sorted(found)
    assert squash("Where my steps say") not in crisis


def test_the_printed_crisis_plan_without_any_number_carries_988_and_911_and_no_blank(cast, ready):
    # A name without a number: the line is not printed at all.
    AftercareSettings.objects.create(
        organization=cast.org, crisis_line_name="Riverside 24/7 line", crisis_line_phone=""
    )
    response = cast.client_for("owner").get(url(cast, "print/"))
    crisis = printed_crisis(response.content)
    for said in [
        "Call or text 988 (the Suicide & Crisis Lifeline), any time, day or night.",
        "If someone may be overdosing or is in danger: call 911.",
        # The usual step naming the program's line is answered with one that answers.
        "Where my steps say to call the program's 24/7 line: call or text 988, any time.",
    ]:
        assert squash(said) in crisis, said
    for absent in ["Riverside 24/7 line", "Riverside Recovery 24/7 line"]:
        assert squash(absent) not in crisis, absent
    # No line left waiting for its number ("...: , any time" or "...: .").
    assert not re.search(r":[,.]", crisis), crisis


def test_there_is_nothing_to_print_without_a_plan(cast):
    response = cast.client_for("owner").get(url(cast, "print/"))
    assert response.status_code == 302 and response["Location"] == url(cast)


# What the pages cost


# Session, user, second-factor device and membership (4); the patient and the care-team
# check (2); then per page: the plan page reads the plan, the settings and the next
# check-ins (3); the check-ins page and the history the plan and its rows (2); and the
# audit row (2 savepoints, chain head, insert, head update, 2 releases: 7). Pinned, and
# the same with few or many rows.
PAGE_QUERIES = {"": 16, "checkins/": 15, "history/": 15}


def test_the_pages_cost_the_same_however_much_is_in_them(cast, ready):
    client = cast.client_for("owner")
    small = {tail: queries_for(client, url(cast, tail)) for tail in PAGE_QUERIES}
    plan = AftercarePlan.objects.get(patient=cast.patient)
    for _ in range(6):
        checkin_record(
            cast.actors["owner"], plan, Report(wellbeing=3, craving=4, used=False), method="phone"
        )
    for n in range(5):
        plan_sections_save(
            cast.actors["owner"], plan, {"coping_strategies": [f"Way {n}"] * (n + 1)}
        )
    assert PlanChange.objects.filter(plan=plan).count() > 10
    assert {tail: queries_for(client, url(cast, tail)) for tail in PAGE_QUERIES} == small
    assert small == PAGE_QUERIES


def test_the_chart_panel_costs_one_query_with_or_without_a_plan(cast):
    client = cast.client_for("owner")
    chart = f"/patients/{cast.patient.public_id}/"
    without = queries_for(client, chart)
    discharged(cast)
    assert "Aftercare plan" in client.get(chart).content.decode()
    assert queries_for(client, chart) == without


def test_the_worklist_section_is_one_query_for_one_or_many_patients(
    clock, cast, django_assert_num_queries
):
    owner = cast.actors["owner"]
    patients = [cast.patient] + [
        cast.new_patient(f"W{n}", f"Given{n}", f"Family{n}") for n in range(5)
    ]
    for patient in patients:
        episode = episode_admit(owner, patient, cast.iop, at=timezone.now() - timedelta(days=40))
        active_plan(cast, patient)
        episode_discharge(owner, episode, reason=1, at=facility_noon(20))
    # Discharged 20 days ago on the facility's calendar: the check-ins of days 7 and 14
    # fell before the schedule was made; the one of day 21 is due tomorrow.
    import time_machine

    due = Checkin.objects.filter(patient=cast.patient, status="due").order_by("due_on")[0]
    zone = ZoneInfo("America/New_York")
    late = missed_after(due.due_on, "America/New_York", 24)
    moments = [
        (timezone.now(), None),
        (datetime.combine(due.due_on, time(12), zone), "due today"),
        (late - timedelta(hours=2), "overdue"),
        (late + timedelta(hours=2), "missed"),
    ]
    for moment, state in moments:
        with time_machine.travel(moment, tick=False):
            now = timezone.now()
            with django_assert_num_queries(1):
                rows = worklist_checkins(owner, now)
            assert {r.state for r in rows} == ({state} if state else set()), state
            assert len(rows) == (6 if state else 0)
            with django_assert_num_queries(1):
                assert len(worklist_checkins(cast.actors["director"], now)) == len(rows)
            with django_assert_num_queries(1):
                assert worklist_checkins(cast.actors["colleague"], now) == []
            if state == "missed":
                page = cast.client_for("owner").get("/worklist/").content.decode()
                assert "Aftercare check-ins due or missed" in page and "Family4" in page


def test_the_settings_page_saves_and_names_refused_values(cast):
    client = cast.client_for("director")
    form = {
        "weekly_checkins": "4",
        "monthly_interval": "1",
        "grace_hours": "100",
        "default_method": "phone",
        "crisis_line_name": "Riverside 24/7 line",
        "crisis_line_phone": "555-0111",
    }
    refused = client.post("/aftercare/settings/", form)
    assert refused.status_code == 422
    assert "counts as missed: allowed 1 to 24 hours." in refused.content.decode()
    assert not AftercareSettings.objects.filter(organization=cast.org).exists()
    assert client.post("/aftercare/settings/", {**form, "grace_hours": "12"}).status_code == 302
    assert AftercareSettings.objects.get(organization=cast.org).grace_hours == 12
