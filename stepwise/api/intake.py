"""The admissions line in the JSON API v1: calls with their crisis triage, the
pre-admission screen, held places, the waitlist, admission from a call, and the bed
board. Thin over the same services, reads and audit rows as the pages."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema

from stepwise.api.auth import api_actor
from stepwise.api.permissions import PermissionToken
from stepwise.api.schemas import ClinicalIn, ErrorOut
from stepwise.care import rules as care_rules
from stepwise.care.models import BedReservation, Program, ReservationStatus
from stepwise.care.selectors import places_board, program_get
from stepwise.care.services import SubstanceUse
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, NotFound, ValidationFailed, allowed_values
from stepwise.core.ids import public_id_or_404
from stepwise.core.roles import Permission
from stepwise.intake import reads, selectors
from stepwise.intake.models import (
    Authorization,
    CallerKind,
    Channel,
    Inquiry,
    InquirySubstance,
    Outcome,
    PayerType,
    Pregnancy,
    ReferralOutReason,
    Screening,
    WaitlistEntry,
    WithdrawalEstimate,
)
from stepwise.intake.rules import screening as screen_rules
from stepwise.intake.rules import triage
from stepwise.intake.services.admission import inquiry_admit
from stepwise.intake.services.inquiries import (
    CONCLUSIONS,
    CallDetails,
    call_details_update,
    crisis_note_add,
    follow_up_set,
    inquiry_conclude,
    inquiry_start,
    lead_review,
)
from stepwise.intake.services.places import place_give_back, place_hold
from stepwise.intake.services.screening import ScreenAnswers, screening_record
from stepwise.intake.services.waitlist import LEAVING_BY_HAND, waitlist_add, waitlist_leave
from stepwise.patients.models import Patient

router = Router(tags=["admissions"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut}

NOTE = 4000  # the longest free text taken in a note


def _allowed(values: Iterable[Any]) -> str:
    return ", ".join(str(v) for v in values)


# ---------------------------------------------------------------------------
# Records named by the path (a call, a waitlist entry): checked before the body is read.


def _inquiry_of(actor: Actor, inquiry_id: str) -> Inquiry:
    """A call of the actor's organization, with what the services read of it; else 404."""
    inquiry = (
        selectors.inquiries_of(actor)
        .filter(public_id=public_id_or_404(inquiry_id))
        .select_related("patient", "reservation__program")
        .first()
    )
    if inquiry is None:
        raise NotFound()
    return inquiry


def _entry_of(actor: Actor, entry_id: str) -> WaitlistEntry:
    entry = (
        WaitlistEntry.objects.filter(
            organization_id=actor.organization_id, public_id=public_id_or_404(entry_id)
        )
        .select_related("inquiry__patient", "inquiry__reservation__program", "program")
        .first()
    )
    if entry is None:
        raise NotFound()
    return entry


