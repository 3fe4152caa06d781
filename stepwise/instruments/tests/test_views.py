"""The assessment pages through the real client: the entry form and its live score,
a response and marking it entered in error, the trend, the chart's panel and alerts,
resolving an alert, and the placement page. Who may use them, what they store, what
they audit, and what they cost in queries."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape

from stepwise.care.exits import prepare_exit
from stepwise.care.models import Stay
from stepwise.care.services import episode_admit
from stepwise.core.models import AuditEvent
from stepwise.instruments.definitions.asam import DIMENSIONS
from stepwise.instruments.models import (
    Assessment,
    AssessmentStatus,
    PlacementChoice,
    PlacementDecision,
)
from stepwise.instruments.registry import INSTRUMENTS, instrument_for
from stepwise.instruments.services import assessment_mark_in_error, assessment_record
from stepwise.instruments.tests.test_services import COWS_13, COWS_ZERO, PHQ9_ITEMS
from stepwise.patients.models import Alert, AlertStatus

HX = {"HX-Request": "true"}
# D3 rated 3 needs a 24-hour setting (3.5); nothing else asks for more.
ASAM_35 = dict(zip(DIMENSIONS, (0, 1, 3, 2, 2, 1), strict=True))


# --- helpers -------------------------------------------------------------------------


def base(cast: Any) -> str:
    return f"/patients/{cast.patient.public_id}/assessments/"


def new_url(cast: Any, code: str) -> str:
    return f"{base(cast)}new/{code}/"


def score_url(cast: Any, code: str) -> str:
    return f"{new_url(cast, code)}score/"


def detail_url(cast: Any, assessment: Assessment) -> str:
    return f"{base(cast)}{assessment.public_id}/"


def error_url(cast: Any, assessment: Assessment) -> str:
    return f"{detail_url(cast, assessment)}entered-in-error/"


def placement_url(cast: Any, assessment: Assessment) -> str:
    return f"{detail_url(cast, assessment)}placement/"


def trend_url(cast: Any, code: str) -> str:
    return f"{base(cast)}trend/{code}/"


def chart_url(cast: Any) -> str:
    return f"/patients/{cast.patient.public_id}/"


def resolve_url(cast: Any, alert: Alert) -> str:
    return f"/patients/{cast.patient.public_id}/alerts/{alert.public_id}/resolve/"


def complete(code: str, anchor: int = 0) -> dict[str, int]:
    """Every required item answered with its anchor at `anchor` (the last if fewer)."""
    return {
        item.id: item.anchors[min(anchor, len(item.anchors) - 1)].value
        for item in instrument_for(code).items
        if item.required
    }


def form_data(answers: dict[str, int], **extra: str) -> dict[str, str]:
    return {key: str(value) for key, value in answers.items()} | extra


def record(
    cast: Any, answers: dict[str, int], code: str = "cows", *, hours_ago: float = 0, **kw: Any
) -> Assessment:
    observed = timezone.now() - timedelta(hours=hours_ago) if hours_ago else None
    return assessment_record(
        cast.actors["owner"], cast.patient, code, answers, observed_at=observed, **kw
    )


def audit_rows() -> int:
    return AuditEvent.objects.count()


def queries_for(
    client: Client,
    url: str,
    *,
    method: str = "get",
    data: dict[str, str] | None = None,
    status: int = 200,
) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = getattr(client, method)(url, data or {})
        assert response.status_code == status
    return len(captured.captured_queries)


def markers(html: str) -> int:
    return len(re.findall(r'<circle class="trend-point', html))


class _Radios(HTMLParser):
    """Each radio input of the page with the label text of its anchor, in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []
        self._input: tuple[str, str] | None = None
        self._text: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "input" and named.get("type") == "radio":
            self._input = (named.get("name") or "", named.get("value") or "")
        elif tag == "span" and named.get("class") == "anchor-label" and self._input:
            self._text = ""

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._text is not None and self._input is not None:
            self.found.append((*self._input, self._text))
            self._input, self._text = None, None


def radios(html: str) -> list[tuple[str, str, str]]:
    parser = _Radios()
    parser.feed(html)
    return parser.found


def has_error(html: str) -> list[str]:
    """The ids of the items the entry form marks as needing attention."""
    return re.findall(r'<fieldset class="item has-error" id="item-([^"]+)"', html)


# --- the entry form ------------------------------------------------------------------


