"""The short last-opioid-use entry of a withdrawal-management stay: the service's
checks and audit row, what the induction rule makes of a report after a relapse (and
of one from an earlier stay, or marked in error), the board's hours since the use,
the page and the API, and who may record one."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from stepwise.api.tests.support import Api, audit_rows
from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, Stay
from stepwise.care.services import episode_admit, stay_transition
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditAction, AuditEvent
from stepwise.patients.models import CareTeamMember
from stepwise.withdrawal.board import board_read
from stepwise.withdrawal.models import LastUseReport
from stepwise.withdrawal.rules.admission import MedicalAdmissionData, SubstanceUse
from stepwise.withdrawal.rules.last_use import NOTE_MAX_LENGTH, OPIOID_CODES, time_errors
from stepwise.withdrawal.rules.safety import OpioidKind, latest_by_kind
from stepwise.withdrawal.rules.thresholds import SafetyThresholds
from stepwise.withdrawal.selectors import RuleReads
from stepwise.withdrawal.services.admissions import medical_admission_record
from stepwise.withdrawal.services.last_use import last_use_mark_in_error, last_use_record
from stepwise.withdrawal.services.medications import (
    OrderInput,
    SafetyBlocked,
    administration_record,
    order_create,
    safety_verdicts,
)
from stepwise.withdrawal.tests.support import admit_to_detox, cows, heroin_admission, staff

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")  # the cast's facility
DEFAULTS = SafetyThresholds()
BUP = OrderInput(
    drug="buprenorphine",
    dose_mg=Decimal(4),
    route="sublingual",
    frequency="q2h_prn",
    prn_indication="COWS 8 or more",
    max_daily_mg=Decimal(12),
    bup_start="standard",
)


def report(actor: Any, patient: Any, hours_ago: float = 10, **changes: Any) -> LastUseReport:
    """Heroin `hours_ago`, as the patient tells it; `changes` replace any of these."""
    given: dict[str, Any] = {
        "substance": "heroin",
        "last_use_at": timezone.now() - timedelta(hours=hours_ago),
        "source": "patient",
    }
    return last_use_record(actor, patient, **(given | changes))


def current_stay(cast: Any) -> Stay:
    return Stay.objects.select_related("program__facility", "episode__patient").get(
        episode__patient=cast.patient, ended_at__isnull=True
    )


def first_detox_stay(cast: Any) -> Episode:
    """In detox from 60 h ago, the medical admission of that stay saying heroin 70 h ago."""
    nurse, _ = staff(cast)
    episode = admit_to_detox(cast, hours_ago=60)
    now = timezone.now()
    heroin_admission(
        nurse, cast.patient, now - timedelta(hours=70), recorded_at=now - timedelta(hours=59)
    )
    return episode


def relapse(cast: Any, episode: Episode) -> Stay:
    """Residential from 40 h ago, back in detox 2 h ago after a relapse."""
    owner = cast.actors["owner"]
    now = timezone.now()
    prepare_exit(owner, episode, cast.detox, now - timedelta(hours=40), ends_episode=False)
    stay_transition(
        owner,
        episode,
        cast.residential,
        kind="step_down",
        reason="Settled",
        at=now - timedelta(hours=40),
    )
    stay_transition(
        owner, episode, cast.detox, kind="step_up", reason="Relapse", at=now - timedelta(hours=2)
    )
    return current_stay(cast)


@pytest.fixture
def back(cast: Any) -> SimpleNamespace:
    """Back in detox after a relapse: the medical admission speaks of the first stay."""
    stay = relapse(cast, first_detox_stay(cast))
    return SimpleNamespace(
        cast=cast, nurse=cast.actors["nurse"], physician=cast.actors["physician"], stay=stay
    )


def url(cast: Any, name: str, **kwargs: Any) -> str:
    return reverse(f"withdrawal:{name}", kwargs={"public_id": cast.patient.public_id, **kwargs})


def local(at: datetime) -> str:
    """A time as a nurse types it into a datetime-local input at the facility."""
    return at.astimezone(NEW_YORK).strftime("%Y-%m-%dT%H:%M")


# --- The service ---------------------------------------------------------------


def test_a_report_goes_to_the_open_stay_and_is_audited(back):
    used = timezone.now() - timedelta(hours=13)
    row = last_use_record(
        back.nurse,
        back.cast.patient,
        substance="fentanyl",
        last_use_at=used,
        source="collateral",
        note="  Partner saw him use in the car  ",
    )
    assert (row.stay, row.substance, row.last_use_at, row.source) == (
        back.stay,
        "fentanyl",
        used,
        "collateral",
    )
    assert row.note == "Partner saw him use in the car" and row.status == "final"
    assert row.recorded_by == back.cast.users["nurse"]
    event = AuditEvent.objects.get(object_type="last_use_report")
    assert (event.action, event.category, event.object_id) == (
        AuditAction.CREATE,
        "withdrawal",
        str(row.public_id),
    )
    assert event.patient_public_id == back.cast.patient.public_id
    assert event.detail == {"source": "collateral"}


def test_each_wrong_field_is_named_with_what_is_allowed(back):
    with pytest.raises(ValidationFailed) as refused:
        last_use_record(
            back.nurse,
            back.cast.patient,
            substance="alcohol",  # not an opioid: sets no wait
            last_use_at=datetime(2026, 1, 1, 8, 0),  # noqa: DTZ001 (the mistake tested)
            source="rumour",
        )
    assert refused.value.errors == {
        "substance": "Allowed values: " + ", ".join(OPIOID_CODES) + ".",
        "source": "Allowed values: patient, collateral, records, staff.",
        "last_use_at": "Give the time with its time zone.",
    }
    assert "heroin" in refused.value.errors["substance"]
    assert not LastUseReport.objects.exists()
    assert not AuditEvent.objects.filter(object_type="last_use_report").exists()


@pytest.mark.parametrize(
    ("used", "at", "field", "says"),
    [
        (timedelta(hours=-1), None, "last_use_at", "future"),
        (timedelta(minutes=50), timedelta(hours=1), "last_use_at", "after the time of this report"),
        (timedelta(days=31), None, "last_use_at", "30 days before the stay began"),
        (timedelta(hours=10), timedelta(hours=3), "recorded_at", "The stay began"),
        (timedelta(hours=1), timedelta(hours=-1), "recorded_at", "future"),
    ],
)
def test_times_that_cannot_be_right_are_refused(back, used, at, field, says):
    now = timezone.now()
    with pytest.raises(ValidationFailed) as refused:
        last_use_record(
            back.nurse,
            back.cast.patient,
            substance="heroin",
            last_use_at=now - used,
            source="patient",
            at=now - at if at is not None else None,
        )
    assert set(refused.value.errors) == {field}
    assert says in refused.value.errors[field]


def test_a_little_clock_skew_and_a_use_weeks_before_the_stay_are_accepted(back):
    assert report(back.nurse, back.cast.patient, -2 / 60)  # a tablet two minutes ahead
    assert report(back.nurse, back.cast.patient, 29 * 24)


def test_only_in_withdrawal_management(cast):
    nurse, _ = staff(cast)
    with pytest.raises(ValidationFailed) as nowhere:
        report(nurse, cast.patient, 10)
    assert "not in a program" in nowhere.value.errors["patient"]
    episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    with pytest.raises(ValidationFailed) as iop:
        report(nurse, cast.patient, 10)
    assert "Evening IOP is not a withdrawal-management program" in iop.value.errors["patient"]


def test_who_may_record_a_last_use(back):
    cast = back.cast
    assert report(cast.actors["physician"], cast.patient, 10)
    for who in ("owner", "readonly", "colleague", "director"):  # colleague: not on the team
        with pytest.raises(AccessDenied):
            report(cast.actors[who], cast.patient, 10)
    with pytest.raises(NotFound):
        report(cast.new_member("nurse", "harbor_nurse", other_org=True), cast.patient, 10)
    assert LastUseReport.objects.count() == 1


def test_a_mistaken_report_is_marked_in_error_once_with_a_reason(back):
    row = report(back.nurse, back.cast.patient, 10)
    with pytest.raises(ValidationFailed):
        last_use_mark_in_error(back.nurse, row, reason="  ")
    marked = last_use_mark_in_error(back.nurse, row, reason="Wrong patient")
    assert (marked.status, marked.error_reason) == ("entered_in_error", "Wrong patient")
    with pytest.raises(Conflict):
        last_use_mark_in_error(back.nurse, row, reason="again")
    with pytest.raises(AccessDenied):
        last_use_mark_in_error(back.cast.actors["owner"], row, reason="x")
    event = AuditEvent.objects.get(object_type="last_use_report", action=AuditAction.UPDATE)
    assert event.detail == {"status": "entered_in_error"}


# --- The induction rule after a relapse ------------------------------------------


def test_after_a_relapse_a_report_lets_the_first_buprenorphine_dose_through(back):
    cast = back.cast
    at = timezone.now() - timedelta(minutes=1)
    wait = timedelta(hours=DEFAULTS.bup_hours_short_acting)
    order = order_create(back.physician, cast.patient, BUP)
    cows(back.nurse, cast.patient, DEFAULTS.bup_cows_threshold, at - timedelta(minutes=5))
    # Too soon: the reported use is a minute short of the wait.
    too_soon = report(back.nurse, cast.patient, last_use_at=at - wait + timedelta(minutes=1))
    with pytest.raises(SafetyBlocked) as blocked:
        administration_record(back.nurse, order, outcome="given", at=at)
    verdict = blocked.value.verdicts[0]
    assert verdict.rule == "R-BUP-1"
    assert any("the patient's report" in line for line in verdict.saw)
    assert any(line.startswith("Wait until") for line in verdict.needs)
    # Corrected: the use was the full wait before the dose.
    last_use_mark_in_error(back.nurse, too_soon, reason="Patient corrected the time")
    report(back.nurse, cast.patient, last_use_at=at - wait, source="collateral")
    dose = administration_record(back.nurse, order, outcome="given", at=at)
    assert dose.safety["R-BUP-1"]["allowed"] is True


def test_without_a_report_the_relapse_stay_asks_for_the_short_entry(back):
    order = order_create(back.physician, back.cast.patient, BUP)
    cows(back.nurse, back.cast.patient, 12, timezone.now() - timedelta(minutes=5))
    with pytest.raises(SafetyBlocked) as blocked:
        administration_record(back.nurse, order, outcome="given")
    verdict = blocked.value.verdicts[0]
    assert "No time of last full-agonist opioid use is recorded." in verdict.saw
    assert any("short last-use entry" in line for line in verdict.needs)


def test_a_report_of_an_earlier_stay_says_nothing_after_a_relapse(cast):
    episode = first_detox_stay(cast)
    nurse = cast.actors["nurse"]
    now = timezone.now()
    first = current_stay(cast)
    report(nurse, cast.patient, last_use_at=now - timedelta(hours=50), at=now - timedelta(hours=45))
    assert any(u.source.endswith("report") for u in RuleReads(first, now).last_uses)
    stay = relapse(cast, episode)
    assert RuleReads(stay, now).last_uses == []
    # Outside withdrawal management (the residential stay between), the episode's count.
    residential = Stay.objects.select_related("program", "episode").get(program=cast.residential)
    sources = {u.source for u in RuleReads(residential, now - timedelta(hours=10)).last_uses}
    assert sources == {"medical admission", "the patient's report"}


def test_a_report_marked_in_error_stops_counting(back):
    row = report(back.nurse, back.cast.patient, 20)
    now = timezone.now()
    assert [u.source for u in RuleReads(back.stay, now).last_uses] == ["the patient's report"]
    last_use_mark_in_error(back.nurse, row, reason="Another patient's account")
    assert RuleReads(back.stay, now).last_uses == []


def test_the_rules_take_the_latest_use_of_each_kind(back):
    cast = back.cast
    report(back.nurse, cast.patient, 30)
    report(back.nurse, cast.patient, 14, substance="fentanyl")
    report(back.nurse, cast.patient, 50, substance="methadone", source="records")
    uses = RuleReads(back.stay, timezone.now()).last_uses
    assert len(uses) == 3
    latest = latest_by_kind(uses)
    assert set(latest) == {OpioidKind.SHORT_ACTING, OpioidKind.METHADONE}
    hours = (timezone.now() - latest[OpioidKind.SHORT_ACTING].at) / timedelta(hours=1)
    assert 13.9 < hours < 14.1
    assert latest[OpioidKind.SHORT_ACTING].fentanyl  # the latest short-acting use was fentanyl


# --- The board -------------------------------------------------------------------


def test_the_board_counts_hours_from_the_reported_use(back):
    cast = back.cast
    row = board_read(cast.actors["nurse"], cast.detox, timezone.now()).rows
    bed = next(r for r in row if r.stay == back.stay)
    assert bed.hours_since_use is None  # the earlier stay's admission says nothing now
    report(back.nurse, cast.patient, 16)
    bed = next(
        r for r in board_read(back.nurse, cast.detox, timezone.now()).rows if r.stay == back.stay
    )
    assert bed.hours_since_use == 16.0
    html = cast.client_for("nurse").get(reverse("withdrawal:board", args=[cast.detox.public_id]))
    assert "16 h ago" in html.content.decode()


def test_the_board_takes_the_later_of_the_admission_and_the_reports(cast):
    nurse, _ = staff(cast)
    admit_to_detox(cast, hours_ago=20)
    now = timezone.now()
    heroin_admission(nurse, cast.patient, now - timedelta(hours=22))
    report(nurse, cast.patient, 30)  # older than the admission's: the admission's stands
    rows = board_read(nurse, cast.detox, now).rows
    assert [r.hours_since_use for r in rows if r.stay] == [22.0]
    report(nurse, cast.patient, 5, substance="fentanyl")
    rows = board_read(nurse, cast.detox, now).rows
    assert [r.hours_since_use for r in rows if r.stay] == [5.0]


def test_a_bed_without_a_last_use_links_to_the_short_entry(back):
    board = reverse("withdrawal:board", args=[back.cast.detox.public_id])
    html = back.cast.client_for("nurse").get(board).content.decode()
    assert "not recorded" in html and url(back.cast, "last_use_new") in html
    director = back.cast.client_for("director").get(board).content.decode()
    assert "not recorded" in director and url(back.cast, "last_use_new") not in director


# --- The page --------------------------------------------------------------------


def test_the_page_records_a_last_use_typed_in_the_facility_time(back):
    cast = back.cast
    client = cast.client_for("nurse")
    page = client.get(url(cast, "last_use_new"))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="last_use_at"' in html and "America/New_York" in html
    assert 'value="fentanyl"' in html and 'value="alcohol"' not in html
    read = AuditEvent.objects.filter(action=AuditAction.READ, object_type="patient").latest("id")
    assert read.detail == {"form": "last_use_report"}

    used = timezone.now() - timedelta(hours=15)
    response = client.post(
        url(cast, "last_use_new"),
        {
            "substance": "fentanyl",
            "last_use_at": local(used),
            "source": "patient",
            "note": "Smoked",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == url(cast, "flowsheet")
    row = LastUseReport.objects.get()
    assert row.last_use_at == used.replace(second=0, microsecond=0)
    assert (row.substance, row.source, row.note) == ("fentanyl", "patient", "Smoked")

    sheet = client.get(url(cast, "flowsheet")).content.decode()
    assert "Reported last opioid use" in sheet
    assert "Fentanyl (illicit)" in sheet and "The patient" in sheet and "Smoked" in sheet
    shown = used.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M")
    assert f"{shown}</time> · the patient&#x27;s report" in sheet
    assert url(cast, "last_use_error", last_use_id=row.public_id) in sheet


def test_the_page_names_each_field_it_refuses(back):
    client = back.cast.client_for("nurse")
    empty = client.post(url(back.cast, "last_use_new"), {})
    assert empty.status_code == 422
    html = empty.content.decode()
    # Each refused field says what it wants and, where there is a list, what is allowed.
    assert "Choose the opioid: Heroin, Fentanyl (illicit)," in html
    assert "Give the date and time of the last use." in html
    assert "Say who gave the time: the patient, family, friend or other informant," in html
    assert "This field is required." not in html
    old = timezone.now() - timedelta(days=40)
    too_old = client.post(
        url(back.cast, "last_use_new"),
        {"substance": "heroin", "last_use_at": local(old), "source": "staff"},
    )
    assert too_old.status_code == 422
    assert 'id="id_last_use_at_error"' in too_old.content.decode()
    assert "days before the stay began" in too_old.content.decode()
    assert not LastUseReport.objects.exists()


def test_the_flowsheet_and_the_chart_offer_the_entry_while_the_last_use_is_missing(back):
    cast = back.cast
    client = cast.client_for("nurse")
    entry = url(cast, "last_use_new")
    sheet = client.get(url(cast, "flowsheet")).content.decode()
    assert "not recorded for this stay" in sheet and f'href="{entry}"' in sheet
    chart = reverse("care:chart", args=[cast.patient.public_id])
    html = client.get(chart).content.decode()
    assert "not recorded for this stay" in html and f'href="{entry}"' in html
    report(back.nurse, cast.patient, 16)
    assert "not recorded for this stay" not in client.get(chart).content.decode()
    sheet = client.get(url(cast, "flowsheet")).content.decode()
    assert "not recorded for this stay" not in sheet and "Last opioid use:" in sheet


def test_a_report_is_marked_in_error_from_the_flowsheet(back):
    row = report(back.nurse, back.cast.patient, 10)
    client = back.cast.client_for("nurse")
    path = url(back.cast, "last_use_error", last_use_id=row.public_id)
    assert client.post(path, {"reason": "Wrong time"}).status_code == 302
    row.refresh_from_db()
    assert (row.status, row.error_reason) == ("entered_in_error", "Wrong time")
    sheet = client.get(url(back.cast, "flowsheet")).content.decode()
    assert "entered in error" in sheet and path not in sheet
    unknown = url(back.cast, "last_use_error", last_use_id=back.stay.public_id)
    assert client.post(unknown, {"reason": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 403),  # the counselor on the care team reads, does not record
        ("readonly", 403),  # the privacy officer
        ("colleague", 403),  # a nurse not on the care team
        ("outsider", 403),  # a director elsewhere: the role is refused first
        ("harbor_nurse", 404),  # a nurse elsewhere: no such patient
    ],
)
def test_the_page_is_refused_and_reveals_nothing(back, who, status):
    cast = back.cast
    cast.new_member("nurse", "harbor_nurse", other_org=True)
    row = report(back.nurse, cast.patient, 10)
    client = cast.client_for(who)
    body = {"substance": "heroin", "last_use_at": local(timezone.now()), "source": "patient"}
    for response in (
        client.get(url(cast, "last_use_new")),
        client.post(url(cast, "last_use_new"), body),
        client.post(url(cast, "last_use_error", last_use_id=row.public_id), {"reason": "x"}),
    ):
        assert response.status_code == status
        assert "Rivera" not in response.content.decode()
    assert LastUseReport.objects.get().status == "final"


# --- The API ---------------------------------------------------------------------


def test_the_api_records_lists_and_marks_a_report(back):
    cast = back.cast
    api = Api(cast)
    path = f"/patients/{cast.patient.public_id}/last-use"
    used = (timezone.now() - timedelta(hours=13)).isoformat()
    created = api.post(
        "nurse", path, {"substance": "heroin", "last_use_at": used, "source": "staff"}
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["substance"], body["source"], body["recorded_by"], body["status"]) == (
        "heroin",
        "staff",
        "nurse",
        "final",
    )
    assert body["stay"] == str(back.stay.public_id)
    assert audit_rows(object_type="last_use_report", action="create")[-1].object_id == body["id"]

    listed = api.get("owner", path)  # the counselor reads it
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()] == [body["id"]]
    assert audit_rows(object_type="last_use_reports")[-1].actor_username == "owner"
    flow = api.get("nurse", f"/patients/{cast.patient.public_id}/flowsheet").json()
    assert flow["last_opioid_use_at"] is not None

    marked = api.post("nurse", f"{path}/{body['id']}/entered-in-error", {"reason": "Typo"})
    assert marked.status_code == 200 and marked.json()["status"] == "entered_in_error"
    assert (
        api.post("nurse", f"{path}/{body['id']}/entered-in-error", {"reason": "x"}).status_code
        == 409
    )
    flow = api.get("nurse", f"/patients/{cast.patient.public_id}/flowsheet").json()
    assert flow["last_opioid_use_at"] is None


def test_the_api_422_names_each_field_and_the_allowed_values(back):
    api = Api(back.cast)
    path = f"/patients/{back.cast.patient.public_id}/last-use"
    used = (timezone.now() - timedelta(hours=13)).isoformat()
    wrong = api.post(
        "nurse", path, {"substance": "alcohol", "last_use_at": used, "source": "rumour"}
    )
    assert wrong.status_code == 422
    errors = wrong.json()["errors"]
    assert set(errors) == {"substance", "source"}
    assert errors["substance"].startswith("Allowed values: heroin, fentanyl")
    assert errors["source"] == "Allowed values: patient, collateral, records, staff."
    naive = api.post(
        "nurse", path, {"substance": "heroin", "last_use_at": "2026-01-01T08:00", "source": "staff"}
    )
    assert naive.status_code == 422
    assert naive.json()["errors"] == {"last_use_at": "Give the time with its time zone."}
    missing = api.post("nurse", path, {})
    assert missing.status_code == 422
    assert {"substance", "last_use_at", "source"} <= set(missing.json()["errors"])
    assert not LastUseReport.objects.exists()


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("owner", 403),
        ("readonly", 403),
        ("colleague", 403),
        ("outsider", 403),  # a director elsewhere: the role is refused first
        ("harbor_nurse", 404),  # a nurse elsewhere: no such patient
    ],
)
def test_the_api_refuses_and_reveals_nothing(back, who, status):
    cast = back.cast
    cast.new_member("nurse", "harbor_nurse", other_org=True)
    api = Api(cast)
    body = {"substance": "heroin", "last_use_at": timezone.now().isoformat(), "source": "patient"}
    response = api.post(who, f"/patients/{cast.patient.public_id}/last-use", body)
    assert response.status_code == status
    assert "Rivera" not in response.content.decode()
    assert not LastUseReport.objects.exists()


def test_another_organizations_patient_is_404_in_the_api(back):
    api = Api(back.cast)
    other = f"/patients/{back.cast.other_patient.public_id}/last-use"
    assert api.get("director", other).status_code == 404
    assert api.post("nurse", other, {}).status_code == 404


# --- Fentanyl from a report ------------------------------------------------------


def test_a_reported_fentanyl_use_after_a_relapse_brings_the_fentanyl_caution(back):
    """The admission (of the first stay) no longer counts; the report's fentanyl does."""
    cast = back.cast
    at = timezone.now() - timedelta(minutes=1)
    order = order_create(back.physician, cast.patient, BUP)
    cows(back.nurse, cast.patient, DEFAULTS.bup_cows_threshold + 2, at - timedelta(minutes=5))
    report(back.nurse, cast.patient, last_use_at=at - timedelta(hours=13), substance="fentanyl")
    [verdict] = safety_verdicts(order, current_stay(cast), at, BUP.dose_mg)
    assert verdict.rule == "R-BUP-1" and verdict.allowed
    assert any(c.startswith("Fentanyl exposure") for c in verdict.cautions)
    assert RuleReads(current_stay(cast), at).fentanyl_exposure


