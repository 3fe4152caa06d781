"""Instruments, scoring, a patient's assessments and placement, in the JSON API v1.
The same engine, services and selectors as the pages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from stepwise.api.auth import api_actor
from stepwise.api.permissions import requires
from stepwise.api.schemas import ErrorOut, InputSchema
from stepwise.care.chart import patient_for
from stepwise.core.errors import ValidationFailed
from stepwise.core.roles import Permission
from stepwise.instruments import placement
from stepwise.instruments.engine import Instrument, InvalidResponses
from stepwise.instruments.models import Assessment
from stepwise.instruments.registry import INSTRUMENTS
from stepwise.instruments.selectors import (
    assessment_read,
    assessments_read,
    instrument_or_404,
)
from stepwise.instruments.services import (
    assessment_mark_in_error,
    assessment_record,
    score_or_error,
)
from stepwise.patients.models import Patient

router = Router(tags=["instruments"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}


class InstrumentListItem(Schema):
    code: str
    name: str
    version: str


class AnchorOut(Schema):
    value: int
    label: str


class ItemOut(Schema):
    id: str
    text: str
    guidance: str
    required: bool
    scored: bool
    prompts: list[str]
    anchors: list[AnchorOut]


class BandOut(Schema):
    low: int
    high: int | None
    code: str
    label: str
    published: bool


class ContextFieldOut(Schema):
    id: str
    label: str
    kind: str
    choices: list[tuple[str, str]]
    required: bool
    help: str


class InstrumentOut(Schema):
    code: str
    name: str
    version: str
    source: str
    licence: str
    loinc: str | None
    local_code: str
    totalled: bool
    maximum: int | None
    interpretation: str
    items: list[ItemOut] = Field(description="In the published order.")
    bands: list[BandOut]
    band_context: str | None = Field(
        description="When bands depend on a context fact (AUDIT-C: sex), its id; "
        "the bands of each value are in band_sets."
    )
    band_sets: dict[str, list[BandOut]]
    context: list[ContextFieldOut]


def _bands(bands: tuple[Any, ...]) -> list[dict[str, Any]]:
    return [
        {"low": b.low, "high": b.high, "code": b.code, "label": b.label, "published": b.published}
        for b in bands
    ]


def _definition(instrument: Instrument) -> dict[str, Any]:
    return {
        "code": instrument.code,
        "name": instrument.name,
        "version": instrument.version,
        "source": instrument.source,
        "licence": instrument.licence,
        "loinc": instrument.loinc,
        "local_code": instrument.local_code,
        "totalled": instrument.totalled,
        "maximum": instrument.maximum,
        "interpretation": instrument.interpretation,
        "items": [
            {
                "id": i.id,
                "text": i.text,
                "guidance": i.guidance,
                "required": i.required,
                "scored": i.scored,
                "prompts": list(i.prompts),
                "anchors": [{"value": a.value, "label": a.label} for a in i.anchors],
            }
            for i in instrument.items
        ],
        "bands": _bands(instrument.bands),
        "band_context": instrument.band_context,
        "band_sets": {key: _bands(bands) for key, bands in instrument.band_sets.items()},
        "context": [
            {
                "id": f.id,
                "label": f.label,
                "kind": f.kind,
                "choices": list(f.choices),
                "required": f.required,
                "help": f.help,
            }
            for f in instrument.context_fields
        ],
    }


@router.get(
    "/instruments",
    response={200: list[InstrumentListItem], **READ_ERRORS},
    auth=requires(Permission.INSTRUMENTS_USE),
)
def list_instruments(request: HttpRequest) -> list[dict[str, str]]:
    return [{"code": i.code, "name": i.name, "version": i.version} for i in INSTRUMENTS.values()]


@router.get(
    "/instruments/{code}",
    response={200: InstrumentOut, **READ_ERRORS},
    auth=requires(Permission.INSTRUMENTS_USE),
)
def read_instrument(request: HttpRequest, code: str) -> dict[str, Any]:
    """The full definition: items in published order with ids, allowed values and
    anchor labels, bands, codes and source."""
    return _definition(instrument_or_404(code))


class ScoreIn(InputSchema):
    # Values are checked by the engine, not coerced: "2" or 2.0 is refused by item.
    answers: dict[str, Any] = Field(description="item id -> chosen value")
    context: dict[str, str] = Field(
        default_factory=dict, description="Facts the score depends on (AUDIT-C: sex)."
    )


class SignalOut(Schema):
    code: str
    message: str


class FindingOut(Schema):
    code: str
    label: str
    value: str


class BandRef(Schema):
    code: str
    label: str
    published: bool


class ScoreOut(Schema):
    instrument: str
    version: str
    total: int | None
    band: BandRef | None
    complete: bool
    signals: list[SignalOut]
    findings: list[FindingOut]


@router.post(
    "/instruments/{code}/score",
    response={200: ScoreOut, **ERRORS},
    auth=requires(Permission.INSTRUMENTS_USE),
)
def score(request: HttpRequest, code: str, payload: ScoreIn) -> dict[str, Any]:
    """Score a response without storing anything. A partial response is scored as far
    as it goes (complete: false, no band); a value outside an item's allowed set, an
    unknown item or a malformed fact is a 422 naming each one and what is allowed."""
    instrument = instrument_or_404(code)
    result = score_or_error(instrument, payload.answers, payload.context, partial=True)
    return {
        "instrument": instrument.code,
        "version": instrument.version,
        "total": result.total,
        "band": result.band,
        "complete": result.complete,
        "signals": result.signals,
        "findings": result.findings,
    }


class AssessmentIn(InputSchema):
    instrument: str = Field(description="An instrument code, e.g. cows")
    answers: dict[str, Any]
    context: dict[str, str] = Field(default_factory=dict)
    observed_at: datetime | None = Field(None, description="With its time zone; default now")
    replaces: uuid.UUID | None = Field(
        None, description="The response (entered in error) this one corrects"
    )


class AssessmentOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    episode: uuid.UUID | None
    instrument: str
    version: str
    answers: dict[str, int]
    context: dict[str, str]
    total: int | None
    band: str
    band_label: str
    findings: list[FindingOut]
    signals: list[SignalOut]
    observed_at: datetime
    entered_by: str
    status: str
    error_reason: str
    replaces: uuid.UUID | None


def _assessment(a: Assessment) -> dict[str, Any]:
    return {
        "id": a.public_id,
        "patient": a.patient.public_id,
        "episode": a.episode.public_id if a.episode else None,
        "instrument": a.instrument,
        "version": a.instrument_version,
        "answers": a.answers,
        "context": a.context,
        "total": a.total,
        "band": a.band_code,
        "band_label": a.band_label,
        "findings": a.findings,
        "signals": a.signals,
        "observed_at": a.observed_at,
        "entered_by": a.entered_by.username,
        "status": a.status,
        "error_reason": a.error_reason,
        "replaces": a.replaces.public_id if a.replaces else None,
    }


def _replaced(patient: Patient, replaces: uuid.UUID | None) -> Assessment | None:
    if replaces is None:
        return None
    found = Assessment.objects.filter(
        organization_id=patient.organization_id, patient=patient, public_id=replaces
    ).first()
    if found is None:
        raise ValidationFailed({"replaces": "No response with this id for this patient."})
    return found


@router.post(
    "/patients/{patient_id}/assessments",
    response={201: AssessmentOut, **ERRORS},
    tags=["assessments"],
    auth=requires(Permission.CARE_WRITE),
)
def record_assessment(
    request: HttpRequest, patient_id: str, payload: AssessmentIn
) -> tuple[int, dict[str, Any]]:
    """Score and store a complete response with the instrument version; its safety
    signals open alerts on the chart and the care team's worklist."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.CARE_WRITE)
    assessment = assessment_record(
        actor,
        patient,
        payload.instrument,
        payload.answers,
        context=payload.context,
        observed_at=payload.observed_at,
        replaces=_replaced(patient, payload.replaces),
    )
    return 201, _assessment(assessment)


