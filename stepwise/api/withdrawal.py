"""Withdrawal management in the JSON API v1: the unit board, bedside observations, the
medical admission, the eMAR with its safety rules, and the safe-discharge bundle.
The same services, reads and audit rows as the pages."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from stepwise.api.auth import api_actor
from stepwise.api.permissions import PermissionToken, requires
from stepwise.api.schemas import ClinicalIn, ErrorOut
from stepwise.care.chart import patient_access, patient_for, record_read
from stepwise.care.models import Program, Stay
from stepwise.care.selectors import current_stay_of
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound, ValidationFailed
from stepwise.core.ids import public_id_or_404
from stepwise.core.roles import Permission
from stepwise.patients.access import require_patient_access
from stepwise.patients.models import Alert, Patient
from stepwise.withdrawal.board import BedRow, Board, board_read_audited, withdrawal_programs
from stepwise.withdrawal.flowsheet import FlowRow, flowsheet_read
from stepwise.withdrawal.last_use_reads import last_use_report_of, last_use_reports_read
from stepwise.withdrawal.models import (
    Administration,
    LastUseReport,
    LastUseSource,
    MedicalAdmission,
    MedicationOrder,
    NaloxoneChallenge,
    SafetyOverride,
    VitalSigns,
)
from stepwise.withdrawal.order_sets import AvailableSet, available_sets
from stepwise.withdrawal.rules import admission as admission_rules
from stepwise.withdrawal.rules import bundle, due, formulary, schedule, vitals
from stepwise.withdrawal.rules import last_use as last_use_rules
from stepwise.withdrawal.rules.safety import RULE_TITLES, BuprenorphineStart
from stepwise.withdrawal.selectors import withdrawal_program
from stepwise.withdrawal.services.admissions import medical_admission_record
from stepwise.withdrawal.services.common import MEDICATIONS, OBSERVATIONS
from stepwise.withdrawal.services.discharge import bundle_item_record, bundle_records
from stepwise.withdrawal.services.last_use import last_use_mark_in_error, last_use_record
from stepwise.withdrawal.services.medications import (
    OrderInput,
    SafetyBlocked,
    administration_mark_in_error,
    administration_record,
    followup_record,
    order_create,
    order_set_apply,
    order_stop,
    override_record,
)
from stepwise.withdrawal.services.observations import (
    challenge_record,
    vitals_mark_in_error,
    vitals_record,
)

router = Router(tags=["withdrawal"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}

MG = Decimal("0.001")  # doses are stored to the microgram


def _allowed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


# ---------------------------------------------------------------------------
# Records named by the path (an order, a dose): checked before the body is read.


def _order_of(actor: Actor, order_id: str) -> MedicationOrder:
    order = (
        MedicationOrder.objects.filter(
            organization_id=actor.organization_id, public_id=public_id_or_404(order_id)
        )
        .select_related("patient")
        .first()
    )
    if order is None:
        raise NotFound()
    return order


def _administration_of(actor: Actor, administration_id: str) -> Administration:
    row = (
        Administration.objects.filter(
            organization_id=actor.organization_id, public_id=public_id_or_404(administration_id)
        )
        .select_related("patient", "order")
        .first()
    )
    if row is None:
        raise NotFound()
    return row


class RecordToken(PermissionToken):
    """A PermissionToken for paths that name a medication order or a charted dose
    instead of the patient: the record must be in the actor's organization (else
    404) and its patient within the actor's reach for the permission (care team),
    checked before the body is read, as PermissionToken does for a patient id."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = super().authenticate(request, token)
        if actor is None:
            return None
        path = request.resolver_match.kwargs if request.resolver_match else {}
        if "order_id" in path:
            patient = _order_of(actor, str(path["order_id"])).patient
        elif "administration_id" in path:
            patient = _administration_of(actor, str(path["administration_id"])).patient
        else:
            return actor
        require_patient_access(actor, self.permission, patient, category=MEDICATIONS)
        return actor


def requires_on_record(permission: Permission) -> RecordToken:
    return RecordToken(permission)


# ---------------------------------------------------------------------------
# Shared shapes


class DueOut(Schema):
    what: str
    due_at: datetime
    state: str = Field(description="scheduled, due (within 30 minutes) or overdue")
    basis: str


class AlertOut(Schema):
    kind: str
    severity: str
    message: str


class StayRef(Schema):
    id: uuid.UUID
    program: uuid.UUID
    program_name: str
    started_at: datetime
    ended_at: datetime | None


def _due(found: due.Due | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "what": found.what,
        "due_at": found.due_at,
        "state": found.state.value,
        "basis": found.basis,
    }


def _alert(alert: Alert) -> dict[str, str]:
    return {"kind": alert.kind, "severity": alert.severity, "message": alert.message}


def _stay_ref(stay: Stay | None) -> dict[str, Any] | None:
    if stay is None:
        return None
    return {
        "id": stay.public_id,
        "program": stay.program.public_id,
        "program_name": stay.program.name,
        "started_at": stay.started_at,
        "ended_at": stay.ended_at,
    }


def _mg(value: Decimal) -> Decimal:
    return Decimal(value).quantize(MG)


# ---------------------------------------------------------------------------
# Units and the unit board


class UnitOut(Schema):
    id: uuid.UUID
    name: str
    level: str = Field(description="ASAM level, e.g. 3.7-WM")
    facility: str
    bed_capacity: int | None


def _unit(program: Program) -> dict[str, Any]:
    return {
        "id": program.public_id,
        "name": program.name,
        "level": program.asam_level,
        "facility": program.facility.name,
        "bed_capacity": program.bed_capacity,
    }


@router.get(
    "/units",
    response={200: list[UnitOut], **READ_ERRORS},
    auth=requires(Permission.UNIT_BOARD),
)
def list_units(request: HttpRequest) -> list[dict[str, Any]]:
    """The organization's active withdrawal-management programs."""
    return [_unit(p) for p in withdrawal_programs(api_actor(request))]


class LastCowsOut(Schema):
    total: int | None
    band: str
    band_label: str
    observed_at: datetime


