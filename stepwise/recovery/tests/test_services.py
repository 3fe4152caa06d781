"""The recovery services on a real database: relapse events (recorded, proposed,
confirmed, dismissed, entered in error), their response checklist, and urine drug
screens with what they propose. Who may write, and that a refusal writes nothing.
Nothing here ever moves the patient between programs."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from stepwise.care.models import Episode, Stay
from stepwise.care.rules import LEVELS_BY_EDITION
from stepwise.care.services import episode_admit, episode_discharge
from stepwise.core.errors import AccessDenied, Conflict, NotFound, OutsideCareTeam, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.instruments.definitions.asam import D4, D5, D6, DIMENSIONS
from stepwise.instruments.models import Assessment
from stepwise.instruments.placement import PlacementInput, rank, recommend
from stepwise.instruments.services import assessment_record
from stepwise.patients.flags import LOST_TOLERANCE
from stepwise.patients.models import Patient, RiskFlag, Task, TaskStatus
from stepwise.recovery.models import (
    DrugScreen,
    RecoverySettings,
    RelapseEvent,
    RelapseStatus,
    ResponseItem,
    ScreenResult,
    ScreenStatus,
)
from stepwise.recovery.rules.relapse import checklist
from stepwise.recovery.services.relapse import (
    OUTREACH_TASK,
    REVIEW_TASK,
    UseDetails,
    relapse_confirm,
    relapse_dismiss,
    relapse_get,
    relapse_mark_in_error,
    relapse_propose,
    relapse_record,
    response_item_record,
    response_item_settle,
)
from stepwise.recovery.services.screens import (
    ScreenInput,
    screen_get,
    screen_mark_in_error,
    screen_record,
    screen_results_record,
)

# Monday 2026-11-02, mid-afternoon (UTC, the server's day).
NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
TODAY = NOW.date()
ADMITTED = NOW - timedelta(days=60)
LOW_ASAM = dict.fromkeys(DIMENSIONS, 1)
# Readiness, relapse potential and environment rated significant after a return to use.
HIGH_ASAM = {**LOW_ASAM, D4: 3, D5: 3, D6: 3}


@pytest.fixture(autouse=True)
def _monday_afternoon() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


# --- helpers (the selector and API tests use them too) ------------------------------------


def admit(cast: Any, patient: Patient | None = None, at: datetime = ADMITTED) -> Episode:
    return episode_admit(cast.actors["owner"], patient or cast.patient, cast.iop, at=at)


def use(days_ago: int, **changes: Any) -> UseDetails:
    """A return to use `days_ago` days before today: fentanyl, smoked."""
    fields: dict[str, Any] = {
        "used_on": TODAY - timedelta(days=days_ago),
        "kind": "relapse",
        "substances": [7],
        "route": 2,
        "context": "Alone at home after a shift",
        "triggers": "Payday; an old friend called",
    }
    fields.update(changes)
    return UseDetails(**fields)


def record(cast: Any, days_ago: int = 1, *, who: str = "owner", **changes: Any) -> RelapseEvent:
    return relapse_record(cast.actors[who], cast.patient, use(days_ago, **changes))


def propose(
    cast: Any, patient: Patient | None = None, source_id: uuid.UUID | None = None
) -> RelapseEvent:
    return relapse_propose(
        cast.actors["owner"],
        patient or cast.patient,
        source="checkin",
        source_type="checkin",
        source_id=source_id or uuid.uuid4(),
        note="Reported using on Saturday in the portal check-in.",
    )


def screen(cast: Any, results: dict[str, str] | None = None, **changes: Any) -> DrugScreen:
    data = ScreenInput(
        **{"medications": ["buprenorphine"], "results": results, "observed": True, **changes}
    )
    return screen_record(cast.actors["owner"], cast.patient, data)


def rows(**filters: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(category="recovery", **filters).order_by("id"))


def tasks(event: RelapseEvent, kind: str) -> list[Task]:
    return list(Task.objects.filter(source_id=event.public_id, kind=kind))


def items_of(event: RelapseEvent) -> dict[str, ResponseItem]:
    return {i.item: i for i in ResponseItem.objects.filter(event=event)}


def stays_of(patient: Patient) -> list[tuple[Any, ...]]:
    return list(
        Stay.objects.filter(episode__patient=patient)
        .order_by("id")
        .values_list("id", "program_id", "started_at", "ended_at", "entry_kind")
    )


# --- recording a return to use --------------------------------------------------------------


def test_a_recorded_relapse_is_confirmed_at_once_and_starts_the_whole_response(cast):
    episode = admit(cast)
    RecoverySettings.objects.create(organization=cast.org, outreach_hours=12)
    event = record(cast, 1)
    assert event.status == RelapseStatus.CONFIRMED and event.source == "clinician"
    assert event.confirmed_by == cast.users["owner"] and event.recorded_by == cast.users["owner"]
    assert event.confirmed_at is not None and event.episode == episode
    assert event.used_on == TODAY - timedelta(days=1) and event.substances == [7]
    assert event.abstinent_days == 59  # from the admission day, no earlier use
    items = list(ResponseItem.objects.filter(event=event).order_by("id"))
    assert [i.item for i in items] == [str(i) for i in checklist()]
    assert all(i.is_open for i in items)
    due = event.confirmed_at + timedelta(hours=12)
    assert [i.due_at for i in items] == [None, None, None, None, due]
    (outreach,) = tasks(event, OUTREACH_TASK)
    assert outreach.status == TaskStatus.OPEN and outreach.due_at == due
    assert outreach.patient == cast.patient
    (row,) = rows()
    assert row.action == "create" and row.object_type == "relapse_event"
    assert row.object_id == str(event.public_id) and row.patient_public_id == cast.patient.public_id
    assert row.detail["status"] == "confirmed" and row.detail["raised"] == ["overdose_risk_flag"]


def test_a_use_after_the_set_days_without_use_raises_the_overdose_risk_flag(cast):
    admit(cast)
    RecoverySettings.objects.create(organization=cast.org, tolerance_days=10, flag_days=14)
    first = record(cast, 20)
    (flag,) = RiskFlag.objects.filter(patient=cast.patient)
    assert flag.kind == LOST_TOLERANCE and flag.source_id == first.public_id
    assert first.confirmed_at is not None
    assert flag.ends_at == first.confirmed_at + timedelta(days=14) == first.flag_until
    assert flag.raised_by == cast.users["owner"] and "40 days without use" in flag.reason
    soon = record(cast, 15)  # five days after the first: tolerance kept
    assert soon.abstinent_days == 5 and soon.flag_until is None
    assert rows()[-1].detail["raised"] == []
    boundary = record(cast, 5)  # exactly ten days after the last one
    assert boundary.abstinent_days == 10 and boundary.flag_until is not None
    assert RiskFlag.objects.filter(patient=cast.patient, kind=LOST_TOLERANCE).count() == 2


def test_an_overdose_always_raises_the_flag(cast):
    admit(cast)
    record(cast, 3)
    overdose = record(cast, 2, overdose=True)
    assert overdose.abstinent_days == 1 and overdose.overdose
    assert overdose.source == "overdose" and overdose.flag_until is not None
    flags = RiskFlag.objects.filter(patient=cast.patient, source_id=overdose.public_id)
    assert flags.count() == 1 and "non-fatal overdose" in flags.get().reason


def test_the_day_of_use_is_checked_against_today_and_the_first_admission(cast):
    admit(cast)
    for details, message in [
        (use(-1), "cannot be after today"),
        (use(61), "The patient's record starts on 2026-09-03 (first admission)"),
        (use(0, used_on=None), "Give the day of use"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            relapse_record(cast.actors["owner"], cast.patient, details)
        assert set(refused.value.errors) == {"used_on"}
        assert message in refused.value.errors["used_on"]
    assert record(cast, 60).abstinent_days == 0  # the day of admission itself is fine
    assert RelapseEvent.objects.count() == 1


def test_a_patient_never_admitted_counts_from_registration(cast):
    with pytest.raises(ValidationFailed) as refused:
        record(cast, 2)
    assert "record starts on 2026-11-02" in refused.value.errors["used_on"]
    assert record(cast, 0).episode is None


@pytest.mark.parametrize(
    ("changes", "field", "names"),
    [
        ({"kind": "binge"}, "kind", "lapse, relapse"),
        ({"kind": ""}, "kind", "lapse, relapse"),
        ({"substances": [99]}, "substances", "7 (Other opiates and synthetics"),
        ({"substances": [1]}, "substances", "5 (Heroin)"),
        ({"substances": []}, "substances", "Not recorded, -9"),
        ({"substances": [7, 7]}, "substances", "each substance once"),
        ({"route": 42}, "route", "4 (Injection (IV or intramuscular))"),
    ],
)
def test_invalid_details_are_refused_naming_the_allowed_values(cast, changes, field, names):
    admit(cast)
    with pytest.raises(ValidationFailed) as refused:
        record(cast, 1, **changes)
    assert set(refused.value.errors) == {field}
    assert names in refused.value.errors[field]
    assert not RelapseEvent.objects.exists() and not Task.objects.exists()
    assert rows() == []


def test_every_field_at_fault_is_named_at_once(cast):
    admit(cast)
    with pytest.raises(ValidationFailed) as refused:
        record(cast, -3, kind="binge", substances=[], route=0)
    assert set(refused.value.errors) == {"used_on", "kind", "substances", "route"}


# --- proposals ------------------------------------------------------------------------------


def test_a_proposal_is_one_per_source_and_asks_for_a_review(cast):
    admit(cast)
    source_id = uuid.uuid4()
    first = propose(cast, source_id=source_id)
    again = propose(cast, source_id=source_id)
    assert again.pk == first.pk and RelapseEvent.objects.count() == 1
    assert first.status == RelapseStatus.PROPOSED and first.source == "checkin"
    assert first.used_on is None and first.confirmed_at is None
    assert not ResponseItem.objects.exists()  # the response starts only when confirmed
    (review,) = tasks(first, REVIEW_TASK)
    assert review.status == TaskStatus.OPEN and "check-in" in review.title
    with pytest.raises(ValidationFailed) as refused:
        relapse_propose(
            cast.actors["owner"],
            cast.patient,
            source="clinician",
            source_type="x",
            source_id=uuid.uuid4(),
        )
    assert refused.value.errors == {"source": "Allowed values: screen, checkin, overdose."}


def test_confirming_a_proposal_starts_the_response_and_closes_the_review(cast):
    admit(cast)
    proposal = propose(cast)
    with pytest.raises(ValidationFailed):
        relapse_confirm(cast.actors["owner"], proposal, use(2, kind="sometimes"))
    proposal.refresh_from_db()
    assert proposal.status == RelapseStatus.PROPOSED
    confirmed = relapse_confirm(cast.actors["owner"], proposal, use(2, kind="lapse"))
    assert confirmed.status == RelapseStatus.CONFIRMED and confirmed.kind == "lapse"
    assert confirmed.source == "checkin" and confirmed.confirmed_by == cast.users["owner"]
    assert confirmed.context == "Alone at home after a shift"
    assert len(items_of(confirmed)) == 5
    assert [t.status for t in tasks(confirmed, REVIEW_TASK)] == [TaskStatus.DONE]
    assert [t.status for t in tasks(confirmed, OUTREACH_TASK)] == [TaskStatus.OPEN]
    assert rows(action="update")[-1].detail["status"] == "confirmed"
    with pytest.raises(Conflict, match="confirmed"):
        relapse_confirm(cast.actors["owner"], proposal, use(2))


def test_dismissing_a_proposal_needs_a_reason_and_cancels_its_review(cast):
    admit(cast)
    proposal = propose(cast)
    with pytest.raises(ValidationFailed) as refused:
        relapse_dismiss(cast.actors["owner"], proposal, reason="  ")
    assert set(refused.value.errors) == {"reason"}
    dismissed = relapse_dismiss(cast.actors["owner"], proposal, reason=" Meant last year ")
    assert (
        dismissed.status == RelapseStatus.DISMISSED and dismissed.close_reason == "Meant last year"
    )
    assert dismissed.closed_by == cast.users["owner"] and dismissed.closed_at is not None
    (review,) = tasks(dismissed, REVIEW_TASK)
    assert review.status == TaskStatus.CANCELLED and review.close_note == "Meant last year"
    with pytest.raises(Conflict):
        relapse_confirm(cast.actors["owner"], dismissed, use(1))
    with pytest.raises(Conflict):  # only a proposal is dismissed
        relapse_dismiss(cast.actors["owner"], record(cast, 1), reason="No")


def test_a_confirmed_relapse_entered_in_error_is_kept_with_its_response(cast):
    admit(cast)
    event = record(cast, 10)
    response_item_record(
        cast.actors["owner"], event, item="naloxone", state="done", note="Kit given"
    )
    with pytest.raises(Conflict):  # a proposal is dismissed, not marked in error
        relapse_mark_in_error(cast.actors["owner"], propose(cast), reason="x")
    marked = relapse_mark_in_error(cast.actors["owner"], event, reason="Wrong patient")
    assert (
        marked.status == RelapseStatus.ENTERED_IN_ERROR and marked.close_reason == "Wrong patient"
    )
    assert RelapseEvent.objects.filter(pk=event.pk).exists()
    items = items_of(event)
    assert len(items) == 5 and items["naloxone"].state == "done"
    assert [t.status for t in tasks(event, OUTREACH_TASK)] == [TaskStatus.CANCELLED]
    # Safety first: the overdose-risk flag it raised keeps running.
    assert RiskFlag.objects.filter(source_id=event.public_id).exists()
    with pytest.raises(Conflict):
        response_item_record(cast.actors["owner"], marked, item="moud", state="declined", note="x")


# --- the response ---------------------------------------------------------------------------


def test_an_item_done_or_declined_is_recorded_once(cast):
    admit(cast)
    event = record(cast, 3)
    owner = cast.actors["owner"]
    with pytest.raises(ValidationFailed) as refused:
        response_item_record(owner, event, item="naloxone", state="declined", note=" ")
    assert set(refused.value.errors) == {"note"}
    assert items_of(event)["naloxone"].is_open
    row = response_item_record(
        owner, event, item="naloxone", state="declined", note="Has two kits at home"
    )
    assert row.state == "declined" and row.settled_by == cast.users["owner"]
    assert row.settled_at is not None and row.note == "Has two kits at home"
    assert rows(object_type="relapse_response")[-1].detail == {
        "item": "naloxone",
        "state": "declined",
    }
    with pytest.raises(Conflict, match="already recorded"):
        response_item_record(owner, event, item="naloxone", state="done", note="Kit given")
    assert items_of(event)["naloxone"].state == "declined"


def test_the_medication_offer_needs_its_answer(cast):
    admit(cast)
    event = record(cast, 3)
    owner = cast.actors["owner"]
    with pytest.raises(ValidationFailed) as refused:
        response_item_record(owner, event, item="moud", state="done")
    assert refused.value.errors == {
        "moud_answer": "Allowed values: accepted, refused, dose_reviewed."
    }
    with pytest.raises(ValidationFailed) as unknown:
        response_item_record(owner, event, item="moud", state="done", moud_answer="maybe")
    assert "dose_reviewed" in unknown.value.errors["moud_answer"]
    row = response_item_record(owner, event, item="moud", state="done", moud_answer="accepted")
    assert row.moud_answer == "accepted" and row.state == "done"


def test_unknown_items_and_states_are_refused_naming_the_allowed_values(cast):
    admit(cast)
    event = record(cast, 3)
    with pytest.raises(ValidationFailed) as refused:
        response_item_record(cast.actors["owner"], event, item="prayer", state="open", note="x")
    assert refused.value.errors == {
        "item": "Allowed values: naloxone, reassessment, moud, plan_review, outreach.",
        "state": "Allowed values: done, declined.",
    }


def test_a_proposal_has_no_response_yet(cast):
    admit(cast)
    with pytest.raises(Conflict, match="Only a confirmed relapse"):
        response_item_record(
            cast.actors["owner"], propose(cast), item="naloxone", state="done", note="Kit"
        )


def test_the_reassessment_is_done_only_with_an_asam_recorded_after_the_relapse(cast):
    admit(cast)
    owner = cast.actors["owner"]
    before = assessment_record(owner, cast.patient, "asam3", LOW_ASAM)
    event = record(cast, 2)
    with pytest.raises(ValidationFailed) as refused:
        response_item_record(owner, event, item="reassessment", state="done", note="Rated")
    assert "No ASAM assessment has been recorded since the relapse" in refused.value.errors["state"]
    assert items_of(event)["reassessment"].is_open
    after = assessment_record(owner, cast.patient, "asam3", HIGH_ASAM)
    row = response_item_record(owner, event, item="reassessment", state="done", note="Rated")
    assert row.evidence_type == "assessment" and row.evidence_id == after.public_id
    assert row.evidence_id != before.public_id


def test_the_reassessment_may_be_declined_without_an_assessment(cast):
    admit(cast)
    event = record(cast, 2)
    row = response_item_record(
        cast.actors["owner"],
        event,
        item="reassessment",
        state="declined",
        note="Reassessed at the residential program that took her in",
    )
    assert row.state == "declined" and row.evidence_id is None


def test_outreach_done_closes_the_task_and_declined_cancels_it(cast):
    admit(cast)
    owner = cast.actors["owner"]
    reached = record(cast, 4)
    response_item_record(owner, reached, item="outreach", state="done", note="Called; safe")
    (task,) = tasks(reached, OUTREACH_TASK)
    assert task.status == TaskStatus.DONE and task.close_note == "Called; safe"
    elsewhere = record(cast, 2)
    response_item_record(
        owner, elsewhere, item="outreach", state="declined", note="Admitted to hospital"
    )
    (task,) = tasks(elsewhere, OUTREACH_TASK)
    assert task.status == TaskStatus.CANCELLED


def test_a_signed_plan_revision_settles_the_plan_review(cast):
    admit(cast)
    event = record(cast, 2)
    plan_id = uuid.uuid4()
    row = response_item_settle(
        cast.actors["owner"],
        cast.patient,
        event_public_id=event.public_id,
        item="plan_review",
        evidence_type="treatment_plan",
        evidence_id=plan_id,
        note="Plan revised: two more groups a week",
    )
    assert row is not None and row.state == "done"
    assert row.evidence_type == "treatment_plan" and row.evidence_id == plan_id
    assert rows(object_type="relapse_response")[-1].detail["evidence"] == "treatment_plan"
    # Once recorded, a second revision changes nothing.
    assert (
        response_item_settle(
            cast.actors["owner"],
            cast.patient,
            event_public_id=event.public_id,
            item="plan_review",
            evidence_type="treatment_plan",
            evidence_id=uuid.uuid4(),
            note="Again",
        )
        is None
    )
    assert items_of(event)["plan_review"].evidence_id == plan_id


def test_settling_another_organizations_event_does_nothing(cast):
    admit(cast)
    event = record(cast, 2)
    audit_rows = AuditEvent.objects.count()
    found = response_item_settle(
        cast.actors["outsider"],
        cast.patient,
        event_public_id=event.public_id,
        item="plan_review",
        evidence_type="treatment_plan",
        evidence_id=uuid.uuid4(),
        note="Not theirs",
    )
    assert found is None and items_of(event)["plan_review"].is_open
    assert AuditEvent.objects.count() == audit_rows


def test_another_patients_event_is_not_settled(cast):
    admit(cast)
    event = record(cast, 2)
    other = cast.new_patient("RR-9", "Lee", "Other")
    found = response_item_settle(
        cast.actors["owner"],
        other,
        event_public_id=event.public_id,
        item="plan_review",
        evidence_type="plan_version",
        evidence_id=uuid.uuid4(),
        note="Another patient's plan",
    )
    assert found is None and items_of(event)["plan_review"].is_open


def test_a_proposal_is_not_settled_from_elsewhere(cast):
    admit(cast)
    proposal = propose(cast)
    found = response_item_settle(
        cast.actors["owner"],
        cast.patient,
        event_public_id=proposal.public_id,
        item="plan_review",
        evidence_type="treatment_plan",
        evidence_id=uuid.uuid4(),
        note="x",
    )
    assert found is None


# --- nothing here moves the patient ---------------------------------------------------------


def test_no_recovery_service_changes_the_stays_even_when_a_step_up_is_recommended(cast):
    episode = admit(cast)
    owner = cast.actors["owner"]
    stays = stays_of(cast.patient)
    event = record(cast, 9)
    proposal = propose(cast)
    relapse_confirm(owner, proposal, use(1))
    asam = assessment_record(owner, cast.patient, "asam3", HIGH_ASAM)
    level = recommend(PlacementInput.from_answers(asam.answers)).level
    assert rank(level) > rank(cast.iop.asam_level)  # the placement would step her up
    assert level in LEVELS_BY_EDITION[3]
    for item in checklist():
        response_item_record(
            owner, event, item=item, state="done", note="Done", moud_answer="accepted"
        )
    screen(cast, {"fentanyl": "positive", "buprenorphine": "negative"})
    assert stays_of(cast.patient) == stays
    episode.refresh_from_db()
    assert episode.status == "open" and episode.discharged_at is None


# --- who may write --------------------------------------------------------------------------


def _snapshot() -> tuple[Any, ...]:
    return (
        list(RelapseEvent.objects.order_by("id").values_list("id", "status", "closed_at")),
        list(ResponseItem.objects.order_by("id").values_list("id", "state", "note")),
        list(DrugScreen.objects.order_by("id").values_list("id", "status", "validity")),
        ScreenResult.objects.count(),
        list(Task.objects.order_by("id").values_list("id", "status")),
        RiskFlag.objects.count(),
        AuditEvent.objects.filter(outcome="success").count(),
    )


Write = Callable[[Any, Any], Any]


def _writes(cast: Any) -> dict[str, Write]:
    """Each recovery write, ready to run as someone, on records set up by the owner."""
    proposal = propose(cast)
    proposal_2 = propose(cast)
    confirmed = record(cast, 5)
    collected = screen(cast)
    return {
        "record": lambda actor, _: relapse_record(actor, cast.patient, use(1)),
        "confirm": lambda actor, _: relapse_confirm(actor, proposal, use(1)),
        "dismiss": lambda actor, _: relapse_dismiss(actor, proposal_2, reason="No"),
        "in_error": lambda actor, _: relapse_mark_in_error(actor, confirmed, reason="No"),
        "response": lambda actor, _: response_item_record(
            actor, confirmed, item="naloxone", state="done", note="Kit"
        ),
        "screen": lambda actor, _: screen_record(
            actor, cast.patient, ScreenInput(results={"fentanyl": "positive"})
        ),
        "results": lambda actor, _: screen_results_record(
            actor, collected, {"fentanyl": "positive"}
        ),
        "screen_in_error": lambda actor, _: screen_mark_in_error(actor, collected, reason="No"),
    }


WRITES = [
    "record",
    "confirm",
    "dismiss",
    "in_error",
    "response",
    "screen",
    "results",
    "screen_in_error",
]


@pytest.mark.parametrize("write", WRITES)
@pytest.mark.parametrize(
    ("who", "refusal"),
    [("colleague", OutsideCareTeam), ("readonly", AccessDenied), ("outsider", NotFound)],
)
def test_only_the_care_team_writes_and_a_refusal_writes_nothing(cast, write, who, refusal):
    admit(cast)
    run = _writes(cast)[write]
    before = _snapshot()
    denied = AuditEvent.objects.filter(outcome="denied").count()
    with pytest.raises(refusal):
        run(cast.actors[who], None)
    assert _snapshot() == before
    # The care-team wall and the role table audit their refusals; another
    # organization's record is simply not there.
    expected = 0 if who == "outsider" else 1
    assert AuditEvent.objects.filter(outcome="denied").count() == denied + expected


@pytest.mark.parametrize("write", WRITES)
def test_the_owner_and_the_director_may_write(cast, write):
    admit(cast)
    _writes(cast)[write](cast.actors["owner"], None)
    _writes(cast)[write](cast.actors["director"], None)


# --- drug screens ---------------------------------------------------------------------------


def _findings(found: DrugScreen) -> dict[str, str]:
    return dict(ScreenResult.objects.filter(screen=found).values_list("analyte", "finding"))


def test_an_unexpected_positive_proposes_exactly_one_relapse(cast):
    admit(cast)
    found = screen(
        cast,
        {"fentanyl": "positive", "buprenorphine": "positive", "cocaine": "negative"},
    )
    assert found.status == ScreenStatus.RESULTED and found.resulted_by == cast.users["owner"]
    assert found.medications == ["buprenorphine"] and found.episode is not None
    assert _findings(found) == {
        "fentanyl": "unexpected_positive",
        "buprenorphine": "expected_positive",
        "cocaine": "negative",
    }
    reading = ScreenResult.objects.get(screen=found, analyte="buprenorphine")
    assert reading.expected_from == ["buprenorphine"]
    (proposal,) = RelapseEvent.objects.all()
    assert proposal.status == RelapseStatus.PROPOSED and proposal.source == "screen"
    assert proposal.source_type == "drug_screen" and proposal.source_id == found.public_id
    assert proposal.substances == [7] and "Fentanyl" in proposal.proposal
    assert [t.status for t in tasks(proposal, REVIEW_TASK)] == [TaskStatus.OPEN]
    (row,) = rows(object_type="drug_screen")
    assert row.action == "create" and row.detail == {
        "status": "resulted",
        "unexpected": ["fentanyl"],
        "missing_expected": [],
    }


def test_an_expected_buprenorphine_proposes_nothing(cast):
    admit(cast)
    found = screen(cast, {"buprenorphine": "positive", "fentanyl": "negative"})
    assert _findings(found) == {"buprenorphine": "expected_positive", "fentanyl": "negative"}
    assert not RelapseEvent.objects.exists()


def test_missing_buprenorphine_is_possible_non_adherence_and_proposes_nothing(cast):
    admit(cast)
    found = screen(cast, {"buprenorphine": "negative"})
    assert _findings(found) == {"buprenorphine": "missing_expected"}
    assert not RelapseEvent.objects.exists()
    assert rows(object_type="drug_screen")[-1].detail["missing_expected"] == ["buprenorphine"]


def test_a_dilute_negative_is_not_interpretable(cast):
    admit(cast)
    found = screen(cast, {"buprenorphine": "negative", "fentanyl": "negative"}, validity="dilute")
    assert set(_findings(found).values()) == {"not_interpretable"}


def test_the_organizations_expectations_are_used(cast):
    admit(cast)
    RecoverySettings.objects.create(
        organization=cast.org,
        expectations={"buprenorphine": ["buprenorphine"], "prescribed_opioid": ["fentanyl"]},
    )
    found = screen(cast, {"fentanyl": "positive"}, medications=["prescribed_opioid"])
    assert _findings(found) == {"fentanyl": "expected_positive"}
    assert not RelapseEvent.objects.exists()


def test_a_collection_now_and_the_laboratory_results_later(cast):
    admit(cast)
    collected = screen(cast, collected_at=NOW - timedelta(hours=3))
    assert collected.status == ScreenStatus.COLLECTED and collected.resulted_at is None
    assert not ScreenResult.objects.exists()
    assert rows(object_type="drug_screen")[-1].detail == {"status": "collected"}
    resulted = screen_results_record(
        cast.actors["owner"],
        collected,
        {"methadone": "positive", "buprenorphine": "positive", "thc": "not_tested"},
        validity="valid",
    )
    assert resulted.status == ScreenStatus.RESULTED and resulted.resulted_at is not None
    assert _findings(resulted) == {
        "methadone": "unexpected_positive",
        "buprenorphine": "expected_positive",
    }
    assert RelapseEvent.objects.get().substances == [6]
    assert rows(object_type="drug_screen")[-1].action == "update"
    with pytest.raises(Conflict, match="results are recorded once"):
        screen_results_record(cast.actors["owner"], collected, {"fentanyl": "positive"})
    assert RelapseEvent.objects.count() == 1


def test_the_laboratory_may_find_the_specimen_not_valid(cast):
    admit(cast)
    collected = screen(cast)
    resulted = screen_results_record(
        cast.actors["owner"], collected, {"buprenorphine": "negative"}, validity="substituted"
    )
    assert resulted.validity == "substituted"
    assert _findings(resulted) == {"buprenorphine": "not_interpretable"}


@pytest.mark.parametrize(
    ("changes", "field", "names"),
    [
        ({"results": {"kratom": "positive"}}, "results.kratom", "fentanyl, opiates"),
        ({"results": {"fentanyl": "maybe"}}, "results.fentanyl", "positive, negative, not_tested"),
        ({"results": {"fentanyl": "not_tested"}}, "results", "at least one analyte"),
        ({"validity": "cloudy"}, "validity", "valid, dilute, substituted, adulterated, invalid"),
        ({"medications": ["suboxone"]}, "medications", "buprenorphine, methadone, naltrexone"),
        ({"collected_at": NOW + timedelta(days=1)}, "collected_at", "future"),
    ],
)
def test_invalid_screens_are_refused_naming_the_field_and_allowed_values(
    cast, changes, field, names
):
    admit(cast)
    with pytest.raises(ValidationFailed) as refused:
        screen(cast, **{"results": {"fentanyl": "negative"}, **changes})
    assert field in refused.value.errors and names in refused.value.errors[field]
    assert not DrugScreen.objects.exists() and rows() == []


def test_every_field_of_a_screen_at_fault_is_named_at_once(cast):
    admit(cast)
    with pytest.raises(ValidationFailed) as refused:
        screen(cast, {"kratom": "positive"}, validity="cloudy", medications=["suboxone"])
    assert set(refused.value.errors) == {"results.kratom", "validity", "medications"}
    collected = screen(cast)
    with pytest.raises(ValidationFailed) as later:
        screen_results_record(cast.actors["owner"], collected, {"thc": "?"}, validity="murky")
    assert set(later.value.errors) == {"results.thc", "validity"}


def test_invalid_laboratory_results_are_refused_and_the_screen_waits(cast):
    admit(cast)
    collected = screen(cast)
    with pytest.raises(ValidationFailed) as refused:
        screen_results_record(cast.actors["owner"], collected, {"fentanyl": "+"})
    assert set(refused.value.errors) == {"results.fentanyl"}
    with pytest.raises(ValidationFailed) as bad_validity:
        screen_results_record(
            cast.actors["owner"], collected, {"fentanyl": "positive"}, validity="murky"
        )
    assert set(bad_validity.value.errors) == {"validity"}
    collected.refresh_from_db()
    assert collected.status == ScreenStatus.COLLECTED and collected.validity == "valid"


def test_a_screen_entered_in_error_dismisses_its_unconfirmed_proposal(cast):
    admit(cast)
    found = screen(cast, {"fentanyl": "positive"})
    proposal = RelapseEvent.objects.get()
    with pytest.raises(ValidationFailed) as refused:
        screen_mark_in_error(cast.actors["owner"], found, reason="")
    assert set(refused.value.errors) == {"reason"}
    marked = screen_mark_in_error(cast.actors["owner"], found, reason="Another patient's cup")
    assert marked.status == ScreenStatus.ENTERED_IN_ERROR
    assert marked.error_reason == "Another patient's cup"
    proposal.refresh_from_db()
    assert proposal.status == RelapseStatus.DISMISSED
    assert proposal.close_reason == "The screen was entered in error: Another patient's cup"
    assert [t.status for t in tasks(proposal, REVIEW_TASK)] == [TaskStatus.CANCELLED]
    assert ScreenResult.objects.filter(screen=found).count() == 1  # kept, not counted
    assert rows(object_type="drug_screen")[-1].detail == {
        "status": "entered_in_error",
        "proposal_dismissed": True,
    }
    with pytest.raises(Conflict, match="already marked"):
        screen_mark_in_error(cast.actors["owner"], found, reason="Twice")


def test_a_confirmed_relapse_outlives_its_screen_entered_in_error(cast):
    admit(cast)
    found = screen(cast, {"fentanyl": "positive"})
    confirmed = relapse_confirm(cast.actors["owner"], RelapseEvent.objects.get(), use(1))
    screen_mark_in_error(cast.actors["owner"], found, reason="Mislabelled")
    confirmed.refresh_from_db()
    assert confirmed.status == RelapseStatus.CONFIRMED
    assert rows(object_type="drug_screen")[-1].detail["proposal_dismissed"] is False


def test_every_write_leaves_its_audit_row(cast):
    admit(cast)
    owner = cast.actors["owner"]
    writes: list[Callable[[], Any]] = [
        lambda: record(cast, 3),
        lambda: relapse_confirm(owner, propose(cast), use(2)),
        lambda: relapse_dismiss(owner, propose(cast), reason="Old news"),
        lambda: relapse_mark_in_error(owner, record(cast, 1), reason="Wrong chart"),
        lambda: response_item_record(
            owner,
            RelapseEvent.objects.filter(status="confirmed").order_by("id")[0],
            item="naloxone",
            state="done",
            note="Kit",
        ),
        lambda: screen(cast),
        lambda: screen_results_record(
            owner, DrugScreen.objects.get(status="collected"), {"fentanyl": "negative"}
        ),
        lambda: screen_mark_in_error(owner, DrugScreen.objects.get(), reason="Twice"),
    ]
    for write in writes:
        before = len(rows())
        write()
        assert len(rows()) > before
    assert {r.object_type for r in rows()} == {"relapse_event", "relapse_response", "drug_screen"}
    assert all(
        r.outcome == "success" and r.patient_public_id == cast.patient.public_id for r in rows()
    )


def test_a_screen_of_another_organizations_patient_is_not_found(cast):
    with pytest.raises(NotFound):
        screen_record(cast.actors["owner"], cast.other_patient, ScreenInput())
    assert not DrugScreen.objects.exists()


def test_assessments_remain_assessments(cast):
    """Recording the relapse response never writes an assessment of its own."""
    admit(cast)
    event = record(cast, 2)
    response_item_record(
        cast.actors["owner"], event, item="reassessment", state="declined", note="Next week"
    )
    assert not Assessment.objects.exists()


def test_the_record_starts_at_the_first_admission_not_the_latest(cast):
    first = admit(cast, at=NOW - timedelta(days=200))
    # She dropped out (an unplanned leaving, which aftercare never refuses).
    episode_discharge(cast.actors["owner"], first, reason=2, at=NOW - timedelta(days=150))
    again = admit(cast, at=NOW - timedelta(days=50))
    between = record(cast, 100)  # between the two episodes: still in the record
    assert between.episode == again and between.abstinent_days == 100
    assert record(cast, 200).abstinent_days == 0


@pytest.mark.parametrize("public_id", ["not-an-id", str(uuid.uuid4())])
def test_a_malformed_or_unknown_id_names_no_record(cast, public_id):
    with pytest.raises(NotFound):
        relapse_get(cast.actors["owner"], public_id)
    with pytest.raises(NotFound):
        screen_get(cast.actors["owner"], public_id)


def test_another_organizations_records_are_not_found_by_id(cast):
    admit(cast)
    event, found = record(cast, 1), screen(cast)
    with pytest.raises(NotFound):
        relapse_get(cast.actors["outsider"], event.public_id)
    with pytest.raises(NotFound):
        screen_get(cast.actors["outsider"], found.public_id)
    assert relapse_get(cast.actors["owner"], str(event.public_id)) == event
    assert screen_get(cast.actors["owner"], found.public_id) == found
