"""Reads of the last-use reports outside the flowsheet: the list of the reports that
speak for the patient's current stay (what the safety rules read), with the audit row
of the read, and the lookup of one report to mark it entered in error."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from stepwise.care.chart import patient_access, record_read
from stepwise.care.models import Stay
from stepwise.care.selectors import current_stay_of
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient
from stepwise.withdrawal.models import LastUseReport
from stepwise.withdrawal.selectors import last_use_reports_of_stay
from stepwise.withdrawal.services.common import OBSERVATIONS

OBJECT_TYPE = "last_use_reports"


@dataclass(frozen=True)
class LastUseReports:
    patient: Patient
    stay: Stay | None  # the current stay; None when the patient is not in a program
    rows: list[LastUseReport]


def last_use_reports_read(actor: Actor, patient_public_id: uuid.UUID | str) -> LastUseReports:
    """The reports the safety rules read for the patient's current stay, oldest first,
    entries in error included: in withdrawal management the stay's own; elsewhere (a
    step-down after detox) the whole episode's, since the rules read those there. None
    when the patient is not in a program now. Audited as a read of the reports."""
    patient, basis = patient_access(
        actor, patient_public_id, permission=Permission.CHART_READ, category=OBSERVATIONS
    )
    stay = current_stay_of(patient)
    rows: list[LastUseReport] = []
    if stay is not None:
        rows = list(
            last_use_reports_of_stay(stay)
            .select_related("recorded_by", "stay")
            .order_by("recorded_at", "id")
        )
    record_read(
        actor,
        patient,
        basis,
        category=OBSERVATIONS,
        object_type=OBJECT_TYPE,
        object_id=stay.public_id if stay else patient.public_id,
    )
    return LastUseReports(patient, stay, rows)


def last_use_report_of(patient: Patient, public_id: uuid.UUID | str) -> LastUseReport:
    """One report of the patient, by its public id (NotFound otherwise: a malformed id
    names no report, exactly like another patient's). The caller has checked access
    to the patient; marking it in error checks the rest."""
    row = (
        LastUseReport.objects.filter(
            organization_id=patient.organization_id,
            patient=patient,
            public_id=public_id_or_404(public_id),
        )
        .select_related("recorded_by", "stay", "patient")
        .first()
    )
    if row is None:
        raise NotFound()
    return row
