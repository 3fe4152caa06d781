"""The recovery pages: a return to use recorded and worked to a settled response, a
screen's unexpected positive confirmed, permissions, and fixed query costs."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from stepwise.care.models import Episode, Stay
from stepwise.care.services import episode_admit
from stepwise.instruments.definitions.asam import DIMENSIONS as ASAM_ITEMS
from stepwise.instruments.services import assessment_record
from stepwise.patients.models import RiskFlag, Task, TaskStatus
from stepwise.recovery.models import DrugScreen, RelapseEvent, RelapseStatus, ScreenStatus
from stepwise.recovery.rules.relapse import Item
from stepwise.recovery.services.relapse import UseDetails, relapse_record

pytestmark = pytest.mark.django_db


def _admitted(cast: Any, days_ago: int = 40) -> Episode:
    return episode_admit(
        cast.actors["owner"],
        cast.patient,
        cast.iop,
        at=timezone.now() - timedelta(days=days_ago),
    )


def _today(cast: Any) -> date:
    """The facility's calendar day, which days of use are counted on (not UTC's)."""
    return timezone.now().astimezone(ZoneInfo(cast.facility.time_zone)).date()


def _use_post(cast: Any, days_ago: int = 1, **extra: str) -> dict[str, Any]:
    day = _today(cast) - timedelta(days=days_ago)
    return {
        "used_on": day.isoformat(),
        "kind": "relapse",
        "substances": ["7"],
        "route": "2",
        "context": "At a friend's place after work",
        "triggers": "Stress, old friends",
        **extra,
    }


def _recorded(cast: Any, days_ago: int = 1) -> RelapseEvent:
    return relapse_record(
        cast.actors["owner"],
        cast.patient,
        UseDetails(used_on=_today(cast) - timedelta(days=days_ago), kind="relapse", substances=[7]),
    )


def test_a_return_to_use_is_recorded_with_its_response_started_and_the_flag(cast):
    _admitted(cast)
    client = cast.client_for("owner")
    url = reverse("recovery:relapse_new", args=[cast.patient.public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, _use_post(cast), follow=True)
    assert response.status_code == 200
    event = RelapseEvent.objects.get(patient=cast.patient)
    assert event.status == RelapseStatus.CONFIRMED and event.substances == [7]
    assert event.abstinent_days == 39  # admitted 40 days ago, used yesterday
    assert RiskFlag.objects.filter(patient=cast.patient, source_id=event.public_id).exists()
    text = response.content.decode()
    assert "Naloxone kit and overdose education" in text
    assert "Record an ASAM reassessment" in text
    assert Task.objects.get(kind="relapse_outreach", source_id=event.public_id).status == "open"


def test_a_refused_record_names_the_field_and_keeps_what_was_typed(cast):
    _admitted(cast)
    client = cast.client_for("owner")
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = client.post(
        reverse("recovery:relapse_new", args=[cast.patient.public_id]),
        _use_post(cast, used_on=future),
    )
    assert response.status_code == 422
    text = response.content.decode()
    assert "cannot be after today" in text and "At a friend&#x27;s place" in text
    assert not RelapseEvent.objects.exists()


def test_the_response_is_worked_item_by_item_until_complete(cast):
    _admitted(cast)
    event = _recorded(cast)
    client = cast.client_for("owner")

    def record(item: str, **data: str) -> Any:
        url = reverse(
            "recovery:response_item", args=[cast.patient.public_id, event.public_id, item]
        )
        return client.post(url, {f"{item}-{k}": v for k, v in data.items()})

    assert record("naloxone", state="done", note="Kit given, taught").status_code == 302
    # A decline without a reason is refused, naming the field.
    refused = record("moud", state="declined", note="")
    assert refused.status_code == 422 and "Say why" in refused.content.decode()
    assert record("moud", state="done", moud_answer="accepted", note="").status_code == 302
    # The reassessment needs an ASAM assessment recorded since the relapse.
    assert record("reassessment", state="done", note="Reassessed").status_code == 422
    assessment_record(cast.actors["owner"], cast.patient, "asam3", dict.fromkeys(ASAM_ITEMS, 2))
    assert record("reassessment", state="done", note="Reassessed").status_code == 302
    assert (
        record("plan_review", state="declined", note="Plan reviewed last week").status_code == 302
    )
    assert record("outreach", state="done", note="Reached by phone").status_code == 302
    page = client.get(reverse("recovery:relapse", args=[cast.patient.public_id, event.public_id]))
    assert "complete" in page.content.decode()
    assert Task.objects.get(kind="relapse_outreach").status == TaskStatus.DONE
    assert {i.state for i in event.items.all()} == {"done", "declined"}


def test_confirming_never_moves_the_patient(cast):
    episode = _admitted(cast)
    stays = list(Stay.objects.filter(episode=episode).values_list("program_id", "ended_at"))
    event = _recorded(cast)
    assessment_record(cast.actors["owner"], cast.patient, "asam3", dict.fromkeys(ASAM_ITEMS, 3))
    client = cast.client_for("owner")
    client.post(
        reverse(
            "recovery:response_item",
            args=[cast.patient.public_id, event.public_id, Item.REASSESSMENT],
        ),
        {"reassessment-state": "done", "reassessment-note": "Step up recommended"},
    )
    assert list(Stay.objects.filter(episode=episode).values_list("program_id", "ended_at")) == stays


def test_an_unexpected_positive_screen_proposes_and_a_clinician_confirms(cast):
    _admitted(cast)
    client = cast.client_for("owner")
    new = reverse("recovery:screen_new", args=[cast.patient.public_id])
    assert client.get(new).status_code == 200
    response = client.post(
        new,
        {
            "validity": "valid",
            "observed": "on",
            "medications": ["buprenorphine"],
            "results_now": "on",
            **{f"result_{code}": "negative" for code in ("cocaine", "methadone")},
            "result_fentanyl": "positive",
            "result_buprenorphine": "positive",
        },
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "Unexpected positive" in text and "Expected (prescribed)" in text
    screen = DrugScreen.objects.get()
    assert screen.status == ScreenStatus.RESULTED
    event = RelapseEvent.objects.get()
    assert event.status == RelapseStatus.PROPOSED and event.substances == [7]
    assert not event.items.exists()  # nothing starts before a clinician confirms
    page = reverse("recovery:relapse", args=[cast.patient.public_id, event.public_id])
    assert "Confirm with the patient" in client.get(page).content.decode()
    confirm = reverse("recovery:relapse_confirm", args=[cast.patient.public_id, event.public_id])
    assert client.post(confirm, _use_post(cast, kind="lapse")).status_code == 302
    event.refresh_from_db()
    assert event.status == RelapseStatus.CONFIRMED and event.items.count() == 5


def test_a_lab_screen_gets_its_results_later(cast):
    _admitted(cast)
    client = cast.client_for("owner")
    client.post(
        reverse("recovery:screen_new", args=[cast.patient.public_id]),
        {"validity": "valid", "medications": ["methadone"]},
    )
    screen = DrugScreen.objects.get()
    assert screen.status == ScreenStatus.COLLECTED
    url = reverse("recovery:screen_results", args=[cast.patient.public_id, screen.public_id])
    response = client.post(url, {"validity": "valid", "result_methadone": "negative"}, follow=True)
    assert "possible non-adherence" in response.content.decode()
    assert not RelapseEvent.objects.exists()


def test_a_proposal_is_dismissed_with_a_reason_and_kept(cast):
    _admitted(cast)
    client = cast.client_for("owner")
    client.post(
        reverse("recovery:screen_new", args=[cast.patient.public_id]),
        {"validity": "valid", "results_now": "on", "result_oxycodone": "positive"},
    )
    event = RelapseEvent.objects.get()
    url = reverse("recovery:relapse_dismiss", args=[cast.patient.public_id, event.public_id])
    assert client.post(url, {"reason": ""}).status_code == 422
    assert client.post(url, {"reason": "Prescribed after surgery"}).status_code == 302
    event.refresh_from_db()
    assert event.status == RelapseStatus.DISMISSED


def _routes(cast: Any, event: RelapseEvent, screen: DrugScreen) -> dict[str, list[str]]:
    p = cast.patient.public_id
    return {
        "read": [
            reverse("recovery:patient", args=[p]),
            reverse("recovery:relapse", args=[p, event.public_id]),
            reverse("recovery:screen", args=[p, screen.public_id]),
        ],
        "write": [
            reverse("recovery:relapse_new", args=[p]),
            reverse("recovery:screen_new", args=[p]),
        ],
    }


@pytest.fixture
def on_record(cast):
    _admitted(cast)
    event = _recorded(cast)
    screen = DrugScreen.objects.create(
        organization=cast.org,
        patient=cast.patient,
        collected_at=timezone.now(),
        collected_by=cast.users["owner"],
    )
    return event, screen


@pytest.mark.parametrize(
    ("who", "read", "write"),
    [
        ("owner", 200, 200),
        ("director", 200, 200),
        ("readonly", 200, 403),
        ("colleague", 403, 403),  # a nurse not on the care team
        ("admin", 403, 403),
        ("outsider", 404, 404),
    ],
)
def test_who_may_see_and_write(cast, on_record, who, read, write):
    client = cast.client_for(who)
    routes = _routes(cast, *on_record)
    for url in routes["read"]:
        response = client.get(url)
        assert response.status_code == read, url
        if read != 200:
            assert "Rivera" not in response.content.decode()
    for url in routes["write"]:
        assert client.get(url).status_code == write, url


def test_another_organizations_event_is_404(cast, on_record):
    event, _ = on_record
    client = cast.client_for("outsider")
    url = reverse("recovery:relapse_confirm", args=[cast.patient.public_id, event.public_id])
    assert client.post(url, _use_post(cast)).status_code == 404


def test_the_recovery_page_costs_the_same_however_much_is_on_record(
    cast, django_assert_num_queries
):
    _admitted(cast)
    client = cast.client_for("owner")
    url = reverse("recovery:patient", args=[cast.patient.public_id])

    def on_record(days: int) -> None:
        _recorded(cast, days_ago=days)
        DrugScreen.objects.create(
            organization=cast.org,
            patient=cast.patient,
            collected_at=timezone.now() - timedelta(days=days),
            collected_by=cast.users["owner"],
        )

    on_record(9)
    client.get(url)
    with django_assert_num_queries(RECOVERY_PAGE_QUERIES):
        client.get(url)
    for days in (5, 3, 1):
        on_record(days)
    with django_assert_num_queries(RECOVERY_PAGE_QUERIES):
        client.get(url)


RECOVERY_PAGE_QUERIES = 20


def test_settings_are_the_directors(cast):
    url = reverse("recovery:settings")
    assert cast.client_for("owner").get(url).status_code == 403
    client = cast.client_for("director")
    assert client.get(url).status_code == 200
    data = {
        "outreach_hours": "12",
        "tolerance_days": "5",
        "flag_days": "30",
        "expects_buprenorphine": ["buprenorphine"],
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, {**data, "outreach_hours": "0"}).status_code == 422
