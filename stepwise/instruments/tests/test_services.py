"""Recording responses: scored once with their version, refused with one message per
item, audited, corrected by entered-in-error, and their signals reaching alerts."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from stepwise.care.services import episode_admit
from stepwise.core.errors import AccessDenied, Conflict, NotFound, OutsideCareTeam, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.instruments.models import Assessment, AssessmentStatus
from stepwise.instruments.services import assessment_mark_in_error, assessment_record
from stepwise.patients.alerts import alert_resolve, worklist_alerts
from stepwise.patients.models import Alert, AlertStatus

COWS_ZERO = {
    "pulse": 0,
    "sweating": 0,
    "restlessness": 0,
    "pupils": 0,
    "bone_joint_aches": 0,
    "rhinorrhea_lacrimation": 0,
    "gi_upset": 0,
    "tremor": 0,
    "yawning": 0,
    "anxiety_irritability": 0,
    "gooseflesh": 0,
}
# 4 + 4 + 5 = 13: moderate withdrawal, the alert threshold.
COWS_13 = COWS_ZERO | {"pulse": 4, "tremor": 4, "gooseflesh": 5}
PHQ9_ITEMS = [
    "little_interest",
    "feeling_down",
    "sleep",
    "tired",
    "appetite",
    "feeling_bad_about_self",
    "concentration",
    "moving_slowly_or_restless",
    "thoughts_of_death_or_self_harm",
]


def record(
    cast: Any, answers: dict[str, int], code: str = "cows", who: str = "owner", **kwargs: Any
) -> Assessment:
    return assessment_record(cast.actors[who], cast.patient, code, answers, **kwargs)


def test_a_response_is_stored_with_its_score_version_episode_and_audit(cast):
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    assessment = record(cast, COWS_13)
    assert (assessment.total, assessment.band_code, assessment.instrument_version) == (
        13,
        "moderate",
        "2003",
    )
    assert assessment.episode == episode and assessment.entered_by == cast.users["owner"]
    event = AuditEvent.objects.get(object_type="assessment", object_id=str(assessment.public_id))
    assert (event.action, event.category, event.detail["instrument"]) == (
        "create",
        "assessments",
        "cows",
    )


def test_invalid_answers_name_each_item_and_its_allowed_values_and_store_nothing(cast):
    with pytest.raises(ValidationFailed) as refused:
        record(cast, COWS_ZERO | {"pulse": 3, "mood": 1})
    assert set(refused.value.errors) == {"pulse", "mood"}
    assert "allowed: 0, 1, 2, 4" in refused.value.errors["pulse"]
    with pytest.raises(ValidationFailed) as missing:
        record(cast, {"pulse": 0})
    assert "gooseflesh" in missing.value.errors
    assert not Assessment.objects.exists()


def test_an_unknown_instrument_is_refused_naming_the_known_ones(cast):
    with pytest.raises(ValidationFailed) as refused:
        record(cast, {}, code="ciwa")
    assert "cows" in refused.value.errors["instrument"]


def test_a_future_observation_is_refused(cast):
    with pytest.raises(ValidationFailed) as refused:
        record(cast, COWS_ZERO, observed_at=timezone.now() + timedelta(hours=1))
    assert "observed_at" in refused.value.errors


def test_only_the_care_team_records_and_outsiders_learn_nothing(cast):
    with pytest.raises(OutsideCareTeam):
        record(cast, COWS_ZERO, who="colleague")
    with pytest.raises(AccessDenied):
        record(cast, COWS_ZERO, who="readonly")
    with pytest.raises(NotFound):
        record(cast, COWS_ZERO, who="outsider")
    assert not Assessment.objects.exists()


def test_auditc_takes_the_threshold_from_the_recorded_sex(cast):
    answers = {"drinking_frequency": 1, "typical_quantity": 1, "heavy_episode_frequency": 1}
    answers = _auditc(answers)
    cast.patient.sex = "2"
    cast.patient.save(update_fields=["sex"])
    assert record(cast, answers, code="auditc").band_code == "positive"
    cast.patient.sex = "1"
    cast.patient.save(update_fields=["sex"])
    assert record(cast, answers, code="auditc").band_code == "negative"


def _auditc(values: dict[str, int]) -> dict[str, int]:
    from stepwise.instruments.definitions.alcohol import AUDITC

    return dict(zip([i.id for i in AUDITC.items], values.values(), strict=True))


def test_phq9_item_9_opens_a_critical_alert_whatever_the_total(cast):
    answers = dict.fromkeys(PHQ9_ITEMS, 0) | {"thoughts_of_death_or_self_harm": 1}
    assessment = record(cast, answers, code="phq9")
    alert = Alert.objects.get(patient=cast.patient, kind="suicide_risk")
    assert (alert.severity, alert.status, alert.source_id) == (
        "critical",
        "open",
        assessment.public_id,
    )
    # A second positive answer counts on the same alert instead of a second row.
    record(cast, answers, code="phq9")
    alert.refresh_from_db()
    assert alert.times_raised == 2 and Alert.objects.filter(kind="suicide_risk").count() == 1
    # A later negative PHQ-9 does not close it: a clinician must say what was done.
    record(cast, dict.fromkeys(PHQ9_ITEMS, 0), code="phq9")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_the_alert_reaches_the_care_teams_worklist_only(cast):
    record(cast, COWS_13)
    now = timezone.now()
    assert [v.alert.kind for v in worklist_alerts(cast.actors["owner"], now)] == [
        "withdrawal_moderate"
    ]
    assert worklist_alerts(cast.actors["colleague"], now) == []
    assert len(worklist_alerts(cast.actors["director"], now)) == 1
    assert worklist_alerts(cast.actors["outsider"], now) == []


def test_a_later_cows_below_13_clears_the_withdrawal_alert_an_earlier_one_does_not(cast):
    now = timezone.now()
    record(cast, COWS_13, observed_at=now - timedelta(hours=1))
    record(cast, COWS_ZERO, observed_at=now - timedelta(hours=2))  # entered late
    assert Alert.objects.get(kind="withdrawal_moderate").status == AlertStatus.OPEN
    record(cast, COWS_ZERO, observed_at=now)
    cleared = Alert.objects.get(kind="withdrawal_moderate")
    assert cleared.status == AlertStatus.RESOLVED and "below" in cleared.resolution_note


def test_a_clinician_resolves_an_alert_with_a_note(cast):
    record(cast, dict.fromkeys(PHQ9_ITEMS, 0) | {"thoughts_of_death_or_self_harm": 2}, code="phq9")
    alert = Alert.objects.get(kind="suicide_risk")
    with pytest.raises(ValidationFailed):
        alert_resolve(cast.actors["owner"], alert, note=" ")
    with pytest.raises(OutsideCareTeam):
        alert_resolve(cast.actors["colleague"], alert, note="seen")
    done = alert_resolve(cast.actors["owner"], alert, note="C-SSRS done; safety plan made.")
    assert done.status == AlertStatus.RESOLVED and done.resolved_by == cast.users["owner"]
    with pytest.raises(Conflict):
        alert_resolve(cast.actors["owner"], alert, note="again")


def test_entered_in_error_keeps_the_row_needs_a_reason_and_closes_its_alert(cast):
    assessment = record(cast, COWS_13)
    with pytest.raises(ValidationFailed) as refused:
        assessment_mark_in_error(cast.actors["owner"], assessment, reason="")
    assert "reason" in refused.value.errors
    marked = assessment_mark_in_error(cast.actors["owner"], assessment, reason="Wrong patient")
    assert marked.status == AssessmentStatus.ENTERED_IN_ERROR and marked.total == 13
    assert Alert.objects.get(kind="withdrawal_moderate").status == AlertStatus.RESOLVED
    with pytest.raises(Conflict):
        assessment_mark_in_error(cast.actors["owner"], assessment, reason="again")
    correction = record(cast, COWS_ZERO, replaces=marked)
    assert correction.replaces == marked


def test_dsm5_severe_raises_the_treatment_plan_alert(cast):
    from stepwise.instruments.definitions.dsm5 import DSM5_OUD

    answers = {i.id: 1 for i in DSM5_OUD.items if i.scored}
    assessment = record(cast, answers, code="dsm5-oud")
    assert assessment.band_code == "severe"
    assert any(f["code"] == "icd10cm" and f["value"] == "F11.20" for f in assessment.findings)
    assert Alert.objects.get(kind="oud_severe_no_plan").severity == "warning"


def test_a_result_entered_late_neither_moves_the_alert_back_nor_lets_it_be_cleared(cast):
    now = timezone.now()
    record(cast, COWS_13, observed_at=now)
    late = record(
        cast,
        COWS_ZERO | {"pulse": 4, "tremor": 4, "gooseflesh": 5, "yawning": 4},
        observed_at=now - timedelta(days=2),
    )
    alert = Alert.objects.get(kind="withdrawal_moderate")
    assert alert.last_raised_at == now and alert.times_raised == 2
    assert alert.source_id != late.public_id and "COWS 13" in alert.message
    record(cast, COWS_ZERO, observed_at=now - timedelta(days=1))
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_a_correction_needs_the_mistake_marked_first_and_corrects_it_once(cast):
    wrong = record(cast, COWS_13)
    with pytest.raises(ValidationFailed) as unmarked:
        record(cast, COWS_ZERO, replaces=wrong)
    assert "entered in error first" in unmarked.value.errors["replaces"]
    marked = assessment_mark_in_error(cast.actors["owner"], wrong, reason="Wrong bed")
    record(cast, COWS_ZERO, replaces=marked)
    with pytest.raises(ValidationFailed) as again:
        record(cast, COWS_ZERO, replaces=marked)
    assert "already been corrected" in again.value.errors["replaces"]


def test_an_alert_stays_open_on_an_earlier_result_when_the_latest_was_a_mistake(cast):
    positive = dict.fromkeys(PHQ9_ITEMS, 0) | {"thoughts_of_death_or_self_harm": 1}
    now = timezone.now()
    first = record(cast, positive, code="phq9", observed_at=now - timedelta(hours=2))
    second = record(cast, positive, code="phq9", observed_at=now)
    assessment_mark_in_error(cast.actors["owner"], second, reason="Wrong patient")
    alert = Alert.objects.get(kind="suicide_risk")
    assert alert.status == AlertStatus.OPEN and alert.source_id == first.public_id
    assessment_mark_in_error(cast.actors["owner"], first, reason="Wrong patient too")
    alert.refresh_from_db()
    assert alert.status == AlertStatus.RESOLVED


def test_a_mistaken_calm_result_gives_the_withdrawal_alert_back(cast):
    now = timezone.now()
    record(cast, COWS_13, observed_at=now - timedelta(hours=1))
    calm = record(cast, COWS_ZERO, observed_at=now)
    assert not Alert.objects.filter(status="open").exists()
    assessment_mark_in_error(cast.actors["owner"], calm, reason="Rated the wrong patient")
    assert Alert.objects.get(status="open").kind == "withdrawal_moderate"
    event = AuditEvent.objects.filter(object_id=str(calm.public_id), action="update").get()
    assert event.detail["alerts"] == {"reopened": ["withdrawal_moderate"]}


def test_no_plan_alert_for_severe_oud_in_remission_or_on_maintenance(cast):
    from stepwise.instruments.definitions.dsm5 import DSM5_OUD

    answers = {i.id: 1 for i in DSM5_OUD.items if i.scored}
    record(cast, answers, code="dsm5-oud", context={"on_maintenance_therapy": "yes"})
    record(
        cast,
        answers,
        code="dsm5-oud",
        context={"last_criterion_met_on": (timezone.localdate() - timedelta(days=400)).isoformat()},
    )
    assert not Alert.objects.filter(kind="oud_severe_no_plan").exists()


def test_the_dsm5_date_is_always_the_date_observed(cast):
    from stepwise.instruments.definitions.dsm5 import DSM5_OUD

    answers = {i.id: 1 for i in DSM5_OUD.items if i.scored}
    observed = timezone.now() - timedelta(days=10)
    stored = record(
        cast,
        answers,
        code="dsm5-oud",
        observed_at=observed,
        context={"observed_on": "2031-01-01", "last_criterion_met_on": "2026-01-01"},
    )
    local = observed.astimezone(zoneinfo.ZoneInfo("America/New_York")).date()
    assert stored.context["observed_on"] == local.isoformat()