def test_a_heroin_report_brings_no_fentanyl_caution_and_a_withdrawn_fentanyl_one_stops(back):
    cast = back.cast
    at = timezone.now() - timedelta(minutes=1)
    order = order_create(back.physician, cast.patient, BUP)
    cows(back.nurse, cast.patient, DEFAULTS.bup_cows_threshold, at - timedelta(minutes=5))
    report(back.nurse, cast.patient, last_use_at=at - timedelta(hours=14))
    [verdict] = safety_verdicts(order, current_stay(cast), at, BUP.dose_mg)
    assert verdict.allowed and verdict.cautions == ()
    fentanyl = report(back.nurse, cast.patient, 30, substance="fentanyl")
    assert RuleReads(current_stay(cast), at).fentanyl_exposure
    last_use_mark_in_error(back.nurse, fentanyl, reason="It was heroin")
    assert not RuleReads(current_stay(cast), at).fentanyl_exposure


def test_the_admissions_fentanyl_counts_while_the_admission_speaks_for_the_stay(cast):
    nurse, _ = staff(cast)
    episode = admit_to_detox(cast, hours_ago=60)
    now = timezone.now()
    data = MedicalAdmissionData(
        substances=(
            SubstanceUse("fentanyl", ("smoked",), "powder", "", "daily", now - timedelta(hours=70)),
        ),
        tests={"hiv": "negative", "hbv": "negative", "hcv": "pending"},
        hbv_vaccinated="yes",
        no_known_allergies=True,
    )
    medical_admission_record(nurse, cast.patient, data, recorded_at=now - timedelta(hours=59))
    first = RuleReads(current_stay(cast), now)
    assert first.fentanyl_exposure and [u.fentanyl for u in first.last_uses] == [True]
    stay = relapse(cast, episode)  # the first stay's admission says nothing now
    assert not RuleReads(stay, now).fentanyl_exposure