@pytest.mark.parametrize("code", list(INSTRUMENTS))
def test_the_entry_form_shows_every_anchor_as_a_radio_in_published_order(cast, code):
    instrument = instrument_for(code)
    client = cast.client_for("owner")
    before = audit_rows()
    response = client.get(new_url(cast, code))
    assert response.status_code == 200
    html = response.content.decode()
    expected = [
        (item.id, str(anchor.value), anchor.label)
        for item in instrument.items
        for anchor in item.anchors
    ]
    assert radios(html) == expected
    assert escape(instrument.name) in html
    # Opening the form shows the patient: one read row, naming the form.
    assert audit_rows() == before + 1
    read = AuditEvent.objects.latest("id")
    assert (read.action, read.actor_username, read.patient_public_id) == (
        "read",
        "owner",
        cast.patient.public_id,
    )
    assert read.detail == {"form": f"assessment:{code}"}


def test_the_asam_form_shows_each_dimensions_prompts(cast):
    html = cast.client_for("owner").get(new_url(cast, "asam3")).content.decode()
    asam = instrument_for("asam3")
    for item in asam.items:
        assert item.prompts
        section = re.search(rf'id="item-{item.id}"(.*?)</fieldset>', html, re.S)
        assert section is not None, item.id
        shown = re.findall(r"<li>(.*?)</li>", section.group(1), re.S)
        assert shown == [escape(p) for p in item.prompts], item.id
    assert "Questions that lead to the rating" in html


def test_an_unknown_instrument_is_404(cast):
    assert cast.client_for("owner").get(new_url(cast, "ciwa")).status_code == 404


def test_a_complete_cows_is_stored_and_shown_with_its_band_and_who_entered_it(cast):
    client = cast.client_for("owner")
    response = client.post(new_url(cast, "cows"), form_data(COWS_13))
    assessment = Assessment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(cast, assessment)
    assert (assessment.total, assessment.band_code, assessment.band_label) == (
        13,
        "moderate",
        "Moderate",
    )
    assert assessment.answers == COWS_13 and assessment.entered_by == cast.users["owner"]
    html = client.get(response["Location"]).content.decode()
    assert "COWS 13 (Moderate) recorded." in html
    assert re.search(r'<span class="label">Total</span> <strong>13</strong>', html)
    assert '<span class="badge band band-moderate">Moderate</span>' in html
    assert "entered by Owner" in html
    assert "Mark entered in error" in html


def test_a_missing_item_is_422_naming_it_and_stores_nothing(cast):
    answers = {k: v for k, v in COWS_13.items() if k != "gooseflesh"}
    response = cast.client_for("owner").post(new_url(cast, "cows"), form_data(answers))
    assert response.status_code == 422
    html = response.content.decode()
    assert has_error(html) == ["gooseflesh"]
    marked = re.search(r'id="item-gooseflesh"(.*?)</fieldset>', html, re.S)
    assert marked is not None
    assert escape(instrument_for("cows").item("gooseflesh").text) in marked.group(1)
    assert 'id="id_gooseflesh_error">This field is required.</p>' in marked.group(1)
    assert "Some answers need attention" in html
    # What was chosen stays chosen.
    assert re.search(r'name="pulse" value="4"[^>]*checked', html)
    assert not Assessment.objects.exists()