class CallToken(PermissionToken):
    """A PermissionToken for paths that name a call or a waitlist entry: the record must
    be in the actor's organization, else 404 (the same for a foreign and an unknown
    id), checked before the body is read."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        actor = super().authenticate(request, token)
        if actor is None:
            return None
        path = request.resolver_match.kwargs if request.resolver_match else {}
        if "inquiry_id" in path:
            _inquiry_of(actor, str(path["inquiry_id"]))
        if "entry_id" in path:
            _entry_of(actor, str(path["entry_id"]))
        return actor


def on_call(permission: Permission) -> CallToken:
    return CallToken(permission)


def _program(actor: Actor, public_id: uuid.UUID, field: str = "program") -> Program:
    """A program named in the body: unknown is a 422 on that field, not a 404 of the URL."""
    try:
        return program_get(actor, public_id)
    except NotFound:
        raise ValidationFailed({field: "No program with this id in your organization."}) from None


# ---------------------------------------------------------------------------
# Shapes


class ProgramRef(Schema):
    id: uuid.UUID
    name: str


class CrisisStepOut(Schema):
    advice: str
    title: str
    how: list[str]


class SubstanceOut(Schema):
    rank: int = Field(description="1 is the main problem")
    substance: int = Field(description="TEDS substance code")
    substance_label: str
    route: int = Field(description="TEDS route code")
    route_label: str
    frequency: str
    frequency_label: str


class ScreeningOut(Schema):
    id: uuid.UUID
    inquiry: uuid.UUID
    screened_at: datetime
    screened_by: str
    withdrawal_estimate: str
    ratings: list[int] = Field(description="ASAM dimensions 1 to 6, each 0-4")
    medical_flags: list[str]
    psychiatric_flags: list[str]
    payer_type: str
    payer_name: str
    payer_member_id: str = Field(description="Masked, e.g. ****5678; empty if not given")
    authorization: str
    authorization_ref: str
    note: str
    recommended_level: str = Field(description="The ASAM level the decision support suggests")
    withdrawal_level: str = Field(description="The -WM level first, or empty when none")
    rationale: list[str]
    cautions: list[str]
    rules_version: str
    suggested_program: ProgramRef | None = Field(
        description="A program here at that level (or the nearest more intensive one), "
        "preferring one with a place open now; null when none offers it"
    )
    suggestion_reasons: list[str]


class WaitlistEntryOut(Schema):
    id: uuid.UUID
    inquiry: uuid.UUID
    program: ProgramRef
    added_at: datetime
    left_at: datetime | None
    exit: str = Field(description="admitted, referred or lost_contact once left")
    exit_reason: str


class HeldPlaceOut(Schema):
    id: uuid.UUID
    program: ProgramRef
    expected_at: datetime
    hold_until: datetime
    holds_place: bool = Field(description="False once the hold time has passed")


class InquiryOut(Schema):
    id: uuid.UUID
    received_at: datetime
    answered_by: str
    channel: str
    caller_kind: str
    caller_name: str
    caller_relationship: str
    caller_phone: str
    callback_ok: bool
    message_ok: bool
    person_name: str
    given_name: str
    family_name: str
    date_of_birth: date | None
    phone: str
    substances: list[SubstanceOut]
    last_use_at: datetime | None
    prior_treatment: int
    prior_treatment_note: str
    pregnancy: str
    last_overdose_on: date | None
    situation_note: str
    referral_source: int
    referring_organization: str
    referring_person: str
    referring_contact: str
    triaged_at: datetime | None
    crisis_signs: list[str] = Field(description="The danger signs answered yes")
    crisis_steps: list[CrisisStepOut] = Field(
        description="The steps advised for them, most urgent first (none without a sign)"
    )
    crisis_note: str
    lead_flagged: bool = Field(description="A danger sign: for the clinical lead's review")
    lead_reviewed_at: datetime | None
    lead_reviewed_by: str | None
    lead_note: str
    outcome: str = Field(description="Empty while nothing is decided; " + _allowed(Outcome.values))
    outcome_at: datetime | None
    outcome_note: str
    is_open: bool = Field(description="The call still needs someone")
    referred_to: str
    referral_out_reason: str
    follow_up_due_at: datetime | None
    follow_up_note: str
    latest_screening: ScreeningOut | None
    waitlist: list[WaitlistEntryOut] = Field(description="Newest first")
    held_place: HeldPlaceOut | None = Field(description="The place still held for the caller")
    patient: uuid.UUID | None = Field(description="Once admitted")
    episode: uuid.UUID | None = Field(description="Once admitted")


def _ref(program: Program) -> dict[str, Any]:
    return {"id": program.public_id, "name": program.name}


def _masked(member_id: str) -> str:
    """Masked as a patient's payer number is (the same rule, not a copy of it)."""
    return Patient(payer_member_id=member_id).payer_member_id_masked


def _screening(row: Screening, inquiry: Inquiry, screened_by: str) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "inquiry": inquiry.public_id,
        "screened_at": row.screened_at,
        "screened_by": screened_by,
        "withdrawal_estimate": row.withdrawal_estimate,
        "ratings": list(row.ratings),
        "medical_flags": list(row.medical_flags),
        "psychiatric_flags": list(row.psychiatric_flags),
        "payer_type": row.payer_type,
        "payer_name": row.payer_name,
        "payer_member_id": _masked(row.payer_member_id),
        "authorization": row.authorization,
        "authorization_ref": row.authorization_ref,
        "note": row.note,
        "recommended_level": row.recommended_level,
        "withdrawal_level": row.withdrawal_level,
        "rationale": list(row.rationale),
        "cautions": list(row.cautions),
        "rules_version": row.rules_version,
        "suggested_program": _ref(row.suggested_program) if row.suggested_program else None,
        "suggestion_reasons": list(row.suggestion_reasons),
    }


