"""The demo's admissions line: a month of calls through the services, a crisis call
waiting for the lead, people waiting by priority, a detox bed held for this morning,
and the board a recount of stays and held places."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.utils import timezone

from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import actor_from_membership
from stepwise.care.models import BedReservation, Stay
from stepwise.care.selectors import places_board
from stepwise.core.audit import audit_verify
from stepwise.intake.models import Inquiry, Outcome
from stepwise.intake.selectors import call_desk, waitlist


def test_the_demo_line_is_busy_consistent_and_loads_once(db):
    call_command("demo_load", stdout=io.StringIO())
    desk = actor_from_membership(
        Membership.objects.select_related("user", "organization").get(
            user__username="admissions", organization__slug="riverside"
        )
    )
    calls = Inquiry.objects.filter(organization_id=desk.organization_id)
    outcomes = set(calls.values_list("outcome", flat=True))
    assert {Outcome.ADMITTED, Outcome.WAITLISTED, Outcome.REFERRED_OUT} <= outcomes
    assert calls.filter(outcome=Outcome.ADMITTED, episode__days_waiting__isnull=False).exists()

    now = timezone.now()
    assert any(i.in_crisis for i in call_desk(desk, now).lead_queue)
    waiting = waitlist(desk, now)
    assert waiting and waiting[0].priority <= waiting[-1].priority
    held = BedReservation.objects.get(organization_id=desk.organization_id, status="held")
    assert held.program.is_withdrawal_management

    for row in places_board(desk, now):
        occupied = Stay.objects.filter(program=row.program, ended_at__isnull=True).count()
        reserved = BedReservation.objects.filter(
            program=row.program, status="held", hold_until__gt=now
        ).count()
        assert (row.places.occupied, row.places.reserved) == (occupied, reserved)

    before = calls.count()
    call_command("demo_intake", stdout=io.StringIO())
    assert calls.count() == before
    assert audit_verify() == []
