"""The flowsheet of one stay: serial withdrawal scores and vital signs in time order,
what is due next, and trend charts of both. Read in a fixed number of queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from stepwise.care.chart import patient_access, record_read
from stepwise.care.models import Stay
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission
from stepwise.instruments.models import Assessment, AssessmentStatus
from stepwise.instruments.registry import instrument_for
from stepwise.instruments.selectors import scores_between
from stepwise.instruments.trend import TrendBand, TrendChart, TrendPoint, build_trend
from stepwise.patients.alerts import AlertView, open_alerts_for_patient
from stepwise.patients.models import Patient
from stepwise.withdrawal import selectors
from stepwise.withdrawal.board import BUPRENORPHINE_DRUGS, INDUCTIONS
from stepwise.withdrawal.models import (
    Administration,
    AdministrationOutcome,
    LastUseReport,
    MedicalAdmission,
    MedicationOrder,
    OrderStatus,
    RecordStatus,
    VitalSigns,
)
from stepwise.withdrawal.rules import due, vitals
from stepwise.withdrawal.rules.safety import LastUse
from stepwise.withdrawal.rules.thresholds import SafetyThresholds, UnitSchedule

CATEGORY = "withdrawal"


@dataclass(frozen=True)
class FlowRow:
    """One line of the flowsheet: a withdrawal score or a set of vital signs."""

    at: datetime
    kind: str  # "cows", "sows" or "vitals"
    assessment: Assessment | None = None
    vitals: VitalSigns | None = None

    @property
    def in_error(self) -> bool:
        if self.assessment is not None:
            return self.assessment.status != AssessmentStatus.FINAL
        assert self.vitals is not None
        return self.vitals.status != RecordStatus.FINAL

    @property
    def by(self) -> str:
        user = self.assessment.entered_by if self.assessment else self.vitals.observed_by  # type: ignore[union-attr]
        return user.get_full_name() or user.username


@dataclass(frozen=True)
class Flowsheet:
    patient: Patient
    stay: Stay | None
    zone: ZoneInfo
    rows: list[FlowRow]
    cows_due: due.Due | None
    vitals_due: due.Due | None
    induction: bool
    schedule: UnitSchedule
    thresholds: SafetyThresholds
    admission: MedicalAdmission | None
    alerts: list[AlertView]
    charts: list[TrendChart]
    # The stay's last-use reports, newest first (entries in error included), and the
    # latest known use of the stay (from them or its medical admission).
    last_use_reports: list[LastUseReport] = field(default_factory=list)
    last_use: LastUse | None = None

    @property
    def is_open(self) -> bool:
        return self.stay is not None and self.stay.ended_at is None


def stay_for_flowsheet(patient: Patient) -> Stay | None:
    """The open stay, or the most recent one (read-only) for a patient who left."""
    stays = Stay.objects.filter(
        organization_id=patient.organization_id, episode__patient=patient
    ).select_related("program__facility", "episode")
    return stays.filter(ended_at__isnull=True).first() or stays.order_by("-started_at").first()


def induction_under_way(stay: Stay, now: datetime) -> bool:
    ordered = (
        MedicationOrder.objects.filter(
            organization_id=stay.organization_id,
            stay=stay,
            status=OrderStatus.ACTIVE,
            drug__in=BUPRENORPHINE_DRUGS,
            bup_start__in=INDUCTIONS,
        )
        .order_by("starts_at")
        .values_list("starts_at", flat=True)
        .first()
    )
    first_dose = (
        Administration.objects.filter(
            organization_id=stay.organization_id,
            order__episode_id=stay.episode_id,
            order__drug__in=BUPRENORPHINE_DRUGS,
            outcome=AdministrationOutcome.GIVEN,
            status=RecordStatus.FINAL,
        )
        .order_by("at")
        .values_list("at", flat=True)
        .first()
    )
    return due.in_induction(induction_ordered_at=ordered, first_dose_at=first_dose, now=now)


def flowsheet_read(actor: Actor, public_id: uuid.UUID | str, now: datetime) -> Flowsheet:
    patient, basis = patient_access(
        actor, public_id, permission=Permission.CHART_READ, category=CATEGORY
    )
    stay = stay_for_flowsheet(patient)
    zone = ZoneInfo(stay.program.facility.time_zone) if stay else ZoneInfo("UTC")
    unit = selectors.unit_schedule_for(stay.program) if stay else UnitSchedule()
    thresholds = selectors.thresholds_for(actor.organization_id)
    rows: list[FlowRow] = []
    cows_due = vitals_due = None
    induction = False
    admission = None
    reports: list[LastUseReport] = []
    last_use = None
    if stay is not None:
        until = stay.ended_at or now
        scores = scores_between(patient, ["cows", "sows"], stay.started_at, until)
        signs = list(
            VitalSigns.objects.filter(
                organization_id=patient.organization_id, stay=stay
            ).select_related("observed_by")
        )
        rows = sorted(
            [FlowRow(a.observed_at, a.instrument, assessment=a) for a in scores]
            + [FlowRow(v.observed_at, "vitals", vitals=v) for v in signs],
            key=lambda r: r.at,
            reverse=True,
        )
        # Serial COWS and vital signs are due in withdrawal management, not in (say) IOP.
        if stay.ended_at is None and stay.program.is_withdrawal_management:
            induction = induction_under_way(stay, now)
            interval = due.reassessment_interval(unit, induction)
            last_cows = max(
                (
                    a.observed_at
                    for a in scores
                    if a.instrument == "cows" and a.status == AssessmentStatus.FINAL
                ),
                default=None,
            )
            last_vitals = max(
                (v.observed_at for v in signs if v.status == RecordStatus.FINAL), default=None
            )
            cows_due = due.reassessment_due(
                what="COWS",
                last_at=last_cows,
                stay_started_at=stay.started_at,
                interval=interval,
                now=now,
            )
            vitals_due = due.reassessment_due(
                what="Vital signs",
                last_at=last_vitals,
                stay_started_at=stay.started_at,
                interval=interval,
                now=now,
            )
        admission = selectors.current_admission(stay.episode)
        reports = list(
            selectors.last_use_reports_of_stay(stay)
            .select_related("recorded_by")
            .order_by("-recorded_at", "-id")
        )
        last_use = selectors.stay_last_use(stay, admission, reports)
    charts = _charts(rows, zone, thresholds) if rows else []
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="flowsheet",
        object_id=stay.public_id if stay else patient.public_id,
    )
    return Flowsheet(
        patient=patient,
        stay=stay,
        zone=zone,
        rows=rows,
        cows_due=cows_due,
        vitals_due=vitals_due,
        induction=induction,
        schedule=unit,
        thresholds=thresholds,
        admission=admission,
        alerts=open_alerts_for_patient(patient),
        charts=charts,
        last_use_reports=reports,
        last_use=last_use,
    )


# Vital-sign charts: (field, title, top of the scale, threshold lines).
VITAL_CHARTS: tuple[tuple[str, str, int, tuple[tuple[int, str], ...]], ...] = (
    ("pulse", "Pulse (beats/min)", 160, ()),
    ("systolic", "Systolic pressure (mmHg)", 220, ((90, "Low"),)),
    (
        "respiratory_rate",
        "Respiratory rate (breaths/min)",
        40,
        ((vitals.RESPIRATORY_RATE_FLOOR, "Over-sedation below"),),
    ),
    ("spo2", "SpO2 (%)", 100, ((vitals.SPO2_FLOOR, "Over-sedation below"),)),
)


def _charts(rows: list[FlowRow], zone: ZoneInfo, thresholds: SafetyThresholds) -> list[TrendChart]:
    oldest_first = rows[::-1]
    charts: list[TrendChart] = []
    cows = [r.assessment for r in oldest_first if r.kind == "cows" and r.assessment]
    if cows:
        instrument = instrument_for("cows")
        charts.append(
            build_trend(
                [
                    TrendPoint(
                        observed_at=a.observed_at.astimezone(zone),
                        value=a.total or 0,
                        in_error=a.status != AssessmentStatus.FINAL,
                        entered_by=a.entered_by.get_full_name() or a.entered_by.username,
                        band_label=a.band_label,
                    )
                    for a in cows
                ],
                maximum=instrument.maximum or 48,
                series_name="COWS",
                bands=[TrendBand(b.low, b.high, b.label, b.code) for b in instrument.bands_for({})],
                thresholds=[(thresholds.bup_cows_threshold, "First buprenorphine dose from")],
                chart_id="flow-cows",
            )
        )
    signs = [r.vitals for r in oldest_first if r.vitals is not None]
    for name, title, top, lines in VITAL_CHARTS:
        points = [
            TrendPoint(
                observed_at=v.observed_at.astimezone(zone),
                value=int(getattr(v, name)),
                in_error=v.status != RecordStatus.FINAL,
                entered_by=v.observed_by.get_full_name() or v.observed_by.username,
            )
            for v in signs
            if getattr(v, name) is not None
        ]
        if points:
            charts.append(
                build_trend(
                    points,
                    maximum=top,
                    series_name=title,
                    thresholds=list(lines),
                    width=320,
                    height=160,
                    chart_id=f"flow-{name}",
                )
            )
    return charts
