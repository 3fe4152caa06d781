"""Risk flags: an elevated-risk period on a patient, raised inside the write that
found the risk (a withdrawal-management discharge), shown while it runs."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from stepwise.core.actor import Actor
from stepwise.core.roles import sees_all_patients
from stepwise.patients.access import cared_for
from stepwise.patients.models import Patient, RiskFlag

LOST_TOLERANCE = "lost_tolerance"
FLAG_LABELS = {LOST_TOLERANCE: "Overdose risk: lost tolerance"}


def risk_flag_raise(
    actor: Actor,
    patient: Patient,
    *,
    kind: str,
    reason: str,
    starts_at: datetime,
    ends_at: datetime,
    source_type: str,
    source_id: uuid.UUID,
) -> RiskFlag:
    """Call inside the caller's transaction; its audit row names the flag."""
    return RiskFlag.objects.create(
        organization_id=patient.organization_id,
        patient=patient,
        kind=kind,
        reason=reason,
        starts_at=starts_at,
        ends_at=ends_at,
        source_type=source_type,
        source_id=source_id,
        raised_by_id=actor.user_id,
    )


def active_flags(patient: Patient, now: datetime) -> list[RiskFlag]:
    return list(
        RiskFlag.objects.filter(
            organization_id=patient.organization_id,
            patient=patient,
            starts_at__lte=now,
            ends_at__gt=now,
        )
    )


def active_flags_by_patient(
    organization_id: int, patient_ids: Iterable[int], now: datetime
) -> dict[int, list[RiskFlag]]:
    """One query for a page of patients."""
    by_patient: dict[int, list[RiskFlag]] = defaultdict(list)
    for flag in RiskFlag.objects.filter(
        organization_id=organization_id,
        patient_id__in=list(patient_ids),
        starts_at__lte=now,
        ends_at__gt=now,
    ):
        by_patient[flag.patient_id].append(flag)
    return dict(by_patient)


def worklist_flags(actor: Actor, now: datetime) -> list[RiskFlag]:
    """Running flags of the patients the actor looks after (everyone for the director)."""
    patients = Patient.objects.filter(organization_id=actor.organization_id)
    if not sees_all_patients(actor.role):
        patients = cared_for(actor, patients, now)
    return list(
        RiskFlag.objects.filter(
            organization_id=actor.organization_id,
            starts_at__lte=now,
            ends_at__gt=now,
            patient__in=patients,
        )
        .select_related("patient")
        .order_by("ends_at", "id")
    )


def flagged_patient_count(organization_id: int, patient_ids: Iterable[int], now: datetime) -> int:
    return (
        RiskFlag.objects.filter(
            organization_id=organization_id,
            patient_id__in=list(patient_ids),
            starts_at__lte=now,
            ends_at__gt=now,
        )
        .values("patient_id")
        .distinct()
        .count()
    )
