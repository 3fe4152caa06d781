"""The waitlist: who waits for which program, most urgent first, then longest waiting;
and how people leave it."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stepwise.core.actor import Actor
from stepwise.core.errors import Conflict, NotFound, ValidationFailed
from stepwise.intake import selectors
from stepwise.intake.models import Inquiry, IntakeSettings, Outcome, WaitlistEntry
from stepwise.intake.rules.priority import Priority
from stepwise.intake.services.inquiries import inquiry_conclude
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.waitlist import waitlist_add, waitlist_leave

from .support import FENTANYL_SMOKED, HEROIN_INJECTED, admissions, call, intake_events


def test_a_caller_is_put_on_one_waitlist(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    entry = waitlist_add(worker, inquiry, cast.residential)
    assert entry.is_open and entry.program == cast.residential
    assert entry.added_by == cast.users["admissions"]
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == Outcome.WAITLISTED
    row = intake_events(object_type="waitlist_entry")[-1]
    assert row.object_id == str(entry.public_id)
    assert row.detail["program"] == str(cast.residential.public_id)
    with pytest.raises(Conflict, match="Already waiting for Residential since"):
        waitlist_add(worker, inquiry, cast.detox)
    assert WaitlistEntry.objects.count() == 1


def test_a_scheduled_caller_may_wait_for_another_program_and_stays_scheduled(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    place_hold(worker, inquiry, cast.detox, expected_at=timezone.now())
    waitlist_add(worker, inquiry, cast.residential)
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == Outcome.SCHEDULED


def test_a_closed_call_or_an_inactive_program_takes_nobody(cast):
    worker = admissions(cast)
    closed = call(worker)
    inquiry_conclude(worker, closed, outcome="information")
    with pytest.raises(Conflict) as refused:
        waitlist_add(worker, closed, cast.residential)
    assert refused.value.message == "This call is closed (information given); log a new call."
    cast.iop.is_active = False
    cast.iop.save()
    with pytest.raises(ValidationFailed) as invalid:
        waitlist_add(worker, call(worker), cast.iop)
    assert set(invalid.value.errors) == {"program"}
    with pytest.raises(NotFound):
        waitlist_add(worker, call(worker), cast.other_program)
    assert not WaitlistEntry.objects.exists()


NEW_YORK = ZoneInfo("America/New_York")  # the cast's facility


def _one_am_days_ago(days: int) -> datetime:
    """01:00 in the organization's own day, `days` of its days ago."""
    today = timezone.now().astimezone(NEW_YORK).date()
    return datetime.combine(today - timedelta(days=days), time(1), tzinfo=NEW_YORK)


def _waiting_room(cast: Any) -> Actor:
    """Seven people added an hour apart, twelve (New York) days ago, from most to least
    waiting:
    other, recent overdose, overdose 40 days ago, injecting, pregnant, other, pregnant
    and injecting."""
    worker = admissions(cast)
    base = _one_am_days_ago(12)
    today = timezone.now().date()
    people: list[tuple[str, dict[str, Any]]] = [
        ("Olive", {"substances": [FENTANYL_SMOKED]}),
        ("Rita", {"last_overdose_on": base.date() - timedelta(days=1)}),
        ("Gus", {"last_overdose_on": today - timedelta(days=40)}),
        ("Ivan", {"substances": [HEROIN_INJECTED], "pregnancy": "no"}),
        ("Pam", {"pregnancy": "yes", "substances": [FENTANYL_SMOKED]}),
        ("Finn", {}),
        ("Pia", {"pregnancy": "yes", "substances": [FENTANYL_SMOKED, HEROIN_INJECTED]}),
    ]
    for hour, (name, details) in enumerate(people):
        with time_machine.travel(base + timedelta(hours=hour), tick=False):
            program = cast.residential if name != "Finn" else cast.detox
            waitlist_add(worker, call(worker, given_name=name, **details), program)
    return worker


def _names(found) -> list[str]:
    return [person.inquiry.given_name for person in found]


