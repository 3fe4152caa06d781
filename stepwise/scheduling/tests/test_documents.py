"""The schedule's documents: the printable sign-in sheet of a session, and a member of
staff's private calendar feed (no patient in it), with the iCalendar text rules."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from stepwise.accounts.models import Membership
from stepwise.care.services import episode_admit
from stepwise.core import pdf
from stepwise.core.errors import NotFound
from stepwise.core.models import AuditEvent
from stepwise.core.tests.pdftext import pages_text, squash
from stepwise.scheduling import ical, signin
from stepwise.scheduling.models import CalendarFeed, SchedulingSettings, Session
from stepwise.scheduling.services.enrollment import appointment_book
from stepwise.scheduling.services.feeds import feed_issue, feed_read, feed_revoke, feed_text
from stepwise.scheduling.services.series import session_cancel
from stepwise.scheduling.tests.support import at, iop_series, room, session_type

ADMIT_DAY = date(2026, 11, 2)  # a Monday; the evening group meets at 18:00


@pytest.fixture(autouse=True)
def _readable_pdfs(monkeypatch):
    # Uncompressed streams, so the tests can read the sheet's text back.
    monkeypatch.setattr(pdf, "COMPRESS", False)


@pytest.fixture
def group(cast):
    """The evening IOP group (the owner facilitates) with three members."""
    series = iop_series(cast)
    members = [
        cast.patient,
        cast.new_patient("RR-2", "Ben", "Ortiz"),
        cast.new_patient("RR-3", "Samuel", "Zabrowski"),
    ]
    with time_machine.travel(at(ADMIT_DAY, 9), tick=False):
        for patient in members:
            episode_admit(cast.actors["owner"], patient, cast.iop)
    return series, members


def first_session(series: Any) -> Session:
    return Session.objects.get(series=series, occurrence_on=ADMIT_DAY)


def sheet_url(session: Session) -> str:
    return reverse("scheduling:sign_in_sheet", args=[session.public_id])


# --- the sign-in sheet ----------------------------------------------------------------------


def test_the_facilitator_prints_the_sheet_with_first_names_and_initials_only(cast, group):
    series, _ = group
    session = first_session(series)
    response = cast.client_for("owner").get(sheet_url(session))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('inline; filename="sign-in-2026-11-02-')
    assert "no-store" in response["Cache-Control"]
    text = squash(" ".join(pages_text(response.content)))
    for shown in ("AnaR.", "BenO.", "SamuelZ."):
        assert shown in text
    for hidden in ("Rivera", "Ortiz", "Zabrowski", "RR-1", "RR-2", "1990"):
        assert hidden not in text
    # Program, session, local date and time (New York, after the autumn change),
    # facilitator and room.
    for fact in (
        "EveningIOP",
        "EveningIOPgroup",
        "Grouptherapy",
        "Monday2November2026",
        "18:00\N{EN DASH}21:00EST",
        "Owner",
        "GrouproomA,Main",
        "Signature",
        "Timein",
        "42CFRPart2",
    ):
        assert fact in text, fact
    # The document's properties name no member either.
    assert b"Rivera" not in response.content and b"Ana R" not in response.content


def test_printing_the_sheet_is_one_audited_read_naming_the_members(cast, group):
    series, members = group
    session = first_session(series)
    cast.client_for("owner").get(sheet_url(session))
    event = AuditEvent.objects.get(object_type="sign_in_sheet")
    assert (event.action, event.category, event.data_class) == ("read", "scheduling", "part2")
    assert event.object_id == str(session.public_id)
    assert event.detail == {"patients": sorted(str(p.public_id) for p in members)}
    assert event.actor_id == cast.users["owner"].pk


def test_a_facility_wide_role_prints_it_too(cast, group):
    series, _ = group
    response = cast.client_for("director").get(sheet_url(first_session(series)))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"


def test_a_counselor_who_does_not_run_it_is_refused_and_an_outsider_finds_nothing(cast, group):
    series, _ = group
    session = first_session(series)
    cast.new_member("counselor", "stranger")
    refused = cast.client_for("stranger").get(sheet_url(session))
    assert refused.status_code == 403
    assert b"Rivera" not in refused.content and b"Ana" not in refused.content
    hidden = cast.client_for("outsider").get(sheet_url(session))
    assert hidden.status_code == 404
    assert not AuditEvent.objects.filter(object_type="sign_in_sheet").exists()


def test_a_cancelled_session_has_no_sheet(cast, group):
    series, _ = group
    session = session_cancel(cast.actors["director"], first_session(series), reason="Snow")
    response = cast.client_for("owner").get(sheet_url(session))
    assert response.status_code == 409
    assert response["Content-Type"].startswith("text/html")
    assert b"cancelled (Snow)" in response.content
    assert not AuditEvent.objects.filter(object_type="sign_in_sheet").exists()


def test_an_empty_session_prints_a_sheet_that_says_so(cast):
    series = iop_series(cast)
    response = cast.client_for("owner").get(sheet_url(first_session(series)))
    assert response.status_code == 200
    assert "Nobodyisseated" in squash(" ".join(pages_text(response.content)))
    assert AuditEvent.objects.get(object_type="sign_in_sheet").detail == {"patients": []}


def test_a_long_roster_runs_onto_more_pages(cast):
    sheet = signin.SignInSheet(
        organization="Riverside Recovery",
        program="Evening IOP",
        facility="Main",
        title="Evening IOP group",
        session_type="Group therapy",
        day="Monday 2 November 2026",
        hours="18:00\N{EN DASH}21:00 EST",
        zone="America/New_York",
        facilitator="Owner",
        room="Group room A",
        members=[f"Member{n} X." for n in range(40)],
        printed="2026-11-02 17:00 by owner",
    )
    pages = pages_text(signin.sign_in_sheet_pdf(sheet))
    assert len(pages) >= 2
    # Every page says which session it is for and repeats the column headings.
    assert all("Signature" in page for page in pages)
    assert all("EveningIOPgroup" in squash(page) for page in pages)
    assert "(continued)" in pages[1]
    assert "Member39X." in squash(" ".join(pages))


def test_member_labels_use_the_name_the_member_goes_by():
    assert signin.member_label("Ana", "Rivera") == "Ana R."
    assert signin.member_label("Robert", "  o'Neil ", "Bobby") == "Bobby O."
    assert signin.member_label("Ana", "") == "Ana"


# --- the calendar feed ----------------------------------------------------------------------


def feed_url(raw: str) -> str:
    return reverse("scheduling:feed", args=[raw])


def unfolded(text: str) -> str:
    return text.replace("\r\n ", "")


def uid(session: Session) -> str:
    return f"{session.public_id}@stepwise.invalid"


def without_nonce(page: bytes) -> bytes:
    return re.sub(rb'nonce="[^"]*"', b"", page)


def events_of(text: str) -> dict[str, str]:
    """Each VEVENT's text by its UID."""
    found = {}
    for block in re.findall(r"BEGIN:VEVENT\r\n(.*?)END:VEVENT", unfolded(text), re.S):
        uid = re.search(r"^UID:(.*)\r$", block, re.M)
        assert uid is not None
        found[uid.group(1)] = block
    return found