class DoseDueOut(Schema):
    order: uuid.UUID
    drug: str
    drug_name: str
    dose_mg: Decimal
    due_at: datetime
    state: str = Field(description="scheduled, due or overdue (an hour after its time)")


class FollowupDueOut(Schema):
    administration: uuid.UUID
    order: uuid.UUID
    drug: str
    given_at: datetime
    due_at: datetime
    state: str


class BedPatientOut(Schema):
    id: uuid.UUID
    name: str
    mrn: str
    hours_admitted: float | None
    hours_since_use: float | None = Field(
        description="Since the last opioid use known in this stay: its medical admission "
        "or a last-use report"
    )
    last_cows: LastCowsOut | None
    next_reassessment: DueOut | None = Field(description="The sooner of COWS and vital signs")
    cows_due: DueOut | None
    vitals_due: DueOut | None
    induction: bool = Field(description="A buprenorphine induction is under way")
    alerts: list[AlertOut]
    doses_due: list[DoseDueOut]
    followups_due: list[FollowupDueOut]
    bundle_done: int
    bundle_total: int


class BedOut(Schema):
    bed: int | None = Field(description="The bed number; null for a stay without one")
    occupied: bool
    visible: bool = Field(
        description="False when the bed's patient is outside your care team: the bed "
        "shows as occupied and nothing about the patient is given."
    )
    patient: BedPatientOut | None
    critical: bool = Field(
        description="A critical alert is open for the bed's patient (given for every bed: "
        "the unit must not miss an alarm, even outside the care team)."
    )
    overdue: int = Field(description="How many checks and doses of the bed are overdue.")


class BoardCountsOut(Schema):
    occupied: int
    overdue: int
    critical: int


class BoardOut(Schema):
    program: UnitOut
    generated_at: datetime
    counts: BoardCountsOut
    beds: list[BedOut]


def _bed_patient(row: BedRow) -> dict[str, Any]:
    patient = row.patient
    assert patient is not None
    cows = row.last_cows
    return {
        "id": patient.public_id,
        "name": patient.display_name,
        "mrn": patient.mrn,
        "hours_admitted": row.hours_admitted,
        "hours_since_use": row.hours_since_use,
        "last_cows": None
        if cows is None
        else {
            "total": cows.total,
            "band": cows.band_code,
            "band_label": cows.band_label,
            "observed_at": cows.observed_at,
        },
        "next_reassessment": _due(row.reassessment),
        "cows_due": _due(row.cows_due),
        "vitals_due": _due(row.vitals_due),
        "induction": row.induction,
        "alerts": [_alert(a) for a in row.alerts],
        "doses_due": [
            {
                "order": d.order.public_id,
                "drug": d.order.drug,
                "drug_name": d.order.drug_name,
                "dose_mg": _mg(d.dose_mg),
                "due_at": d.due_at,
                "state": d.state.value,
            }
            for d in row.doses
        ],
        "followups_due": [
            {
                "administration": given.public_id,
                "order": given.order.public_id,
                "drug": given.order.drug,
                "given_at": given.at,
                "due_at": found.due_at,
                "state": found.state.value,
            }
            for given, found in row.followups
        ],
        "bundle_done": row.bundle_done,
        "bundle_total": row.bundle_total,
    }


def _board(board: Board) -> dict[str, Any]:
    return {
        "program": _unit(board.program),
        "generated_at": board.now,
        "counts": {
            "occupied": board.occupied,
            "overdue": board.overdue,
            "critical": board.critical,
        },
        "beds": [
            {
                "bed": row.bed,
                "occupied": row.occupied,
                "visible": row.visible,
                "patient": _bed_patient(row) if row.occupied and row.visible else None,
                "critical": row.critical,
                "overdue": row.overdue_count,
            }
            for row in board.rows
        ],
    }


@router.get(
    "/units/{program_id}/board",
    response={200: BoardOut, **READ_ERRORS},
    auth=requires(Permission.UNIT_BOARD),
)
def unit_board(request: HttpRequest, program_id: str) -> dict[str, Any]:
    """Every bed of the unit, who is in it and what is due, computed now, in a fixed
    number of queries however many beds. Treating roles see who is in a bed only for
    patients they care for. 404 for a program that is not withdrawal management."""
    actor = api_actor(request)
    return _board(board_read_audited(actor, withdrawal_program(actor, program_id), timezone.now()))


# ---------------------------------------------------------------------------
# Vital signs, the flowsheet, the naloxone challenge


class VitalsIn(ClinicalIn):
    pulse: int | None = Field(None, description="Beats per minute, 20-250")
    systolic: int | None = Field(None, description="mmHg, 50-260; with diastolic")
    diastolic: int | None = Field(None, description="mmHg, 20-160; with systolic")
    respiratory_rate: int | None = Field(None, description="Breaths per minute, 0-60")
    spo2: int | None = Field(None, description="%, 50-100")
    temperature_c: Decimal | None = Field(
        None, max_digits=4, decimal_places=1, description="°C, 30.0-43.0"
    )
    responsiveness: str = Field(
        "", description="AVPU: " + _allowed(r.value for r in vitals.Responsiveness)
    )
    observed_at: datetime | None = Field(None, description="With its time zone; default now")


class VitalValuesOut(Schema):
    pulse: int | None
    systolic: int | None
    diastolic: int | None
    respiratory_rate: int | None
    spo2: int | None
    temperature_c: Decimal | None
    responsiveness: str
    sedation_signs: list[str] = Field(description="Signs of over-sedation found; empty if none")


class VitalsOut(VitalValuesOut):
    id: uuid.UUID
    patient: uuid.UUID
    observed_at: datetime
    observed_by: str
    status: str
    error_reason: str


def _vital_values(row: VitalSigns) -> dict[str, Any]:
    return {
        "pulse": row.pulse,
        "systolic": row.systolic,
        "diastolic": row.diastolic,
        "respiratory_rate": row.respiratory_rate,
        "spo2": row.spo2,
        "temperature_c": row.temperature_c,
        "responsiveness": row.responsiveness,
        "sedation_signs": list(row.sedation_signs),
    }


