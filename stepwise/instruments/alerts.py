"""Which instrument results become alerts on the chart and the care team's worklist."""

from __future__ import annotations

from dataclasses import dataclass

from stepwise.instruments.engine import Score
from stepwise.instruments.models import Assessment
from stepwise.patients.alerts import AlertSource, alert_clear, alert_raise
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

OUD_SEVERE_NO_PLAN = (
    "DSM-5 opioid use disorder, severe: write a treatment plan and offer medication for OUD."
)


def signals_of(assessment: Assessment, score: Score) -> list[tuple[str, str]]:
    """The engine's signals, plus the rules that need more than one response: a severe
    OUD result calls for a treatment plan. (Treatment plans arrive with the plans
    work; until a plan exists the alert is resolved by a clinician's note.)"""
    found = [(s.code, s.message) for s in score.signals]
    if assessment.instrument == "dsm5-oud" and assessment.band_code == "severe":
        found.append(("oud_severe_no_plan", OUD_SEVERE_NO_PLAN))
    return found


def alerts_for_assessment(assessment: Assessment, score: Score) -> list[str]:
    """Raise an alert per signal and clear those a calmer result ends. Returns the
    kinds raised, for the audit row."""
    source = AlertSource("assessment", assessment.public_id)
    raised = []
    found = signals_of(assessment, score)
    for code, message in found:
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
    present = {code for code, _ in found}
    for code, rule in SIGNAL_ALERTS.items():
        if assessment.instrument in rule.cleared_by and code not in present:
            alert_clear(
                assessment.patient,
                kind=code,
                note=f"A later {assessment.instrument.upper()} ({assessment.total}) is below "
                "the alert threshold.",
                at=assessment.observed_at,
            )
    return raised
