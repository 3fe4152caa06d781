"""Which instrument results become alerts on the chart and the care team's worklist."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from stepwise.instruments.engine import Score
from stepwise.instruments.models import Assessment, AssessmentStatus
from stepwise.patients.alerts import (
    AlertSource,
    alert_clear,
    alert_close,
    alert_raise,
    alert_repoint,
    has_open_alert,
    open_alerts_from_source,
)
from stepwise.patients.models import AlertSeverity


@dataclass(frozen=True)
class AlertRule:
    severity: AlertSeverity
    # Instruments whose later result without the signal clears the alert (the patient's
    # withdrawal eased). A suicide-risk alert waits for a clinician's note.
    cleared_by: frozenset[str] = frozenset()


SIGNAL_ALERTS: dict[str, AlertRule] = {
    "suicide_risk": AlertRule(AlertSeverity.CRITICAL),
    "imminent_risk": AlertRule(AlertSeverity.CRITICAL),
    "withdrawal_moderate": AlertRule(AlertSeverity.WARNING, cleared_by=frozenset({"cows"})),
    "oud_severe_no_plan": AlertRule(AlertSeverity.WARNING),
}


def _signals(assessment: Assessment) -> dict[str, str]:
    """The signals stored with a response (as the engine found them): code -> message."""
    return {s["code"]: s["message"] for s in assessment.signals if s.get("code")}


def alerts_after_error(assessment: Assessment, at: datetime) -> dict[str, list[str]]:
    """Bring the alerts back in line after a response is marked entered in error:
    an alert it last named stays open on an earlier current result that still calls
    for it (or closes), and an alert it had cleared opens again if the newest
    current result calls for it. Returns what changed, for the audit row."""
    patient = assessment.patient
    others = list(
        Assessment.objects.filter(
            organization_id=assessment.organization_id,
            patient=patient,
            instrument=assessment.instrument,
            status=AssessmentStatus.FINAL,
        )
        .exclude(pk=assessment.pk)
        .order_by("-observed_at", "-id")[:200]
    )
    changed: dict[str, list[str]] = {"closed": [], "kept": [], "reopened": []}
    for alert in open_alerts_from_source(patient, AlertSource("assessment", assessment.public_id)):
        still = next(
            (a for a in others if alert.kind in _signals(a) and a.observed_at >= alert.raised_at),
            None,
        )
        if still is None:
            alert_close(alert, note="The response that raised it was entered in error.", at=at)
            changed["closed"].append(alert.kind)
        else:
            source = AlertSource("assessment", still.public_id)
            alert_repoint(
                alert, source=source, at=still.observed_at, message=_signals(still)[alert.kind]
            )
            changed["kept"].append(alert.kind)
    latest = others[0] if others else None
    mistaken = _signals(assessment)
    if latest is not None:
        for code, rule in SIGNAL_ALERTS.items():
            if (
                assessment.instrument in rule.cleared_by
                and code not in mistaken  # the mistaken result had cleared it
                and code in _signals(latest)
                and not has_open_alert(patient, code)
            ):
                alert_raise(
                    patient,
                    kind=code,
                    severity=rule.severity,
                    message=_signals(latest)[code],
                    source=AlertSource("assessment", latest.public_id),
                    at=latest.observed_at,
                )
                changed["reopened"].append(code)
    return {k: v for k, v in changed.items() if v}


def alerts_for_assessment(assessment: Assessment, score: Score) -> list[str]:
    """Raise an alert per signal and clear those a calmer result ends. Returns the
    kinds raised and cleared, for the audit row."""
    source = AlertSource("assessment", assessment.public_id)
    raised = []
    found = {s.code: s.message for s in score.signals}
    for code, message in found.items():
        rule = SIGNAL_ALERTS.get(code)
        if rule is None:
            continue
        alert_raise(
            assessment.patient,
            kind=code,
            severity=rule.severity,
            message=message,
            source=source,
            at=assessment.observed_at,
        )
        raised.append(code)
    present = set(found)
    for code, rule in SIGNAL_ALERTS.items():
        if assessment.instrument in rule.cleared_by and code not in present:
            cleared = alert_clear(
                assessment.patient,
                kind=code,
                note=f"A later {assessment.instrument.upper()} ({assessment.total}) is below "
                "the alert threshold.",
                at=assessment.observed_at,
            )
            if cleared:
                raised.append(f"cleared:{code}")
    return raised