def test_the_waitlist_is_most_urgent_first_then_longest_waiting(cast):
    worker = _waiting_room(cast)
    found = selectors.waitlist(worker)
    assert _names(found) == ["Pia", "Pam", "Ivan", "Rita", "Olive", "Gus", "Finn"]
    assert [p.priority for p in found] == [
        Priority.PREGNANT_AND_INJECTING,
        Priority.PREGNANT,
        Priority.INJECTING,
        Priority.RECENT_OVERDOSE,
        Priority.OTHER,
        Priority.OTHER,
        Priority.OTHER,
    ]
    assert found[0].priority_label == "Pregnant and injecting"
    assert {p.days_waiting for p in found} == {12}


def test_recent_means_the_organizations_setting(cast):
    worker = _waiting_room(cast)
    IntakeSettings.objects.create(organization=cast.org, recent_overdose_days=45)
    found = selectors.waitlist(worker)
    assert _names(found) == ["Pia", "Pam", "Ivan", "Rita", "Gus", "Olive", "Finn"]
    IntakeSettings.objects.filter(organization=cast.org).update(recent_overdose_days=5)
    assert _names(selectors.waitlist(worker))[3:] == ["Olive", "Rita", "Gus", "Finn"]


def _queries_of_the_list(worker, **kwargs) -> tuple[list[str], int]:
    with CaptureQueriesContext(connection) as queries:
        names = _names(selectors.waitlist(worker, **kwargs))
    return names, len(queries)


def test_one_programs_waitlist_and_only_those_still_waiting(cast):
    worker = _waiting_room(cast)
    one, few_queries = _queries_of_the_list(worker, program_id=cast.detox.pk)
    assert one == ["Finn"]
    pam = WaitlistEntry.objects.get(inquiry__given_name="Pam")
    waitlist_leave(worker, pam, exit="lost_contact", reason="Three calls unanswered")
    names, queries = _queries_of_the_list(worker, program_id=cast.residential.pk)
    assert names == ["Pia", "Ivan", "Rita", "Olive", "Gus"]
    # As many queries for five people as for one.
    assert queries == few_queries
    assert selectors.waitlist(cast.actors["outsider"]) == []


def test_leaving_the_waitlist_by_referral_ends_the_call_the_same_way(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    entry = waitlist_add(worker, inquiry, cast.residential)
    with pytest.raises(ValidationFailed) as refused:
        waitlist_leave(worker, entry, exit="admitted", reason=" ")
    assert set(refused.value.errors) == {"exit", "reason"}
    assert "referred (" in refused.value.errors["exit"]
    assert "lost_contact (" in refused.value.errors["exit"]
    with pytest.raises(ValidationFailed) as refused:
        waitlist_leave(
            worker, entry, exit="referred", reason="No bed for weeks", referral_out_reason="x"
        )
    assert set(refused.value.errors) == {"referred_to", "referral_out_reason"}
    left = waitlist_leave(
        worker,
        entry,
        exit="referred",
        reason="No bed for weeks",
        referred_to="Harbor House",
        referral_out_reason="no_capacity",
    )
    assert not left.is_open
    assert (left.exit, left.exit_reason) == ("referred", "No bed for weeks")
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert (stored.outcome, stored.referred_to, stored.referral_out_reason) == (
        Outcome.REFERRED_OUT,
        "Harbor House",
        "no_capacity",
    )
    with pytest.raises(Conflict, match="already left"):
        waitlist_leave(worker, left, exit="lost_contact", reason="x")


def test_leaving_by_lost_contact(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    entry = waitlist_add(worker, inquiry, cast.residential)
    left = waitlist_leave(worker, entry, exit="lost_contact", reason="Number disconnected")
    assert (left.exit, left.exit_reason) == ("lost_contact", "Number disconnected")
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.outcome == Outcome.NO_FURTHER_CONTACT
    assert stored.outcome_note == "Number disconnected"
    assert stored.referral_out_reason == ""