def _entry(row: WaitlistEntry, inquiry: Inquiry) -> dict[str, Any]:
    return {
        "id": row.public_id,
        "inquiry": inquiry.public_id,
        "program": _ref(row.program),
        "added_at": row.added_at,
        "left_at": row.left_at,
        "exit": row.exit,
        "exit_reason": row.exit_reason,
    }


def _held(reservation: BedReservation | None) -> dict[str, Any] | None:
    if reservation is None or reservation.status != ReservationStatus.HELD:
        return None
    return {
        "id": reservation.public_id,
        "program": _ref(reservation.program),
        "expected_at": reservation.expected_at,
        "hold_until": reservation.hold_until,
        "holds_place": reservation.holds_place(timezone.now()),
    }


def _steps(inquiry: Inquiry) -> list[dict[str, Any]]:
    """The steps advised on the call, as kept with it (the triage rules gave them)."""
    steps = (triage.STEPS[triage.Advice(code)] for code in inquiry.crisis_advice)
    return [{"advice": s.advice.value, "title": s.title, "how": list(s.how)} for s in steps]


def _substance(row: InquirySubstance) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "substance": row.substance,
        "substance_label": row.get_substance_display(),
        "route": row.route,
        "route_label": row.get_route_display(),
        "frequency": row.frequency,
        "frequency_label": row.get_frequency_display(),
    }


def _inquiry(inquiry: Inquiry) -> dict[str, Any]:
    """From an inquiry of `selectors.inquiry_get` (its details prefetched)."""
    latest = selectors.latest_screening(inquiry)
    return {
        "id": inquiry.public_id,
        "received_at": inquiry.received_at,
        "answered_by": inquiry.answered_by.username,
        "channel": inquiry.channel,
        "caller_kind": inquiry.caller_kind,
        "caller_name": inquiry.caller_name,
        "caller_relationship": inquiry.caller_relationship,
        "caller_phone": inquiry.caller_phone,
        "callback_ok": inquiry.callback_ok,
        "message_ok": inquiry.message_ok,
        "person_name": inquiry.person_name,
        "given_name": inquiry.given_name,
        "family_name": inquiry.family_name,
        "date_of_birth": inquiry.date_of_birth,
        "phone": inquiry.phone,
        "substances": [_substance(s) for s in inquiry.substances.all()],
        "last_use_at": inquiry.last_use_at,
        "prior_treatment": inquiry.prior_treatment,
        "prior_treatment_note": inquiry.prior_treatment_note,
        "pregnancy": inquiry.pregnancy,
        "last_overdose_on": inquiry.last_overdose_on,
        "situation_note": inquiry.situation_note,
        "referral_source": inquiry.referral_source,
        "referring_organization": inquiry.referring_organization,
        "referring_person": inquiry.referring_person,
        "referring_contact": inquiry.referring_contact,
        "triaged_at": inquiry.triaged_at,
        "crisis_signs": list(inquiry.crisis_signs),
        "crisis_steps": _steps(inquiry),
        "crisis_note": inquiry.crisis_note,
        "lead_flagged": inquiry.lead_flagged,
        "lead_reviewed_at": inquiry.lead_reviewed_at,
        "lead_reviewed_by": (
            inquiry.lead_reviewed_by.username if inquiry.lead_reviewed_by else None
        ),
        "lead_note": inquiry.lead_note,
        "outcome": inquiry.outcome,
        "outcome_at": inquiry.outcome_at,
        "outcome_note": inquiry.outcome_note,
        "is_open": inquiry.is_open,
        "referred_to": inquiry.referred_to,
        "referral_out_reason": inquiry.referral_out_reason,
        "follow_up_due_at": inquiry.follow_up_due_at,
        "follow_up_note": inquiry.follow_up_note,
        "latest_screening": (
            _screening(latest, inquiry, latest.screened_by.username) if latest else None
        ),
        "waitlist": [_entry(e, inquiry) for e in inquiry.waitlist.all()],
        "held_place": _held(inquiry.reservation),
        "patient": inquiry.patient.public_id if inquiry.patient else None,
        "episode": inquiry.episode.public_id if inquiry.episode else None,
    }