# --- Who may mark a report in error ----------------------------------------------


@pytest.fixture
def second_nurse(back: SimpleNamespace) -> Any:
    """Another nurse on the patient's care team (the cast's colleague, added to it)."""
    CareTeamMember.objects.create(
        organization=back.cast.org,
        patient=back.cast.patient,
        user=back.cast.users["colleague"],
        team_role="nurse",
    )
    return back.cast.actors["colleague"]


def test_another_nurse_may_not_withdraw_a_report_its_author_and_a_physician_may(back, second_nurse):
    cast = back.cast
    blocking = report(back.nurse, cast.patient, 2)  # holds back a first dose for 10 h
    with pytest.raises(AccessDenied) as refused:
        last_use_mark_in_error(second_nurse, blocking, reason="I think it was yesterday")
    assert "Only the author of this report or a physician" in refused.value.message
    blocking.refresh_from_db()
    assert blocking.status == "final"
    denied = AuditEvent.objects.get(action=AuditAction.ACCESS_DENIED)
    assert (denied.actor_username, denied.object_id) == ("colleague", str(blocking.public_id))
    assert denied.detail == {"permission": "safety.override", "why": "not the author"}
    assert last_use_mark_in_error(back.physician, blocking, reason="Wrong day").status == (
        "entered_in_error"
    )
    own = report(second_nurse, cast.patient, 3)
    assert last_use_mark_in_error(second_nurse, own, reason="Typo").status == "entered_in_error"


