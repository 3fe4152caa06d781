"""A dose the safety rules judge on other orders' doses (a first dose, methadone's
first-day total) is charted under a lock of the episode, taken before the order's
own lock, so two nurses charting two methadone orders at once cannot both pass the
first-day cap. Plain comfort medication takes no episode lock."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.withdrawal.services.medications import (
    OrderInput,
    administration_record,
    order_create,
)
from stepwise.withdrawal.tests.support import admit_to_detox, heroin_admission, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(cast: Any) -> Any:
    staff(cast)
    admit_to_detox(cast, hours_ago=20)
    heroin_admission(cast.actors["nurse"], cast.patient, timezone.now() - timedelta(hours=14))
    cast.detox.otp_certified = True
    cast.detox.save()
    return cast


def _tables_locked_in_order(queries: list[dict[str, str]]) -> list[str]:
    """The tables read by primary key for update, in the order the dose read them."""
    found = []
    for query in queries:
        sql = query["sql"]
        for_update = connection.vendor != "postgresql" or "FOR UPDATE" in sql
        for table in ("care_episode", "withdrawal_medicationorder"):
            by_pk = sql.startswith("SELECT") and f'FROM "{table}"' in sql and '."id" = ' in sql
            if by_pk and for_update:
                found.append(table)
    return found


def test_a_methadone_dose_locks_the_episode_before_its_order(unit):
    order = order_create(
        unit.actors["physician"],
        unit.patient,
        OrderInput(drug="methadone", dose_mg=Decimal(20), route="oral", frequency="once"),
    )
    with CaptureQueriesContext(connection) as charted:
        administration_record(
            unit.actors["nurse"], order, outcome="given", scheduled_for=order.starts_at
        )
    locked = _tables_locked_in_order(charted.captured_queries)
    assert locked[:2] == ["care_episode", "withdrawal_medicationorder"]


def test_a_comfort_dose_locks_only_its_order(unit):
    order = order_create(
        unit.actors["physician"],
        unit.patient,
        OrderInput(
            drug="loperamide",
            dose_mg=Decimal(2),
            route="oral",
            frequency="q4h_prn",
            prn_indication="Loose stools",
        ),
    )
    with CaptureQueriesContext(connection) as charted:
        administration_record(unit.actors["nurse"], order, outcome="given")
    assert "care_episode" not in _tables_locked_in_order(charted.captured_queries)