def _after_write(actor: Actor, inquiry: Inquiry) -> dict[str, Any]:
    """The call as it stands after a write, read as the call page reads it (audited,
    behind the care team once the caller is a patient)."""
    return _inquiry(reads.inquiry_read(actor, inquiry.public_id))


# ---------------------------------------------------------------------------
# Calls


class StartIn(ClinicalIn):
    signs: list[str] = Field(
        description="The danger signs answered yes, asked before anything else; an empty "
        "list is the answer 'none'. Allowed: " + _allowed(s.value for s in triage.Sign)
    )
    channel: str = Field(Channel.PHONE.value, description=allowed_values(Channel.choices))
    received_at: datetime | None = Field(None, description="With its time zone; default now")


@router.post(
    "/inquiries", response={201: InquiryOut, **ERRORS}, auth=on_call(Permission.INTAKE_WRITE)
)
def start_inquiry(request: HttpRequest, payload: StartIn) -> tuple[int, dict[str, Any]]:
    """Open a call with its crisis triage: the danger signs said yes, the steps to take
    now for them (`crisis_steps`: call 911, naloxone, 988...), and a flag for the
    clinical lead when there was any sign. 422 names an unknown sign or channel."""
    actor = api_actor(request)
    inquiry = inquiry_start(
        actor, signs=payload.signs, channel=payload.channel, received_at=payload.received_at
    )
    return 201, _after_write(actor, inquiry)


class InquirySummaryOut(Schema):
    id: uuid.UUID
    received_at: datetime
    answered_by: str
    channel: str
    person_name: str
    caller_kind: str
    crisis_signs: list[str]
    lead_flagged: bool
    lead_reviewed: bool
    outcome: str
    outcome_at: datetime | None
    follow_up_due_at: datetime | None
    follow_up_note: str
    held_place: HeldPlaceOut | None


class DeskOut(Schema):
    open_calls: list[InquirySummaryOut] = Field(description="Calls still needing someone")
    lead_queue: list[InquirySummaryOut] = Field(
        description="Calls flagged in crisis triage, not yet reviewed by the clinical lead"
    )
    follow_ups_due: list[InquirySummaryOut]
    recent_closed: list[InquirySummaryOut]


def _summary(inquiry: Inquiry) -> dict[str, Any]:
    return {
        "id": inquiry.public_id,
        "received_at": inquiry.received_at,
        "answered_by": inquiry.answered_by.username,
        "channel": inquiry.channel,
        "person_name": inquiry.person_name,
        "caller_kind": inquiry.caller_kind,
        "crisis_signs": list(inquiry.crisis_signs),
        "lead_flagged": inquiry.lead_flagged,
        "lead_reviewed": inquiry.lead_reviewed_at is not None,
        "outcome": inquiry.outcome,
        "outcome_at": inquiry.outcome_at,
        "follow_up_due_at": inquiry.follow_up_due_at,
        "follow_up_note": inquiry.follow_up_note,
        "held_place": _held(inquiry.reservation),
    }


@router.get(
    "/inquiries", response={200: DeskOut, **READ_ERRORS}, auth=on_call(Permission.INTAKE_READ)
)
def call_desk(request: HttpRequest) -> dict[str, Any]:
    """The admissions desk: open calls (newest first), the clinical lead's queue and
    the follow-ups due (oldest first), and the calls closed lately."""
    desk = reads.desk_read(api_actor(request), timezone.now())
    return {
        "open_calls": [_summary(i) for i in desk.open_calls],
        "lead_queue": [_summary(i) for i in desk.lead_queue],
        "follow_ups_due": [_summary(i) for i in desk.follow_ups_due],
        "recent_closed": [_summary(i) for i in desk.recent_closed],
    }


@router.get(
    "/inquiries/{inquiry_id}",
    response={200: InquiryOut, **READ_ERRORS},
    auth=on_call(Permission.INTAKE_READ),
)
def read_inquiry(request: HttpRequest, inquiry_id: str) -> dict[str, Any]:
    """One call with its substances, latest screening, waitlist entries and held place."""
    return _inquiry(reads.inquiry_read(api_actor(request), inquiry_id))


