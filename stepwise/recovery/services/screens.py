"""Urine drug screens: the collection, the results, and what they propose.

Results are read against the medications the patient takes (an organization's
expectations table) when they are recorded, and the reading is stored with them. An
unexpected positive proposes a relapse event; it never confirms one.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from stepwise.care.selectors import open_episode_of
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.clock import event_time
from stepwise.core.errors import Conflict, ValidationFailed
from stepwise.core.ids import one_of_organization
from stepwise.core.models import AuditAction
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Patient
from stepwise.recovery.links import screen_setting_label
from stepwise.recovery.models import DrugScreen, RelapseEvent, ScreenResult, ScreenStatus
from stepwise.recovery.rules import relapse as relapse_rules
from stepwise.recovery.rules import screens as rules
from stepwise.recovery.selectors import prescribed_medications
from stepwise.recovery.services.common import CATEGORY, same_org, settings_of
from stepwise.recovery.services.relapse import relapse_dismiss, relapse_propose

# Where a screen was collected besides the program: a sober-living residency.
RESIDENCY_SETTING = "residency"


@dataclass(frozen=True)
class ScreenInput:
    collected_at: datetime | None = None
    observed: bool = False
    validity: str = rules.Validity.VALID
    medications: Sequence[str] = ()
    # analyte code -> positive / negative / not_tested; empty while the lab works.
    results: Mapping[str, str] | None = None
    setting: str = ""
    setting_id: uuid.UUID | None = None
    note: str = ""


def _medication_errors(medications: Sequence[str]) -> dict[str, str]:
    unknown = [m for m in medications if m not in rules.MEDICATIONS_BY_CODE]
    if unknown:
        return {"medications": "Allowed values: " + ", ".join(rules.MEDICATIONS_BY_CODE) + "."}
    return {}


def _validity_errors(validity: str) -> dict[str, str]:
    if validity not in rules.Validity.__members__.values():
        return {"validity": "Allowed values: " + ", ".join(v.value for v in rules.Validity) + "."}
    return {}


def _parse_results(results: Mapping[str, str]) -> dict[str, rules.Result]:
    errors: dict[str, str] = {}
    parsed: dict[str, rules.Result] = {}
    allowed = ", ".join(r.value for r in rules.Result)
    for code, value in results.items():
        if code not in rules.ANALYTES_BY_CODE:
            errors[f"results.{code}"] = (
                "Unknown analyte; allowed: " + ", ".join(rules.ANALYTES_BY_CODE) + "."
            )
        elif value not in rules.Result.__members__.values():
            errors[f"results.{code}"] = f"Allowed values: {allowed}."
        else:
            parsed[code] = rules.Result(value)
    if not errors and not any(r is not rules.Result.NOT_TESTED for r in parsed.values()):
        errors["results"] = "Give at least one analyte's result (positive or negative)."
    if errors:
        raise ValidationFailed(errors)
    return parsed


def _store_results(
    actor: Actor, screen: DrugScreen, results: dict[str, rules.Result]
) -> rules.Interpretation:
    """Read and store the results; propose a relapse for unexpected positives."""
    config = settings_of(screen.organization_id)
    reading = rules.interpret(
        results,
        screen.medications,
        validity=rules.Validity(screen.validity),
        expectations=config.expectation_table(),
    )
    ScreenResult.objects.bulk_create(
        ScreenResult(
            organization_id=screen.organization_id,
            screen=screen,
            analyte=r.analyte,
            result=r.result.value,
            finding=r.finding.value if r.finding else "",
            expected_from=list(r.because),
        )
        for r in reading.readings
        if r.result is not rules.Result.NOT_TESTED
    )
    screen.status = ScreenStatus.RESULTED
    screen.resulted_at = timezone.now()
    screen.resulted_by_id = actor.user_id
    screen.save(update_fields=["status", "resulted_at", "resulted_by", "updated_at"])
    if reading.proposes_relapse:
        names = ", ".join(rules.ANALYTES_BY_CODE[r.analyte].name for r in reading.unexpected)
        relapse_propose(
            actor,
            screen.patient,
            source=relapse_rules.Source.SCREEN,
            source_type="drug_screen",
            source_id=screen.public_id,
            substances=reading.relapse_substances(),
            note=f"Unexpected positive on the screen collected "
            f"{timezone.localtime(screen.collected_at):%Y-%m-%d %H:%M}: {names}.",
        )
    return reading


def _summary(reading: rules.Interpretation) -> dict[str, Any]:
    return {
        "unexpected": [r.analyte for r in reading.unexpected],
        "missing_expected": [r.analyte for r in reading.missing_expected],
    }


def screen_record(actor: Actor, patient: Patient, data: ScreenInput) -> DrugScreen:
    """Record a collection, with its results when they are known at once (a cup)."""
    same_org(actor, patient)
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    collected_at = event_time(data.collected_at, "collected_at")
    errors = {**_validity_errors(data.validity), **_medication_errors(data.medications)}
    if data.setting and (
        data.setting_id is None
        or screen_setting_label(data.setting, patient, data.setting_id) is None
    ):
        errors["setting"] = "The place of collection is not one of this patient's."
    results = None
    if data.results:
        try:
            results = _parse_results(data.results)
        except ValidationFailed as refused:  # named together with the other fields
            errors.update(refused.errors)
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        screen = DrugScreen.objects.create(
            organization_id=patient.organization_id,
            patient=patient,
            episode=open_episode_of(patient),
            collected_at=collected_at,
            observed=data.observed,
            validity=data.validity,
            # Stepwise's own active MOUD orders always count, ticked or not.
            medications=sorted(set(data.medications) | set(prescribed_medications(patient))),
            setting=data.setting,
            setting_id=data.setting_id,
            note=data.note.strip(),
            collected_by_id=actor.user_id,
        )
        reading = _store_results(actor, screen, results) if results else None
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="drug_screen",
            object_id=screen.public_id,
            detail={"status": screen.status, **(_summary(reading) if reading else {})},
        )
    return screen


def screen_results_record(
    actor: Actor,
    screen: DrugScreen,
    results: Mapping[str, str],
    *,
    validity: str | None = None,
) -> DrugScreen:
    """The laboratory's results for a collected screen (and its validity finding)."""
    same_org(actor, screen)
    patient = screen.patient
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    errors = _validity_errors(validity) if validity is not None else {}
    try:
        parsed = _parse_results(results)
    except ValidationFailed as refused:  # named together with the validity
        raise ValidationFailed({**errors, **refused.errors}) from None
    if errors:
        raise ValidationFailed(errors)
    with transaction.atomic():
        locked = DrugScreen.objects.select_for_update().select_related("patient").get(pk=screen.pk)
        if locked.status != ScreenStatus.COLLECTED:
            raise Conflict(
                f"This screen is {locked.get_status_display().lower()}; results are recorded once."
            )
        if validity is not None:
            locked.validity = validity
            locked.save(update_fields=["validity", "updated_at"])
        reading = _store_results(actor, locked, parsed)
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="drug_screen",
            object_id=locked.public_id,
            detail={"status": locked.status, **_summary(reading)},
        )
    return locked


