"""The newest current score of each patient since their own start: what the unit
board shows as each bed's last COWS, read in one query."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.instruments.definitions.cows import COWS
from stepwise.instruments.selectors import latest_scores_since
from stepwise.instruments.services import assessment_mark_in_error, assessment_record

pytestmark = pytest.mark.django_db


def cows(cast: Any, patient: Any, pulse: int, at: Any) -> Any:
    answers = {item.id: 0 for item in COWS.items} | {"pulse": pulse}
    return assessment_record(cast.actors["owner"], patient, "cows", answers, observed_at=at)


def test_each_patient_gets_the_newest_current_score_since_their_own_start(cast):
    now = timezone.now()
    early, late, none = cast.patient, cast.new_patient("L-1"), cast.new_patient("N-1")
    cows(cast, early, 1, now - timedelta(hours=30))
    newest_early = cows(cast, early, 2, now - timedelta(hours=3))
    mistaken = cows(cast, early, 4, now - timedelta(hours=1))
    assessment_mark_in_error(cast.actors["owner"], mistaken, reason="Wrong patient")
    cows(cast, late, 4, now - timedelta(hours=2))  # before this patient's start
    newest_late = cows(cast, late, 1, now - timedelta(minutes=30))
    cows(cast, late, 2, now - timedelta(minutes=5))  # after `until`
    cows(cast, none, 2, now - timedelta(hours=40))  # before this patient's start
    until = now - timedelta(minutes=10)
    starts = {
        early.pk: now - timedelta(hours=36),
        late.pk: now - timedelta(hours=1),
        none.pk: now - timedelta(hours=12),
    }
    with CaptureQueriesContext(connection) as read:
        latest = latest_scores_since(cast.org.pk, starts, "cows", until)
    assert len(read) == 1
    assert {k: v.pk for k, v in latest.items()} == {
        early.pk: newest_early.pk,
        late.pk: newest_late.pk,
    }
    assert latest_scores_since(cast.org.pk, {}, "cows", now) == {}
    # Another organization's query finds nothing of these patients.
    assert latest_scores_since(cast.other_org.pk, starts, "cows", now) == {}