class SubstanceIn(ClinicalIn):
    substance: int = Field(
        description="TEDS substance code: "
        + allowed_values(c for c in care_rules.SUBSTANCES if c[0] != -9)
    )
    route: int = Field(-9, description="TEDS route code: " + allowed_values(care_rules.ROUTES))
    frequency: str = Field("unknown", description=allowed_values(care_rules.FREQUENCIES))


class CallDetailsIn(ClinicalIn):
    """The whole record of who called and the person's situation: a field left out is
    cleared (set to its default), as on the page's form."""

    caller_kind: str = Field(CallerKind.SELF.value, description=allowed_values(CallerKind.choices))
    caller_name: str = Field("", max_length=200, description="Required unless the person calls")
    caller_relationship: str = Field("", max_length=100)
    caller_phone: str = Field("", max_length=40)
    callback_ok: bool = False
    message_ok: bool = False
    given_name: str = Field("", max_length=100)
    family_name: str = Field("", max_length=100)
    date_of_birth: date | None = None
    phone: str = Field("", max_length=40)
    substances: list[SubstanceIn] = Field(
        default_factory=list, description="At most three, the main problem first"
    )
    last_use_at: datetime | None = Field(None, description="With its time zone")
    prior_treatment: int = Field(-9, description=allowed_values(care_rules.PRIOR_TREATMENT))
    prior_treatment_note: str = Field("", max_length=300)
    pregnancy: str = Field(Pregnancy.UNKNOWN.value, description=allowed_values(Pregnancy.choices))
    last_overdose_on: date | None = None
    situation_note: str = Field("", max_length=NOTE)
    referral_source: int = Field(-9, description=allowed_values(care_rules.REFERRAL_SOURCES))
    referring_organization: str = Field("", max_length=200)
    referring_person: str = Field("", max_length=200)
    referring_contact: str = Field("", max_length=200)


