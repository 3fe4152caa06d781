"""The synthetic data keeps every rule the services keep, and one seed gives one data set."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from io import StringIO
from itertools import pairwise
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction

from stepwise.care import rules
from stepwise.care.models import Episode, Program, Stay
from stepwise.core.models import Organization
from stepwise.patients.models import Patient


def synth(**options: Any) -> str:
    out = StringIO()
    call_command("synth", stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def summary(slug: str = "synth") -> list[tuple[Any, ...]]:
    """Everything synth decides, with times relative to the earliest admission."""
    episodes = list(
        Episode.objects.filter(organization__slug=slug)
        .select_related("patient", "previous_episode")
        .prefetch_related("stays__program")
        .order_by("patient__mrn", "admitted_at")
    )
    origin = min(e.admitted_at for e in episodes)

    def rel(at: datetime | None) -> float | None:
        return None if at is None else (at - origin).total_seconds()

    by_patient: dict[str, list[tuple[Any, ...]]] = {}
    for e in episodes:
        stays = tuple(
            (
                s.program.name,
                s.sequence,
                s.entry_kind,
                s.entry_reason,
                rel(s.started_at),
                rel(s.ended_at),
            )
            for s in e.stays.all()
        )
        by_patient.setdefault(e.patient.mrn, []).append(
            (
                str(e.public_id),
                e.status,
                e.discharge_reason,
                e.referral_source,
                rel(e.admitted_at),
                rel(e.discharged_at),
                str(e.previous_episode.public_id) if e.previous_episode else None,
                stays,
            )
        )
    patients = Patient.objects.filter(organization__slug=slug).order_by("mrn")
    return [
        (
            str(p.public_id),
            p.mrn,
            p.search_name,
            p.date_of_birth,
            p.sex,
            p.race,
            tuple(by_patient.get(p.mrn, [])),
        )
        for p in patients
    ]


def synthesized_then_rolled_back(seed: int) -> list[tuple[Any, ...]]:
    with transaction.atomic():
        synth(patients=50, seed=seed)
        found = summary()
        transaction.set_rollback(True)
    return found


def test_synth_keeps_the_rules_of_the_continuum(db):
    assert "Synthesized 50 patients" in synth(patients=50, seed=1)
    org = Organization.objects.get(slug="synth")
    patients = list(Patient.objects.filter(organization=org))
    assert len(patients) == 50
    for patient in patients:
        expected = patient.search_name
        patient.refresh_search_name()
        assert expected and patient.search_name == expected

    episodes = list(
        Episode.objects.filter(organization=org)
        .select_related("previous_episode")
        .prefetch_related("stays__program")
    )
    open_per_patient = Counter(e.patient_id for e in episodes if e.is_open)
    assert max(open_per_patient.values()) == 1
    for episode in episodes:
        stays = sorted(episode.stays.all(), key=lambda s: s.sequence)
        assert [s.sequence for s in stays] == list(range(1, len(stays) + 1))
        spans = [rules.Span(s.started_at, s.ended_at) for s in stays]
        assert rules.stay_sequence_errors(spans) == []
        assert stays[0].started_at == episode.admitted_at
        assert stays[0].entry_kind == "admission" and stays[0].entry_reason == ""
        for before, after in pairwise(stays):
            kind = rules.transition_kind_between(before.program.level, after.program.level)
            assert after.entry_kind == kind.value
            assert after.program_id != before.program_id and after.entry_reason
        if episode.is_open:
            assert stays[-1].ended_at is None
            assert episode.discharged_at is None and episode.discharge_reason is None
        else:
            assert episode.status == "discharged"
            assert episode.discharged_at is not None
            assert stays[-1].ended_at == episode.discharged_at
            assert episode.discharged_at > episode.admitted_at
            assert episode.discharge_reason in range(1, 8)
        previous = episode.previous_episode
        if previous is not None:
            assert previous.patient_id == episode.patient_id
            assert previous.discharged_at is not None
            assert previous.discharged_at < episode.admitted_at

    with_episodes = {e.patient_id for e in episodes}
    assert len(with_episodes) < 50, "some patients are only registered"
    assert 0.5 <= len(open_per_patient) / 50 <= 0.9, "about 70% are in care"
    assert any(not e.is_open for e in episodes)
    assert any(e.previous_episode_id for e in episodes), "some are readmissions"
    for program in Program.objects.filter(organization=org, bed_capacity__isnull=False):
        occupied = Stay.objects.filter(program=program, ended_at__isnull=True).count()
        assert occupied <= (program.bed_capacity or 0)


def test_the_same_seed_gives_the_same_data_and_another_seed_other_data(db):
    first = synthesized_then_rolled_back(1)
    assert first == synthesized_then_rolled_back(1)
    assert first != synthesized_then_rolled_back(2)


def test_synth_refuses_an_organization_that_has_patients(db):
    synth(patients=5, seed=1)
    with pytest.raises(CommandError, match="already has 5 patients"):
        synth(patients=5, seed=1)
    synth(patients=5, seed=1, org_slug="synth-two")
    assert Patient.objects.filter(organization__slug="synth-two").count() == 5