def test_the_page_and_the_api_refuse_another_nurse_with_the_reason(back, second_nurse):
    cast = back.cast
    row = report(back.nurse, cast.patient, 2)
    client = cast.client_for("colleague")
    sheet = client.get(url(cast, "flowsheet")).content.decode()
    path = url(cast, "last_use_error", last_use_id=row.public_id)
    assert path not in sheet and "Its author or a physician can mark it" in sheet
    page = client.post(path, {"reason": "Wrong time"})
    assert page.status_code == 403
    assert "Only the author of this report or a physician" in page.content.decode()
    api = Api(cast).post(
        "colleague",
        f"/patients/{cast.patient.public_id}/last-use/{row.public_id}/entered-in-error",
        {"reason": "Wrong time"},
    )
    assert api.status_code == 403
    assert api.json()["detail"].startswith("Only the author of this report or a physician")
    assert LastUseReport.objects.get().status == "final"
    physician = cast.client_for("physician").get(url(cast, "flowsheet")).content.decode()
    assert path in physician


def _locks_and_writes(queries: list[dict[str, str]]) -> list[str]:
    """In order: the episode and last-use rows read by primary key for update, and
    the insert of a report (SQLite takes no row locks; a read by key stands for one)."""
    found = []
    for query in queries:
        sql = query["sql"]
        if sql.startswith('INSERT INTO "withdrawal_lastusereport"'):
            found.append("insert report")
            continue
        for_update = connection.vendor != "postgresql" or "FOR UPDATE" in sql
        for table in ("care_episode", "withdrawal_lastusereport"):
            by_pk = sql.startswith("SELECT") and f'FROM "{table}"' in sql and '."id" = ' in sql
            if by_pk and for_update:
                found.append(table)
    return found


