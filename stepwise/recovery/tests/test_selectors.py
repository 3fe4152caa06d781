"""Reads of recovery: the count of days from confirmed uses only, a patient's recovery
record (audited, scoped), and the relapse worklist of whoever looks after the patient,
each at a fixed number of queries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from stepwise.core.errors import NotFound, OutsideCareTeam
from stepwise.core.models import AuditEvent
from stepwise.patients.models import Patient
from stepwise.patients.services import PatientData, patient_create
from stepwise.recovery.models import RelapseEvent
from stepwise.recovery.rules.relapse import checklist
from stepwise.recovery.selectors import (
    events_of,
    last_screen_medications,
    recovery_of,
    recovery_read,
    recovery_time_of,
    relapse_read,
    screen_read,
    worklist_relapses,
)
from stepwise.recovery.services.common import patient_zone
from stepwise.recovery.services.relapse import (
    relapse_dismiss,
    relapse_mark_in_error,
    relapse_propose,
    relapse_record,
    response_item_record,
)
from stepwise.recovery.services.screens import ScreenInput, screen_mark_in_error, screen_record
from stepwise.recovery.tests.test_services import NOW, TODAY, admit, propose, use

START = TODAY - timedelta(days=100)


@pytest.fixture(autouse=True)
def _monday_afternoon() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def day(days_ago: int) -> date:
    return TODAY - timedelta(days=days_ago)


def count(cast: Any, patient: Patient | None = None) -> Any:
    patient = patient or cast.patient
    return recovery_time_of(
        patient, list(events_of(patient)), timezone.now(), patient_zone(patient)
    )


def _admitted_100_days(cast: Any) -> None:
    admit(cast, at=NOW - timedelta(days=100))


# --- the count of days ----------------------------------------------------------------------


def test_without_a_use_the_count_runs_from_the_first_admission(cast):
    _admitted_100_days(cast)
    found = count(cast)
    assert found.last_use is None and found.days_since_last_use == 100
    assert (found.longest.start, found.longest.end, found.longest.ongoing) == (START, TODAY, True)


def test_a_confirmed_use_restarts_the_count_and_the_longest_stretch_stays(cast):
    _admitted_100_days(cast)
    owner = cast.actors["owner"]
    relapse_record(owner, cast.patient, use(50))
    relapse_record(owner, cast.patient, use(10))
    found = count(cast)
    assert found.last_use == day(10) and found.days_since_last_use == 10
    assert (found.longest.start, found.longest.end) == (START, day(50))
    assert found.longest_days == 50 and not found.longest.ongoing and found.uses == 2


def test_a_back_dated_use_splits_the_stretch_it_falls_in(cast):
    _admitted_100_days(cast)
    owner = cast.actors["owner"]
    relapse_record(owner, cast.patient, use(50))
    relapse_record(owner, cast.patient, use(10))
    relapse_record(owner, cast.patient, use(75))  # told about later
    found = count(cast)
    assert found.days_since_last_use == 10 and found.uses == 3
    assert (found.longest.start, found.longest.end) == (day(50), day(10))
    assert found.longest_days == 40


def test_only_confirmed_uses_count(cast):
    _admitted_100_days(cast)
    owner = cast.actors["owner"]
    relapse_record(owner, cast.patient, use(60))
    mistaken = relapse_record(owner, cast.patient, use(5))
    relapse_mark_in_error(owner, mistaken, reason="Another patient's chart")
    waiting = relapse_propose(
        owner,
        cast.patient,
        source="checkin",
        source_type="checkin",
        source_id=uuid.uuid4(),
        used_on=day(3),
    )
    dismissed = relapse_propose(
        owner,
        cast.patient,
        source="checkin",
        source_type="checkin",
        source_id=uuid.uuid4(),
        used_on=day(2),
    )
    relapse_dismiss(owner, dismissed, reason="She meant last year")
    assert waiting.status == "proposed"
    found = count(cast)
    assert found.last_use == day(60) and found.days_since_last_use == 60 and found.uses == 1


# --- a patient's recovery record ------------------------------------------------------------


def test_the_recovery_record_is_read_with_an_audit_row(cast):
    _admitted_100_days(cast)
    event = relapse_record(cast.actors["owner"], cast.patient, use(4))
    screen_record(cast.actors["owner"], cast.patient, ScreenInput(results={"fentanyl": "positive"}))
    found = recovery_read(cast.actors["readonly"], cast.patient.public_id, timezone.now())
    assert found.time.days_since_last_use == 4
    assert [e.public_id for e in found.open_responses] == [event.public_id]
    assert len(found.proposed) == 1 and len(found.screens) == 1
    row = AuditEvent.objects.filter(category="recovery", action="read").get()
    assert row.actor_username == "readonly" and row.object_type == "recovery"
    assert row.detail == {"events": "2", "screens": "1"}


def test_the_recovery_record_is_for_the_care_team_only(cast):
    with pytest.raises(OutsideCareTeam):
        recovery_read(cast.actors["colleague"], cast.patient.public_id, timezone.now())
    with pytest.raises(NotFound):
        recovery_read(cast.actors["outsider"], cast.patient.public_id, timezone.now())
    assert not AuditEvent.objects.filter(action="read", category="recovery").exists()
    assert AuditEvent.objects.filter(outcome="denied").count() == 2


def test_an_event_or_screen_is_read_only_through_its_own_patient(cast):
    _admitted_100_days(cast)
    owner = cast.actors["owner"]
    event = relapse_record(owner, cast.patient, use(4))
    found = screen_record(owner, cast.patient, ScreenInput(results={"thc": "negative"}))
    other = cast.new_patient("RR-2", "Ben", "Ortiz")
    assert relapse_read(owner, cast.patient.public_id, event.public_id).pk == event.pk
    assert screen_read(owner, cast.patient.public_id, found.public_id).pk == found.pk
    for reader, record_id in [(relapse_read, event.public_id), (screen_read, found.public_id)]:
        with pytest.raises(NotFound):
            reader(owner, other.public_id, record_id)
        with pytest.raises(NotFound):
            reader(owner, cast.patient.public_id, "not-an-id")
        with pytest.raises(NotFound):
            reader(cast.actors["outsider"], cast.patient.public_id, record_id)


def _some_history(cast: Any, events: int) -> None:
    owner = cast.actors["owner"]
    for n in range(events):
        event = relapse_record(owner, cast.patient, use(n + 1))
        response_item_record(owner, event, item="naloxone", state="done", note="Kit")
        screen_record(owner, cast.patient, ScreenInput(results={"fentanyl": "positive"}))


@pytest.mark.parametrize("events", [1, 5])
def test_the_recovery_record_costs_the_same_however_long(cast, django_assert_num_queries, events):
    _admitted_100_days(cast)
    _some_history(cast, events)
    # The facility's zone (the current stay with its facility), record start, events and
    # their items, screens and their results.
    with django_assert_num_queries(6):
        found = recovery_of(cast.patient, timezone.now())
        assert len(found.events) == 2 * events and len(found.screens) == events
        settled = [i.settled_by for e in found.events for i in e.items.all() if not i.is_open]
        assert len(settled) == events
        for screen in found.screens:
            assert [r.finding_label for r in screen.results.all()]


def test_last_screen_medications_skip_screens_entered_in_error(cast):
    owner = cast.actors["owner"]
    assert last_screen_medications(cast.patient) == []
    screen_record(
        owner,
        cast.patient,
        ScreenInput(collected_at=NOW - timedelta(days=2), medications=["methadone"]),
    )
    wrong = screen_record(owner, cast.patient, ScreenInput(medications=["naltrexone"]))
    assert last_screen_medications(cast.patient) == ["naltrexone"]
    screen_mark_in_error(owner, wrong, reason="Wrong patient")
    assert last_screen_medications(cast.patient) == ["methadone"]


# --- the worklist ---------------------------------------------------------------------------


def _other_counselors_patient(cast: Any) -> Patient:
    """A patient registered (so cared for) by another counselor, not by the owner."""
    other = cast.new_member("counselor", "other_counselor")
    patient = patient_create(
        other,
        PatientData(
            mrn="RR-7", given_name="Cal", family_name="Moss", date_of_birth=date(1985, 3, 4)
        ),
    )
    relapse_propose(other, patient, source="checkin", source_type="checkin", source_id=uuid.uuid4())
    return patient


def test_the_worklist_shows_proposals_and_open_responses_of_ones_own_patients(cast):
    admit(cast)
    others = _other_counselors_patient(cast)
    owner = cast.actors["owner"]
    proposal = propose(cast)
    confirmed = relapse_record(owner, cast.patient, use(3))
    settled = relapse_record(owner, cast.patient, use(2))
    for item in checklist():
        response_item_record(
            owner, settled, item=item, state="declined", note="Covered by the last one"
        )
    dismissed = propose(cast)
    relapse_dismiss(owner, dismissed, reason="Not a use")
    in_error = relapse_record(owner, cast.patient, use(1))
    relapse_mark_in_error(owner, in_error, reason="Wrong chart")
    response_item_record(owner, confirmed, item="naloxone", state="done", note="Kit given")

    mine = worklist_relapses(owner, timezone.now())
    assert [w.event.public_id for w in mine] == [proposal.public_id, confirmed.public_id]
    assert mine[0].open_items == [] and not mine[0].overdue
    assert [i.item for i in mine[1].open_items] == [
        "reassessment",
        "moud",
        "plan_review",
        "outreach",
    ]
    everyone = worklist_relapses(cast.actors["director"], timezone.now())
    assert {w.event.patient for w in everyone} == {cast.patient, others}
    assert len(everyone) == 3
    assert worklist_relapses(cast.actors["colleague"], timezone.now()) == []
    assert worklist_relapses(cast.actors["outsider"], timezone.now()) == []


def test_an_outreach_past_its_time_is_overdue(cast):
    admit(cast)
    relapse_record(cast.actors["owner"], cast.patient, use(1))
    assert not worklist_relapses(cast.actors["owner"], timezone.now())[0].overdue
    later = timezone.now() + timedelta(hours=25)
    assert worklist_relapses(cast.actors["owner"], later)[0].overdue


@pytest.mark.parametrize("events", [1, 5])
def test_the_worklist_costs_the_same_however_many(cast, django_assert_num_queries, events):
    admit(cast)
    _other_counselors_patient(cast)
    owner = cast.actors["owner"]
    for n in range(events):
        relapse_record(owner, cast.patient, use(n + 1))
        propose(cast)
    # The events with their patients, then their open items.
    with django_assert_num_queries(2):
        found = worklist_relapses(owner, timezone.now())
        assert len(found) == 2 * events
        assert [w.event.patient.display_name for w in found]
    assert RelapseEvent.objects.count() == 2 * events + 1