def _vitals(row: VitalSigns, patient: Patient) -> dict[str, Any]:
    return {
        **_vital_values(row),
        "id": row.public_id,
        "patient": patient.public_id,
        "observed_at": row.observed_at,
        "observed_by": row.observed_by.username,
        "status": row.status,
        "error_reason": row.error_reason,
    }


def _vitals_values(payload: VitalsIn) -> vitals.Vitals:
    """The rule input; an unknown responsiveness is named beside the service's checks."""
    responsiveness = None
    if payload.responsiveness:
        try:
            responsiveness = vitals.Responsiveness(payload.responsiveness)
        except ValueError:
            values = vitals.Vitals(
                payload.pulse,
                payload.systolic,
                payload.diastolic,
                payload.respiratory_rate,
                payload.spo2,
                payload.temperature_c,
            )
            errors = {k: v for k, v in vitals.vitals_errors(values).items() if k != "__all__"}
            errors["responsiveness"] = "Allowed values: " + _allowed(
                r.value for r in vitals.Responsiveness
            )
            raise ValidationFailed(errors) from None
    return vitals.Vitals(
        pulse=payload.pulse,
        systolic=payload.systolic,
        diastolic=payload.diastolic,
        respiratory_rate=payload.respiratory_rate,
        spo2=payload.spo2,
        temperature_c=payload.temperature_c,
        responsiveness=responsiveness,
    )


@router.post(
    "/patients/{patient_id}/vitals",
    response={201: VitalsOut, **ERRORS},
    auth=requires(Permission.MEDICAL_WRITE),
)
def record_vitals(
    request: HttpRequest, patient_id: str, payload: VitalsIn
) -> tuple[int, dict[str, Any]]:
    """Chart vital signs in the patient's current stay. Signs of over-sedation
    (respiratory rate under 10, SpO2 under 92 %, unresponsive) open a critical alert
    and are listed in sedation_signs. 422 names each value out of range."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICAL_WRITE)
    row = vitals_record(actor, patient, _vitals_values(payload), observed_at=payload.observed_at)
    return 201, _vitals(row, patient)


class ReasonIn(ClinicalIn):
    reason: str = Field(max_length=1000, description="What was wrong with this entry")


@router.post(
    "/patients/{patient_id}/vitals/{vitals_id}/entered-in-error",
    response={200: VitalsOut, **ERRORS},
    auth=requires(Permission.MEDICAL_WRITE),
)
def vitals_in_error(
    request: HttpRequest, patient_id: str, vitals_id: str, payload: ReasonIn
) -> dict[str, Any]:
    """Withdraw a mistaken set of vital signs from the trends; it stays on the record."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICAL_WRITE)
    row = (
        VitalSigns.objects.filter(
            organization_id=actor.organization_id,
            patient=patient,
            public_id=public_id_or_404(vitals_id),
        )
        .select_related("observed_by")
        .first()
    )
    if row is None:
        raise NotFound()
    return _vitals(vitals_mark_in_error(actor, row, reason=payload.reason), patient)


class LastUseIn(ClinicalIn):
    substance: str = Field(description=_allowed(last_use_rules.OPIOID_CODES))
    last_use_at: datetime = Field(
        description="With its time zone; not in the future, and no more than "
        f"{last_use_rules.REACH_BACK.days} days before the stay began"
    )
    source: str = Field(description="Who says so: " + _allowed(LastUseSource.values))
    note: str = Field("", max_length=1000)
    recorded_at: datetime | None = Field(None, description="With its time zone; default now")


class LastUseOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    stay: uuid.UUID
    substance: str
    last_use_at: datetime
    source: str
    note: str
    recorded_at: datetime
    recorded_by: str
    status: str
    error_reason: str


def _last_use(row: LastUseReport, patient: Patient) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "patient": patient.public_id,
        "stay": row.stay.public_id,
        "substance": row.substance,
        "last_use_at": row.last_use_at,
        "source": row.source,
        "note": row.note,
        "recorded_at": row.recorded_at,
        "recorded_by": row.recorded_by.username,
        "status": row.status,
        "error_reason": row.error_reason,
    }


@router.post(
    "/patients/{patient_id}/last-use",
    response={201: LastUseOut, **ERRORS},
    auth=requires(Permission.MEDICAL_WRITE),
)
def record_last_use(
    request: HttpRequest, patient_id: str, payload: LastUseIn
) -> tuple[int, dict[str, Any]]:
    """When the patient last used an opioid, in the current withdrawal-management stay,
    without a new medical admission (after a relapse, or a use since the admission).
    The induction and naltrexone rules and the board read the latest use known in
    the stay. 422 names each field, with the allowed values."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICAL_WRITE)
    row = last_use_record(
        actor,
        patient,
        substance=payload.substance,
        last_use_at=payload.last_use_at,
        source=payload.source,
        note=payload.note,
        at=payload.recorded_at,
    )
    return 201, _last_use(row, patient)


@router.get(
    "/patients/{patient_id}/last-use",
    response={200: list[LastUseOut], **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def list_last_use(request: HttpRequest, patient_id: str) -> list[dict[str, Any]]:
    """The last-use reports the safety rules read for the patient's current stay,
    oldest first, entries in error included (the rules read the final ones). In a
    withdrawal-management stay: that stay's own (after a relapse an earlier stay's say
    nothing, as the medical admission). In another program (a step-down after detox):
    every report of the episode, as the rules read them there. None when the patient
    is not in a program now."""
    found = last_use_reports_read(api_actor(request), patient_id)
    return [_last_use(r, found.patient) for r in found.rows]


@router.post(
    "/patients/{patient_id}/last-use/{last_use_id}/entered-in-error",
    response={200: LastUseOut, **ERRORS},
    auth=requires(Permission.MEDICAL_WRITE),
)
def last_use_in_error(
    request: HttpRequest, patient_id: str, last_use_id: str, payload: ReasonIn
) -> dict[str, Any]:
    """Withdraw a mistaken last-use report: it stays on the record, the rules stop
    reading it. Only its author or a physician (who may override a safety rule) may:
    withdrawing a last use can let a first buprenorphine or naltrexone dose through;
    anyone else gets 403."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICAL_WRITE)
    row = last_use_report_of(patient, last_use_id)
    return _last_use(last_use_mark_in_error(actor, row, reason=payload.reason), patient)


