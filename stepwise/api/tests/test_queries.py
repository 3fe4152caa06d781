"""The patient list runs a fixed number of queries, whatever the number of patients."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.care.services import episode_admit
from stepwise.patients.models import Patient


def _fill(cast: Any, total: int) -> None:
    """Patients up to `total`, every third with an open episode in a program with room."""
    owner = cast.actors["owner"]
    start = timezone.now() - timedelta(days=1)
    programs = [cast.iop, cast.iop_east, cast.residential]
    for n in range(Patient.objects.filter(organization=cast.org).count(), total):
        patient = cast.new_patient(f"RR-{n + 100}", f"Given{n}", f"Family{n:03d}")
        if n % 3 == 0:
            episode_admit(owner, patient, programs[n % len(programs)], at=start)


def _statements(api: Any, **params: Any) -> tuple[list[str], dict[str, Any]]:
    api.get("owner", "/patients")  # warm up: the token's first use records last_used_at
    with CaptureQueriesContext(connection) as captured:
        response = api.get("owner", "/patients", **params)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries], response.json()


def _real(statements: list[str]) -> list[str]:
    """Without the SAVEPOINT / RELEASE statements of nested transactions."""
    return [s for s in statements if "SAVEPOINT" not in s.upper()]


def test_the_patient_list_runs_the_same_queries_for_5_and_30_patients(api, cast):
    _fill(cast, 5)
    few, small = _statements(api)
    assert small["count"] == 5
    assert any(row["current_program"] for row in small["results"])

    _fill(cast, 30)
    many, large = _statements(api)
    assert large["count"] == 30 and large["pages"] == 2 and len(large["results"]) == 25
    assert sum(1 for row in large["results"] if row["current_program"]) >= 5

    assert len(few) == len(many), "\n".join(many)
    # Token, membership, count, page, current stays, running risk flags, then the
    # audit row (chain head, insert, head update).
    assert len(_real(many)) <= 9, "\n".join(many)


def test_a_search_and_a_later_page_run_as_many_queries_as_the_first_page(api, cast):
    _fill(cast, 30)
    first, _ = _statements(api)
    searched, found = _statements(api, q="family00")
    assert found["count"] == 9  # Family001 to Family009
    second, page_two = _statements(api, page=2)
    assert page_two["page"] == 2 and len(page_two["results"]) == 5
    assert len(first) == len(searched) == len(second)
