"""The PHP or IOP stay a residency points at, kept up by care's stay-start registry:
a stay that starts after the move-in (an admission, a step into the day program) is
linked to the open residency, and when the linked stay ends by a move to another PHP
or IOP stay (or a readmission), the link follows. A move-out stays a person's call."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, Program, Stay
from stepwise.care.services import episode_admit, episode_discharge, stay_transition
from stepwise.core.models import AuditEvent
from stepwise.residences.models import Residency
from stepwise.residences.services.residency import residency_move_bed, residency_move_out
from stepwise.residences.tests.support import Sober, move_in, sober_living


def ago(days: float) -> Any:
    return timezone.now() - timedelta(days=days)


def day_program(cast: Any) -> Program:
    return Program.objects.create(
        organization=cast.org,
        facility=cast.facility,
        name="Day program",
        asam_level="2.5",
        teds_service=6,
    )


def move(cast: Any, episode: Episode, program: Program, kind: str, days: float) -> Stay:
    owner = cast.actors["owner"]
    leaving = Stay.objects.get(episode=episode, ended_at__isnull=True).program
    prepare_exit(owner, episode, leaving, ago(days), ends_episode=False)
    return stay_transition(owner, episode, program, kind=kind, reason="Plan", at=ago(days))


def open_stay(episode: Episode) -> Stay:
    return Stay.objects.get(episode=episode, ended_at__isnull=True)


@pytest.fixture
def sober(cast: Any) -> Sober:
    return sober_living(cast)


@pytest.mark.parametrize(("program", "linked"), [("php", True), ("iop", True), ("res", False)])
def test_a_stay_that_starts_after_the_move_in_is_linked(cast, sober, program, linked):
    residency = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(5))
    assert residency.stay is None
    chosen = {"php": day_program(cast), "iop": cast.iop, "res": cast.residential}[program]
    episode = episode_admit(cast.actors["owner"], cast.patient, chosen, at=ago(2))
    residency.refresh_from_db()
    admitted = AuditEvent.objects.filter(action="admit", object_id=episode.public_id).get()
    if linked:
        assert residency.stay == open_stay(episode)
        assert admitted.detail["residency_linked"] == str(residency.public_id)
        own = AuditEvent.objects.filter(object_id=residency.public_id).latest("id")
        assert (own.action, own.category, own.actor_username) == ("update", "residences", "owner")
        assert own.detail == {"stay": str(open_stay(episode).public_id), "linked": "started"}
    else:
        assert residency.stay is None
        assert "residency_linked" not in admitted.detail
    assert residency.is_open


def test_the_link_follows_a_step_from_the_day_program_to_iop(cast, sober):
    php = day_program(cast)
    episode = episode_admit(cast.actors["owner"], cast.patient, php, at=ago(10))
    residency = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(8))
    assert residency.stay is not None and residency.stay.program == php
    iop = move(cast, episode, cast.iop, "step_down", days=3)
    residency.refresh_from_db()
    assert residency.stay == iop
    moved = AuditEvent.objects.filter(action="transition", object_id=iop.public_id).get()
    assert moved.detail["residency_linked"] == str(residency.public_id)
    own = AuditEvent.objects.filter(object_id=residency.public_id).latest("id")
    assert own.detail == {"stay": str(iop.public_id), "linked": "followed"}
    assert own.patient_public_id == cast.patient.public_id


def test_a_step_up_keeps_the_ended_link_and_the_move_out_is_left_to_staff(cast, sober):
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.iop, at=ago(10))
    first = open_stay(episode)
    residency = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(8))
    assert residency.stay == first
    move(cast, episode, cast.residential, "step_up", days=6)
    residency.refresh_from_db()
    assert residency.stay == first and residency.is_open  # nobody moved them out
    back = move(cast, episode, cast.iop_east, "step_down", days=2)
    residency.refresh_from_db()
    assert residency.stay == back


def test_after_a_discharge_a_readmission_to_iop_is_followed(cast, sober):
    owner = cast.actors["owner"]
    first = episode_admit(owner, cast.patient, cast.iop, at=ago(20))
    residency = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(15))
    prepare_exit(owner, first, cast.iop, ago(10), ends_episode=True)
    episode_discharge(owner, first, reason=1, at=ago(10))
    again = episode_admit(owner, cast.patient, cast.iop_east, at=ago(5))
    residency.refresh_from_db()
    assert residency.stay == open_stay(again)


def test_only_the_patients_open_residency_is_linked(cast, sober):
    owner = cast.actors["owner"]
    gone = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(9))
    residency_move_out(owner, gone, reason="completed", at=ago(6))
    ben = cast.new_patient("RR-2", "Ben", "Ortiz")
    his = move_in(cast, ben, sober.oak_beds[1], at=ago(5))
    episode_admit(owner, cast.patient, cast.iop, at=ago(2))
    gone.refresh_from_db()
    his.refresh_from_db()
    assert gone.stay is None and his.stay is None
    assert Residency.objects.filter(stay__isnull=False).count() == 0


def test_a_back_dated_move_in_links_the_stay_begun_since_as_the_hook_would_have(cast, sober):
    owner = cast.actors["owner"]
    episode = episode_admit(owner, cast.patient, cast.iop, at=ago(10))
    move(cast, episode, cast.residential, "step_up", days=6)
    # Recorded now, dated before the admission: the IOP stay begun since is linked,
    # and stays linked (ended) through the step up, as it would have been on time.
    residency = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(12))
    assert residency.stay is not None and residency.stay.program == cast.iop
    assert residency.stay.ended_at is not None


def test_a_move_to_another_bed_keeps_the_link_on_both_rows(cast, sober):
    episode = episode_admit(cast.actors["owner"], cast.patient, day_program(cast), at=ago(10))
    first = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(8))
    moved = residency_move_bed(cast.actors["owner"], first, sober.oak_beds[1], at=ago(4))
    first.refresh_from_db()
    assert first.stay == moved.stay == open_stay(episode)


def test_a_move_to_another_bed_audits_the_stay_of_the_new_row_and_a_relink_of_the_old(cast, sober):
    owner = cast.actors["owner"]

    def audited() -> dict[str, Any]:
        row = AuditEvent.objects.filter(object_type="residency", action="create").latest("id")
        return row.detail

    first = move_in(cast, cast.patient, sober.oak_beds[0], at=ago(8))
    moved = residency_move_bed(owner, first, sober.oak_beds[1], at=ago(6))
    assert audited()["stay"] is None and "moved_from_stay" not in audited()
    iop = open_stay(episode_admit(owner, cast.patient, cast.iop, at=ago(3)))
    moved.refresh_from_db()
    assert moved.stay == iop  # linked by the stay start
    # Recorded now, dated before the IOP admission: the row it ends drops the stay begun
    # after it, and the new row takes it; the audit row says both.
    again = residency_move_bed(owner, moved, sober.oak_beds[2], at=ago(4))
    moved.refresh_from_db()
    assert moved.stay is None and again.stay == iop
    detail = audited()
    assert detail["moved_from"] == str(moved.public_id)
    assert detail["stay"] == str(iop.public_id)
    assert "moved_from_stay" in detail and detail["moved_from_stay"] is None
    # A move now keeps the link on the row it ends: nothing relinked to say.
    last = residency_move_bed(owner, again, sober.oak_beds[3])
    again.refresh_from_db()
    assert again.stay == last.stay == iop
    assert audited()["stay"] == str(iop.public_id) and "moved_from_stay" not in audited()
