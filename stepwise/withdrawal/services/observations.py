"""Bedside observations: vital signs (with the over-sedation alarm) and the naloxone
challenge."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import ValidationFailed
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.alerts import AlertSource, alert_raise
from stepwise.patients.models import AlertSeverity, Patient
from stepwise.withdrawal.models import ChallengeResult, NaloxoneChallenge, VitalSigns
from stepwise.withdrawal.rules import vitals as rules
from stepwise.withdrawal.services.common import (
    OBSERVATIONS,
    mark_in_error,
    not_before_stay,
    open_stay,
    same_org,
)

OVER_SEDATION = "over_sedation"


def vitals_record(
    actor: Actor, patient: Patient, values: rules.Vitals, *, observed_at: datetime | None = None
) -> VitalSigns:
    """Chart a set of vital signs; signs of over-sedation open a critical alert that
    tells staff to act at once."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICAL_WRITE, patient, category=OBSERVATIONS)
    observed = event_time(observed_at, "observed_at")
    errors = rules.vitals_errors(values)
    if errors:
        raise ValidationFailed(errors)
    stay = open_stay(patient)
    not_before_stay(stay, observed, "observed_at")
    signs = rules.over_sedation_signs(values)
    with transaction.atomic():
        row = VitalSigns.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            stay=stay,
            observed_at=observed,
            observed_by_id=actor.user_id,
            pulse=values.pulse,
            systolic=values.systolic,
            diastolic=values.diastolic,
            respiratory_rate=values.respiratory_rate,
            spo2=values.spo2,
            temperature_c=values.temperature_c,
            responsiveness=values.responsiveness.value if values.responsiveness else "",
            sedation_signs=signs,
        )
        if signs:
            alert_raise(
                patient,
                kind=OVER_SEDATION,
                severity=AlertSeverity.CRITICAL,
                message=f"Signs of over-sedation: {', '.join(signs)}. {rules.OVER_SEDATION_ACTION}",
                source=AlertSource("vitals", row.public_id),
                at=observed,
            )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=OBSERVATIONS,
            object_type="vital_signs",
            object_id=row.public_id,
            detail={"over_sedation": signs} if signs else {},
        )
    return row


def vitals_mark_in_error(actor: Actor, row: VitalSigns, *, reason: str) -> VitalSigns:
    """A mistaken set of vital signs (its over-sedation alert waits for a clinician)."""
    return mark_in_error(
        actor,
        row,
        row.patient,
        reason=reason,
        permission=Permission.MEDICAL_WRITE,
        category=OBSERVATIONS,
        object_type="vital_signs",
    )


def challenge_record(
    actor: Actor,
    patient: Patient,
    *,
    result: str,
    performed_at: datetime | None = None,
    note: str = "",
) -> NaloxoneChallenge:
    """A naloxone challenge before naltrexone: negative means no withdrawal signs."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.MEDICAL_WRITE, patient, category=OBSERVATIONS)
    at = event_time(performed_at, "performed_at")
    if result not in ChallengeResult.values:
        raise ValidationFailed({"result": "Allowed values: negative, positive."})
    stay = open_stay(patient)
    not_before_stay(stay, at, "performed_at")
    with transaction.atomic():
        row = NaloxoneChallenge.objects.create(
            organization_id=actor.organization_id,
            patient=patient,
            stay=stay,
            performed_at=at,
            performed_by_id=actor.user_id,
            result=result,
            note=note.strip(),
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=OBSERVATIONS,
            object_type="naloxone_challenge",
            object_id=row.public_id,
            detail={"result": result},
        )
    return row