class ScoreOut(Schema):
    total: int | None
    band: str
    band_label: str


class FlowRowOut(Schema):
    kind: str = Field(description="cows, sows or vitals")
    id: uuid.UUID = Field(description="The assessment's or the vital signs' id")
    at: datetime
    by: str
    in_error: bool
    error_reason: str
    score: ScoreOut | None = Field(description="For cows and sows")
    vitals: VitalValuesOut | None = Field(description="For vitals")


class FlowsheetOut(Schema):
    patient: uuid.UUID
    stay: StayRef | None = Field(description="The current stay, or the last one if none")
    open: bool
    induction: bool
    last_opioid_use_at: datetime | None = Field(
        description="The latest known in the stay: its medical admission or a last-use report"
    )
    rows: list[FlowRowOut] = Field(description="Newest first, entries in error included")
    due: list[DueOut] = Field(description="The next COWS and vital signs (open stay only)")
    alerts: list[AlertOut]


def _flow_row(row: FlowRow) -> dict[str, Any]:
    if row.assessment is not None:
        a = row.assessment
        return {
            "kind": row.kind,
            "id": a.public_id,
            "at": row.at,
            "by": a.entered_by.username,
            "in_error": row.in_error,
            "error_reason": a.error_reason,
            "score": {"total": a.total, "band": a.band_code, "band_label": a.band_label},
            "vitals": None,
        }
    v = row.vitals
    assert v is not None
    return {
        "kind": row.kind,
        "id": v.public_id,
        "at": row.at,
        "by": v.observed_by.username,
        "in_error": row.in_error,
        "error_reason": v.error_reason,
        "score": None,
        "vitals": _vital_values(v),
    }