def test_a_report_and_its_withdrawal_take_the_episode_lock_first(back):
    """As a guarded first dose does: a report and a first dose cannot interleave."""
    with CaptureQueriesContext(connection) as recorded:
        row = report(back.nurse, back.cast.patient, 10)
    assert _locks_and_writes(recorded.captured_queries) == ["care_episode", "insert report"]
    with CaptureQueriesContext(connection) as marked:
        last_use_mark_in_error(back.nurse, row, reason="Typo")
    assert _locks_and_writes(marked.captured_queries)[:2] == [
        "care_episode",
        "withdrawal_lastusereport",
    ]


# --- The list and the lookup -----------------------------------------------------


def test_outside_withdrawal_management_the_api_lists_the_episodes_reports_as_the_rules_read(
    cast,
):
    episode = first_detox_stay(cast)
    nurse = cast.actors["nurse"]
    now = timezone.now()
    row = report(
        nurse, cast.patient, last_use_at=now - timedelta(hours=50), at=now - timedelta(hours=45)
    )
    owner = cast.actors["owner"]
    prepare_exit(owner, episode, cast.detox, now - timedelta(hours=40), ends_episode=False)
    stay_transition(
        owner,
        episode,
        cast.residential,
        kind="step_down",
        reason="Settled",
        at=now - timedelta(hours=40),
    )
    residential = current_stay(cast)
    read = RuleReads(residential, now)
    assert "the patient's report" in {u.source for u in read.last_uses}
    api = Api(cast)
    listed = api.get("owner", f"/patients/{cast.patient.public_id}/last-use")
    assert listed.status_code == 200
    assert [(r["id"], r["stay"]) for r in listed.json()] == [
        (str(row.public_id), str(row.stay.public_id))
    ]
    event = audit_rows(object_type="last_use_reports")[-1]
    assert (event.actor_username, event.object_id) == ("owner", str(residential.public_id))
    # Back in detox after a relapse, the new stay's own only (none yet).
    stay_transition(
        owner, episode, cast.detox, kind="step_up", reason="Relapse", at=now - timedelta(hours=2)
    )
    assert api.get("owner", f"/patients/{cast.patient.public_id}/last-use").json() == []


