"""The demo's detox unit: bedside records through the services, an induction that
passed the rule, one waiting on it, an over-sedation alarm, and flags after detox."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.utils import timezone

from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import actor_from_membership
from stepwise.care.models import Program
from stepwise.core.audit import audit_verify
from stepwise.patients.models import Alert, RiskFlag
from stepwise.withdrawal.board import board_read
from stepwise.withdrawal.models import (
    Administration,
    BundleClosure,
    MedicalAdmission,
    MedicationOrder,
    VitalSigns,
)
from stepwise.withdrawal.order_sets import available_sets


def _counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (MedicalAdmission, VitalSigns, MedicationOrder, Administration, RiskFlag)
    )


def test_the_demo_unit_is_busy_and_loads_once(db):
    call_command("demo_load", stdout=io.StringIO())
    detox = next(
        p
        for p in Program.objects.filter(organization__slug="riverside")
        if p.is_withdrawal_management
    )
    nurse = actor_from_membership(
        Membership.objects.select_related("organization").get(user__username="nurse")
    )
    board = board_read(nurse, detox, timezone.now())
    shown = [row for row in board.rows if row.occupied]
    assert shown and all(row.visible for row in shown)
    assert all(row.last_use_at is not None for row in shown)
    assert board.critical == 1
    # The unit offers its own set beside the default comfort set.
    assert [s.name for s in available_sets(detox)] == [
        "Opioid-withdrawal comfort set",
        "Fentanyl withdrawal: lofexidine and rescue",
    ]
    assert Alert.objects.filter(kind="over_sedation", status="open").count() == 1

    first_dose = Administration.objects.filter(safety__has_key="R-BUP-1").get()
    assert first_dose.safety["R-BUP-1"]["allowed"] is True and first_dose.override is None
    waiting = MedicationOrder.objects.filter(drug="buprenorphine", bup_start="standard").get()
    assert not Administration.objects.filter(order=waiting).exists()

    # Everyone who left detox in the last 30 days carries the flag; closures were kept.
    assert BundleClosure.objects.filter(policy="required").exists()
    assert RiskFlag.objects.filter(ends_at__gt=timezone.now()).exists()

    before = _counts()
    call_command("demo_load", stdout=io.StringIO())
    assert _counts() == before
    assert audit_verify() == []
