"""The demo shows assessments with real data, recorded through the services."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.utils import timezone

from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import actor_from_membership
from stepwise.care.models import Stay
from stepwise.core.audit import audit_verify
from stepwise.core.models import AuditEvent
from stepwise.instruments.models import Assessment, AssessmentStatus, PlacementDecision
from stepwise.instruments.registry import INSTRUMENTS
from stepwise.patients.alerts import worklist_alerts
from stepwise.patients.models import Alert, AlertStatus, CareTeamMember


def _counts() -> tuple[int, int, int, int]:
    return (
        Assessment.objects.count(),
        PlacementDecision.objects.count(),
        Alert.objects.count(),
        AuditEvent.objects.filter(category="assessments").count(),
    )


def test_the_demo_has_assessments_alerts_and_placements_and_loads_once(db):
    call_command("demo_load", stdout=io.StringIO())
    now = timezone.now()
    demo = Assessment.objects.filter(organization__slug="riverside").select_related("episode")
    assert set(demo.values_list("instrument", flat=True)) == set(INSTRUMENTS)
    assert demo.filter(instrument="cows").count() > 20

    # Each observed in the past, inside the patient's current stay, by a care-team member.
    for assessment in demo:
        assert assessment.observed_at < now
        assert Stay.objects.filter(
            episode=assessment.episode,
            started_at__lte=assessment.observed_at,
            ended_at__isnull=True,
        ).exists()
        assert CareTeamMember.objects.filter(
            patient_id=assessment.patient_id, user_id=assessment.entered_by_id
        ).exists()

    # One COWS entered in error, corrected by the one that replaces it.
    wrong = demo.get(status=AssessmentStatus.ENTERED_IN_ERROR)
    assert wrong.instrument == "cows" and wrong.error_reason
    corrected = wrong.replaced_by
    assert corrected.total is not None and wrong.total is not None
    assert corrected.total < wrong.total and corrected.observed_at == wrong.observed_at

    # PHQ-9 item 9: an open suicide-risk alert, on the counselor's worklist.
    suicide = Alert.objects.filter(
        organization__slug="riverside", kind="suicide_risk", status=AlertStatus.OPEN
    )
    assert suicide.count() >= 1
    counselor = actor_from_membership(
        Membership.objects.select_related("user", "organization").get(
            user__username="counselor", organization__slug="riverside"
        )
    )
    assert "suicide_risk" in {view.alert.kind for view in worklist_alerts(counselor, now)}

    # DSM-5: severe, with a suggested ICD-10-CM code.
    dsm5 = demo.get(instrument="dsm5-oud")
    assert dsm5.band_code == "severe"
    assert {"code": "icd10cm", "value": "F11.23"}.items() <= next(
        f for f in dsm5.findings if f["code"] == "icd10cm"
    ).items()

    # ASAM: one placement confirmed, one waiting for a decision.
    decision = PlacementDecision.objects.get(organization__slug="riverside")
    assert (decision.choice, decision.chosen_level) == ("confirmed", "3.5")
    assert demo.filter(instrument="asam3", placement__isnull=True).count() == 1

    before = _counts()
    call_command("demo_load", stdout=io.StringIO())  # a second run adds nothing
    assert _counts() == before
    assert audit_verify() == []
