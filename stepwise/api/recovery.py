"""Recovery in the JSON API v1: a patient's recovery record (days since the last
confirmed use, the longest stretch without use, relapse events with their response,
recent drug screens with their readings), relapse events recorded by a clinician or
confirmed and dismissed from a proposal, the response checklist item by item, and
urine drug screens from collection to results. Thin over the same services,
selectors and audit rows as the pages.

Days of use are calendar days; times are ISO 8601 with their offset. Substances and
routes are TEDS codes. A screen's unexpected positive proposes a relapse event; only
a clinician confirms it. Nothing here moves the patient between programs."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from stepwise.api.auth import api_actor
from stepwise.api.permissions import requires
from stepwise.api.schemas import ClinicalIn, ErrorOut
from stepwise.care.chart import patient_for
from stepwise.care.recovery import RecoveryTime
from stepwise.core.actor import Actor
from stepwise.core.roles import Permission
from stepwise.patients.models import Patient
from stepwise.recovery import selectors
from stepwise.recovery.models import DrugScreen, RelapseEvent, RelapseStatus, ResponseItem
from stepwise.recovery.rules import relapse as relapse_rules
from stepwise.recovery.services.relapse import (
    UseDetails,
    relapse_confirm,
    relapse_dismiss,
    relapse_mark_in_error,
    relapse_record,
    response_item_record,
)
from stepwise.recovery.services.screens import (
    ScreenInput,
    screen_mark_in_error,
    screen_record,
    screen_results_record,
)

router = Router(tags=["recovery"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}

TEXT = 4000  # the longest free text taken (context, triggers, notes)
REASON = 2000


# ---------------------------------------------------------------------------
# Shapes


class StretchOut(Schema):
    start: date = Field(description="The day of the use it follows, or the start of the record")
    end: date = Field(description="The day of the next use, or today")
    days: int
    ongoing: bool


class RecoveryTimeOut(Schema):
    last_use: date | None = Field(description="The latest confirmed day of use; null if none")
    days_since_last_use: int = Field(
        description="Since the start of the record (the first admission) when no use is on it"
    )
    longest: StretchOut = Field(description="The longest stretch without use, kept after a use")
    uses: int = Field(description="Distinct confirmed days of use on record")


class ResponseItemOut(Schema):
    item: str = Field(description="naloxone, reassessment, moud, plan_review or outreach")
    label: str
    state: str = Field(description="open, done or declined")
    due_at: datetime | None
    note: str
    moud_answer: str = Field(description="accepted, refused, dose_reviewed, or empty")
    evidence_type: str = Field(description="What shows it done ('assessment', a plan), or empty")
    evidence_id: uuid.UUID | None
    settled_by: str | None
    settled_at: datetime | None


class RelapseEventOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    status: str = Field(description="proposed, confirmed, dismissed or entered_in_error")
    source: str = Field(description="clinician, screen, checkin or overdose")
    source_type: str = Field(description="What proposed it ('drug_screen', 'checkin'), or empty")
    source_id: uuid.UUID | None
    proposal: str = Field(description="Why it was proposed (what the screen showed)")
    used_on: date | None
    kind: str = Field(description="lapse or relapse; empty while proposed")
    substances: list[int] = Field(description="TEDS substance codes")
    substance_names: list[str]
    route: int = Field(description="TEDS route code; -9 not recorded")
    overdose: bool = Field(description="A non-fatal overdose")
    context: str
    triggers: str
    recorded_by: str | None
    confirmed_by: str | None
    confirmed_at: datetime | None
    abstinent_days: int | None = Field(description="Days without use before this one")
    flag_until: datetime | None = Field(
        description="End of the overdose-risk flag it raised (tolerance may be lost); null if none"
    )
    closed_by: str | None
    closed_at: datetime | None
    close_reason: str
    settled: bool = Field(description="Confirmed, and no item of its response is left open")
    items: list[ResponseItemOut] = Field(
        description="The response, safety first; empty unless confirmed"
    )


class ReadingOut(Schema):
    analyte: str
    name: str
    result: str = Field(description="positive or negative")
    finding: str = Field(
        description="unexpected_positive, expected_positive, missing_expected (possible "
        "non-adherence), negative or not_interpretable (specimen not valid)"
    )
    finding_label: str
    expected_from: list[str] = Field(description="The medications that make it expected")


class DrugScreenOut(Schema):
    id: uuid.UUID
    patient: uuid.UUID
    status: str = Field(description="collected (results pending), resulted or entered_in_error")
    collected_at: datetime
    observed: bool
    validity: str = Field(description="valid, dilute, substituted, adulterated or invalid")
    medications: list[str] = Field(description="What the patient was taking, as read against")
    note: str
    collected_by: str | None
    resulted_at: datetime | None
    error_reason: str
    results: list[ReadingOut] = Field(description="The analytes tested, as read when resulted")
    proposed_relapse: uuid.UUID | None = Field(
        description="The relapse event its unexpected positives proposed, if any"
    )


class RecoveryOut(Schema):
    patient: uuid.UUID
    time: RecoveryTimeOut
    events: list[RelapseEventOut] = Field(description="Newest day of use first")
    screens: list[DrugScreenOut] = Field(
        description=f"The latest {selectors.RECENT_SCREENS}, newest first"
    )


class UseFieldsIn(ClinicalIn):
    kind: str = Field(description="lapse or relapse")
    route: int = Field(
        -9, description="TEDS route: 1 oral, 2 smoking, 3 inhalation, 4 injection, 5 other, -9"
    )
    overdose: bool = Field(False, description="A non-fatal overdose: always raises the risk flag")
    context: str = Field("", max_length=TEXT)
    triggers: str = Field("", max_length=TEXT)


class UseIn(UseFieldsIn):
    used_on: date | None = Field(description="The day of use (an earlier day is fine)")
    substances: list[int] = Field(
        default_factory=list, description="TEDS substance codes (-9 when nobody knows)"
    )


class ConfirmIn(UseFieldsIn):
    used_on: date | None = Field(None, description="Default: the day the proposal gave, if any")
    substances: list[int] | None = Field(
        None, description="TEDS substance codes; default: those the proposal gave"
    )


class ReasonIn(ClinicalIn):
    reason: str = Field(min_length=1, max_length=REASON)


class ResponseIn(ClinicalIn):
    state: str = Field(description="done or declined")
    note: str = Field(
        "", max_length=TEXT, description="What was done, or why declined (needed but for moud done)"
    )
    moud_answer: str = Field("", description="For moud done: accepted, refused or dose_reviewed")


class ScreenIn(ClinicalIn):
    collected_at: datetime | None = Field(None, description="With its time zone; default now")
    observed: bool = False
    validity: str = Field("valid", description="valid, dilute, substituted, adulterated or invalid")
    medications: list[str] = Field(
        default_factory=list,
        description="What the patient takes that a screen shows: buprenorphine, methadone, "
        "naltrexone, prescribed_opioid, prescribed_benzodiazepine, prescribed_stimulant, "
        "prescribed_barbiturate",
    )
    results: dict[str, str] | None = Field(
        None,
        description="Analyte code -> positive, negative or not_tested, when known at once "
        "(a cup); leave out while the laboratory works",
    )
    note: str = Field("", max_length=TEXT)


class ResultsIn(ClinicalIn):
    results: dict[str, str] = Field(description="Analyte code -> positive, negative or not_tested")
    validity: str | None = Field(None, description="The laboratory's validity finding, if any")


# ---------------------------------------------------------------------------
# Serialising


def _name(user: AbstractBaseUser | None) -> str | None:
    return None if user is None else str(user.get_username())


def _time(found: RecoveryTime) -> dict[str, Any]:
    longest = found.longest
    return {
        "last_use": found.last_use,
        "days_since_last_use": found.days_since_last_use,
        "longest": {
            "start": longest.start,
            "end": longest.end,
            "days": longest.days,
            "ongoing": longest.ongoing,
        },
        "uses": found.uses,
    }


def _item(row: ResponseItem) -> dict[str, Any]:
    return {
        "item": row.item,
        "label": row.label,
        "state": row.state,
        "due_at": row.due_at,
        "note": row.note,
        "moud_answer": row.moud_answer,
        "evidence_type": row.evidence_type,
        "evidence_id": row.evidence_id,
        "settled_by": _name(row.settled_by),
        "settled_at": row.settled_at,
    }


def _event(event: RelapseEvent, patient: Patient) -> dict[str, Any]:
    items = list(event.items.all())
    confirmed = event.status == RelapseStatus.CONFIRMED
    states = {relapse_rules.Item(i.item): relapse_rules.State(i.state) for i in items}
    return {
        "id": event.public_id,
        "patient": patient.public_id,
        "status": event.status,
        "source": event.source,
        "source_type": event.source_type,
        "source_id": event.source_id,
        "proposal": event.proposal,
        "used_on": event.used_on,
        "kind": event.kind,
        "substances": list(event.substances),
        "substance_names": event.substance_names,
        "route": event.route,
        "overdose": event.overdose,
        "context": event.context,
        "triggers": event.triggers,
        "recorded_by": _name(event.recorded_by),
        "confirmed_by": _name(event.confirmed_by),
        "confirmed_at": event.confirmed_at,
        "abstinent_days": event.abstinent_days,
        "flag_until": event.flag_until,
        "closed_by": _name(event.closed_by),
        "closed_at": event.closed_at,
        "close_reason": event.close_reason,
        "settled": confirmed and relapse_rules.is_settled(states),
        "items": [_item(i) for i in items],
    }


def _screen(screen: DrugScreen, patient: Patient, proposed: uuid.UUID | None) -> dict[str, Any]:
    return {
        "id": screen.public_id,
        "patient": patient.public_id,
        "status": screen.status,
        "collected_at": screen.collected_at,
        "observed": screen.observed,
        "validity": screen.validity,
        "medications": list(screen.medications),
        "note": screen.note,
        "collected_by": _name(screen.collected_by),
        "resulted_at": screen.resulted_at,
        "error_reason": screen.error_reason,
        "results": [
            {
                "analyte": r.analyte,
                "name": r.analyte_name,
                "result": r.result,
                "finding": r.finding,
                "finding_label": r.finding_label,
                "expected_from": list(r.expected_from),
            }
            for r in screen.results.all()
        ],
        "proposed_relapse": proposed,
    }


def _event_now(patient: Patient, event: RelapseEvent) -> dict[str, Any]:
    """The event as it is after a write, with its whole response."""
    return _event(selectors.events_of(patient).get(pk=event.pk), patient)


def _screen_now(patient: Patient, screen: DrugScreen) -> dict[str, Any]:
    fresh = selectors.screens_of(patient).get(pk=screen.pk)
    proposal = selectors.proposal_of_screen(fresh)
    return _screen(fresh, patient, proposal.public_id if proposal else None)


# ---------------------------------------------------------------------------
# The recovery record


@router.get(
    "/patients/{patient_id}/recovery",
    response={200: RecoveryOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_recovery(request: HttpRequest, patient_id: str) -> dict[str, Any]:
    """Days since the last confirmed use and the longest stretch without use (a use
    restarts the count and never erases the longest), relapse events with their
    response, and recent drug screens with how each analyte read. Proposed, dismissed
    and entered-in-error events are listed but never counted."""
    found = selectors.recovery_read(api_actor(request), patient_id, timezone.now())
    proposals = {e.source_id: e.public_id for e in found.events if e.source_type == "drug_screen"}
    return {
        "patient": found.patient.public_id,
        "time": _time(found.time),
        "events": [_event(e, found.patient) for e in found.events],
        "screens": [_screen(s, found.patient, proposals.get(s.public_id)) for s in found.screens],
    }


# ---------------------------------------------------------------------------
# Relapse events


def _details(payload: UseFieldsIn, used_on: date | None, substances: list[int]) -> UseDetails:
    return UseDetails(
        used_on=used_on,
        kind=payload.kind,
        substances=substances,
        route=payload.route,
        overdose=payload.overdose,
        context=payload.context,
        triggers=payload.triggers,
    )


@router.post(
    "/patients/{patient_id}/relapses",
    response={201: RelapseEventOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def record_relapse(request: HttpRequest, patient_id: str, payload: UseIn) -> tuple[int, Any]:
    """A clinician records a return to use: confirmed at once, its response started
    (outreach due within the organization's set hours), and the overdose-risk flag
    raised after the set days without use or on an overdose."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.RECOVERY_WRITE)
    event = relapse_record(
        actor, patient, _details(payload, payload.used_on, list(payload.substances))
    )
    return 201, _event_now(patient, event)


@router.get(
    "/patients/{patient_id}/relapses/{event_id}",
    response={200: RelapseEventOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_relapse(request: HttpRequest, patient_id: str, event_id: str) -> dict[str, Any]:
    event = selectors.relapse_read(api_actor(request), patient_id, event_id)
    return _event(event, event.patient)


def _writable(request: HttpRequest, patient_id: str, event_id: str) -> tuple[Actor, RelapseEvent]:
    actor = api_actor(request)
    event = selectors.relapse_read(
        actor, patient_id, event_id, permission=Permission.RECOVERY_WRITE
    )
    return actor, event


@router.post(
    "/patients/{patient_id}/relapses/{event_id}/confirm",
    response={200: RelapseEventOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def confirm_relapse(
    request: HttpRequest, patient_id: str, event_id: str, payload: ConfirmIn
) -> dict[str, Any]:
    """Confirm a proposed relapse with what the clinician learned from the patient; its
    response starts as for one recorded directly. 409 when it is not proposed."""
    actor, event = _writable(request, patient_id, event_id)
    used_on = payload.used_on if payload.used_on is not None else event.used_on
    substances = (
        list(payload.substances) if payload.substances is not None else list(event.substances)
    )
    confirmed = relapse_confirm(actor, event, _details(payload, used_on, substances))
    return _event_now(event.patient, confirmed)


@router.post(
    "/patients/{patient_id}/relapses/{event_id}/dismiss",
    response={200: RelapseEventOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def dismiss_relapse(
    request: HttpRequest, patient_id: str, event_id: str, payload: ReasonIn
) -> dict[str, Any]:
    """A proposal that was not a return to use (a prescription the screen did not know
    of, a false positive the laboratory disproved); kept with the reason."""
    actor, event = _writable(request, patient_id, event_id)
    return _event_now(event.patient, relapse_dismiss(actor, event, reason=payload.reason))


@router.post(
    "/patients/{patient_id}/relapses/{event_id}/entered-in-error",
    response={200: RelapseEventOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def relapse_in_error(
    request: HttpRequest, patient_id: str, event_id: str, payload: ReasonIn
) -> dict[str, Any]:
    """A confirmed event recorded by mistake: kept with its response, no longer
    counted. An overdose-risk flag it raised keeps running."""
    actor, event = _writable(request, patient_id, event_id)
    return _event_now(event.patient, relapse_mark_in_error(actor, event, reason=payload.reason))


@router.post(
    "/patients/{patient_id}/relapses/{event_id}/response/{item}",
    response={200: RelapseEventOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def record_response(
    request: HttpRequest, patient_id: str, event_id: str, item: str, payload: ResponseIn
) -> dict[str, Any]:
    """Record one item of a confirmed relapse's response (naloxone, reassessment, moud,
    plan_review, outreach) as done, or declined with the reason; once. The
    reassessment is done only with an ASAM assessment recorded since the relapse,
    which it links; a step up is decided on the placement, never here."""
    actor, event = _writable(request, patient_id, event_id)
    response_item_record(
        actor,
        event,
        item=item,
        state=payload.state,
        note=payload.note,
        moud_answer=payload.moud_answer,
    )
    return _event_now(event.patient, event)


# ---------------------------------------------------------------------------
# Drug screens


@router.post(
    "/patients/{patient_id}/drug-screens",
    response={201: DrugScreenOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def record_screen(request: HttpRequest, patient_id: str, payload: ScreenIn) -> tuple[int, Any]:
    """Record a collection, with its results when known at once. Results are read
    against the medications given; an unexpected positive proposes a relapse event
    (`proposed_relapse`) for a clinician to confirm or dismiss."""
    actor = api_actor(request)
    patient = patient_for(actor, patient_id, permission=Permission.RECOVERY_WRITE)
    screen = screen_record(
        actor,
        patient,
        ScreenInput(
            collected_at=payload.collected_at,
            observed=payload.observed,
            validity=payload.validity,
            medications=list(payload.medications),
            results=payload.results,
            note=payload.note,
        ),
    )
    return 201, _screen_now(patient, screen)


@router.get(
    "/patients/{patient_id}/drug-screens/{screen_id}",
    response={200: DrugScreenOut, **READ_ERRORS},
    auth=requires(Permission.CHART_READ),
)
def read_screen(request: HttpRequest, patient_id: str, screen_id: str) -> dict[str, Any]:
    screen = selectors.screen_read(api_actor(request), patient_id, screen_id)
    proposal = selectors.proposal_of_screen(screen)
    return _screen(screen, screen.patient, proposal.public_id if proposal else None)


def _screen_writable(
    request: HttpRequest, patient_id: str, screen_id: str
) -> tuple[Actor, DrugScreen]:
    actor = api_actor(request)
    screen = selectors.screen_read(
        actor, patient_id, screen_id, permission=Permission.RECOVERY_WRITE
    )
    return actor, screen


@router.post(
    "/patients/{patient_id}/drug-screens/{screen_id}/results",
    response={200: DrugScreenOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def record_screen_results(
    request: HttpRequest, patient_id: str, screen_id: str, payload: ResultsIn
) -> dict[str, Any]:
    """The laboratory's results of a collected screen, once (409 after)."""
    actor, screen = _screen_writable(request, patient_id, screen_id)
    resulted = screen_results_record(actor, screen, payload.results, validity=payload.validity)
    return _screen_now(screen.patient, resulted)


@router.post(
    "/patients/{patient_id}/drug-screens/{screen_id}/entered-in-error",
    response={200: DrugScreenOut, **ERRORS},
    auth=requires(Permission.RECOVERY_WRITE),
)
def screen_in_error(
    request: HttpRequest, patient_id: str, screen_id: str, payload: ReasonIn
) -> dict[str, Any]:
    """A screen of the wrong patient or recorded twice: kept, marked, not read. A
    relapse it proposed that nobody confirmed yet is dismissed with it."""
    actor, screen = _screen_writable(request, patient_id, screen_id)
    marked = screen_mark_in_error(actor, screen, reason=payload.reason)
    return _screen_now(screen.patient, marked)
