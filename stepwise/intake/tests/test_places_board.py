"""The bed board: capacity, occupied, held, open now and expected open by tomorrow in
the facility's own day, for every active program, in four queries, equal to a recount
from the stays and held places themselves."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, Program, Stay
from stepwise.care.selectors import places_board
from stepwise.care.services import episode_admit, episode_discharge, stay_plan_end
from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict
from stepwise.core.models import Facility
from stepwise.intake.services.places import place_give_back, place_hold

from .support import Recount, admissions, board_as_recount, call, recount


def ours(cast: Any) -> list[Program]:
    return [cast.detox, cast.residential, cast.iop, cast.iop_east]


def admit(
    actor: Actor, cast: Any, program: Program, mrn: str, *, plan_end: date | None = None
) -> Episode:
    episode = episode_admit(actor, cast.new_patient(mrn), program)
    if plan_end is not None:
        stay_plan_end(actor, Stay.objects.get(episode=episode), on=plan_end)
    return episode


def assert_board_is_the_recount(
    actor: Actor, programs: list[Program], now: datetime
) -> dict[str, Recount]:
    board = board_as_recount(places_board(actor, now))
    assert board == {p.name: recount(p, now) for p in programs}
    return board


def test_an_empty_house(cast):
    worker = admissions(cast)
    rows = places_board(worker, timezone.now())
    # By facility, most intensive first, then by name; never another organization's.
    assert [r.program for r in rows] == ours(cast)
    assert all(r.facility == cast.facility for r in rows)
    detox, residential, iop, _ = (r.places for r in rows)
    assert (detox.capacity, detox.occupied, detox.reserved) == (2, 0, 0)
    assert (detox.available_now, detox.expected_tomorrow) == (2, 2)
    assert residential.available_now == 10
    assert (iop.capacity, iop.available_now, iop.expected_tomorrow) == (None, None, None)
    assert places_board(cast.actors["outsider"], timezone.now())[0].program == cast.other_program


def test_the_board_equals_a_recount_of_stays_and_held_places(cast):
    worker = admissions(cast)
    now = timezone.now()
    today = now.astimezone(ZoneInfo(cast.facility.time_zone)).date()
    cast.iop.place_cap = 3
    cast.iop.save()
    # Detox: both beds taken, one leaving by tomorrow.
    admit(worker, cast, cast.detox, "D1", plan_end=today + timedelta(days=1))
    admit(worker, cast, cast.detox, "D2")
    # Residential: three in, one leaving, one later; one place held, one held and
    # given back, and one past its hold time.
    admit(worker, cast, cast.residential, "R1", plan_end=today)
    admit(worker, cast, cast.residential, "R2", plan_end=today + timedelta(days=2))
    admit(worker, cast, cast.residential, "R3")
    place_hold(worker, call(worker), cast.residential, expected_at=now + timedelta(hours=1))
    given_back = call(worker)
    place_hold(worker, given_back, cast.residential, expected_at=now)
    place_give_back(worker, given_back, reason="Changed plans")
    place_hold(worker, call(worker), cast.residential, expected_at=now - timedelta(minutes=30))
    # IOP with a cap of three: one in, one held. IOP East: no cap, two in, one gone.
    admit(worker, cast, cast.iop, "I1")
    place_hold(worker, call(worker), cast.iop, expected_at=now)
    admit(worker, cast, cast.iop_east, "E1")
    admit(worker, cast, cast.iop_east, "E2")
    gone = admit(worker, cast, cast.iop_east, "E3")
    prepare_exit(cast.actors["owner"], gone, cast.iop_east, timezone.now(), ends_episode=True)
    episode_discharge(worker, gone, reason=1)

    board = assert_board_is_the_recount(worker, ours(cast), timezone.now())
    assert board["Detox"].available_now == 0
    assert board["Detox"].expected_tomorrow == 1
    assert (board["Residential"].occupied, board["Residential"].reserved) == (3, 2)
    assert board["Residential"].available_now == 5
    assert board["Residential"].expected_tomorrow == 6
    assert board["Evening IOP"].capacity == 3
    assert (board["Evening IOP"].available_now, board["Evening IOP"].expected_tomorrow) == (1, 1)
    assert (board["Evening IOP East"].occupied, board["Evening IOP East"].available_now) == (
        2,
        None,
    )
    # 3h45 on, the place held from half an hour ago (4 hours' hold) counts no more.
    later = assert_board_is_the_recount(worker, ours(cast), now + timedelta(hours=3, minutes=45))
    assert later["Residential"].reserved == 1
    # Past every hold time, nothing is held any more, whether or not it was closed.
    latest = assert_board_is_the_recount(worker, ours(cast), now + timedelta(hours=6))
    assert {r.reserved for r in latest.values()} == {0}


def test_tomorrow_is_the_facilitys_tomorrow(cast):
    """At 03:00 UTC it is still the evening before in New York: a stay planned to end
    on the UTC day counts as tomorrow's, one planned the day after does not."""
    worker = admissions(cast)
    utc_today = timezone.now().date()
    at_three_utc = datetime.combine(utc_today, time(3), tzinfo=UTC)
    admit(worker, cast, cast.detox, "D1", plan_end=utc_today)
    admit(worker, cast, cast.detox, "D2", plan_end=utc_today + timedelta(days=1))
    places = places_board(worker, at_three_utc)[0].places
    assert (places.occupied, places.leaving_by_tomorrow, places.expected_tomorrow) == (2, 1, 1)
    assert_board_is_the_recount(worker, ours(cast), at_three_utc)
    # Later that UTC day (New York has caught up), both count.
    at_noon = datetime.combine(utc_today, time(12), tzinfo=UTC)
    assert places_board(worker, at_noon)[0].places.expected_tomorrow == 2
    # Cleared, the plan counts no more.
    stay_plan_end(worker, Stay.objects.get(episode__patient__mrn="D1"), on=None)
    assert places_board(worker, at_noon)[0].places.expected_tomorrow == 1


