"""A board read is one audit row listing the patients it showed; the audit log's
patient search finds it under each of them, and under no one else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from stepwise.care.services import episode_admit
from stepwise.core.models import AuditEvent
from stepwise.patients.models import CareTeamMember
from stepwise.privacy.selectors import AuditFilter, audit_events
from stepwise.withdrawal.tests.support import staff

pytestmark = pytest.mark.django_db


def test_the_audit_search_finds_a_board_read_under_each_patient_shown(cast: Any) -> None:
    staff(cast)
    second = cast.new_patient("B-2", "Bea", "Board")
    elsewhere = cast.new_patient("R-9", "Rey", "Residential")
    now = timezone.now()
    for patient, program in ((cast.patient, cast.detox), (second, cast.detox)):
        episode_admit(cast.actors["owner"], patient, program, at=now - timedelta(hours=3))
        CareTeamMember.objects.get_or_create(
            organization=cast.org, patient=patient, user=cast.users["nurse"], team_role="nurse"
        )
    episode_admit(cast.actors["owner"], elsewhere, cast.residential, at=now - timedelta(hours=3))
    board = reverse("withdrawal:board", kwargs={"program_id": cast.detox.public_id})
    assert cast.client_for("nurse").get(board).status_code == 200
    [read] = AuditEvent.objects.filter(object_type="unit_board")
    assert read.patient_public_id is None
    assert sorted(read.detail["patients"]) == sorted(
        [str(cast.patient.public_id), str(second.public_id)]
    )
    officer = cast.client_for("readonly")

    def board_rows(patient_filter: str) -> list[Any]:
        page = officer.get("/audit/", {"patient": patient_filter})
        assert page.status_code == 200
        return [e for e, _ in page.context["rows"] if e.object_type == "unit_board"]

    # By record number or by id, each patient shown finds the one read.
    assert board_rows(cast.patient.mrn) == [read]
    assert board_rows(str(second.public_id)) == [read]
    assert board_rows(elsewhere.mrn) == []
    html = officer.get("/audit/", {"patient": "B-2"}).content.decode()
    assert "2 patients shown" in html


def test_each_database_matches_multi_patient_reads_its_own_way(cast: Any) -> None:
    """PostgreSQL: JSON containment, served by the partial GIN index of migration core
    0006. SQLite (no JSON containment, no such index): the listed id as text."""
    sql = str(audit_events(cast.actors["readonly"], AuditFilter(patient=cast.patient.mrn)).query)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexdef FROM pg_indexes WHERE indexname = 'audit_detail_patients_gin'"
            )
            [(definition,)] = cursor.fetchall()
        assert "gin (detail jsonb_path_ops)" in definition
        assert "patient_public_id IS NULL" in definition
        assert '"core_auditevent"."detail" @>' in sql
    else:
        assert "LIKE" in sql.upper() and str(cast.patient.public_id) in sql
