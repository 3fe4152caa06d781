"""Invariants of the continuum services: one open episode, beds, atomic transitions, no gaps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from stepwise.care import rules
from stepwise.care.exits import prepare_exit
from stepwise.care.models import Episode, EpisodeStatus, Stay
from stepwise.care.services import episode_admit, episode_discharge, stay_transition
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditEvent


def spans(episode: Episode) -> list[rules.Span]:
    return [rules.Span(s.started_at, s.ended_at) for s in episode.stays.order_by("sequence")]


def test_admit_opens_an_episode_with_its_first_stay_and_audits(cast):
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    stay = episode.stays.get()
    assert stay.sequence == 1 and stay.entry_kind == "admission" and stay.ended_at is None
    assert stay.started_at == episode.admitted_at
    event = AuditEvent.objects.get(action="admit")
    assert event.patient_public_id == cast.patient.public_id
    assert event.actor_username == "owner" and event.actor_role == "counselor"


def test_a_second_open_episode_is_refused(cast):
    episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    with pytest.raises(Conflict, match="already has an open episode"):
        episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    assert Episode.objects.filter(patient=cast.patient).count() == 1


def test_the_database_also_refuses_a_second_open_episode(cast):
    episode_admit(cast.actors["owner"], cast.patient, cast.iop)
    with pytest.raises(IntegrityError), transaction.atomic():
        Episode.objects.create(
            organization=cast.org,
            patient=cast.patient,
            admitted_at=timezone.now(),
            admitted_by=cast.users["owner"],
        )


def test_admission_is_refused_when_beds_are_full_naming_the_program_and_census(cast):
    owner = cast.actors["owner"]
    episode_admit(owner, cast.new_patient("A"), cast.detox)
    episode_admit(owner, cast.new_patient("B"), cast.detox)
    with pytest.raises(Conflict) as refused:
        episode_admit(owner, cast.patient, cast.detox)
    assert "Detox is full: 2 of 2 beds" in refused.value.message
    assert not Episode.objects.filter(patient=cast.patient).exists()


def test_transition_closes_the_stay_and_opens_the_next_at_the_same_instant(cast):
    owner = cast.actors["owner"]
    start = timezone.now() - timedelta(days=4)
    episode = episode_admit(owner, cast.patient, cast.detox, at=start)
    moved = start + timedelta(days=3)
    prepare_exit(owner, episode, cast.detox, moved, ends_episode=False)
    stay = stay_transition(
        owner, episode, cast.residential, kind="step_down", reason="Withdrawal resolved", at=moved
    )
    first, second = episode.stays.order_by("sequence")
    assert first.ended_at == moved == second.started_at
    assert second == stay and second.entry_reason == "Withdrawal resolved"
    assert rules.stay_sequence_errors(spans(episode)) == []


def test_transition_needs_a_reason_and_the_right_kind(cast):
    owner = cast.actors["owner"]
    episode = episode_admit(owner, cast.patient, cast.detox, at=timezone.now() - timedelta(days=1))
    with pytest.raises(ValidationFailed) as no_reason:
        stay_transition(owner, episode, cast.residential, kind="step_down", reason="  ")
    assert "reason" in no_reason.value.errors
    with pytest.raises(ValidationFailed) as wrong_kind:
        stay_transition(owner, episode, cast.residential, kind="step_up", reason="x")
    assert "is a step down, not a step up" in wrong_kind.value.errors["kind"]
    with pytest.raises(ValidationFailed) as bad_kind:
        stay_transition(owner, episode, cast.residential, kind="sideways", reason="x")
    assert "step_down, step_up, transfer" in bad_kind.value.errors["kind"]
    assert episode.stays.count() == 1 and episode.stays.get().ended_at is None


def test_lateral_transfer_between_programs_of_one_level(cast):
    owner = cast.actors["owner"]
    episode = episode_admit(owner, cast.patient, cast.iop, at=timezone.now() - timedelta(days=1))
    prepare_exit(owner, episode, cast.iop, timezone.now(), ends_episode=False)
    stay = stay_transition(owner, episode, cast.iop_east, kind="transfer", reason="Closer to home")
    assert stay.entry_kind == "transfer"


def test_a_failed_transition_changes_nothing(cast):
    """Beds full in the target: the current stay stays open (the transaction is atomic)."""
    owner = cast.actors["owner"]
    episode_admit(owner, cast.new_patient("A"), cast.detox)
    episode_admit(owner, cast.new_patient("B"), cast.detox)
    episode = episode_admit(
        owner, cast.patient, cast.residential, at=timezone.now() - timedelta(days=1)
    )
    before = AuditEvent.objects.count()
    with pytest.raises(Conflict):
        stay_transition(owner, episode, cast.detox, kind="step_up", reason="Withdrawal returned")
    current = episode.stays.get()
    assert current.ended_at is None and current.program == cast.residential
    assert AuditEvent.objects.count() == before


def test_a_transition_cannot_go_back_before_the_current_stay(cast):
    owner = cast.actors["owner"]
    start = timezone.now() - timedelta(days=2)
    episode = episode_admit(owner, cast.patient, cast.detox, at=start)
    with pytest.raises(ValidationFailed) as early:
        stay_transition(
            owner,
            episode,
            cast.residential,
            kind="step_down",
            reason="x",
            at=start - timedelta(hours=1),
        )
    assert "must be later" in early.value.errors["at"]


def test_the_database_refuses_two_open_stays_in_one_episode(cast):
    episode = episode_admit(cast.actors["owner"], cast.patient, cast.detox)
    with pytest.raises(IntegrityError), transaction.atomic():
        Stay.objects.create(
            organization=cast.org,
            episode=episode,
            program=cast.iop,
            sequence=2,
            started_at=timezone.now(),
            entry_kind="step_down",
            entry_reason="x",
            entered_by=cast.users["owner"],
        )


def test_discharge_closes_the_last_stay_with_a_teds_reason(cast):
    owner = cast.actors["owner"]
    episode = episode_admit(owner, cast.patient, cast.detox, at=timezone.now() - timedelta(days=5))
    with pytest.raises(ValidationFailed) as bad:
        episode_discharge(owner, episode, reason=9)
    assert "1 (Treatment completed)" in bad.value.errors["reason"]
    prepare_exit(owner, episode, cast.detox, timezone.now(), ends_episode=True)
    done = episode_discharge(owner, episode, reason=1, note="Completed")
    assert done.status == EpisodeStatus.DISCHARGED and done.discharge_reason == 1
    assert episode.stays.get().ended_at == done.discharged_at
    with pytest.raises(Conflict):
        episode_discharge(owner, episode, reason=1)


def test_readmission_opens_a_new_episode_linked_to_the_previous(cast):
    owner = cast.actors["owner"]
    first = episode_admit(owner, cast.patient, cast.detox, at=timezone.now() - timedelta(days=30))
    episode_discharge(owner, first, reason=2, at=timezone.now() - timedelta(days=20))
    with pytest.raises(ValidationFailed):
        episode_admit(owner, cast.patient, cast.detox, at=timezone.now() - timedelta(days=25))
    second = episode_admit(owner, cast.patient, cast.detox)
    assert second.previous_episode == first
    assert first.pk != second.pk


def test_future_times_are_refused(cast):
    with pytest.raises(ValidationFailed) as future:
        episode_admit(
            cast.actors["owner"], cast.patient, cast.detox, at=timezone.now() + timedelta(hours=2)
        )
    assert "future" in future.value.errors["admitted_at"]


def test_roles_and_organizations(cast):
    with pytest.raises(AccessDenied):
        episode_admit(cast.actors["readonly"], cast.patient, cast.detox)
    with pytest.raises(NotFound):
        episode_admit(cast.actors["outsider"], cast.patient, cast.other_program)
    with pytest.raises(NotFound):
        episode_admit(cast.actors["owner"], cast.patient, cast.other_program)
    denied = AuditEvent.objects.get(action="access_denied")
    assert denied.actor_username == "readonly" and denied.outcome == "denied"
    assert not Episode.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint exists on PostgreSQL only"
)
def test_postgresql_refuses_overlapping_stays(cast):
    owner = cast.actors["owner"]
    start = timezone.now() - timedelta(days=10)
    episode = episode_admit(owner, cast.patient, cast.detox, at=start)
    prepare_exit(owner, episode, cast.detox, start + timedelta(days=5), ends_episode=True)
    episode_discharge(owner, episode, reason=1, at=start + timedelta(days=5))
    with pytest.raises(IntegrityError), transaction.atomic():
        Stay.objects.create(
            organization=cast.org,
            episode=episode,
            program=cast.iop,
            sequence=2,
            started_at=start + timedelta(days=2),
            ended_at=start + timedelta(days=3),
            entry_kind="step_down",
            entry_reason="x",
            entered_by=cast.users["owner"],
        )
