"""A place held for a scheduled caller: it counts against the program until the hold
time, walk-ins cannot take it, it lapses when the caller does not come, and it can be
given back. Two holds racing for the last bed: exactly one gets it."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from conftest import Cast
from stepwise.care.models import BedReservation, ReservationStatus, Stay
from stepwise.care.rules import Places
from stepwise.care.selectors import places_board
from stepwise.care.services import episode_admit
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_verify
from stepwise.core.errors import AccessDenied, Conflict, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.intake.models import Inquiry, IntakeSettings, Outcome
from stepwise.intake.services.places import lapsed_places_close, place_give_back, place_hold
from stepwise.intake.services.waitlist import waitlist_add

from .support import admissions, board_as_recount, call, intake_events, recount, screen

FULL_WITH_HOLD = (
    "Detox is full: 1 of 2 beds are occupied and 1 held for expected admissions. "
    "Choose another program, release a held place, or discharge first."
)


def detox_row(actor: Actor, now: datetime) -> Places:
    return next(r for r in places_board(actor, now) if r.program.name == "Detox").places


def test_a_place_is_held_for_the_expected_arrival_plus_the_hold_time(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    expected = timezone.now() + timedelta(hours=2)
    held = place_hold(worker, inquiry, cast.detox, expected_at=expected)
    stored = Inquiry.objects.select_related("reservation").get(pk=held.pk)
    reservation = stored.reservation
    assert reservation is not None
    assert reservation.status == ReservationStatus.HELD
    assert reservation.program == cast.detox
    assert reservation.expected_at == expected
    assert reservation.hold_until == expected + timedelta(hours=4)
    assert reservation.reserved_by == cast.users["admissions"]
    assert stored.outcome == Outcome.SCHEDULED and stored.outcome_at is not None
    care_row, call_row = intake_events()[-2:]
    assert (care_row.object_type, care_row.action) == ("bed_reservation", "create")
    assert care_row.object_id == str(reservation.public_id)
    assert call_row.detail == {
        "inquiry": str(inquiry.public_id),
        "outcome": "scheduled",
        "reservation": str(reservation.public_id),
    }
    assert detox_row(worker, timezone.now()).reserved == 1


def test_the_hold_time_is_the_organizations_setting(cast):
    IntakeSettings.objects.create(organization=cast.org, hold_hours=8)
    worker = admissions(cast)
    expected = timezone.now() + timedelta(minutes=30)
    held = place_hold(worker, call(worker), cast.residential, expected_at=expected)
    assert held.reservation is not None
    assert held.reservation.hold_until == expected + timedelta(hours=8)


def test_a_second_hold_for_the_same_caller_is_refused(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    place_hold(worker, inquiry, cast.detox, expected_at=timezone.now())
    with pytest.raises(Conflict) as refused:
        place_hold(worker, inquiry, cast.residential, expected_at=timezone.now())
    assert refused.value.message == "A place is already held in Detox; release it first."
    assert BedReservation.objects.count() == 1


def test_the_last_bed_held_turns_walk_ins_and_other_holds_away(cast):
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("W1"), cast.detox)
    place_hold(worker, call(worker), cast.detox, expected_at=timezone.now() + timedelta(hours=1))
    with pytest.raises(Conflict) as refused:
        episode_admit(worker, cast.new_patient("W2"), cast.detox)
    assert refused.value.message == FULL_WITH_HOLD
    other = call(worker, given_name="Casey")
    with pytest.raises(Conflict) as refused:
        place_hold(worker, other, cast.detox, expected_at=timezone.now())
    assert refused.value.message == FULL_WITH_HOLD
    assert Inquiry.objects.get(pk=other.pk).reservation is None
    assert Stay.objects.filter(program=cast.detox, ended_at__isnull=True).count() == 1
    places = detox_row(worker, timezone.now())
    assert (places.occupied, places.reserved, places.available_now) == (1, 1, 0)


def test_a_place_past_its_hold_time_counts_no_more_and_is_closed_as_lapsed(cast):
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("W1"), cast.detox)
    inquiry = call(worker)
    screen(worker, inquiry)
    expected = timezone.now() + timedelta(minutes=10)
    place_hold(worker, inquiry, cast.detox, expected_at=expected)
    waiting = call(worker, given_name="Casey")
    place_hold(worker, waiting, cast.residential, expected_at=timezone.now() + timedelta(hours=3))
    hold_until = expected + timedelta(hours=4)
    assert detox_row(worker, hold_until - timedelta(seconds=1)).available_now == 0
    assert detox_row(worker, hold_until).available_now == 1
    after = hold_until + timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        # Not yet closed, but no longer holding: a walk-in gets the bed.
        episode_admit(worker, cast.new_patient("W2"), cast.detox)
        closed = lapsed_places_close(worker)
    assert [i.pk for i in closed] == [inquiry.pk]
    stored = Inquiry.objects.select_related("reservation").get(pk=inquiry.pk)
    assert stored.reservation is not None
    assert stored.reservation.status == ReservationStatus.LAPSED
    assert stored.reservation.closed_at == after
    assert stored.reservation.close_reason == "Did not arrive by the hold time."
    assert stored.outcome == Outcome.SCREENED
    assert stored.follow_up_due_at == after
    assert stored.follow_up_note == "Expected at Detox but did not arrive: call back."
    assert intake_events(object_id=str(inquiry.public_id))[-1].detail["place_lapsed"] == str(
        stored.reservation.public_id
    )
    # The other place is still within its time: untouched.
    other = Inquiry.objects.select_related("reservation").get(pk=waiting.pk)
    assert other.reservation is not None and other.reservation.status == ReservationStatus.HELD
    assert other.outcome == Outcome.SCHEDULED


def test_lapsed_places_close_takes_the_time_it_is_given(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    expected = timezone.now()
    place_hold(worker, inquiry, cast.detox, expected_at=expected)
    assert lapsed_places_close(worker, now=expected + timedelta(hours=3)) == []
    [closed] = lapsed_places_close(worker, now=expected + timedelta(hours=4))
    assert closed.outcome == ""  # never screened
    assert closed.follow_up_due_at == expected + timedelta(hours=4)
    assert lapsed_places_close(worker, now=expected + timedelta(hours=5)) == []


def test_a_new_hold_after_a_lapse_closes_the_old_one(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    expected = timezone.now()
    place_hold(worker, inquiry, cast.detox, expected_at=expected)
    old = Inquiry.objects.get(pk=inquiry.pk).reservation
    with time_machine.travel(expected + timedelta(hours=5), tick=False):
        place_hold(worker, inquiry, cast.detox, expected_at=timezone.now() + timedelta(hours=1))
    assert old is not None
    old.refresh_from_db()
    assert old.status == ReservationStatus.LAPSED
    new = Inquiry.objects.get(pk=inquiry.pk).reservation
    assert new is not None and new.pk != old.pk and new.status == ReservationStatus.HELD


def test_a_place_is_given_back_with_the_reason(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    place_hold(worker, inquiry, cast.detox, expected_at=timezone.now())
    with pytest.raises(ValidationFailed) as refused:
        place_give_back(worker, inquiry, reason="  ")
    assert set(refused.value.errors) == {"reason"}
    given_back = place_give_back(worker, inquiry, reason=" Going to a program near family ")
    stored = Inquiry.objects.select_related("reservation").get(pk=given_back.pk)
    assert stored.reservation is not None
    assert stored.reservation.status == ReservationStatus.RELEASED
    assert stored.reservation.close_reason == "Going to a program near family"
    assert stored.reservation.closed_by == cast.users["admissions"]
    assert stored.outcome == ""
    assert detox_row(worker, timezone.now()).reserved == 0
    assert intake_events()[-1].detail["place_released"] == str(stored.reservation.public_id)
    with pytest.raises(Conflict, match="No place is held"):
        place_give_back(worker, inquiry, reason="again")


def test_a_screened_caller_goes_back_to_screened(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    screen(worker, inquiry)
    place_hold(worker, inquiry, cast.detox, expected_at=timezone.now())
    assert place_give_back(worker, inquiry, reason="Changed plans").outcome == Outcome.SCREENED


def test_what_cannot_be_held(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    with pytest.raises(ValidationFailed) as refused:
        place_hold(worker, inquiry, cast.iop, expected_at=timezone.now())
    assert refused.value.errors == {
        "program": "Evening IOP has no cap on places, so there is nothing to hold."
    }
    with pytest.raises(ValidationFailed) as refused:
        place_hold(worker, inquiry, cast.detox, expected_at=timezone.now().replace(tzinfo=None))
    assert set(refused.value.errors) == {"expected_at"}
    with pytest.raises(ValidationFailed) as refused:
        place_hold(worker, inquiry, cast.detox, expected_at=timezone.now() - timedelta(hours=2))
    assert set(refused.value.errors) == {"expected_at"}
    with pytest.raises(AccessDenied):
        place_hold(cast.actors["readonly"], inquiry, cast.detox, expected_at=timezone.now())
    assert not BedReservation.objects.exists()
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == ""


def test_an_ambulatory_program_with_a_cap_can_be_held(cast):
    cast.iop.place_cap = 1
    cast.iop.save()
    worker = admissions(cast)
    place_hold(worker, call(worker), cast.iop, expected_at=timezone.now())
    with pytest.raises(Conflict, match="Evening IOP is full: 0 of 1 places are occupied and 1"):
        episode_admit(worker, cast.new_patient("W1"), cast.iop)


# Two holds racing for the last bed, on committed data in two threads.


@pytest.fixture
def live_cast(live_db, django_user_model) -> Cast:
    return Cast(django_user_model)


def test_only_one_of_two_racing_holds_gets_the_last_bed(live_cast):
    cast = live_cast
    worker = admissions(cast)
    episode_admit(worker, cast.new_patient("A"), cast.detox)  # 1 of 2 beds taken
    callers = [call(worker, given_name=f"Racer{n}") for n in range(2)]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def hold(inquiry: Inquiry) -> None:
        try:
            start.wait()
            place_hold(worker, inquiry, cast.detox, expected_at=timezone.now())
            outcomes.append("held")
        except Conflict as refused:
            outcomes.append(refused.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=hold, args=(c,)) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes, key=len) == ["held", FULL_WITH_HOLD]
    assert BedReservation.objects.filter(status=ReservationStatus.HELD).count() == 1
    assert sorted(Inquiry.objects.values_list("outcome", flat=True)) == ["", "scheduled"]
    assert Inquiry.objects.filter(reservation__isnull=False).count() == 1
    now = timezone.now()
    board = board_as_recount(places_board(worker, now))
    assert board == {
        p.name: recount(p, now) for p in (cast.detox, cast.residential, cast.iop, cast.iop_east)
    }
    assert board["Detox"].available_now == 0
    assert audit_verify() == []
    assert AuditEvent.objects.filter(category="intake", object_type="bed_reservation").count() == 1


def test_a_waiting_caller_whose_place_is_given_back_or_lapses_is_still_waitlisted(cast):
    worker = admissions(cast)
    given_back = call(worker)
    screen(worker, given_back)
    waitlist_add(worker, given_back, cast.residential)
    place_hold(worker, given_back, cast.residential, expected_at=timezone.now())
    assert place_give_back(worker, given_back, reason="Not yet").outcome == Outcome.WAITLISTED
    lapsed = call(worker, given_name="Casey")
    waitlist_add(worker, lapsed, cast.residential)
    expected = timezone.now()
    place_hold(worker, lapsed, cast.residential, expected_at=expected)
    [closed] = lapsed_places_close(worker, now=expected + timedelta(hours=5))
    assert closed.outcome == Outcome.WAITLISTED
    assert Inquiry.objects.get(pk=lapsed.pk).outcome == Outcome.WAITLISTED