@router.get(
    "/patients/{patient_id}/assessments",
    response={200: list[AssessmentOut], **READ_ERRORS},
    tags=["assessments"],
    auth=requires(Permission.CHART_READ),
)
def list_assessments(
    request: HttpRequest, patient_id: str, instrument: Query[str] = ""
) -> list[dict[str, Any]]:
    """The patient's responses, newest first (up to 500), entries in error included."""
    rows = assessments_read(api_actor(request), patient_id, instrument=instrument)
    return [_assessment(a) for a in rows]


class ErrorIn(InputSchema):
    reason: str = Field(min_length=1, max_length=1000)


@router.post(
    "/patients/{patient_id}/assessments/{assessment_id}/entered-in-error",
    response={200: AssessmentOut, **ERRORS},
    tags=["assessments"],
    auth=requires(Permission.CARE_WRITE),
)
def mark_in_error(
    request: HttpRequest, patient_id: str, assessment_id: str, payload: ErrorIn
) -> dict[str, Any]:
    """Withdraw a mistaken response from trends and alerts; it stays in the record."""
    actor = api_actor(request)
    _, found = assessment_read(actor, patient_id, assessment_id)
    return _assessment(assessment_mark_in_error(actor, found, reason=payload.reason))


class RatingsIn(InputSchema):
    d1: Any = Field(description="Acute intoxication and/or withdrawal potential, 0-4")
    d2: Any = Field(description="Biomedical conditions and complications, 0-4")
    d3: Any = Field(description="Emotional, behavioral or cognitive conditions, 0-4")
    d4: Any = Field(description="Readiness to change, 0-4")
    d5: Any = Field(description="Relapse, continued use or continued problem potential, 0-4")
    d6: Any = Field(description="Recovery/living environment, 0-4")