@pytest.fixture
def long_horizon(cast):
    SchedulingSettings.objects.create(organization=cast.org, horizon_weeks=26)


def test_times_are_in_utc_across_the_daylight_saving_change(cast, long_horizon):
    # Wednesdays at 18:00 New York time, from July to December.
    series = iop_series(
        cast,
        rule="FREQ=WEEKLY;BYDAY=WE",
        first_day=date(2026, 7, 1),
        today=date(2026, 7, 1),
        minutes=90,
    )
    _, raw = feed_issue(cast.actors["owner"])
    text = feed_text(feed_read(raw, now=at(date(2026, 7, 1), 9)))
    events = events_of(text)
    july = events[uid(Session.objects.get(series=series, occurrence_on=date(2026, 7, 1)))]
    december = events[uid(Session.objects.get(series=series, occurrence_on=date(2026, 12, 2)))]
    assert "DTSTART:20260701T220000Z" in july and "DTEND:20260701T233000Z" in july
    assert "DTSTART:20261202T230000Z" in december and "DTEND:20261203T003000Z" in december
    assert "SUMMARY:Evening IOP group" in july
    assert "LOCATION:Group room A\\, Main" in july
    assert "STATUS:CONFIRMED" in july


def test_the_feed_names_no_patient_even_for_an_individual_appointment(cast, group):
    named = cast.new_patient("RR-7", "Quinta", "Villanueva-Brandt")
    appointment = appointment_book(
        cast.actors["owner"],
        named,
        program=cast.iop,
        session_type=session_type(cast, "individual_therapy"),
        facilitator_id=cast.users["owner"].pk,
        starts_at=at(date(2026, 11, 3), 14),
        room=room(cast, "Office 2"),
    )
    _, raw = feed_issue(cast.actors["owner"])
    with time_machine.travel(at(date(2026, 11, 2), 8), tick=False):
        response = Client().get(feed_url(raw))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    text = response.content.decode()
    event = events_of(text)[uid(appointment)]
    assert "SUMMARY:Individual therapy" in event
    assert "LOCATION:Office 2\\, Main" in event
    assert "DTSTART:20261103T190000Z" in event
    flat = unfolded(text)
    patients = [named, *group[1]]
    for patient in patients:
        for identifier in (
            patient.given_name,
            patient.family_name,
            patient.mrn,
            str(patient.public_id),
            patient.date_of_birth.isoformat(),
        ):
            assert identifier not in flat, identifier
    for seat in appointment.attendance.all():
        assert str(seat.public_id) not in flat