@router.post(
    "/inquiries/{inquiry_id}/details",
    response={200: InquiryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def record_details(request: HttpRequest, inquiry_id: str, payload: CallDetailsIn) -> dict[str, Any]:
    """Record (or correct) who called, the person, their substances and situation, and
    who referred them. 422 names each field at fault with the allowed values (a
    substance's fields as substance_1, route_1...); 409 once the caller is admitted."""
    actor = api_actor(request)
    data = payload.dict(exclude={"substances"})
    details = CallDetails(
        **data,
        substances=[SubstanceUse(s.substance, s.route, s.frequency) for s in payload.substances],
    )
    inquiry = call_details_update(actor, _inquiry_of(actor, inquiry_id), details)
    return _after_write(actor, inquiry)


class NoteIn(ClinicalIn):
    note: str = Field(max_length=NOTE)


@router.post(
    "/inquiries/{inquiry_id}/crisis-note",
    response={200: InquiryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def add_crisis_note(request: HttpRequest, inquiry_id: str, payload: NoteIn) -> dict[str, Any]:
    """What happened after the advice (911 called, naloxone given, 988 connected),
    stamped with the time and who wrote it."""
    actor = api_actor(request)
    inquiry = crisis_note_add(actor, _inquiry_of(actor, inquiry_id), note=payload.note)
    return _after_write(actor, inquiry)


@router.post(
    "/inquiries/{inquiry_id}/lead-review",
    response={200: InquiryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_LEAD),
)
def review_as_lead(request: HttpRequest, inquiry_id: str, payload: NoteIn) -> dict[str, Any]:
    """The clinical lead's review of a call flagged in crisis triage (directors and
    physicians); 409 when the call was not flagged or is already reviewed."""
    actor = api_actor(request)
    inquiry = lead_review(actor, _inquiry_of(actor, inquiry_id), note=payload.note)
    return _after_write(actor, inquiry)


class ConcludeIn(ClinicalIn):
    outcome: str = Field(description=_allowed(o.value for o in CONCLUSIONS))
    note: str = Field("", max_length=NOTE, description="Required for no_further_contact")
    referred_to: str = Field("", max_length=200, description="Required for referred_out")
    referral_out_reason: str = Field(
        "", description="Required for referred_out: " + allowed_values(ReferralOutReason.choices)
    )


@router.post(
    "/inquiries/{inquiry_id}/conclude",
    response={200: InquiryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def conclude_inquiry(request: HttpRequest, inquiry_id: str, payload: ConcludeIn) -> dict[str, Any]:
    """End a call that leads to no admission here; a held place or a waitlist entry is
    given back with the same reason."""
    actor = api_actor(request)
    inquiry = inquiry_conclude(
        actor,
        _inquiry_of(actor, inquiry_id),
        outcome=payload.outcome,
        note=payload.note,
        referred_to=payload.referred_to,
        referral_out_reason=payload.referral_out_reason,
    )
    return _after_write(actor, inquiry)


class FollowUpIn(ClinicalIn):
    due_at: datetime | None = Field(
        description="When someone must call back, with its time zone; null clears it"
    )
    note: str = Field("", max_length=300, description="What the follow-up is for")


@router.post(
    "/inquiries/{inquiry_id}/follow-up",
    response={200: InquiryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def set_follow_up(request: HttpRequest, inquiry_id: str, payload: FollowUpIn) -> dict[str, Any]:
    """Set when someone must call back (and why), or clear it when done."""
    actor = api_actor(request)
    inquiry = follow_up_set(
        actor, _inquiry_of(actor, inquiry_id), due_at=payload.due_at, note=payload.note
    )
    return _after_write(actor, inquiry)


# ---------------------------------------------------------------------------
# The pre-admission screen


class ScreenIn(ClinicalIn):
    withdrawal_estimate: str = Field(description=allowed_values(WithdrawalEstimate.choices))
    ratings: list[int] = Field(description="ASAM dimensions 1 to 6 in order, each 0-4")
    medical_flags: list[str] = Field(
        default_factory=list, description=allowed_values(screen_rules.MEDICAL_FLAGS)
    )
    psychiatric_flags: list[str] = Field(
        default_factory=list, description=allowed_values(screen_rules.PSYCHIATRIC_FLAGS)
    )
    payer_type: str = Field(description=allowed_values(PayerType.choices))
    payer_name: str = Field("", max_length=200)
    payer_member_id: str = Field(
        "", description="Stored encrypted; responses show it masked (at most 40 characters)"
    )
    authorization: str = Field(
        Authorization.UNKNOWN.value, description=allowed_values(Authorization.choices)
    )
    authorization_ref: str = Field("", max_length=100)
    note: str = Field("", max_length=NOTE)


@router.post(
    "/inquiries/{inquiry_id}/screening",
    response={201: ScreeningOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def record_screening(
    request: HttpRequest, inquiry_id: str, payload: ScreenIn
) -> tuple[int, dict[str, Any]]:
    """A short pre-admission screen: the placement decision support's level (and
    withdrawal-management level) with its rationale and cautions, and the program here
    it suggests with its reasons. It suggests; people decide. 409 once admitted."""
    actor = api_actor(request)
    inquiry = _inquiry_of(actor, inquiry_id)
    answers = ScreenAnswers(**payload.dict())
    row = screening_record(actor, inquiry, answers)
    return 201, _screening(row, inquiry, actor.username)


# ---------------------------------------------------------------------------
# Held places


class HoldIn(ClinicalIn):
    program: uuid.UUID
    expected_at: datetime = Field(
        description="The expected arrival, with its time zone; the place is held for the "
        "organization's hold time after it"
    )


@router.post(
    "/inquiries/{inquiry_id}/hold",
    response={200: InquiryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def hold_place(request: HttpRequest, inquiry_id: str, payload: HoldIn) -> dict[str, Any]:
    """Hold a place in a program for the caller's expected arrival: it counts on the
    bed board at once. 409 when the program is full or a place is already held."""
    actor = api_actor(request)
    inquiry = _inquiry_of(actor, inquiry_id)
    program = _program(actor, payload.program)
    inquiry = place_hold(actor, inquiry, program, expected_at=payload.expected_at)
    return _after_write(actor, inquiry)


class ReasonIn(ClinicalIn):
    reason: str = Field(max_length=NOTE)


@router.post(
    "/inquiries/{inquiry_id}/give-back",
    response={200: InquiryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def give_back_place(request: HttpRequest, inquiry_id: str, payload: ReasonIn) -> dict[str, Any]:
    """Release the place held for the caller (plans changed); 409 when none is held."""
    actor = api_actor(request)
    inquiry = place_give_back(actor, _inquiry_of(actor, inquiry_id), reason=payload.reason)
    return _after_write(actor, inquiry)


# ---------------------------------------------------------------------------
# Admission from the call


class MatchOut(Schema):
    id: uuid.UUID
    given_name: str
    family_name: str
    preferred_name: str
    date_of_birth: date
    mrn: str


@router.get(
    "/inquiries/{inquiry_id}/matches",
    response={200: list[MatchOut], **READ_ERRORS},
    auth=on_call(Permission.INTAKE_READ),
)
def list_matches(request: HttpRequest, inquiry_id: str) -> list[dict[str, Any]]:
    """Patients who may be the caller (same family name and date of birth), for the
    worker to confirm before admitting; empty until the call has both. Audited."""
    actor = api_actor(request)
    inquiry = _inquiry_of(actor, inquiry_id)
    found = reads.matches_read(actor, inquiry)
    return [
        {
            "id": p.public_id,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "preferred_name": p.preferred_name,
            "date_of_birth": p.date_of_birth,
            "mrn": p.mrn,
        }
        for p in found
    ]


class AdmitFromCallIn(ClinicalIn):
    program: uuid.UUID
    patient: uuid.UUID | None = Field(
        None,
        description="The existing patient the worker confirmed as the caller (one of the "
        "call's matches, GET …/matches)",
    )
    new_patient: bool = Field(
        False,
        description="Register a new patient from the call: needed when the call has "
        "matches and none of them is the caller",
    )
    mrn: str = Field(
        "", max_length=32, description="Record number of a new patient; default one is made"
    )
    admitted_at: datetime | None = Field(None, description="With its time zone; default now")


class AdmittedOut(Schema):
    inquiry: uuid.UUID
    patient: uuid.UUID
    episode: uuid.UUID
    mrn: str
    created_patient: bool


@router.post(
    "/inquiries/{inquiry_id}/admit",
    response={201: AdmittedOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def admit_from_call(
    request: HttpRequest, inquiry_id: str, payload: AdmitFromCallIn
) -> tuple[int, dict[str, Any]]:
    """Admit the caller: the confirmed patient or a new one registered from the call,
    with an episode carrying what the call captured; the held place is taken and the
    waitlist entry ends. 409 if already admitted, the program is full, or the patient
    has an open episode."""
    actor = api_actor(request)
    inquiry = _inquiry_of(actor, inquiry_id)
    program = _program(actor, payload.program)
    matches = reads.matches_read(actor, inquiry)
    patient = None
    if payload.patient is not None:
        patient = next((p for p in matches if p.public_id == payload.patient), None)
        if patient is None:
            raise ValidationFailed(
                {
                    "patient": "Not one of this call's matches (same family name and date "
                    "of birth); say new_patient to register a new patient."
                }
            )
    elif matches and not payload.new_patient:
        # Never merged silently, never duplicated silently: the worker confirms.
        raise Conflict(
            f"{len(matches)} existing patient(s) match this call's name and date of birth "
            f"({', '.join(str(p.public_id) for p in matches)}): give patient, or "
            "new_patient true if none of them is the caller."
        )
    admitted = inquiry_admit(
        actor, inquiry, program, patient=patient, mrn=payload.mrn, at=payload.admitted_at
    )
    return 201, {
        "inquiry": inquiry.public_id,
        "patient": admitted.patient.public_id,
        "episode": admitted.episode.public_id,
        "mrn": admitted.patient.mrn,
        "created_patient": admitted.created_patient,
    }


# ---------------------------------------------------------------------------
# The waitlist


class WaitingOut(Schema):
    id: uuid.UUID = Field(description="The waitlist entry")
    inquiry: uuid.UUID
    person_name: str
    program: ProgramRef
    facility: str
    priority: int = Field(description="1 is the most urgent")
    priority_label: str
    days_waiting: int
    added_at: datetime
    held_place: HeldPlaceOut | None


@router.get(
    "/waitlist",
    response={200: list[WaitingOut], **READ_ERRORS},
    auth=on_call(Permission.INTAKE_READ),
)
def list_waitlist(request: HttpRequest) -> list[dict[str, Any]]:
    """Everyone waiting: the most urgent priority first (pregnant and injecting,
    pregnant, injecting, recent overdose, other), then who has waited longest."""
    waiting = reads.waitlist_read(api_actor(request), timezone.now())
    return [
        {
            "id": w.entry.public_id,
            "inquiry": w.inquiry.public_id,
            "person_name": w.inquiry.person_name,
            "program": _ref(w.entry.program),
            "facility": w.entry.program.facility.name,
            "priority": int(w.priority),
            "priority_label": w.priority_label,
            "days_waiting": w.days_waiting,
            "added_at": w.entry.added_at,
            "held_place": _held(w.inquiry.reservation),
        }
        for w in waiting
    ]


class WaitlistIn(ClinicalIn):
    inquiry: uuid.UUID
    program: uuid.UUID


@router.post(
    "/waitlist", response={201: WaitlistEntryOut, **ERRORS}, auth=on_call(Permission.INTAKE_WRITE)
)
def add_to_waitlist(request: HttpRequest, payload: WaitlistIn) -> tuple[int, dict[str, Any]]:
    """Put the caller on a program's waitlist (one list at a time); 409 when the call
    is closed or the caller already waits."""
    actor = api_actor(request)
    try:
        inquiry = _inquiry_of(actor, str(payload.inquiry))
    except NotFound:
        raise ValidationFailed({"inquiry": "No call with this id in your organization."}) from None
    program = _program(actor, payload.program)
    entry = waitlist_add(actor, inquiry, program)
    return 201, _entry(entry, inquiry)


class LeaveIn(ClinicalIn):
    exit: str = Field(description=_allowed(e.value for e in LEAVING_BY_HAND))
    reason: str = Field(max_length=NOTE)
    referred_to: str = Field("", max_length=200, description="Required when referred")
    referral_out_reason: str = Field(
        "", description="Required when referred: " + allowed_values(ReferralOutReason.choices)
    )


@router.post(
    "/waitlist/{entry_id}/leave",
    response={200: WaitlistEntryOut, **ERRORS},
    auth=on_call(Permission.INTAKE_WRITE),
)
def leave_waitlist(request: HttpRequest, entry_id: str, payload: LeaveIn) -> dict[str, Any]:
    """Take someone off the waitlist, referred elsewhere or after losing contact, with
    the reason; the call ends the same way. (An admission takes them off itself.)"""
    actor = api_actor(request)
    entry = waitlist_leave(
        actor,
        _entry_of(actor, entry_id),
        exit=payload.exit,
        reason=payload.reason,
        referred_to=payload.referred_to,
        referral_out_reason=payload.referral_out_reason,
    )
    return _entry(entry, entry.inquiry)


# ---------------------------------------------------------------------------
# The bed board


class BedsOut(Schema):
    program: uuid.UUID
    name: str
    facility: str
    level: str = Field(description="ASAM level, e.g. 3.7-WM")
    withdrawal_management: bool
    is_24_hour: bool
    capacity: int | None = Field(description="Beds, or a cap on places; null when uncapped")
    occupied: int
    reserved: int = Field(description="Places held for expected admissions")
    available_now: int | None
    expected_tomorrow: int | None = Field(
        description="Open by the end of tomorrow, counting planned discharges"
    )
    over_capacity: bool


@router.get(
    "/beds", response={200: list[BedsOut], **READ_ERRORS}, auth=on_call(Permission.CENSUS_READ)
)
def bed_board(request: HttpRequest) -> list[dict[str, Any]]:
    """Every active program's places now (counts only, no patient)."""
    return [
        {
            "program": row.program.public_id,
            "name": row.program.name,
            "facility": row.facility.name,
            "level": row.program.asam_level,
            "withdrawal_management": row.program.is_withdrawal_management,
            "is_24_hour": row.program.is_24_hour,
            "capacity": row.places.capacity,
            "occupied": row.places.occupied,
            "reserved": row.places.reserved,
            "available_now": row.places.available_now,
            "expected_tomorrow": row.places.expected_tomorrow,
            "over_capacity": row.places.over_capacity,
        }
        for row in places_board(api_actor(request), timezone.now())
    ]
