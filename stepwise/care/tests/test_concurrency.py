"""Two admissions racing for the last bed: exactly one wins, on either database."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, connections

from conftest import Cast
from stepwise.care.models import Stay
from stepwise.care.services import episode_admit
from stepwise.core.audit import audit_verify
from stepwise.core.errors import Conflict
from stepwise.patients.services import PatientData, patient_create


@pytest.fixture
def live_cast(live_db, django_user_model) -> Cast:
    return Cast(django_user_model)


def test_only_one_of_two_racing_admissions_gets_the_last_bed(live_cast):
    cast = live_cast
    owner = cast.actors["owner"]
    episode_admit(owner, cast.new_patient("A"), cast.detox)  # 1 of 2 beds taken
    racers = [
        patient_create(
            owner,
            PatientData(
                mrn=f"R{n}", given_name="R", family_name=f"{n}", date_of_birth=date(1990, 1, 1)
            ),
        )
        for n in range(2)
    ]
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def admit(patient) -> None:
        try:
            start.wait()
            episode_admit(owner, patient, cast.detox)
            outcomes.append("admitted")
        except Conflict as refused:
            outcomes.append(refused.message)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=admit, args=(p,)) for p in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes, key=len) == [
        "admitted",
        "Detox is full: 2 of 2 beds are occupied. Choose another program or discharge first.",
    ]
    assert Stay.objects.filter(program=cast.detox, ended_at__isnull=True).count() == 2
    assert audit_verify() == []
    assert connection.vendor in {"sqlite", "postgresql"}