def test_a_cancelled_session_is_marked_cancelled_without_its_reason(cast, group):
    series, _ = group
    cancelled = session_cancel(
        cast.actors["director"],
        Session.objects.get(series=series, occurrence_on=date(2026, 11, 4)),
        reason="Ana Rivera's relapse; group paused",
    )
    _, raw = feed_issue(cast.actors["owner"])
    text = feed_text(feed_read(raw, now=at(ADMIT_DAY, 8)))
    event = events_of(text)[uid(cancelled)]
    assert "STATUS:CANCELLED" in event
    assert "Rivera" not in text and "relapse" not in text


def test_the_feed_has_only_the_members_own_sessions_in_its_window(cast, long_horizon):
    mine = iop_series(cast, rule="FREQ=WEEKLY;BYDAY=MO", first_day=date(2026, 9, 7))
    theirs = iop_series(
        cast,
        rule="FREQ=WEEKLY;BYDAY=TU",
        first_day=date(2026, 9, 7),
        facilitator="director",
        room_name="Group room B",
        title="Director's group",
    )
    _, raw = feed_issue(cast.actors["owner"])
    now = at(date(2026, 10, 1), 9)
    read = feed_read(raw, now=now)
    assert read.sessions and {s.series_id for s in read.sessions} == {mine.pk}
    assert min(s.starts_at for s in read.sessions) >= now - timedelta(days=14)
    assert max(s.starts_at for s in read.sessions) < now + timedelta(weeks=26)
    assert "Director's group" not in feed_text(read)
    assert theirs.sessions.exists()


def test_only_a_hash_is_stored_and_a_new_address_revokes_the_old(cast):
    first, raw = feed_issue(cast.actors["owner"])
    assert first.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = CalendarFeed.objects.values_list()
    assert not any(raw in str(value) for row in stored for value in row)
    second, raw2 = feed_issue(cast.actors["owner"])
    first.refresh_from_db()
    assert first.revoked_at is not None and second.revoked_at is None
    assert Client().get(feed_url(raw)).status_code == 404
    assert Client().get(feed_url(raw2)).status_code == 200
    assert (
        CalendarFeed.objects.filter(user=cast.users["owner"], revoked_at__isnull=True).count() == 1
    )


def test_a_revoked_or_unknown_address_is_404_and_says_nothing(cast):
    _, raw = feed_issue(cast.actors["owner"])
    assert feed_revoke(cast.actors["owner"]) == 1
    revoked = Client().get(feed_url(raw))
    unknown = Client().get(feed_url("not-a-real-token"))
    assert revoked.status_code == unknown.status_code == 404
    # The same page either way (but for the per-response script nonce).
    assert without_nonce(revoked.content) == without_nonce(unknown.content)
    assert feed_revoke(cast.actors["owner"]) == 0


def test_a_feed_stops_when_its_owner_is_disabled(cast):
    _, raw = feed_issue(cast.actors["owner"])
    Membership.objects.filter(user=cast.users["owner"]).update(is_active=False)
    with pytest.raises(NotFound):
        feed_read(raw)