def screen_mark_in_error(actor: Actor, screen: DrugScreen, *, reason: str) -> DrugScreen:
    """A screen recorded for the wrong patient or twice: kept, marked, not counted. A
    relapse it proposed and nobody confirmed yet is dismissed with it."""
    same_org(actor, screen)
    patient = screen.patient
    require_patient_access(actor, Permission.RECOVERY_WRITE, patient, category=CATEGORY)
    if not reason.strip():
        raise ValidationFailed({"reason": "Say why; the reason stays on the record."})
    with transaction.atomic():
        locked = DrugScreen.objects.select_for_update().get(pk=screen.pk)
        if locked.status == ScreenStatus.ENTERED_IN_ERROR:
            raise Conflict("This screen is already marked entered in error.")
        locked.status = ScreenStatus.ENTERED_IN_ERROR
        locked.error_reason = reason.strip()
        locked.save(update_fields=["status", "error_reason", "updated_at"])
        proposal = RelapseEvent.objects.filter(
            organization_id=locked.organization_id,
            source_type="drug_screen",
            source_id=locked.public_id,
            status="proposed",
        ).first()
        dismissed = False
        if proposal is not None:
            relapse_dismiss(
                actor, proposal, reason=f"The screen was entered in error: {reason.strip()}"
            )
            dismissed = True
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            patient_public_id=patient.public_id,
            category=CATEGORY,
            object_type="drug_screen",
            object_id=locked.public_id,
            detail={"status": locked.status, "proposal_dismissed": dismissed},
        )
    return locked


def screen_get(actor: Actor, public_id: uuid.UUID | str) -> DrugScreen:
    rows = DrugScreen.objects.select_related("patient")
    return one_of_organization(rows, actor.organization_id, public_id)
