"""Reads of assessments: scoped to the organization, audited as reads of the
patient's assessments, in a fixed number of queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet

from stepwise.care.chart import patient_access, record_read
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.core.roles import Permission
from stepwise.instruments.engine import Instrument
from stepwise.instruments.models import Assessment, AssessmentStatus
from stepwise.instruments.registry import INSTRUMENTS, UnknownInstrument, instrument_for
from stepwise.patients.access import AccessBasis
from stepwise.patients.models import Patient

CATEGORY = "assessments"


def _of(patient: Patient) -> QuerySet[Assessment]:
    return Assessment.objects.filter(organization_id=patient.organization_id, patient=patient)


@dataclass(frozen=True)
class InstrumentSummary:
    instrument: Instrument
    latest: Assessment | None
    count: int


def latest_by_instrument(patient: Patient) -> list[InstrumentSummary]:
    """The newest current response to each instrument and how many there are: two
    queries whatever the length of the history."""
    current = _of(patient).filter(status=AssessmentStatus.FINAL)
    stats = {
        row["instrument"]: row
        for row in current.order_by()
        .values("instrument")
        .annotate(last=Max("observed_at"), n=Count("id"))
    }
    latest: dict[str, Assessment] = {}
    if stats:
        newest = Q()
        for code, row in stats.items():
            newest |= Q(instrument=code, observed_at=row["last"])
        for assessment in current.filter(newest).select_related("entered_by").order_by("-id"):
            latest.setdefault(assessment.instrument, assessment)
    return [
        InstrumentSummary(instrument, latest.get(code), stats[code]["n"] if code in stats else 0)
        for code, instrument in INSTRUMENTS.items()
    ]


def instrument_or_404(code: str) -> Instrument:
    try:
        return instrument_for(code)
    except UnknownInstrument:
        raise NotFound() from None


def patient_assessments_access(
    actor: Actor, public_id: uuid.UUID | str, permission: Permission = Permission.CHART_READ
) -> tuple[Patient, AccessBasis]:
    return patient_access(actor, public_id, permission=permission, category=CATEGORY)


def history_read(
    actor: Actor, public_id: uuid.UUID | str, code: str
) -> tuple[Patient, Instrument, list[Assessment]]:
    """Every response of the patient to one instrument, oldest first, entries in error
    included (shown struck through), with its audit row."""
    instrument = instrument_or_404(code)
    patient, basis = patient_assessments_access(actor, public_id)
    rows = list(
        _of(patient)
        .filter(instrument=instrument.code)
        .select_related("entered_by", "episode")
        .order_by("observed_at", "id")
    )
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="assessment_history",
        object_id=patient.public_id,
        detail={"instrument": instrument.code},
    )
    return patient, instrument, rows


def assessment_read(
    actor: Actor, public_id: uuid.UUID | str, assessment_id: uuid.UUID | str
) -> tuple[Patient, Assessment]:
    """One response with who entered it (and its placement, for ASAM), audited."""
    patient, basis = patient_assessments_access(actor, public_id)
    try:
        assessment = (
            _of(patient)
            .select_related(
                "entered_by",
                "error_marked_by",
                "episode",
                "placement__decided_by",
                "placement__started_stay__program",
            )
            .get(public_id=public_id_or_404(assessment_id))
        )
    except Assessment.DoesNotExist:
        raise NotFound() from None
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="assessment",
        object_id=assessment.public_id,
    )
    return patient, assessment


def baseline_for(patient: Patient, code: str, episode_id: int | None) -> Assessment | None:
    """The first current response of the episode (or of the whole record when not in
    care): what a total without bands (SOWS, craving) is read against."""
    current = _of(patient).filter(instrument=code, status=AssessmentStatus.FINAL)
    if episode_id is not None:
        current = current.filter(episode_id=episode_id)
    return current.order_by("observed_at", "id").first()


# A withdrawal score older than this says little about the patient now.
WITHDRAWAL_SCORE_WINDOW = timedelta(hours=24)


def latest_withdrawal_score(patient: Patient, at: datetime) -> Assessment | None:
    """The newest current COWS within a day before `at`: what informs dimension 1."""
    return (
        _of(patient)
        .filter(
            instrument="cows",
            status=AssessmentStatus.FINAL,
            observed_at__lte=at + timedelta(minutes=5),
            observed_at__gte=at - WITHDRAWAL_SCORE_WINDOW,
        )
        .order_by("-observed_at", "-id")
        .first()
    )


def scores_between(
    patient: Patient, codes: list[str], since: datetime, until: datetime
) -> list[Assessment]:
    """The patient's responses to these instruments observed in [since, until], entries
    in error included (a flowsheet shows them struck through), with who entered them."""
    return list(
        _of(patient)
        .filter(instrument__in=codes, observed_at__gte=since, observed_at__lte=until)
        .select_related("entered_by")
    )


def totals_between(
    patient: Patient, code: str, since: datetime, until: datetime
) -> list[tuple[int, datetime]]:
    """(total, observed at) of the patient's current scored responses in [since, until]."""
    rows = (
        _of(patient)
        .filter(
            instrument=code,
            status=AssessmentStatus.FINAL,
            observed_at__gte=since,
            observed_at__lte=until,
            total__isnull=False,
        )
        .values_list("total", "observed_at")
    )
    return [(total, at) for total, at in rows if total is not None]


def latest_scores_since(
    organization_id: int, since_by_patient: dict[int, datetime], code: str, until: datetime
) -> dict[int, Assessment]:
    """Each patient's newest current response to one instrument observed from their
    own start time to `until` (a unit's beds, each since its admission): one query
    however many patients, returning only the newest rows."""
    if not since_by_patient:
        return {}
    current = Assessment.objects.filter(
        organization_id=organization_id,
        instrument=code,
        status=AssessmentStatus.FINAL,
        observed_at__lte=until,
    )
    newer = current.filter(
        patient_id=OuterRef("patient_id"), observed_at__gt=OuterRef("observed_at")
    )
    rows = (
        current.filter(
            patient_id__in=list(since_by_patient),
            observed_at__gte=min(since_by_patient.values()),
        )
        .exclude(Exists(newer))
        .only("id", "patient_id", "observed_at", "total", "band_code", "band_label", "public_id")
        .order_by("-id")
    )
    latest: dict[int, Assessment] = {}
    for row in rows:
        if row.observed_at >= since_by_patient[row.patient_id]:
            latest.setdefault(row.patient_id, row)
    return latest


def assessments_read(
    actor: Actor, public_id: uuid.UUID | str, *, instrument: str = "", limit: int = 500
) -> list[Assessment]:
    """The patient's responses, newest first (one instrument, or all), audited."""
    if instrument:
        instrument_or_404(instrument)
    patient, basis = patient_assessments_access(actor, public_id)
    rows = _of(patient).select_related("patient", "entered_by", "episode", "replaces")
    if instrument:
        rows = rows.filter(instrument=instrument)
    found = list(rows.order_by("-observed_at", "-id")[:limit])
    record_read(
        actor,
        patient,
        basis,
        category=CATEGORY,
        object_type="assessment_list",
        object_id=patient.public_id,
        detail={"instrument": instrument} if instrument else None,
    )
    return found