@router.get(
    "/patients/{patient_id}/flowsheet",
    response={200: FlowsheetOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def flowsheet(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """The stay's serial withdrawal scores and vital signs, newest first, and what is
    due next."""
    sheet = flowsheet_read(api_actor(request), patient_id, timezone.now())
    return {
        "patient": sheet.patient.public_id,
        "stay": _stay_ref(sheet.stay),
        "open": sheet.is_open,
        "induction": sheet.induction,
        "last_opioid_use_at": sheet.last_use.at if sheet.last_use else None,
        "rows": [_flow_row(r) for r in sheet.rows],
        "due": [_due(d) for d in (sheet.cows_due, sheet.vitals_due) if d is not None],
        "alerts": [_alert(view.alert) for view in sheet.alerts],
    }


class ChallengeIn(ClinicalIn):
    result: str = Field(description="negative (no withdrawal signs) or positive")
    performed_at: datetime | None = Field(None, description="With its time zone; default now")
    note: str = ""


class ChallengeOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    result: str
    performed_at: datetime
    performed_by: str
    note: str
    status: str


@router.post(
    "/patients/{patient_id}/naloxone-challenges",
    response={201: ChallengeOut, **ERRORS},
    auth=requires(Permission.MEDICAL_WRITE),
)
def record_challenge(
    request: HttpRequest, patient_id: str, payload: ChallengeIn
) -> tuple[int, dict[str, Any]]:
    """A naloxone challenge before naltrexone; a negative one satisfies R-NTX-1."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICAL_WRITE)
    row: NaloxoneChallenge = challenge_record(
        actor, patient, result=payload.result, performed_at=payload.performed_at, note=payload.note
    )
    return 201, {
        "id": row.public_id,
        "patient": patient.public_id,
        "result": row.result,
        "performed_at": row.performed_at,
        "performed_by": actor.username,
        "note": row.note,
        "status": row.status,
    }


# ---------------------------------------------------------------------------
# The medical admission


class SubstanceUseIn(ClinicalIn):
    substance: str = Field(description=_allowed(admission_rules.SUBSTANCES_BY_CODE))
    routes: list[str] = Field(description="One or more of: " + _allowed(admission_rules.ROUTES))
    form: str = Field("", description=_allowed(admission_rules.FORMS))
    amount: str = Field("", max_length=200)
    frequency: str = Field("", description=_allowed(admission_rules.FREQUENCIES))
    last_use_at: datetime | None = Field(
        None, description="With its time zone; required for each opioid"
    )


class MedicalAdmissionIn(ClinicalIn):
    substances: list[SubstanceUseIn]
    past_overdoses: int = Field(0, description="0-99")
    last_overdose_on: date | None = None
    fentanyl_exposure: str = Field("unknown", description="yes, no or unknown")
    complications: list[str] = Field(
        default_factory=list, description=_allowed(admission_rules.COMPLICATIONS)
    )
    nasal_damage: bool = False
    tests: dict[str, str] = Field(
        default_factory=dict,
        description="hiv, hbv, hcv -> " + _allowed(s.value for s in admission_rules.TestStatus),
    )
    hbv_vaccinated: str = Field("unknown", description="yes, no or unknown")
    liver_concern: str = ""
    kidney_concern: str = ""
    heart_concern: str = ""
    pregnancy: str = Field("not_applicable", description=_allowed(admission_rules.PREGNANCY))
    allergies: str = ""
    no_known_allergies: bool = False
    current_medications: str = ""
    on_buprenorphine: bool = False
    on_methadone: bool = False
    recorded_at: datetime | None = Field(None, description="With its time zone; default now")


class AdmissionFindingsOut(Schema):
    d2: list[str] = Field(description="What ASAM dimension 2 (biomedical) should weigh")
    urgent: list[str]
    problems: list[str]
    tasks: list[str]


class MedicalAdmissionOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    recorded_at: datetime
    recorded_by: str
    last_opioid_use_at: datetime | None
    findings: AdmissionFindingsOut
    replaces: uuid.UUID | None


@router.post(
    "/patients/{patient_id}/medical-admissions",
    response={201: MedicalAdmissionOut, **ERRORS},
    auth=requires(Permission.MEDICAL_WRITE),
)
def record_medical_admission(
    request: HttpRequest, patient_id: str, payload: MedicalAdmissionIn
) -> tuple[int, dict[str, Any]]:
    """The assessment on arrival (replacing an earlier one of the episode): substances
    with the time of last use the induction rules need, complications, tests. Its
    findings go to the problem list and open follow-up tasks."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICAL_WRITE)
    data = admission_rules.MedicalAdmissionData(
        substances=tuple(
            admission_rules.SubstanceUse(
                substance=s.substance,
                routes=tuple(s.routes),
                form=s.form,
                amount=s.amount,
                frequency=s.frequency,
                last_use_at=s.last_use_at,
            )
            for s in payload.substances
        ),
        past_overdoses=payload.past_overdoses,
        last_overdose_on=payload.last_overdose_on,
        fentanyl_exposure=payload.fentanyl_exposure,
        complications=tuple(payload.complications),
        nasal_damage=payload.nasal_damage,
        tests=dict(payload.tests),
        hbv_vaccinated=payload.hbv_vaccinated,
        liver_concern=payload.liver_concern,
        kidney_concern=payload.kidney_concern,
        heart_concern=payload.heart_concern,
        pregnancy=payload.pregnancy,
        allergies=payload.allergies,
        no_known_allergies=payload.no_known_allergies,
        current_medications=payload.current_medications,
        on_buprenorphine=payload.on_buprenorphine,
        on_methadone=payload.on_methadone,
    )
    row: MedicalAdmission = medical_admission_record(
        actor, patient, data, recorded_at=payload.recorded_at
    )
    return 201, {
        "id": row.public_id,
        "patient": patient.public_id,
        "recorded_at": row.recorded_at,
        "recorded_by": actor.username,
        "last_opioid_use_at": row.last_opioid_use_at,
        "findings": {
            "d2": row.findings.get("d2", []),
            "urgent": row.findings.get("urgent", []),
            "problems": row.findings.get("problems", []),
            "tasks": row.findings.get("tasks", []),
        },
        "replaces": row.replaces.public_id if row.replaces else None,
    }


# ---------------------------------------------------------------------------
# Medication orders and safety overrides


class TaperStepIn(ClinicalIn):
    days: int = Field(le=365, description="How many days this step lasts, 1-365")
    dose_mg: Decimal = Field(max_digits=8, decimal_places=3)
    frequency: str = Field("", description="A scheduled frequency; empty keeps the order's")


class OrderIn(ClinicalIn):
    drug: str = Field(description=_allowed(formulary.DRUGS_BY_CODE))
    dose_mg: Decimal = Field(
        max_digits=8, decimal_places=3, description="mg, above 0 and at most 1000"
    )
    route: str = Field(description="One of the drug's routes: " + _allowed(formulary.Route))
    frequency: str = Field(description=_allowed(schedule.FREQUENCIES_BY_CODE))
    starts_at: datetime | None = Field(None, description="With its time zone; default now")
    ends_at: datetime | None = None
    prn_indication: str = Field("", max_length=200, description="Required when as needed")
    max_daily_mg: Decimal | None = Field(None, max_digits=8, decimal_places=3)
    taper: list[TaperStepIn] = Field(
        default_factory=list, max_length=30, description="The dose by day from the start"
    )
    bup_start: str = Field(
        "",
        description="Buprenorphine only: " + _allowed(s.value for s in BuprenorphineStart),
    )
    rationale: str = ""
    instructions: str = ""
    overrides: dict[str, str] = Field(
        default_factory=dict,
        description="Safety rules the physician overrides when ordering, rule -> reason ("
        + _allowed(RULE_TITLES)
        + "). Only R-MTD-1 is checked when ordering; the first-dose rules (R-BUP-1, "
        "R-NTX-1) are checked when a dose is given and overridden then, through "
        "/medication-orders/{order_id}/overrides.",
    )


class OverrideOut(Schema):
    id: uuid.UUID
    order: uuid.UUID
    rule: str
    title: str
    reason: str
    saw: list[str] = Field(description="What the rule saw when it was overridden")
    needs: list[str]
    overridden_by: str
    overridden_at: datetime


class TaperStepOut(Schema):
    days: int
    dose_mg: Decimal
    frequency: str


class OrderOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    drug: str
    drug_name: str
    dose_mg: Decimal
    route: str
    frequency: str
    as_needed: bool
    prn_indication: str
    max_daily_mg: Decimal | None
    taper: list[TaperStepOut]
    bup_start: str
    rationale: str
    instructions: str
    order_set: str
    starts_at: datetime
    ends_at: datetime | None
    status: str = Field(description="active, stopped or entered_in_error")
    ordered_by: str
    stopped_at: datetime | None
    stopped_by: str | None
    stop_reason: str
    overrides: list[OverrideOut]


class RuleOut(Schema):
    rule: str
    title: str
    saw: list[str] = Field(description="The data the rule saw")
    needs: list[str] = Field(description="What would satisfy it")
    cautions: list[str]


class SafetyBlockedOut(Schema):
    detail: str
    blocked_by: list[RuleOut] = Field(
        default_factory=list,
        description="Each safety rule that blocks the action (empty for other conflicts). "
        "A physician may override a rule with a reason.",
    )


def _override(row: SafetyOverride, order: MedicationOrder) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "order": order.public_id,
        "rule": row.rule,
        "title": RULE_TITLES.get(row.rule, row.rule),
        "reason": row.reason,
        "saw": list(row.saw),
        "needs": list(row.needs),
        "overridden_by": row.overridden_by.username,
        "overridden_at": row.overridden_at,
    }


def _order(order: MedicationOrder) -> dict[str, Any]:
    return {
        "id": order.public_id,
        "patient": order.patient.public_id,
        "drug": order.drug,
        "drug_name": order.drug_name,
        "dose_mg": _mg(order.dose_mg),
        "route": order.route,
        "frequency": order.frequency,
        "as_needed": order.is_prn,
        "prn_indication": order.prn_indication,
        "max_daily_mg": _mg(order.max_daily_mg) if order.max_daily_mg is not None else None,
        "taper": [
            {"days": s.days, "dose_mg": _mg(s.dose_mg), "frequency": s.frequency}
            for s in order.taper_steps
        ],
        "bup_start": order.bup_start,
        "rationale": order.rationale,
        "instructions": order.instructions,
        "order_set": order.order_set,
        "starts_at": order.starts_at,
        "ends_at": order.ends_at,
        "status": order.status,
        "ordered_by": order.ordered_by.username,
        "stopped_at": order.stopped_at,
        "stopped_by": order.stopped_by.username if order.stopped_by else None,
        "stop_reason": order.stop_reason,
        "overrides": [_override(o, order) for o in order.overrides.all()],
    }


def _blocked(exc: SafetyBlocked) -> dict[str, Any]:
    return {
        "detail": exc.message,
        "blocked_by": [
            {
                "rule": v.rule,
                "title": v.title,
                "saw": list(v.saw),
                "needs": list(v.needs),
                "cautions": list(v.cautions),
            }
            for v in exc.verdicts
        ],
    }


def _orders_with_people() -> QuerySet[MedicationOrder]:
    return MedicationOrder.objects.select_related("patient", "ordered_by", "stopped_by")


@router.get(
    "/patients/{patient_id}/medication-orders",
    response={200: list[OrderOut], **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def list_orders(request: HttpRequest, patient_id: str) -> list[dict[str, Any]]:
    """The orders of the patient's current stay, active and stopped, oldest first
    (none when the patient is not in a program now)."""
    actor = api_actor(request)
    patient, basis = patient_access(
        actor, patient_id, permission=Permission.CHART_READ, category=MEDICATIONS
    )
    stay = current_stay_of(patient)
    orders: list[MedicationOrder] = []
    if stay is not None:
        orders = list(
            _orders_with_people()
            .filter(organization_id=actor.organization_id, stay=stay)
            .prefetch_related("overrides__overridden_by")
            .order_by("starts_at", "id")
        )
    record_read(
        actor,
        patient,
        basis,
        category=MEDICATIONS,
        object_type="medication_orders",
        object_id=stay.public_id if stay else patient.public_id,
    )
    return [_order(o) for o in orders]


def _order_input(payload: OrderIn) -> OrderInput:
    return OrderInput(
        drug=payload.drug,
        dose_mg=payload.dose_mg,
        route=payload.route,
        frequency=payload.frequency,
        starts_at=payload.starts_at,
        ends_at=payload.ends_at,
        prn_indication=payload.prn_indication,
        max_daily_mg=payload.max_daily_mg,
        taper=[schedule.TaperStep(s.days, s.dose_mg, s.frequency) for s in payload.taper],
        bup_start=payload.bup_start,
        rationale=payload.rationale,
        instructions=payload.instructions,
    )


@router.post(
    "/patients/{patient_id}/medication-orders",
    response={201: OrderOut, **ERRORS, 409: SafetyBlockedOut},
    auth=requires(Permission.MEDICATION_ORDER),
)
def create_order(
    request: HttpRequest, patient_id: str, payload: OrderIn
) -> tuple[int, dict[str, Any]]:
    """A physician's order in the patient's current stay. Methadone is checked now
    (R-MTD-1); when it blocks, 409 names the rule, what it saw and what would satisfy
    it, and the same order with `overrides: {"R-MTD-1": reason}` goes ahead. The
    first-dose rules of buprenorphine and naltrexone are checked when a dose is given."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICATION_ORDER)
    try:
        order = order_create(actor, patient, _order_input(payload), overrides=payload.overrides)
    except SafetyBlocked as blocked:
        return 409, _blocked(blocked)
    return 201, _order(order)


class SetLineOut(Schema):
    drug: str
    drug_name: str
    dose_mg: Decimal
    route: str
    frequency: str
    prn_indication: str
    max_daily_mg: Decimal | None


class OrderSetOut(Schema):
    key: str = Field(description="\"comfort\" for Stepwise's default set, else the set's id")
    name: str
    description: str
    builtin: bool
    lines: list[SetLineOut]


def _order_set(offered: AvailableSet) -> dict[str, Any]:
    return {
        "key": offered.key,
        "name": offered.name,
        "description": offered.description,
        "builtin": offered.builtin,
        "lines": [
            {
                "drug": line.drug,
                "drug_name": line.drug_name,
                "dose_mg": Decimal(line.dose_mg),
                "route": line.route,
                "frequency": line.frequency,
                "prn_indication": line.prn_indication,
                "max_daily_mg": Decimal(line.max_daily_mg) if line.max_daily_mg else None,
            }
            for line in offered.lines
        ],
    }


@router.get(
    "/units/{program_id}/order-sets",
    response={200: list[OrderSetOut], **READ_ERRORS},
    auth=requires(Permission.MEDICATION_ORDER),
)
def list_order_sets(request: HttpRequest, program_id: str) -> list[dict[str, Any]]:
    """The order sets physicians of the unit may place: Stepwise's default comfort set
    (unless the unit stopped offering it) and the program's own active sets."""
    actor = api_actor(request)
    return [_order_set(s) for s in available_sets(withdrawal_program(actor, program_id))]


class SetPlacedOut(Schema):
    name: str
    orders: list[OrderOut]
    skipped: list[str] = Field(
        description="Lines left out: the stay already has that medication (or another "
        "alpha-2 agonist), whose as-needed spacing and 24-hour maximum count per order"
    )


@router.post(
    "/patients/{patient_id}/medication-orders/order-sets/{key}",
    response={201: SetPlacedOut, **ERRORS},
    auth=requires(Permission.MEDICATION_ORDER),
)
def apply_order_set(request: HttpRequest, patient_id: str, key: str) -> tuple[int, dict[str, Any]]:
    """Order the lines of one of the sets the patient's unit offers, all or none. `key`
    is "comfort" for the default set or a program set's id; another key gets a 422
    listing the sets offered. A medication the stay already has is left out and named
    in `skipped`; 409 when nothing is left to order."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICATION_ORDER)
    placed = order_set_apply(actor, patient, key=key)
    return 201, {
        "name": placed.name,
        "orders": [_order(o) for o in placed.orders],
        "skipped": placed.skipped,
    }


@router.post(
    "/patients/{patient_id}/medication-orders/comfort-set",
    response={201: list[OrderOut], **ERRORS},
    auth=requires(Permission.MEDICATION_ORDER),
)
def apply_comfort_set(request: HttpRequest, patient_id: str) -> tuple[int, list[dict[str, Any]]]:
    """The default comfort set, as before order sets per unit: the orders placed. Kept
    for existing clients; `order-sets/comfort` also names what was left out."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.MEDICATION_ORDER)
    return 201, [_order(o) for o in order_set_apply(actor, patient).orders]


class StopIn(ClinicalIn):
    reason: str = Field(max_length=1000)


@router.post(
    "/medication-orders/{order_id}/stop",
    response={200: OrderOut, **ERRORS},
    auth=requires_on_record(Permission.MEDICATION_ORDER),
)
def stop_order(request: HttpRequest, order_id: str, payload: StopIn) -> dict[str, Any]:
    """Stop an active order now, with the reason; 409 if it is no longer active."""
    actor = api_actor(request)
    order = order_stop(actor, _order_of(actor, order_id), reason=payload.reason)
    return _order(_orders_with_people().get(pk=order.pk))


class OverrideIn(ClinicalIn):
    rule: str = Field(description=_allowed(RULE_TITLES))
    reason: str = Field(max_length=2000, description="The physician's clinical reason")
    at: datetime | None = Field(
        None, description="When the rule is judged, with its time zone; default now"
    )


@router.post(
    "/medication-orders/{order_id}/overrides",
    response={201: OverrideOut, **ERRORS},
    auth=requires_on_record(Permission.SAFETY_OVERRIDE),
)
def record_override(
    request: HttpRequest, order_id: str, payload: OverrideIn
) -> tuple[int, dict[str, Any]]:
    """A physician goes ahead against a rule that blocks this order now; the override
    keeps what the rule saw and lets the nurse give the dose. 409 when the rule does
    not block the order (or is already overridden)."""
    actor = api_actor(request)
    order = _order_of(actor, order_id)
    row = override_record(actor, order, rule=payload.rule, reason=payload.reason, at=payload.at)
    return 201, _override(row, order)


# ---------------------------------------------------------------------------
# Administrations (the eMAR)


class AdministrationIn(ClinicalIn):
    outcome: str = Field(description="given, held or refused")
    at: datetime | None = Field(None, description="With its time zone; default now")
    scheduled_for: datetime | None = Field(
        None,
        description="The scheduled dose time this answers (scheduled orders); "
        "empty for an as-needed dose",
    )
    reason: str = Field("", description="Required when held or refused")


class SafetyCheckOut(Schema):
    allowed: bool
    saw: list[str]
    override: uuid.UUID | None = None


class AdministrationOut(Schema):
    id: uuid.UUID
    order: uuid.UUID
    patient: uuid.UUID
    drug: str
    scheduled_for: datetime | None
    at: datetime
    outcome: str
    reason: str
    dose_mg: Decimal | None
    given_by: str
    safety: dict[str, SafetyCheckOut] = Field(
        description="The safety rules this dose passed, by rule, as shown to the nurse"
    )
    override: uuid.UUID | None
    status: str
    error_reason: str
    followup_due_at: datetime | None
    followup_at: datetime | None
    followup_result: str
    followup_note: str
    followup_by: str | None


def _administration(row: Administration) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "order": row.order.public_id,
        "patient": row.patient.public_id,
        "drug": row.order.drug,
        "scheduled_for": row.scheduled_for,
        "at": row.at,
        "outcome": row.outcome,
        "reason": row.reason,
        "dose_mg": _mg(row.dose_mg) if row.dose_mg is not None else None,
        "given_by": row.given_by.username,
        "safety": row.safety,
        "override": row.override.public_id if row.override else None,
        "status": row.status,
        "error_reason": row.error_reason,
        "followup_due_at": row.followup_due_at,
        "followup_at": row.followup_at,
        "followup_result": row.followup_result,
        "followup_note": row.followup_note,
        "followup_by": row.followup_by.username if row.followup_by else None,
    }


def _administrations() -> QuerySet[Administration]:
    return Administration.objects.select_related(
        "order", "patient", "given_by", "override", "followup_by"
    )


@router.post(
    "/medication-orders/{order_id}/administrations",
    response={201: AdministrationOut, **ERRORS, 409: SafetyBlockedOut},
    auth=requires_on_record(Permission.MEDICATION_ADMINISTER),
)
def record_administration(
    request: HttpRequest, order_id: str, payload: AdministrationIn
) -> tuple[int, dict[str, Any]]:
    """A nurse charts a dose: given, held or refused with a reason. A given dose
    passes the safety rules first (the episode's first buprenorphine or naltrexone
    dose, every methadone dose). When a rule blocks it the answer is 409 with
    `blocked_by` naming each rule, what it saw, what would satisfy it and its
    cautions; the refusal is audited, and a physician's override of that rule lets
    the dose through. Other 409s: the order is no longer active, or the scheduled
    dose is already charted."""
    actor = api_actor(request)
    order = _order_of(actor, order_id)
    try:
        row = administration_record(
            actor,
            order,
            outcome=payload.outcome,
            at=payload.at,
            scheduled_for=payload.scheduled_for,
            reason=payload.reason,
        )
    except SafetyBlocked as blocked:
        return 409, _blocked(blocked)
    return 201, _administration(_administrations().get(pk=row.pk))


@router.get(
    "/patients/{patient_id}/administrations",
    response={200: list[AdministrationOut], **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def list_administrations(request: HttpRequest, patient_id: str) -> list[dict[str, Any]]:
    """The doses charted in the patient's current stay, newest first, entries in
    error included."""
    actor = api_actor(request)
    patient, basis = patient_access(
        actor, patient_id, permission=Permission.CHART_READ, category=MEDICATIONS
    )
    stay = current_stay_of(patient)
    rows: list[Administration] = []
    if stay is not None:
        rows = list(
            _administrations()
            .filter(organization_id=actor.organization_id, stay=stay)
            .order_by("-at", "-id")
        )
    record_read(
        actor,
        patient,
        basis,
        category=MEDICATIONS,
        object_type="administration_list",
        object_id=stay.public_id if stay else patient.public_id,
    )
    return [_administration(a) for a in rows]


class FollowupIn(ClinicalIn):
    result: str = Field(description="effective, partly or not_effective")
    note: str = ""


@router.post(
    "/administrations/{administration_id}/followup",
    response={200: AdministrationOut, **ERRORS},
    auth=requires_on_record(Permission.MEDICAL_WRITE),
)
def record_followup(
    request: HttpRequest, administration_id: str, payload: FollowupIn
) -> dict[str, Any]:
    """How well an as-needed dose worked; 409 if the dose has no effectiveness check
    or it is already recorded."""
    actor = api_actor(request)
    row = followup_record(
        actor,
        _administration_of(actor, administration_id),
        result=payload.result,
        note=payload.note,
    )
    return _administration(_administrations().get(pk=row.pk))


@router.post(
    "/administrations/{administration_id}/entered-in-error",
    response={200: AdministrationOut, **ERRORS},
    auth=requires_on_record(Permission.MEDICATION_ADMINISTER),
)
def administration_in_error(
    request: HttpRequest, administration_id: str, payload: ReasonIn
) -> dict[str, Any]:
    """Withdraw a dose charted by mistake (it stays on the record); a scheduled dose
    may then be charted again."""
    actor = api_actor(request)
    row = administration_mark_in_error(
        actor, _administration_of(actor, administration_id), reason=payload.reason
    )
    return _administration(_administrations().get(pk=row.pk))


# ---------------------------------------------------------------------------
# The safe-discharge bundle


class BundleItemIn(ClinicalIn):
    state: str = Field(description="done, or declined with a reason")
    reason: str = ""
    moud_answer: str = Field(
        "", description="moud_offer done: " + _allowed(a.value for a in bundle.MoudAnswer)
    )
    appointment_at: datetime | None = Field(
        None, description="next_care done: with its time zone, within 7 days of leaving"
    )
    appointment_with: str = Field("", max_length=200, description="next_care done: with whom")
    at: datetime | None = Field(None, description="When it was done; default now")


class BundleItemOut(Schema):
    item: str
    label: str
    state: str = Field(description="pending, done or declined")
    reason: str
    moud_answer: str
    appointment_at: datetime | None
    appointment_with: str


class BundleGapsOut(Schema):
    transition: list[str] = Field(description="Left to do before moving to the next program")
    discharge: list[str] = Field(description="Left to do before discharge")


class BundleOut(Schema):
    patient: uuid.UUID
    stay: StayRef | None
    withdrawal_management: bool = Field(
        description="Whether the current stay is in withdrawal management (else no bundle)"
    )
    items: list[BundleItemOut]
    gaps: BundleGapsOut = Field(description="What stands between the patient and leaving now")


def _bundle_item(item: bundle.Item, record: bundle.ItemRecord | None) -> dict[str, Any]:
    return {
        "item": item.value,
        "label": bundle.ITEM_LABELS[item],
        "state": record.state.value if record else bundle.State.PENDING.value,
        "reason": record.reason if record else "",
        "moud_answer": record.moud_answer.value if record and record.moud_answer else "",
        "appointment_at": record.appointment_at if record else None,
        "appointment_with": record.appointment_with if record else "",
    }


@router.get(
    "/patients/{patient_id}/discharge-bundle",
    response={200: BundleOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_bundle(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """The bundle of the current withdrawal-management stay: each item pending, done
    or declined, and what would still stop the patient leaving now by a transition
    to the next program or by discharge."""
    actor = api_actor(request)
    patient, basis = patient_access(
        actor, patient_id, permission=Permission.CHART_READ, category=OBSERVATIONS
    )
    stay = current_stay_of(patient)
    applies = stay is not None and stay.program.is_withdrawal_management
    records = bundle_records(stay) if stay is not None and applies else {}
    now = timezone.now()
    gaps: dict[str, list[str]] = {"transition": [], "discharge": []}
    if applies:
        gaps = {
            "transition": bundle.bundle_gaps(records, bundle.Leaving(now, to_next_program=True)),
            "discharge": bundle.bundle_gaps(records, bundle.Leaving(now, to_next_program=False)),
        }
    record_read(
        actor,
        patient,
        basis,
        category=OBSERVATIONS,
        object_type="discharge_bundle",
        object_id=stay.public_id if stay else patient.public_id,
    )
    return {
        "patient": patient.public_id,
        "stay": _stay_ref(stay),
        "withdrawal_management": applies,
        "items": [_bundle_item(i, records.get(i)) for i in bundle.Item] if applies else [],
        "gaps": gaps,
    }


@router.api_operation(
    ["PUT", "POST"],
    "/patients/{patient_id}/discharge-bundle/{item}",
    response={200: BundleItemOut, **ERRORS},
    auth=requires(Permission.DISCHARGE_BUNDLE),
)
def record_bundle_item(
    request: HttpRequest, patient_id: str, item: str, payload: BundleItemIn
) -> dict[str, Any]:
    """Record one item (naloxone_kit, overdose_education, moud_offer, next_care) as
    done, or declined with a reason; a later entry replaces it."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.DISCHARGE_BUNDLE)
    row = bundle_item_record(
        actor,
        patient,
        item=item,
        state=payload.state,
        reason=payload.reason,
        moud_answer=payload.moud_answer,
        appointment_at=payload.appointment_at,
        appointment_with=payload.appointment_with,
        at=payload.at,
    )
    return _bundle_item(bundle.Item(row.item), row.as_rule_input())