def test_the_error_endpoints_find_only_the_patients_own_reports(back):
    cast = back.cast
    row = report(back.nurse, cast.patient, 10)
    other = cast.new_patient("RR-2")  # the nurse cares for both
    CareTeamMember.objects.create(
        organization=cast.org, patient=other, user=cast.users["nurse"], team_role="nurse"
    )
    api = Api(cast)
    client = cast.client_for("nurse")
    for patient_id, report_id in (
        (other.public_id, row.public_id),  # another patient's report
        (cast.patient.public_id, back.stay.public_id),  # no such report
    ):
        path = f"/patients/{patient_id}/last-use/{report_id}/entered-in-error"
        assert api.post("nurse", path, {"reason": "x"}).status_code == 404
        page = reverse(
            "withdrawal:last_use_error",
            kwargs={"public_id": patient_id, "last_use_id": report_id},
        )
        assert client.post(page, {"reason": "x"}).status_code == 404
    malformed = f"/patients/{cast.patient.public_id}/last-use/not-an-id/entered-in-error"
    assert api.post("nurse", malformed, {"reason": "x"}).status_code == 404
    assert LastUseReport.objects.get().status == "final"


# --- Facility time and the note ------------------------------------------------


def test_a_use_too_long_before_the_stay_is_refused_in_the_facilitys_time(back):
    with pytest.raises(ValidationFailed) as refused:
        report(back.nurse, back.cast.patient, last_use_at=back.stay.started_at - timedelta(days=31))
    message = refused.value.errors["last_use_at"]
    earliest = (back.stay.started_at - timedelta(days=30)).astimezone(NEW_YORK)
    assert f"{earliest:%Y-%m-%d %H:%M} America/New_York time" in message
    assert "UTC" not in message


def test_time_errors_give_the_time_in_the_zone_passed():
    started = datetime(2026, 3, 31, 12, 0, tzinfo=ZoneInfo("UTC"))
    errors = time_errors(
        last_use_at=started - timedelta(days=40),
        stay_started_at=started,
        zone=ZoneInfo("America/Los_Angeles"),
    )
    assert errors["last_use_at"].startswith(
        "Give a time after 2026-03-01 04:00 America/Los_Angeles time (30 days"
    )


def test_the_service_caps_the_note(back):
    with pytest.raises(ValidationFailed) as refused:
        report(back.nurse, back.cast.patient, 10, note="x" * (NOTE_MAX_LENGTH + 1))
    assert refused.value.errors == {"note": f"Keep the note to {NOTE_MAX_LENGTH} characters."}
    assert report(back.nurse, back.cast.patient, 10, note="x" * NOTE_MAX_LENGTH)