def test_each_use_is_recorded_and_audited_as_account_data(cast, group):
    feed, raw = feed_issue(cast.actors["owner"])
    assert feed.last_used_at is None
    when = at(ADMIT_DAY, 8)
    with time_machine.travel(when, tick=False):
        assert Client().get(feed_url(raw)).status_code == 200
    feed.refresh_from_db()
    assert feed.last_used_at == when
    event = AuditEvent.objects.get(object_type="calendar_feed", action="read")
    assert (event.category, event.data_class) == ("scheduling", "account")
    assert event.actor_id == cast.users["owner"].pk and event.patient_public_id is None
    assert event.detail["sessions"] > 0
    issued = AuditEvent.objects.get(object_type="calendar_feed", action="create")
    assert issued.data_class == "account"


def test_the_settings_page_shows_a_new_address_once_and_revokes_it(cast, group):
    client = cast.client_for("owner")
    page = reverse("scheduling:feed_settings")
    assert b"no calendar feed" in client.get(page).content
    issued = client.post(page, {"action": "issue"})
    assert issued.status_code == 200 and "no-store" in issued["Cache-Control"]
    found = re.search(r'id="new-feed-url">(http[^<]+)</code>', issued.content.decode())
    assert found is not None
    url = found.group(1)
    assert url.startswith("http://testserver/schedule/feed/") and url.endswith(".ics")
    assert b"webcal://testserver/schedule/feed/" in issued.content
    path = url.removeprefix("http://testserver")
    assert Client().get(path).status_code == 200
    again = client.get(page)
    assert url.encode() not in again.content and b"active" in again.content
    revoked = client.post(page, {"action": "revoke"})
    assert revoked.status_code == 302
    assert Client().get(path).status_code == 404


def test_the_settings_page_is_for_clinical_staff(cast):
    assert cast.client_for("admin").get(reverse("scheduling:feed_settings")).status_code == 403


# --- iCalendar text -------------------------------------------------------------------------


def test_text_values_are_escaped():
    assert ical.escape_text("a,b;c\\d") == "a\\,b\\;c\\\\d"
    assert ical.escape_text("one\r\ntwo\nthree\rfour") == "one\\ntwo\\nthree\\nfour"
    assert ical.escape_text("tab\there\x00\x07") == "tab\there"


def test_long_lines_fold_at_75_octets_without_splitting_a_character():
    line = "SUMMARY:" + "Grüße aus dem Gruppenraum, " * 8 + "✓"
    folded = ical.fold(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(part.encode()) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert folded.replace("\r\n ", "") == line
    assert ical.fold("SHORT:line") == "SHORT:line"
    exact = "X" * 75
    assert ical.fold(exact) == exact and ical.fold(exact + "Y") == exact + "\r\n Y"


def test_a_calendar_is_crlf_text_in_utc():
    starts = datetime(2026, 7, 1, 18, tzinfo=ZoneInfo("America/New_York"))
    event = ical.Event(
        uid="abc@stepwise.invalid",
        summary="Evening IOP group; week 2, room \\A",
        starts_at=starts,
        ends_at=starts + timedelta(minutes=90),
        stamp=datetime(2026, 6, 30, 12, tzinfo=UTC),
        location="Group room A, Main",
        description="Line one\nLine two " + "x" * 120,
        status=ical.STATUS_CANCELLED,
    )
    text = ical.calendar("My sessions", [event])
    assert text.startswith("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:")
    assert text.endswith("END:VCALENDAR\r\n")
    assert "\n" not in text.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in text.split("\r\n"))
    flat = unfolded(text)
    assert "SUMMARY:Evening IOP group\\; week 2\\, room \\\\A\r\n" in flat
    assert "DTSTART:20260701T220000Z\r\nDTEND:20260701T233000Z\r\n" in flat
    assert "DESCRIPTION:Line one\\nLine two x" in flat
    assert "STATUS:CANCELLED\r\n" in flat
    with pytest.raises(ValueError, match="time zone"):
        ical.utc_stamp(datetime(2026, 7, 1, 18))  # noqa: DTZ001


def test_utc_stamps_follow_daylight_saving():
    # 18:00 in New York is 22:00Z in summer (EDT) and 23:00Z in winter (EST).
    assert ical.utc_stamp(at(date(2026, 7, 1), 18)) == "20260701T220000Z"
    assert ical.utc_stamp(at(date(2026, 12, 2), 18)) == "20261202T230000Z"
