"""The day a patient is planned to leave their program: set from the chart or the API,
audited, behind the care team, and counted in the bed board's expected tomorrow."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from stepwise.api.tests.support import Api
from stepwise.care.exits import prepare_exit
from stepwise.care.models import Stay
from stepwise.care.selectors import PlacesRow, places_board
from stepwise.care.services import episode_admit, episode_discharge
from stepwise.core.models import AuditEvent


def _tomorrow() -> str:
    """Tomorrow on the cast facility's calendar (New York), which the bed board counts
    in, not UTC's: the two differ in the evening."""
    return (
        timezone.localdate(timezone=ZoneInfo("America/New_York")) + timedelta(days=1)
    ).isoformat()


def _detox_row(cast: Any) -> PlacesRow:
    return next(
        r for r in places_board(cast.actors["owner"], timezone.now()) if r.program == cast.detox
    )


def test_the_chart_sets_the_planned_day_and_the_board_expects_the_bed(cast):
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    client = cast.client_for("owner")
    chart = f"/patients/{cast.patient.public_id}/"
    assert 'name="planned_end_on"' in client.get(chart).content.decode()
    url = f"{chart}episodes/{episode.public_id}/planned-end/"
    assert client.post(url, {"planned_end_on": _tomorrow()}).status_code == 302
    planned = Stay.objects.get().planned_end_on
    assert planned is not None and planned.isoformat() == _tomorrow()
    places = _detox_row(cast).places
    assert (places.available_now, places.expected_tomorrow) == (1, 2)
    row = AuditEvent.objects.filter(object_type="stay", action="update").latest("id")
    assert row.detail == {"planned_end_on": [None, _tomorrow()]}
    # Cleared again: no day planned.
    client.post(url, {"planned_end_on": ""})
    assert Stay.objects.get().planned_end_on is None
    # A day that is not a date is refused with a message, and nothing changes.
    response = client.post(url, {"planned_end_on": "next week"}, follow=True)
    assert "Give a date" in response.content.decode()
    assert Stay.objects.get().planned_end_on is None


def test_only_the_care_team_plans_the_day(cast):
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    url = f"/patients/{cast.patient.public_id}/episodes/{episode.public_id}/planned-end/"
    refused = cast.client_for("colleague").post(url, {"planned_end_on": _tomorrow()})
    assert refused.status_code == 403 and "Rivera" not in refused.content.decode()
    assert cast.client_for("readonly").post(url, {"planned_end_on": _tomorrow()}).status_code == 403
    assert Stay.objects.get().planned_end_on is None


def test_the_api_sets_and_clears_the_planned_day(cast):
    api = Api(cast)
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.residential)
    path = f"/episodes/{episode.public_id}/planned-end"
    answer = api.post("owner", path, {"planned_end_on": _tomorrow()})
    assert answer.status_code == 200 and answer.json()["planned_end_on"] == _tomorrow()
    assert api.post("owner", path, {"planned_end_on": None}).json()["planned_end_on"] is None
    assert api.post("owner", path, {"planned_end_on": "soon"}).status_code == 422
    assert api.post("outsider", path, {"planned_end_on": _tomorrow()}).status_code == 404
    prepare_exit(cast.actors["owner"], episode, cast.residential, timezone.now(), ends_episode=True)
    episode_discharge(cast.actors["owner"], episode, reason=1)
    assert api.post("owner", path, {"planned_end_on": _tomorrow()}).status_code == 409
