"""Idle and absolute sign-out, enforced on the server from the session's timestamps,
with the warning's data and the keep-alive; the clock is moved, never waited for."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from stepwise.accounts.rules import ACTIVITY_RESOLUTION_SECONDS
from stepwise.core.models import AuditEvent


@pytest.fixture
def clock(time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    return time_machine


def test_an_idle_session_is_signed_out_after_15_minutes(cast, clock):
    client = cast.client_for("owner")
    clock.shift(timedelta(minutes=14, seconds=59))
    assert client.get("/").status_code == 200  # activity: the idle clock starts over
    clock.shift(timedelta(minutes=14, seconds=59))
    assert client.get("/").status_code == 200
    clock.shift(timedelta(minutes=15))
    response = client.get("/patients/?q=riv")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=%2Fpatients%2F%3Fq%3Driv"
    page = client.get(response["Location"])
    assert "signed out after 15 minutes without activity" in page.content.decode()
    assert client.get("/").status_code == 302  # really signed out
    event = AuditEvent.objects.get(action="logout")
    assert event.actor_username == "owner" and event.detail == {"reason": "idle"}


def test_the_session_ends_after_12_hours_however_active(cast, clock):
    client = cast.client_for("owner")
    for _ in range(12 * 6 - 1):
        clock.shift(timedelta(minutes=10))
        assert client.get("/").status_code == 200
    clock.shift(timedelta(minutes=10))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")
    assert AuditEvent.objects.get(action="logout").detail == {"reason": "absolute"}


def test_the_keep_alive_counts_as_activity_and_the_status_does_not(cast, clock):
    client = cast.client_for("owner")
    clock.shift(timedelta(minutes=10))
    status = client.get("/session/", HTTP_ACCEPT="application/json").json()
    assert status["idle_seconds"] == 5 * 60 and status["warn_seconds"] == 120
    clock.shift(timedelta(minutes=4))
    kept = client.post("/session/keep-alive/", HTTP_ACCEPT="application/json")
    assert kept.status_code == 200 and kept.json()["idle_seconds"] == 15 * 60
    assert kept.json()["absolute_seconds"] == 12 * 3600 - 14 * 60
    clock.shift(timedelta(minutes=14))
    # Polling the status all along would not have kept it alive.
    assert client.get("/session/", HTTP_ACCEPT="application/json").json()["idle_seconds"] == 60
    clock.shift(timedelta(minutes=1))
    expired = client.get("/session/", HTTP_ACCEPT="application/json")
    assert expired.status_code == 401 and expired.json() == {"signed_in": False, "reason": "idle"}


def test_the_keep_alive_works_without_script_and_needs_a_post(cast):
    client = cast.client_for("owner")
    assert client.get("/session/keep-alive/").status_code == 405
    response = client.post("/session/keep-alive/", {"next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"


def test_activity_is_recorded_at_most_every_half_minute(cast, clock):
    client = cast.client_for("owner")
    seen = client.session["stepwise_last_seen_at"]
    clock.shift(timedelta(seconds=ACTIVITY_RESOLUTION_SECONDS - 1))
    client.get("/")
    assert client.session["stepwise_last_seen_at"] == seen
    clock.shift(timedelta(seconds=2))
    client.get("/")
    assert client.session["stepwise_last_seen_at"] > seen


def test_htmx_requests_are_sent_to_sign_in_with_a_full_page_load(cast, clock):
    client = cast.client_for("owner")
    clock.shift(timedelta(minutes=16))
    response = client.get("/patients/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"].startswith("/login/")


def test_pages_carry_the_warning_data_and_its_script(cast, clock):
    client = cast.client_for("owner")
    clock.shift(timedelta(minutes=3))
    html = client.get("/").content.decode()
    assert 'id="session-timeout"' in html and 'data-idle-seconds="900"' in html
    assert 'data-warn-seconds="120"' in html and "Stay signed in" in html
    assert "/static/stepwise/session-timeout.js" in html
    script = Client().get("/static/stepwise/session-timeout.js")
    assert script.status_code == 200
    assert b"session-timeout" in b"".join(script.streaming_content)  # type: ignore[attr-defined]
    # The sign-in page has no session to warn about.
    assert 'id="session-timeout"' not in Client().get("/login/").content.decode()


def test_timeouts_are_settings(cast, clock, settings):
    settings.IDLE_MINUTES = 5
    client = cast.client_for("owner")
    clock.shift(timedelta(minutes=5))
    assert client.get("/").status_code == 302