class FactsIn(InputSchema):
    imminent_danger: bool = False
    unstable_vitals_or_severe_withdrawal: bool = False
    pregnant: bool = False
    withdrawal_score: tuple[str, int] | None = Field(
        None, description='The latest withdrawal score, e.g. ["cows", 14]: informs D1 only.'
    )


RATING_FIELDS = ("d1", "d2", "d3", "d4", "d5", "d6")


class PlacementIn(InputSchema):
    ratings: RatingsIn
    facts: FactsIn | None = None


class RationaleOut(Schema):
    dimension: int | None
    rule: str
    text: str


class PlacementOut(Schema):
    edition: int
    rules_version: str
    level: str
    withdrawal_level: str | None
    rationale: list[RationaleOut]
    cautions: list[str]


@router.post(
    "/placement/recommend",
    response={200: PlacementOut, **ERRORS},
    tags=["placement"],
    auth=requires(Permission.INSTRUMENTS_USE),
)
def recommend(request: HttpRequest, payload: PlacementIn) -> dict[str, Any]:
    """The least intensive ASAM (3rd edition) level that safely addresses the
    highest-risk dimensions, with a rationale line per dimension naming the rule that
    fired. Decision support: the clinician confirms or overrides. Stores nothing."""
    ratings = payload.ratings
    facts = payload.facts or FactsIn(withdrawal_score=None)
    try:
        found = placement.recommend(
            placement.PlacementInput(
                ratings.d1,
                ratings.d2,
                ratings.d3,
                ratings.d4,
                ratings.d5,
                ratings.d6,
                imminent_danger=facts.imminent_danger,
                unstable_vitals_or_severe_withdrawal=facts.unstable_vitals_or_severe_withdrawal,
                pregnant=facts.pregnant,
                withdrawal_score=facts.withdrawal_score,
            )
        )
    except InvalidResponses as exc:
        raise ValidationFailed(
            {
                (f"ratings.{k}" if k in RATING_FIELDS else f"facts.{k}"): message
                for k, message in exc.errors.items()
            }
        ) from None
    return {
        "edition": placement.EDITION,
        "rules_version": placement.RULES_VERSION,
        "level": found.level,
        "withdrawal_level": found.withdrawal_level,
        "rationale": [
            {"dimension": line.dimension, "rule": line.rule_id, "text": line.text}
            for line in found.rationale
        ],
        "cautions": list(found.cautions),
    }
