"""The pages that set up a program's schedule: who may use them, a series made through
its form (with its clashes and invalid fields), one session cancelled or moved, closed
days, rooms, session types and the scheduling settings."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from stepwise.core.models import AuditEvent
from stepwise.scheduling.models import (
    Closure,
    Room,
    SchedulingSettings,
    Session,
    SessionSeries,
    SessionStatus,
    SessionType,
)
from stepwise.scheduling.services.series import session_cancel, session_move
from stepwise.scheduling.tests.support import FIRST_DAY, at, iop_series, room, session_type

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


@pytest.fixture
def monday(time_machine: Any) -> None:
    """Monday morning of the series' first week, in the facility's zone."""
    time_machine.move_to(at(FIRST_DAY, 9), tick=False)


@pytest.fixture
def series(cast: Any, monday: None) -> SessionSeries:
    return iop_series(cast)


def _session(series: SessionSeries, on: date) -> Session:
    return Session.objects.get(series=series, occurrence_on=on)


def _manage_urls(cast: Any, series: SessionSeries) -> list[str]:
    session = _session(series, date(2026, 11, 2))
    return [
        reverse("scheduling:series_new", args=[cast.iop.public_id]),
        reverse("scheduling:session_cancel", args=[session.public_id]),
        reverse("scheduling:session_move", args=[session.public_id]),
        reverse("scheduling:closures"),
        reverse("scheduling:rooms"),
        reverse("scheduling:session_types"),
        reverse("scheduling:settings"),
    ]


def _series_form(cast: Any, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session_type": str(session_type(cast).public_id),
        "title": "Evening IOP group",
        "facilitator": str(cast.users["owner"].memberships.get().public_id),
        "room": str(room(cast).public_id),
        "capacity": "12",
        "weekdays": ["0", "2", "3"],
        "interval": "1",
        "start_time": "18:00",
        "minutes": "",
        "first_day": FIRST_DAY.isoformat(),
        "last_day": "",
        "kind": "core",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_every_page_renders_for_the_director(cast, series):
    director = cast.client_for("director")
    urls = [*_manage_urls(cast, series), reverse("scheduling:series", args=[series.public_id])]
    for url in urls:
        response = director.get(url)
        assert response.status_code == 200, url


@pytest.mark.parametrize("who", ["readonly", "colleague"])
def test_the_privacy_officer_and_a_nurse_may_not_set_up_the_schedule(cast, series, who):
    client = cast.client_for(who)
    for url in _manage_urls(cast, series):
        assert client.get(url).status_code == 403, (who, url)
        assert client.post(url, {"reason": "x", "name": "x"}).status_code == 403, (who, url)
    end = reverse("scheduling:series_end", args=[series.public_id])
    assert client.post(end, {"last_day": "2026-11-15"}).status_code == 403
    assert not Session.objects.filter(series=series, status=SessionStatus.CANCELLED).exists()
    assert not Closure.objects.exists()


def test_a_nurse_reads_a_series_without_the_form_to_end_it(cast, series):
    page = cast.client_for("colleague").get(reverse("scheduling:series", args=[series.public_id]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Mondays, Wednesdays and Thursdays" in body
    assert reverse("scheduling:series_end", args=[series.public_id]) not in body
    # The privacy officer does not read schedules at all.
    readonly = cast.client_for("readonly")
    assert readonly.get(reverse("scheduling:series", args=[series.public_id])).status_code == 403


def test_another_organization_finds_none_of_these_records(cast, series):
    outsider = cast.client_for("outsider")
    session = _session(series, date(2026, 11, 2))
    for url in (
        reverse("scheduling:series_new", args=[cast.iop.public_id]),
        reverse("scheduling:series", args=[series.public_id]),
        reverse("scheduling:session_cancel", args=[session.public_id]),
        reverse("scheduling:session_move", args=[session.public_id]),
    ):
        assert outsider.get(url).status_code == 404, url
    end = reverse("scheduling:series_end", args=[series.public_id])
    assert outsider.post(end, {"last_day": "2026-11-15"}).status_code == 404
    cancel = reverse("scheduling:session_cancel", args=[session.public_id])
    assert outsider.post(cancel, {"reason": "Not ours"}).status_code == 404
    assert _session(series, date(2026, 11, 2)).status == SessionStatus.SCHEDULED
    # Their own pages list nothing of ours.
    for url in (reverse("scheduling:closures"), reverse("scheduling:rooms")):
        assert "Group room A" not in outsider.get(url).content.decode()


def test_a_series_made_through_the_form_has_its_sessions(cast, monday):
    director = cast.client_for("director")
    response = director.post(
        reverse("scheduling:series_new", args=[cast.iop.public_id]), _series_form(cast)
    )
    series = SessionSeries.objects.get(program=cast.iop)
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:series", args=[series.public_id])
    assert series.rule == "FREQ=WEEKLY;BYDAY=MO,WE,TH"
    assert series.minutes == 90  # empty: the session type's usual length
    assert series.capacity == 12 and series.is_core
    sessions = list(Session.objects.filter(series=series))
    assert len(sessions) == 12 * 3 + 1
    local = {s.starts_at.astimezone(NY).strftime("%a %H:%M") for s in sessions}
    assert local == {"Mon 18:00", "Wed 18:00", "Thu 18:00"}
    page = director.get(response["Location"])
    body = page.content.decode()
    assert "Mondays, Wednesdays and Thursdays, 18:00\u201319:30 (America/New_York)" in body
    assert "37 sessions scheduled" in body
    assert "18:00</time>\u201319:30" in body  # times in the facility's zone


def test_every_other_week_and_an_optional_series(cast, monday):
    director = cast.client_for("director")
    data = _series_form(cast, weekdays=["1"], interval="2", kind="optional", minutes="60")
    response = director.post(reverse("scheduling:series_new", args=[cast.iop.public_id]), data)
    assert response.status_code == 302
    series = SessionSeries.objects.get(program=cast.iop)
    assert series.rule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU" and not series.is_core
    page = director.get(response["Location"]).content.decode()
    assert "Tuesdays, every 2 weeks, 18:00\u201319:00 (America/New_York)" in page


def test_a_facilitator_clash_is_refused_with_its_reason_and_makes_nothing(cast, series):
    director = cast.client_for("director")
    data = _series_form(cast, room=str(room(cast, "Group room B").public_id), start_time="20:00")
    response = director.post(reverse("scheduling:series_new", args=[cast.iop_east.public_id]), data)
    assert response.status_code == 409
    body = response.content.decode()
    assert (
        "Owner is already booked for &quot;Evening IOP group&quot; at Mon 2026-10-26 18:00" in body
    )
    assert not SessionSeries.objects.filter(program=cast.iop_east).exists()
    assert not Session.objects.filter(program=cast.iop_east).exists()


def test_a_room_clash_is_refused_too(cast, series):
    cast.new_member("counselor", "second")
    data = _series_form(
        cast,
        facilitator=str(cast.users["second"].memberships.get().public_id),
        weekdays=["3"],
    )
    response = cast.client_for("director").post(
        reverse("scheduling:series_new", args=[cast.iop_east.public_id]), data
    )
    assert response.status_code == 409
    assert "Room Group room A is already booked" in response.content.decode()
    assert not Session.objects.filter(program=cast.iop_east).exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"weekdays": None}, "weekdays", "Choose at least one weekday"),
        ({"interval": "6"}, "interval", "Repeat every 1 to 4 weeks."),
        ({"start_time": "six"}, "start_time", "Give a time, e.g. 18:00."),
        ({"minutes": "3"}, "minutes", "A session lasts 5 to 600 minutes."),
        ({"capacity": "0"}, "capacity", "Seats: 1 to 200, or leave empty."),
        ({"last_day": "2026-10-01"}, "last_day", "The last day is on or after the first day."),
        ({"first_day": "soon"}, "first_day", "Give a date"),
        ({"session_type": "nonsense"}, "session_type", "Choose an active session type"),
        ({"facilitator": None}, "facilitator", "Choose who runs the session."),
        ({"title": "x" * 121}, "title", "At most 120 characters."),
    ],
)
def test_an_invalid_series_names_the_field(cast, monday, changes, field, message):
    response = cast.client_for("director").post(
        reverse("scheduling:series_new", args=[cast.iop.public_id]), _series_form(cast, **changes)
    )
    assert response.status_code == 422
    body = response.content.decode()
    error = body.split(f'id="id_{field}_error">', 1)
    assert len(error) == 2, field
    assert message in error[1].split("</p>", 1)[0]
    assert not SessionSeries.objects.exists()


def test_a_receptionist_role_cannot_facilitate(cast, monday):
    cast.new_member("admissions", "desk")
    # Not offered, and refused if posted anyway.
    page = cast.client_for("director").get(
        reverse("scheduling:series_new", args=[cast.iop.public_id])
    )
    desk = str(cast.users["desk"].memberships.get().public_id)
    assert desk not in page.content.decode()
    response = cast.client_for("director").post(
        reverse("scheduling:series_new", args=[cast.iop.public_id]),
        _series_form(cast, facilitator=desk),
    )
    assert response.status_code == 422
    assert not SessionSeries.objects.exists()


def test_a_room_of_another_facility_is_not_offered(cast, monday):
    from stepwise.core.models import Facility

    north = Facility.objects.create(organization=cast.org, name="North", time_zone="UTC")
    far = Room.objects.create(organization=cast.org, facility=north, name="Far room")
    response = cast.client_for("director").post(
        reverse("scheduling:series_new", args=[cast.iop.public_id]),
        _series_form(cast, room=str(far.public_id)),
    )
    assert response.status_code == 422
    assert 'id="id_room_error"' in response.content.decode()


def test_the_series_page_shows_cancelled_and_moved_sessions_and_ends_the_series(cast, series):
    director = cast.actors["director"]
    session_cancel(director, _session(series, date(2026, 11, 2)), reason="Facilitator at training")
    session_move(director, _session(series, date(2026, 11, 4)), starts_at=at(date(2026, 11, 5), 13))
    client = cast.client_for("director")
    url = reverse("scheduling:series", args=[series.public_id])
    body = client.get(url).content.decode()
    assert "Mondays, Wednesdays and Thursdays, 18:00\u201321:00 (America/New_York)" in body
    # A typed reason may name someone: the series page (all staff) says only "Cancelled";
    # the session's own page shows the reason to those who run it.
    assert "Cancelled" in body and "Facilitator at training" not in body
    assert "Moved</span> from Wed 4 Nov 18:00" in body
    assert "Enrolled now</dt><dd>0 patients" in body
    end = reverse("scheduling:series_end", args=[series.public_id])
    refused = client.post(end, {"last_day": ""})
    assert refused.status_code == 422 and 'id="id_last_day_error"' in refused.content.decode()
    assert client.post(end, {"last_day": "2026-11-15"}).status_code == 302
    later = Session.objects.filter(series=series, occurrence_on__gt=date(2026, 11, 15))
    assert later.exists() and not later.filter(status=SessionStatus.SCHEDULED).exists()
    series.refresh_from_db()
    assert series.last_day == date(2026, 11, 15)


def test_cancel_one_session_through_its_form(cast, series):
    session = _session(series, date(2026, 11, 2))
    client = cast.client_for("director")
    url = reverse("scheduling:session_cancel", args=[session.public_id])
    empty = client.post(url, {"reason": " "})
    assert empty.status_code == 422
    assert "Say why the session is cancelled." in empty.content.decode()
    response = client.post(url, {"reason": "Facilitator at training"})
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:session", args=[session.public_id])
    session.refresh_from_db()
    assert session.is_cancelled and session.cancel_reason == "Facilitator at training"
    again = client.post(url, {"reason": "Twice"})
    assert again.status_code == 409
    assert "This session is already cancelled." in again.content.decode()


def test_move_one_session_through_its_form(cast, series):
    session = _session(series, date(2026, 11, 4))
    client = cast.client_for("director")
    url = reverse("scheduling:session_move", args=[session.public_id])
    form = client.get(url).content.decode()
    assert 'value="2026-11-04T18:00"' in form  # the current start, local
    other = room(cast, "Group room B")
    response = client.post(
        url, {"starts_at": "2026-11-05T13:00", "minutes": "120", "room": str(other.public_id)}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("scheduling:session", args=[session.public_id])
    session.refresh_from_db()
    assert session.starts_at == at(date(2026, 11, 5), 13)
    assert session.minutes == 120 and session.room == other
    assert session.moved_from == at(date(2026, 11, 4), 18)
    assert session.facilitator == cast.users["owner"]


def test_a_move_onto_a_busy_facilitator_shows_the_clash(cast, series):
    session = _session(series, date(2026, 11, 4))
    response = cast.client_for("director").post(
        reverse("scheduling:session_move", args=[session.public_id]),
        {"starts_at": "2026-11-05T19:00"},
    )
    assert response.status_code == 409
    assert "Owner is already booked" in response.content.decode()
    session.refresh_from_db()
    assert session.moved_from is None


def test_a_time_the_clocks_skip_is_refused_by_field(cast, series):
    session = _session(series, date(2026, 11, 4))
    response = cast.client_for("director").post(
        reverse("scheduling:session_move", args=[session.public_id]),
        {"starts_at": "2027-03-14T02:30"},  # clocks jump from 02:00 to 03:00 in New York
    )
    assert response.status_code == 422
    assert 'id="id_starts_at_error"' in response.content.decode()


def test_closed_days_per_facility(cast, series):
    client = cast.client_for("director")
    url = reverse("scheduling:closures")
    data = {"facility": str(cast.facility.public_id), "on": "2026-11-26", "name": "Thanksgiving"}
    response = client.post(url, data)
    assert response.status_code == 302
    assert _session(series, date(2026, 11, 26)).cancel_reason == "Closed: Thanksgiving"
    page = client.get(url).content.decode()
    assert "Thanksgiving" in page and "Thu 26 Nov 2026" in page
    assert client.post(url, data).status_code == 409
    nameless = client.post(url, {**data, "on": "2026-12-25", "name": ""})
    assert nameless.status_code == 422 and 'id="id_name_error"' in nameless.content.decode()
    foreign = client.post(url, {**data, "facility": str(cast.other_facility.public_id)})
    assert foreign.status_code == 422 and 'id="id_facility_error"' in foreign.content.decode()
    assert Closure.objects.count() == 1


def test_past_closed_days_are_not_listed(cast, series):
    Closure.objects.create(
        organization=cast.org,
        facility=cast.facility,
        on=FIRST_DAY - timedelta(days=3),
        name="Old holiday",
        created_by=cast.users["director"],
    )
    page = cast.client_for("director").get(reverse("scheduling:closures")).content.decode()
    assert "Old holiday" not in page


def test_rooms_per_facility(cast, monday):
    client = cast.client_for("director")
    url = reverse("scheduling:rooms")
    data = {"facility": str(cast.facility.public_id), "name": "Garden room", "seats": "10"}
    assert client.post(url, data).status_code == 302
    assert Room.objects.get(name="Garden room").seats == 10
    assert "Garden room" in client.get(url).content.decode()
    duplicate = client.post(url, {**data, "name": "garden room"})
    assert duplicate.status_code == 409
    assert "Main already has a room named garden room." in duplicate.content.decode()
    too_many = client.post(url, {**data, "name": "Hall", "seats": "900"})
    assert too_many.status_code == 422
    assert "Seats: 1 to 500, or leave empty." in too_many.content.decode()


def test_add_and_change_a_session_type(cast, monday):
    client = cast.client_for("director")
    url = reverse("scheduling:session_types")
    page = client.get(url).content.decode()
    assert "Group therapy" in page and "Support group meeting" in page
    added = client.post(
        url,
        {"name": "Mindfulness group", "mode": "group", "default_minutes": "45", "is_active": "on"},
    )
    assert added.status_code == 302
    kind = SessionType.objects.get(organization=cast.org, code="mindfulness_group")
    assert kind.default_minutes == 45 and not kind.counts_clinical and kind.is_active
    # Changing keeps the code and the mode whatever is posted.
    changed = client.post(
        f"{url}?change=group_therapy",
        {
            "name": "Process group",
            "code": "other",
            "mode": "individual",
            "default_minutes": "75",
            "counts_clinical": "on",
        },
    )
    assert changed.status_code == 302
    group = SessionType.objects.get(organization=cast.org, code="group_therapy")
    assert group.name == "Process group" and group.mode == "group"
    assert group.default_minutes == 75 and not group.is_active
    taken = client.post(url, {"name": "Again", "code": "group_therapy", "mode": "group"})
    assert taken.status_code == 422 and 'id="id_code_error"' in taken.content.decode()
    short = client.post(url, {"name": "Quick", "mode": "individual", "default_minutes": "2"})
    assert short.status_code == 422
    assert "5 to 600 minutes." in short.content.decode()
    assert "Process group" in client.get(url).content.decode()


def test_a_retired_type_is_not_offered_for_a_new_series(cast, monday):
    SessionType.objects.filter(organization=cast.org, code="life_skills").update(is_active=False)
    page = cast.client_for("director").get(
        reverse("scheduling:series_new", args=[cast.iop.public_id])
    )
    assert "Life skills class" not in page.content.decode()


def test_the_director_changes_the_scheduling_settings(cast):
    client = cast.client_for("director")
    url = reverse("scheduling:settings")
    page = client.get(url).content.decode()
    assert 'name="horizon_weeks"' in page and 'value="12"' in page
    data = {
        "horizon_weeks": "8",
        "absences_for_outreach": "3",
        "days_without_attendance": "10",
        "outreach_due_hours": "48",
        "cosign_required": "on",
    }
    saved = client.post(url, data)
    assert saved.status_code == 302
    row = SchedulingSettings.objects.get(organization=cast.org)
    assert (row.horizon_weeks, row.absences_for_outreach, row.days_without_attendance) == (8, 3, 10)
    assert row.outreach_due_hours == 48 and row.cosign_required
    assert AuditEvent.objects.get(action="settings_change").detail["horizon_weeks"] == [12, 8]
    follow = client.get(url).content.decode()
    assert "Sessions made ahead 12 → 8 weeks" in follow


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("horizon_weeks", "1", "Sessions made ahead: allowed 2 to 52 weeks."),
        ("absences_for_outreach", "11", "allowed 1 to 10 sessions."),
        ("days_without_attendance", "2", "allowed 3 to 30 days."),
        ("outreach_due_hours", "200", "allowed 1 to 168 hours."),
        ("outreach_due_hours", "soon", "Give a whole number. Allowed 1 to 168 hours."),
    ],
)
def test_settings_out_of_range_are_refused_by_field(cast, field, value, message):
    data = {
        "horizon_weeks": "12",
        "absences_for_outreach": "2",
        "days_without_attendance": "7",
        "outreach_due_hours": "24",
        field: value,
    }
    response = cast.client_for("director").post(reverse("scheduling:settings"), data)
    assert response.status_code == 422
    error = response.content.decode().split(f'id="id_{field}_error">', 1)
    assert len(error) == 2 and message in error[1].split("</p>", 1)[0]
    assert not SchedulingSettings.objects.exists()


@pytest.mark.parametrize("who", ["owner", "colleague", "readonly"])
def test_only_the_director_changes_the_scheduling_settings(cast, who):
    client = cast.client_for(who)
    url = reverse("scheduling:settings")
    assert client.get(url).status_code == 403
    assert client.post(url, {"horizon_weeks": "4"}).status_code == 403
    assert not SchedulingSettings.objects.exists()


def test_a_counselor_sets_up_the_schedule(cast, monday):
    """Counselors and case managers keep the schedule (not the settings)."""
    client = cast.client_for("owner")
    assert client.get(reverse("scheduling:rooms")).status_code == 200
    response = client.post(
        reverse("scheduling:series_new", args=[cast.iop.public_id]),
        _series_form(cast, start_time=time(17, 0).strftime("%H:%M")),
    )
    assert response.status_code == 302
    assert Session.objects.filter(program=cast.iop).exists()


@pytest.mark.parametrize(
    ("rule", "words"),
    [
        ("FREQ=WEEKLY;BYDAY=TH,MO,WE", "Mondays, Wednesdays and Thursdays"),
        ("FREQ=WEEKLY;BYDAY=SA", "Saturdays"),
        ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,FR", "Tuesdays and Fridays, every 2 weeks"),
        ("FREQ=WEEKLY", "Mondays"),  # the first day's weekday
        ("FREQ=DAILY", "Every day"),
        ("FREQ=DAILY;INTERVAL=3", "Every 3 days"),
        ("FREQ=MONTHLY;BYMONTHDAY=1", "FREQ=MONTHLY;BYMONTHDAY=1"),  # shown as it is
        ("FREQ=MONTHLY;BYDAY=1MO", "FREQ=MONTHLY;BYDAY=1MO"),
    ],
)
def test_a_rule_in_words(rule, words):
    from stepwise.scheduling.rules import rule_in_words

    written = rule_in_words(
        rule, start_time=time(23, 0), minutes=90, first_day=FIRST_DAY, zone=NY.key
    )
    assert written == f"{words}, 23:00\u201300:30 (America/New_York)"