def test_a_value_outside_the_allowed_set_is_422(cast):
    response = cast.client_for("owner").post(
        new_url(cast, "cows"), form_data(COWS_ZERO | {"pulse": 3})
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert has_error(html) == ["pulse"]
    assert "3 is not one of the available choices" in html
    assert not Assessment.objects.exists()


def test_a_future_observation_is_422_on_the_field_and_stores_nothing(cast):
    later = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = cast.client_for("owner").post(
        new_url(cast, "cows"), form_data(COWS_ZERO, observed_at=later)
    )
    assert response.status_code == 422
    assert 'id="id_observed_at_error"' in response.content.decode()
    assert not Assessment.objects.exists()


# --- the live score ------------------------------------------------------------------


def live(cast: Any, code: str, data: dict[str, str], who: str = "owner") -> str:
    response = cast.client_for(who).post(score_url(cast, code), data, headers=HX)
    assert response.status_code == 200
    return response.content.decode()


def test_the_live_score_shows_the_partial_total_then_the_band(cast):
    html = live(cast, "cows", {"pulse": "4", "tremor": "2"})
    assert re.search(r"<strong>6</strong><span class=\"muted\"> / 48</span>", html)
    assert "2 of 11 answered" in html and "band shows when all are answered" in html
    assert "badge band" not in html
    html = live(cast, "cows", form_data(COWS_13))
    assert "<strong>13</strong>" in html and "11 of 11 answered" in html
    assert '<span class="badge band band-moderate">Moderate' in html
    assert "COWS 13: moderate or worse withdrawal" in html
    assert "<html" not in html  # a fragment, not a page


def test_the_live_score_ignores_a_value_outside_the_allowed_set(cast):
    html = live(cast, "cows", {"pulse": "3", "tremor": "2"})
    assert "<strong>2</strong>" in html and "1 of 11 answered" in html


def test_phq9_item_9_is_flagged_while_answering(cast):
    html = live(cast, "phq9", {"thoughts_of_death_or_self_harm": "1"})
    assert "1 of 9 answered" in html
    assert re.search(
        r'<p class="signal" role="alert"><strong>Act:</strong> Thoughts of death', html
    )
    html = live(cast, "phq9", form_data(dict.fromkeys(PHQ9_ITEMS[:8], 0)))
    assert "signal" not in html


@pytest.mark.parametrize(
    ("code", "first", "now", "change"),
    [
        ("sows", complete("sows", 2), complete("sows", 1), "-16"),  # 32 then 16
        ("craving", {"craving": 7}, {"craving": 9}, "+2"),
    ],
)
def test_a_total_without_bands_is_read_against_the_first_response(cast, code, first, now, change):
    html = live(cast, code, form_data(now))
    assert "Baseline" not in html
    assert escape(instrument_for(code).interpretation) in html
    baseline = record(cast, first, code, hours_ago=2)
    record(cast, now, code, hours_ago=1)  # later responses are not the baseline
    html = live(cast, code, form_data(now))
    assert f"Baseline {baseline.total} on " in html
    assert f"change <strong>{change}</strong>" in html


def test_a_partial_sows_shows_no_change_from_baseline_yet(cast):
    record(cast, complete("sows", 2), "sows", hours_ago=2)  # baseline 32
    html = live(cast, "sows", {"anxious": "1"})
    assert "Baseline 32 on " in html and "1 of 16 answered" in html
    assert "change <strong>" not in html
    assert "the change from baseline shows when all are answered" in html
    assert "band" not in html  # SOWS has none to promise


def test_the_live_score_stores_nothing_and_writes_no_audit_row(cast):
    client = cast.client_for("owner")
    before = audit_rows()
    for code, data in [
        ("cows", form_data(COWS_13)),
        ("phq9", form_data(dict.fromkeys(PHQ9_ITEMS, 3))),
        ("sows", {"anxious": "2"}),
    ]:
        assert client.post(score_url(cast, code), data, headers=HX).status_code == 200
    assert audit_rows() == before
    assert not Assessment.objects.exists() and not Alert.objects.exists()


def test_the_live_score_takes_only_posts_from_the_care_team(cast):
    assert cast.client_for("owner").get(score_url(cast, "cows")).status_code == 405
    assert (
        cast.client_for("colleague").post(score_url(cast, "cows"), {}, headers=HX).status_code
        == 403
    )
    assert (
        cast.client_for("readonly").post(score_url(cast, "cows"), {}, headers=HX).status_code == 403
    )


# --- entered in error ----------------------------------------------------------------


def test_marking_entered_in_error_strikes_the_row_and_takes_it_off_the_chart(cast):
    client = cast.client_for("owner")
    record(cast, COWS_ZERO, hours_ago=3)
    wrong = record(cast, COWS_13, hours_ago=2)
    record(cast, COWS_ZERO, hours_ago=1)
    html = client.get(trend_url(cast, "cows")).content.decode()
    assert markers(html) == 3
    response = client.post(error_url(cast, wrong), {"reason": "Wrong patient"})
    assert response.status_code == 302 and response["Location"] == detail_url(cast, wrong)
    wrong.refresh_from_db()
    assert wrong.status == AssessmentStatus.ENTERED_IN_ERROR
    assert (wrong.error_reason, wrong.total) == ("Wrong patient", 13)
    assert Alert.objects.get(kind="withdrawal_moderate").status == AlertStatus.RESOLVED
    html = client.get(response["Location"]).content.decode()
    assert "Marked entered in error." in html
    assert '<span class="badge badge-full">entered in error</span>' in html
    assert "Marked entered in error by Owner" in html and "Wrong patient" in html
    assert "<summary>Mark entered in error</summary>" not in html  # not twice
    html = client.get(trend_url(cast, "cows")).content.decode()
    assert markers(html) == 2
    rows = re.findall(r'<tr(?: class="([^"]*)")?>\s*<td>', html)
    assert rows == ["", "in-error", ""]
    assert "<s>13</s>" in html


def test_marking_entered_in_error_needs_a_reason(cast):
    client = cast.client_for("owner")
    assessment = record(cast, COWS_13)
    before = audit_rows()
    response = client.post(error_url(cast, assessment), {"reason": ""})
    assert response.status_code == 302 and response["Location"] == detail_url(cast, assessment)
    html = client.get(response["Location"]).content.decode()
    assert '<p class="msg msg-error">This field is required.</p>' in html
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FINAL and assessment.error_reason == ""
    assert Alert.objects.get(kind="withdrawal_moderate").status == AlertStatus.OPEN
    # Reads of the assessment (the refused post, then the page), no change.
    assert audit_rows() == before + 2
    assert not AuditEvent.objects.filter(action="update", object_type="assessment").exists()
    # Only spaces is no reason either (the service says so).
    client.post(error_url(cast, assessment), {"reason": "   "})
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FINAL


def test_marking_twice_is_refused_with_a_message(cast):
    client = cast.client_for("owner")
    assessment = record(cast, COWS_13)
    client.post(error_url(cast, assessment), {"reason": "Wrong patient"})
    response = client.post(error_url(cast, assessment), {"reason": "Again"}, follow=True)
    assert "already marked entered in error" in response.content.decode()
    assessment.refresh_from_db()
    assert assessment.error_reason == "Wrong patient"


def test_only_the_care_team_marks_in_error(cast):
    assessment = record(cast, COWS_13)
    for who in ("colleague", "readonly"):
        response = cast.client_for(who).post(error_url(cast, assessment), {"reason": "x"})
        assert response.status_code == 403, who
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.FINAL


# --- the trend -----------------------------------------------------------------------


def test_the_cows_trend_has_a_marker_per_response_and_its_bands(cast):
    for hours, answers in ((5, COWS_13), (3, COWS_ZERO | {"pulse": 4}), (1, COWS_ZERO)):
        record(cast, answers, hours_ago=hours)
    client = cast.client_for("owner")
    before = audit_rows()
    response = client.get(trend_url(cast, "cows"))
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 1 and markers(html) == 3
    assert html.count('class="trend-band band-') == len(instrument_for("cows").bands)
    assert 'class="trend-baseline"' not in html
    assert audit_rows() == before + 1
    read = AuditEvent.objects.latest("id")
    assert (read.object_type, read.detail) == ("assessment_history", {"instrument": "cows"})


def test_the_sows_trend_has_a_baseline_line_and_no_bands(cast):
    record(cast, complete("sows", 2), "sows", hours_ago=4)
    record(cast, complete("sows", 1), "sows", hours_ago=2)
    html = cast.client_for("owner").get(trend_url(cast, "sows")).content.decode()
    assert markers(html) == 2
    assert 'class="trend-baseline"' in html and ">baseline 32</text>" in html
    assert 'class="trend-band band-' not in html


def test_the_asam_history_is_a_table_not_a_chart(cast):
    record(cast, ASAM_35, "asam3", hours_ago=2)
    record(cast, dict.fromkeys(DIMENSIONS, 1), "asam3", hours_ago=1)
    response = cast.client_for("owner").get(trend_url(cast, "asam3"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" not in html
    table = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    assert table is not None
    rows = re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)
    assert len(rows) == 2
    assert re.findall(r"<td>(\d)</td>", rows[0]) == ["0", "1", "3", "2", "2", "1"]


def test_an_empty_trend_says_so(cast):
    html = cast.client_for("owner").get(trend_url(cast, "gad7")).content.decode()
    assert "No responses yet." in html and "<svg" not in html


# The trend page: session, user, second-factor device and membership (4), the
# patient and whether the actor is on its care team (2), the history with who entered
# each response and its episode joined (1), the audit row (2 savepoints, chain head,
# insert, head update, 2 releases: 7), and the patient's time zone (1).
TREND_QUERIES = 15


def test_the_trend_costs_a_fixed_number_of_queries(cast):
    client = cast.client_for("owner")
    episode_admit(
        cast.actors["owner"], cast.patient, cast.detox, at=timezone.now() - timedelta(days=3)
    )
    for n in range(3):
        record(cast, COWS_ZERO | {"pulse": n % 3}, hours_ago=60 - n)
    small = queries_for(client, trend_url(cast, "cows"))
    for n in range(3, 30):
        assessment = record(cast, COWS_ZERO | {"tremor": n % 3}, hours_ago=60 - n)
        if n % 7 == 0:
            assessment_mark_in_error(cast.actors["owner"], assessment, reason="typo")
    assert queries_for(client, trend_url(cast, "cows")) == small
    assert small == TREND_QUERIES
    assert markers(client.get(trend_url(cast, "cows")).content.decode()) == 30 - 4


# --- the chart: its assessments panel and alerts -------------------------------------


def test_the_chart_shows_the_latest_scores_and_the_open_alerts_first(cast):
    record(cast, COWS_ZERO, hours_ago=2)
    latest = record(cast, COWS_13, hours_ago=1)
    html = cast.client_for("owner").get(chart_url(cast)).content.decode()
    panel = re.search(r'<h2 id="assessments-h">Assessments</h2>(.*?)</section>', html, re.S)
    assert panel is not None
    row = re.search(r"Clinical Opiate Withdrawal Scale.*?</tr>", panel.group(1), re.S)
    assert row is not None
    assert f'href="{detail_url(cast, latest)}">13</a>' in row.group(0)
    assert '<span class="badge band band-moderate">Moderate</span>' in row.group(0)
    assert "<td>2 · " in row.group(0)
    alert = Alert.objects.get(kind="withdrawal_moderate")
    alerts = html.index('<section class="alerts"')
    assert alerts < html.index('id="now-h"') < html.index('id="assessments-h"')
    assert "COWS 13: moderate or worse withdrawal" in html[alerts:]
    assert f'action="{resolve_url(cast, alert)}"' in html
    assert f'<input type="hidden" name="next" value="{chart_url(cast)}">' in html
    assert f'href="{detail_url(cast, latest)}">what raised it</a>' in html


def test_the_privacy_officer_sees_the_alerts_but_no_resolve_form(cast):
    record(cast, COWS_13)
    html = cast.client_for("readonly").get(chart_url(cast)).content.decode()
    assert "COWS 13: moderate or worse withdrawal" in html
    assert "/resolve/" not in html and "<summary>Resolve</summary>" not in html
    assert "/assessments/new/" not in html  # no New buttons either


# The chart with its panels: session, user, device, membership (4), the patient and
# the care-team check (2), contacts, care team, episodes, their stays (4), open alerts
# with their patients (1), running risk flags, problems and open tasks (3), the
# withdrawal panel (the stay and its bundle, 2), the assessments panel (latest per
# instrument, 2), the notes panel (individual notes, the patient's own group-note
# entries: 2, added with the notes app, 26 -> 28), the schedule panel (the open stay
# and the seats of this week and the next days: 2, 28 -> 30), the recovery panel (the
# facility's zone for the calendar day, the record's start, relapse events, drug
# screens: 4 while there are none, 30 -> 34), the residence panel (the patient's
# residencies: 1 while never housed, 34 -> 35), the treatment plan panel (the
# episode's plan: 1 while there is none, 35 -> 36), the aftercare panel (the plan,
# whatever it holds: 1, 36 -> 37), and the audit row in the read's transaction (7).
CHART_QUERIES = 37


def test_the_chart_costs_the_same_whatever_the_assessments_and_alerts(cast):
    client = cast.client_for("owner")
    episode_admit(
        cast.actors["owner"], cast.patient, cast.detox, at=timezone.now() - timedelta(days=3)
    )
    record(cast, COWS_13, hours_ago=30)
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 1
    small = queries_for(client, chart_url(cast))
    for n in range(10):
        record(cast, COWS_13 if n % 2 else COWS_ZERO, hours_ago=29 - n)
    record(cast, dict.fromkeys(PHQ9_ITEMS, 1), "phq9", hours_ago=5)
    record(cast, {i.id: 1 for i in instrument_for("dsm5-oud").items if i.scored}, "dsm5-oud")
    record(cast, dict.fromkeys(DIMENSIONS, 4), "asam3")
    record(cast, complete("sows", 1), "sows")
    record(cast, {"craving": 4}, "craving")
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 4
    assert queries_for(client, chart_url(cast)) == small
    assert small == CHART_QUERIES


# --- resolving an alert --------------------------------------------------------------


@pytest.fixture
def alert(cast: Any) -> Alert:
    record(cast, dict.fromkeys(PHQ9_ITEMS, 0) | {"thoughts_of_death_or_self_harm": 2}, "phq9")
    return Alert.objects.get(kind="suicide_risk")


def test_the_care_team_resolves_an_alert_and_returns_where_it_was(cast, alert):
    client = cast.client_for("owner")
    back = f"{base(cast)}"
    response = client.post(
        resolve_url(cast, alert), {"note": "C-SSRS done; safety plan made.", "next": back}
    )
    assert response.status_code == 302 and response["Location"] == back
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED and alert.resolved_by == cast.users["owner"]
    assert alert.resolution_note == "C-SSRS done; safety plan made."
    event = AuditEvent.objects.get(object_type="alert")
    assert event.detail == {"kind": "suicide_risk", "status": "resolved"}
    html = client.get(chart_url(cast)).content.decode()
    assert "Alert resolved; your note is kept with it." in html
    assert '<section class="alerts"' not in html


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
)
def test_an_external_next_is_ignored(cast, alert, target):
    response = cast.client_for("owner").post(
        resolve_url(cast, alert), {"note": "Seen by the physician.", "next": target}
    )
    assert response.status_code == 302 and response["Location"] == chart_url(cast)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_an_alert_needs_a_note(cast, alert):
    client = cast.client_for("owner")
    response = client.post(resolve_url(cast, alert), {"note": "", "next": base(cast)})
    assert response.status_code == 302 and response["Location"] == chart_url(cast)
    assert "This field is required." in client.get(chart_url(cast)).content.decode()
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_a_colleague_off_the_care_team_cannot_resolve(cast, alert):
    response = cast.client_for("colleague").post(resolve_url(cast, alert), {"note": "seen"})
    assert response.status_code == 403
    assert b"Rivera" not in response.content
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_the_privacy_officer_cannot_resolve(cast, alert):
    response = cast.client_for("readonly").post(resolve_url(cast, alert), {"note": "seen"})
    assert response.status_code == 403
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_an_alert_under_another_patients_address_is_404(cast, alert):
    other = cast.new_patient("RR-2")
    url = f"/patients/{other.public_id}/alerts/{alert.public_id}/resolve/"
    assert cast.client_for("owner").post(url, {"note": "x"}).status_code == 404
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


# --- placement -----------------------------------------------------------------------


def asam(cast: Any, answers: dict[str, int] | None = None, hours_ago: float = 0) -> Assessment:
    return record(cast, answers or ASAM_35, "asam3", hours_ago=hours_ago)


def decide(cast: Any, assessment: Assessment, client: Client | None = None, **data: str) -> Any:
    client = client or cast.client_for("owner")
    return client.post(placement_url(cast, assessment), {"decide": "1", **data})


def recommended(html: str) -> str:
    found = re.search(
        r'<span class="label">Recommended level</span> <strong>([^<]+)</strong>', html
    )
    assert found is not None
    return found.group(1)


def test_the_placement_page_shows_the_recommendation_and_its_reasons(cast):
    assessment = asam(cast)
    client = cast.client_for("owner")
    before = audit_rows()
    response = client.get(placement_url(cast, assessment))
    assert response.status_code == 200
    html = response.content.decode()
    assert recommended(html) == "3.5"
    lines = re.findall(r"<li>(.*?)</li>", html.split('class="rationale"', 1)[1], re.S)
    dimensions = [re.search(r"<code>D(\d)-\d</code>", line) for line in lines]
    assert [m.group(1) for m in dimensions if m] == ["1", "2", "3", "4", "5", "6"]
    rule_ids = re.findall(r"<code>([^<]+)</code>", html)
    assert rule_ids == ["D1-0", "D2-1", "D3-3", "D4-2", "D5-2", "D6-1", "RESULT"]
    assert "not ASAM's software" in html
    assert 'name="decision" value="confirm"' in html
    assert audit_rows() == before + 1  # the read of the assessment


def test_a_stated_fact_updates_the_recommendation_fragment(cast):
    assessment = asam(cast)
    client = cast.client_for("owner")
    response = client.post(
        placement_url(cast, assessment),
        {"imminent_danger": "on", "decision": "confirm"},
        headers=HX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and 'class="recommendation"' in html
    assert recommended(html) == "4"
    assert "<code>F-DANGER</code>" in html and "arrange emergency evaluation now" in html
    assert not PlacementDecision.objects.exists()


def test_confirming_stores_the_decision_and_the_detail_page_shows_it(cast):
    assessment = asam(cast)
    client = cast.client_for("owner")
    response = decide(cast, assessment, client, decision="confirm")
    assert response.status_code == 302 and response["Location"] == detail_url(cast, assessment)
    decision = PlacementDecision.objects.get()
    assert (decision.assessment, decision.choice) == (assessment, PlacementChoice.CONFIRMED)
    assert (decision.recommended_level, decision.chosen_level) == ("3.5", "3.5")
    assert [line["rule"] for line in decision.rationale][:6] == [
        "D1-0",
        "D2-1",
        "D3-3",
        "D4-2",
        "D5-2",
        "D6-1",
    ]
    assert decision.started_stay is None and decision.decided_by == cast.users["owner"]
    html = client.get(response["Location"]).content.decode()
    assert "Placement at level 3.5 recorded." in html
    assert "Recommended <strong>3.5</strong>" in html and "Confirmed" in html
    assert "by Owner on" in html
    assert "See the placement recommendation" not in html


def test_an_override_without_a_reason_is_422_naming_the_reason(cast):
    assessment = asam(cast)
    response = decide(cast, assessment, decision="override", chosen_level="2.1")
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_override_reason_error"' in html
    assert "Say why another level is chosen" in html
    assert not PlacementDecision.objects.exists()


def test_an_override_with_a_level_and_a_reason_is_stored(cast):
    assessment = asam(cast)
    response = decide(
        cast,
        assessment,
        decision="override",
        chosen_level="2.1",
        override_reason="Patient prefers to keep working; daily check-ins arranged.",
    )
    assert response.status_code == 302
    decision = PlacementDecision.objects.get()
    assert (decision.choice, decision.recommended_level, decision.chosen_level) == (
        PlacementChoice.OVERRIDDEN,
        "3.5",
        "2.1",
    )
    assert decision.override_reason.startswith("Patient prefers")
    html = cast.client_for("owner").get(response["Location"]).content.decode()
    assert "Overridden: level <strong>2.1</strong> chosen" in html
    assert "Patient prefers to keep working" in html


def test_confirming_with_a_move_starts_a_stay_at_that_program(cast):
    episode = episode_admit(
        cast.actors["owner"], cast.patient, cast.iop, at=timezone.now() - timedelta(days=2)
    )
    prepare_exit(cast.actors["owner"], episode, cast.iop, timezone.now(), ends_episode=False)
    assessment = asam(cast)
    client = cast.client_for("owner")
    response = decide(
        cast, assessment, client, decision="confirm", move_to=str(cast.residential.public_id)
    )
    assert response.status_code == 302
    decision = PlacementDecision.objects.get()
    stay = Stay.objects.get(episode=episode, ended_at__isnull=True)
    assert decision.started_stay == stay and stay.program == cast.residential
    assert stay.entry_kind == "step_up"  # 2.1 to 3.5, through the usual transition
    assert Stay.objects.filter(episode=episode).count() == 2
    html = client.get(response["Location"]).content.decode()
    assert "Placement at level 3.5 recorded. Ana Rivera moved to Residential." in html
    assert "The patient moved to Residential on" in html


def test_a_move_to_a_program_at_another_level_is_422_naming_move_to(cast):
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    assessment = asam(cast)
    response = decide(cast, assessment, decision="confirm", move_to=str(cast.iop_east.public_id))
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_move_to_error"' in html and "Evening IOP East is at level 2.1" in html
    assert not PlacementDecision.objects.exists()
    assert Stay.objects.filter(episode=episode).count() == 1


def test_a_move_to_another_organizations_program_is_refused(cast):
    episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    assessment = asam(cast)
    response = decide(
        cast, assessment, decision="confirm", move_to=str(cast.other_program.public_id)
    )
    assert response.status_code == 422
    assert 'id="id_move_to_error"' in response.content.decode()
    assert not PlacementDecision.objects.exists()


def test_a_move_when_not_in_care_is_refused_and_stores_nothing(cast):
    assessment = asam(cast)
    response = decide(cast, assessment, decision="confirm", move_to=str(cast.residential.public_id))
    assert response.status_code == 409
    assert "admit them to the program instead" in response.content.decode()
    assert not PlacementDecision.objects.exists()


def test_a_second_decision_on_the_same_assessment_is_not_taken(cast):
    assessment = asam(cast)
    assert decide(cast, assessment, decision="confirm").status_code == 302
    client = cast.client_for("owner")
    response = client.get(placement_url(cast, assessment))
    assert response.status_code == 302 and response["Location"] == detail_url(cast, assessment)
    response = decide(
        cast, assessment, decision="override", chosen_level="1", override_reason="changed mind"
    )
    assert response.status_code == 302 and response["Location"] == detail_url(cast, assessment)
    decision = PlacementDecision.objects.get()
    assert decision.choice == PlacementChoice.CONFIRMED


def test_placement_is_only_for_a_current_asam_assessment(cast):
    cows = record(cast, COWS_13)
    assert cast.client_for("owner").get(placement_url(cast, cows)).status_code == 404
    wrong = asam(cast)
    assessment_mark_in_error(cast.actors["owner"], wrong, reason="Wrong patient")
    assert cast.client_for("owner").get(placement_url(cast, wrong)).status_code == 404
    assert decide(cast, wrong, decision="confirm").status_code == 404
    assert not PlacementDecision.objects.exists()


def test_the_latest_cows_of_the_last_day_is_offered_as_the_withdrawal_score(cast):
    record(cast, COWS_ZERO | {"pulse": 4}, hours_ago=30)  # too old to count
    record(cast, COWS_13, hours_ago=3)
    assessment = asam(cast)
    html = cast.client_for("owner").get(placement_url(cast, assessment)).content.decode()
    assert re.search(r'name="use_withdrawal_score"[^>]*checked', html)
    assert "Consider the latest withdrawal score: COWS 13 (Moderate) at" in html
    assert "<code>WS-COWS</code> COWS 13 (moderate) suggests a D1 rating of at least 2" in html
    assert "D1 is rated 0 but COWS 13 (moderate) suggests at least 2" in html
    assert recommended(html) == "3.5"  # informs D1, never sets the level
    assert (
        decide(cast, assessment, decision="confirm", use_withdrawal_score="on").status_code == 302
    )
    assert PlacementDecision.objects.get().facts["withdrawal_score"] == ["cows", 13]


def test_no_withdrawal_score_is_offered_without_a_recent_cows(cast):
    record(cast, COWS_13, hours_ago=30)
    assessment = asam(cast)
    html = cast.client_for("owner").get(placement_url(cast, assessment)).content.decode()
    assert "use_withdrawal_score" not in html and "WS-COWS" not in html


def test_a_decision_sent_back_with_an_error_keeps_the_stated_facts(cast):
    """The page shown again must recommend from the facts still ticked on it."""
    assessment = asam(cast)
    response = decide(
        cast,
        assessment,
        decision="override",
        chosen_level="2.1",
        override_reason="x" * 2001,
        imminent_danger="on",
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert 'id="id_override_reason_error"' in html
    assert re.search(r'name="imminent_danger"[^>]*checked', html)
    assert recommended(html) == "4"


def test_only_the_care_team_decides_placement(cast):
    assessment = asam(cast)
    for who in ("colleague", "readonly"):
        client = cast.client_for(who)
        assert client.get(placement_url(cast, assessment)).status_code == 403, who
        assert client.post(placement_url(cast, assessment), {"decide": "1"}).status_code == 403
    assert not PlacementDecision.objects.exists()


# --- the outsider --------------------------------------------------------------------


def test_every_assessment_route_refuses_the_outsider_and_reveals_nothing(cast):
    cows = record(cast, COWS_13)
    assessment = asam(cast)
    alert = Alert.objects.get(kind="withdrawal_moderate")
    client = cast.client_for("outsider")
    requests: list[tuple[str, str, dict[str, str]]] = [
        ("get", base(cast), {}),
        ("get", new_url(cast, "cows"), {}),
        ("post", new_url(cast, "cows"), form_data(COWS_ZERO)),
        ("post", score_url(cast, "cows"), form_data(COWS_13)),
        ("get", detail_url(cast, cows), {}),
        ("post", error_url(cast, cows), {"reason": "mine now"}),
        ("get", trend_url(cast, "cows"), {}),
        ("get", trend_url(cast, "asam3"), {}),
        ("get", placement_url(cast, assessment), {}),
        ("post", placement_url(cast, assessment), {"decide": "1", "decision": "confirm"}),
        ("post", resolve_url(cast, alert), {"note": "closed"}),
    ]
    before = Assessment.objects.count()
    for method, url, data in requests:
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
        body = response.content.decode()
        assert "Rivera" not in body and "RR-1" not in body, (method, url)
    # The same answers under an address that does not exist at all.
    missing = f"/patients/{uuid.uuid4()}/assessments/{cows.public_id}/"
    assert client.get(missing).status_code == 404
    assert Assessment.objects.count() == before
    cows.refresh_from_db()
    assert cows.status == AssessmentStatus.FINAL
    assert not PlacementDecision.objects.exists()
    assert Alert.objects.get(pk=alert.pk).status == AlertStatus.OPEN
    denied = AuditEvent.objects.filter(action="access_denied", actor_username="outsider")
    assert denied.exists()


def test_a_sows_response_shows_its_change_from_the_episode_baseline(cast: Any) -> None:
    from stepwise.instruments.definitions.sows import SOWS

    owner = cast.actors["owner"]
    episode_admit(owner, cast.patient, cast.detox, at=timezone.now() - timedelta(days=1))
    first = assessment_record(
        owner,
        cast.patient,
        "sows",
        {i.id: 2 for i in SOWS.items},
        observed_at=timezone.now() - timedelta(hours=8),
    )
    later = assessment_record(owner, cast.patient, "sows", {i.id: 1 for i in SOWS.items})
    client = cast.client_for("owner")
    assert "This is the baseline" in client.get(detail_url(cast, first)).content.decode()
    html = client.get(detail_url(cast, later)).content.decode()
    assert "Baseline 32" in html and "change <strong>-16</strong>" in html


def test_confirming_refuses_a_level_other_than_the_one_shown(cast: Any) -> None:
    assessment = asam(cast)
    client = cast.client_for("owner")
    shown = recommended(client.get(placement_url(cast, assessment)).content.decode())
    # Without a script the recommendation did not follow the ticked fact.
    response = client.post(
        placement_url(cast, assessment),
        {"imminent_danger": "on", "decision": "confirm", "shown_level": shown, "decide": "1"},
    )
    assert response.status_code == 422
    assert "review it before confirming" in response.content.decode()
    assert not PlacementDecision.objects.exists()
    response = client.post(
        placement_url(cast, assessment),
        {"imminent_danger": "on", "decision": "confirm", "shown_level": "4", "decide": "1"},
    )
    assert response.status_code == 302
    assert PlacementDecision.objects.get().chosen_level == "4"