def test_an_ambulatory_program_with_a_cap_fills_up(cast):
    worker = admissions(cast)
    cast.iop.place_cap = 2
    cast.iop.save()
    admit(worker, cast, cast.iop, "I1")
    admit(worker, cast, cast.iop, "I2")
    with pytest.raises(Conflict) as refused:
        admit(worker, cast, cast.iop, "I3")
    assert refused.value.message == (
        "Evening IOP is full: 2 of 2 places are occupied. Choose another program or "
        "discharge first."
    )
    iop = next(r.places for r in places_board(worker, timezone.now()) if r.program == cast.iop)
    assert (iop.capacity, iop.occupied, iop.available_now) == (2, 2, 0)
    # Stays have no bed number in an ambulatory program.
    assert set(Stay.objects.filter(program=cast.iop).values_list("bed_number", flat=True)) == {None}


def test_a_lowered_capacity_shows_over_capacity_never_negative(cast):
    worker = admissions(cast)
    admit(worker, cast, cast.detox, "D1")
    admit(worker, cast, cast.detox, "D2")
    cast.detox.bed_capacity = 1
    cast.detox.save()
    places = places_board(worker, timezone.now())[0].places
    assert (places.available_now, places.expected_tomorrow) == (0, 0)
    assert places.over_capacity


def test_inactive_programs_are_not_on_the_board(cast):
    cast.iop_east.is_active = False
    cast.iop_east.save()
    rows = places_board(admissions(cast), timezone.now())
    assert cast.iop_east not in [r.program for r in rows]


def test_four_queries_whatever_the_number_of_programs(cast, django_assert_num_queries):
    worker = admissions(cast)
    now = timezone.now()
    admit(worker, cast, cast.detox, "D1", plan_end=now.date())
    place_hold(worker, call(worker), cast.residential, expected_at=now)
    with django_assert_num_queries(4):
        assert len(places_board(worker, now)) == 4
    west = Facility.objects.create(organization=cast.org, name="West", time_zone="America/Denver")
    for n in range(8):
        program = Program.objects.create(
            organization=cast.org,
            facility=west,
            name=f"West {n}",
            asam_level="3.5" if n % 2 else "2.1",
            teds_service=4 if n % 2 else 6,
            is_24_hour=bool(n % 2),
            bed_capacity=4 if n % 2 else None,
            place_cap=None if n % 2 else 5,
        )
        admit(worker, cast, program, f"W{n}", plan_end=now.date())
        place_hold(worker, call(worker), program, expected_at=now)
    with django_assert_num_queries(4):
        rows = places_board(worker, timezone.now())
        # Everything the board shows is already loaded.
        shown = [(r.facility.name, r.program.level.code, r.places.available_now) for r in rows]
    assert len(shown) == 12
    assert_board_is_the_recount(worker, [r.program for r in rows], timezone.now())
