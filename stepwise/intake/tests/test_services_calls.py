"""Calls to the admissions line: crisis triage first, the call details, the clinical
lead's review, how a call ends and the follow-up."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stepwise.care import rules as care_rules
from stepwise.care.models import ReservationStatus
from stepwise.care.services import SubstanceUse
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditEvent
from stepwise.intake.models import (
    CallerKind,
    Inquiry,
    InquirySubstance,
    Outcome,
    Pregnancy,
    ReferralOutReason,
    WaitlistEntry,
)
from stepwise.intake.rules.triage import QUESTIONS, Advice, Sign
from stepwise.intake.services.admission import inquiry_admit
from stepwise.intake.services.inquiries import (
    CallDetails,
    call_details_update,
    crisis_note_add,
    follow_up_set,
    inquiry_conclude,
    inquiry_start,
    lead_review,
)
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.waitlist import waitlist_add

from .support import (
    BENZOS_ORAL,
    FENTANYL_SMOKED,
    HEROIN_INJECTED,
    PERSON,
    admissions,
    call,
    intake_events,
)

QUESTION_ORDER = [sign.value for sign, _ in QUESTIONS]


def substances_of(inquiry: Inquiry) -> list[tuple[int, int, int, str]]:
    return list(
        InquirySubstance.objects.filter(inquiry=inquiry)
        .order_by("rank")
        .values_list("rank", "substance", "route", "frequency")
    )


# Crisis triage.


def test_an_overdose_call_records_signs_in_question_order_and_the_advice(cast):
    worker = admissions(cast)
    before = timezone.now()
    inquiry = inquiry_start(worker, signs=["blue_lips", "not_breathing", "blue_lips"])
    inquiry.refresh_from_db()
    assert inquiry.crisis_signs == ["not_breathing", "blue_lips"]
    assert inquiry.crisis_advice == [
        "call_911",
        "naloxone",
        "rescue_breathing",
        "stay_and_watch",
        "stay_on_line",
    ]
    assert inquiry.triaged_at is not None and inquiry.triaged_at >= before
    assert inquiry.lead_flagged
    assert inquiry.in_crisis
    assert inquiry.answered_by == cast.users["admissions"]
    assert inquiry.outcome == "" and inquiry.is_open
    [event] = intake_events(object_id=str(inquiry.public_id))
    assert event.action == "create"
    assert event.actor_username == "admissions"
    assert event.detail == {
        "inquiry": str(inquiry.public_id),
        "crisis_signs": ["not_breathing", "blue_lips"],
        "advised": inquiry.crisis_advice,
    }
    assert event.patient_public_id is None


def test_a_call_without_danger_signs_gives_no_advice_and_no_flag(cast):
    inquiry = inquiry_start(admissions(cast), signs=[])
    inquiry.refresh_from_db()
    assert inquiry.crisis_signs == []
    assert inquiry.crisis_advice == []
    assert inquiry.triaged_at is not None
    assert not inquiry.lead_flagged
    assert not inquiry.in_crisis


@settings(
    max_examples=32,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(signs=st.lists(st.sampled_from([s.value for s in Sign]), max_size=7))
def test_every_combination_is_recorded_as_said(cast, signs):
    inquiry = inquiry_start(cast.actors["colleague"], signs=signs)
    inquiry.refresh_from_db()
    said = set(signs)
    assert inquiry.crisis_signs == [s for s in QUESTION_ORDER if s in said]
    assert inquiry.lead_flagged == bool(said)
    overdose = bool(said & {"not_breathing", "unresponsive", "blue_lips"})
    advised = set(inquiry.crisis_advice)
    assert ("call_911" in advised) == (overdose or "medical_emergency" in said)
    assert ("naloxone" in advised) == overdose
    assert ("call_988" in advised) == ("suicidal" in said)
    assert ("stay_on_line" in advised) == bool(said)
    assert inquiry.crisis_advice == [a.value for a in Advice if a.value in advised]


def test_an_unknown_sign_is_refused_naming_signs_and_the_allowed_values(cast):
    with pytest.raises(ValidationFailed) as refused:
        inquiry_start(admissions(cast), signs=["suicidal", "seizure"])
    assert set(refused.value.errors) == {"signs"}
    message = refused.value.errors["signs"]
    assert "'seizure'" in message
    for sign in Sign:
        assert sign.value in message
    assert not Inquiry.objects.exists()
    assert intake_events() == []


def test_an_unknown_channel_is_refused(cast):
    with pytest.raises(ValidationFailed) as refused:
        inquiry_start(admissions(cast), signs=[], channel="pigeon")
    assert "phone (Phone)" in refused.value.errors["channel"]
    assert "walk_in (Walk-in)" in refused.value.errors["channel"]


def test_the_call_time_is_kept_and_may_not_be_in_the_future(cast):
    worker = admissions(cast)
    earlier = timezone.now() - timedelta(hours=3)
    assert inquiry_start(worker, signs=[], received_at=earlier).received_at == earlier
    with pytest.raises(ValidationFailed) as refused:
        inquiry_start(worker, signs=[], received_at=timezone.now() + timedelta(hours=1))
    assert set(refused.value.errors) == {"received_at"}


@pytest.mark.parametrize("who", ["readonly", "admin"])
def test_who_may_not_log_a_call_is_refused(cast, who):
    with pytest.raises(AccessDenied):
        inquiry_start(cast.actors[who], signs=[])
    [denied] = intake_events(outcome="denied")
    assert denied.action == "access_denied"
    assert denied.detail == {"permission": "intake.write"}


def test_another_organization_never_reaches_the_call(cast):
    inquiry = call(admissions(cast))
    outsider = cast.actors["outsider"]
    # A director elsewhere logs calls of their own organization only.
    assert inquiry_start(outsider, signs=[]).organization_id == cast.other_org.pk
    with pytest.raises(NotFound):
        crisis_note_add(outsider, inquiry, note="seen")
    with pytest.raises(NotFound):
        call_details_update(outsider, inquiry, PERSON)
    with pytest.raises(NotFound):
        inquiry_conclude(outsider, inquiry, outcome="information")


# The call details.


def test_call_details_are_recorded_with_the_substances_in_rank_order(cast):
    worker = admissions(cast)
    inquiry = inquiry_start(worker, signs=[])
    used = timezone.now() - timedelta(hours=6)
    details = CallDetails(
        caller_kind=CallerKind.FAMILY,
        caller_name="  Maria Lee ",
        caller_relationship="mother",
        caller_phone="555-0199",
        callback_ok=True,
        message_ok=True,
        given_name="Jordan",
        family_name="Lee",
        date_of_birth=date(1992, 3, 4),
        phone="555-0100",
        substances=[HEROIN_INJECTED, FENTANYL_SMOKED, BENZOS_ORAL],
        last_use_at=used,
        prior_treatment=1,
        prior_treatment_note="Detox twice",
        pregnancy=Pregnancy.NO,
        last_overdose_on=timezone.localdate() - timedelta(days=3),
        situation_note="Wants to start buprenorphine.",
        referral_source=3,
        referring_organization="St Luke's ED",
        referring_person="Dr Okafor",
        referring_contact="555-0123",
    )
    updated = call_details_update(worker, inquiry, details)
    stored = Inquiry.objects.get(pk=updated.pk)
    assert stored.caller_name == "Maria Lee"
    assert stored.caller_kind == "family" and stored.callback_ok and stored.message_ok
    assert (stored.given_name, stored.family_name, stored.date_of_birth) == (
        "Jordan",
        "Lee",
        date(1992, 3, 4),
    )
    assert stored.last_use_at == used
    assert stored.prior_treatment == 1 and stored.referral_source == 3
    assert stored.referring_organization == "St Luke's ED"
    assert stored.pregnancy == "no"
    assert substances_of(stored) == [
        (1, 5, 4, "daily"),
        (2, 7, 2, "3_6_week"),
        (3, 13, 1, "1_2_week"),
    ]
    [event] = intake_events(action="update", object_id=str(inquiry.public_id))
    assert "substances" in event.detail["fields"]
    assert "caller_name" in event.detail["fields"]
    # Names only: no value of the call in the log.
    assert "Maria" not in str(event.detail) and "Jordan" not in str(event.detail)


def test_substances_are_replaced_not_added_to(cast):
    worker = admissions(cast)
    inquiry = call(worker, substances=[HEROIN_INJECTED, BENZOS_ORAL])
    call_details_update(worker, inquiry, replace(PERSON, substances=[FENTANYL_SMOKED]))
    assert substances_of(inquiry) == [(1, 7, 2, "3_6_week")]
    # The same again changes nothing in the list, and the log says so.
    call_details_update(worker, inquiry, replace(PERSON, substances=[FENTANYL_SMOKED]))
    last = intake_events(action="update", object_id=str(inquiry.public_id))[-1]
    assert last.detail["fields"] == []
    call_details_update(worker, inquiry, PERSON)
    assert substances_of(inquiry) == []


def _errors(cast, **changes) -> dict[str, str]:
    worker = admissions(cast)
    inquiry = inquiry_start(worker, signs=[])
    with pytest.raises(ValidationFailed) as refused:
        call_details_update(worker, inquiry, replace(PERSON, **changes))
    return refused.value.errors


@pytest.mark.parametrize(
    ("changes", "field", "allowed"),
    [
        (
            {"caller_kind": "neighbour", "caller_name": "Sam"},
            "caller_kind",
            [c for c, _ in CallerKind.choices],
        ),
        ({"pregnancy": "maybe"}, "pregnancy", [c for c, _ in Pregnancy.choices]),
        ({"referral_source": 8}, "referral_source", [c for c, _ in care_rules.REFERRAL_SOURCES]),
        ({"prior_treatment": 2}, "prior_treatment", [c for c, _ in care_rules.PRIOR_TREATMENT]),
        (
            {"substances": [SubstanceUse(99)]},
            "substance_1",
            [c for c, _ in care_rules.SUBSTANCES if c != -9],
        ),
        (
            {"substances": [HEROIN_INJECTED, SubstanceUse(-9)]},
            "substance_2",
            [c for c, _ in care_rules.SUBSTANCES if c != -9],
        ),
        ({"substances": [SubstanceUse(5, route=9)]}, "route_1", [c for c, _ in care_rules.ROUTES]),
        (
            {"substances": [SubstanceUse(5, frequency="hourly")]},
            "frequency_1",
            [c for c, _ in care_rules.FREQUENCIES],
        ),
    ],
)
def test_each_bad_value_is_refused_naming_its_field_and_the_allowed_values(
    cast, changes, field, allowed
):
    errors = _errors(cast, **changes)
    assert set(errors) == {field}
    assert errors[field].startswith("Allowed values: ")
    for code in allowed:
        assert f"{code} (" in errors[field]


def test_a_missing_substance_code_is_not_offered(cast):
    message = _errors(cast, substances=[SubstanceUse(99)])["substance_1"]
    assert "-9 (" not in message


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"substances": [HEROIN_INJECTED, SubstanceUse(5)]}, "substance_2"),
        (
            {
                "substances": [
                    HEROIN_INJECTED,
                    FENTANYL_SMOKED,
                    BENZOS_ORAL,
                    SubstanceUse(2),
                ]
            },
            "substances",
        ),
        ({"date_of_birth": timezone.localdate() + timedelta(days=1)}, "date_of_birth"),
        ({"date_of_birth": date(1899, 12, 31)}, "date_of_birth"),
        ({"last_use_at": datetime(2026, 1, 1, 12, 0)}, "last_use_at"),  # noqa: DTZ001 (naive on purpose)
        ({"last_use_at": datetime.now(UTC) + timedelta(hours=2)}, "last_use_at"),
        ({"last_overdose_on": timezone.localdate() + timedelta(days=2)}, "last_overdose_on"),
        ({"callback_ok": True, "phone": "", "caller_phone": ""}, "caller_phone"),
        ({"caller_kind": "friend", "caller_name": " "}, "caller_name"),
    ],
)
def test_impossible_details_are_refused_naming_the_field(cast, changes, field):
    assert field in _errors(cast, **changes)


def test_all_errors_are_given_at_once(cast):
    errors = _errors(
        cast,
        caller_kind="x",
        caller_name="Sam",
        pregnancy="y",
        substances=[SubstanceUse(99, 9, "z")],
    )
    assert set(errors) == {"caller_kind", "pregnancy", "substance_1", "route_1", "frequency_1"}


def test_the_details_of_an_admitted_caller_are_changed_in_the_chart(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    inquiry_admit(worker, inquiry, cast.residential)
    with pytest.raises(Conflict, match="change their details in the chart"):
        call_details_update(worker, inquiry, replace(PERSON, given_name="Jo"))
    assert Inquiry.objects.get(pk=inquiry.pk).given_name == "Jordan"


# What happened after the advice.


def test_crisis_notes_are_stamped_and_appended(cast):
    worker = admissions(cast)
    inquiry = inquiry_start(worker, signs=["unresponsive"])
    crisis_note_add(worker, inquiry, note=" 911 called at 03:12 ")
    crisis_note_add(worker, inquiry, note="Naloxone given by the caller; breathing.")
    lines = Inquiry.objects.get(pk=inquiry.pk).crisis_note.splitlines()
    assert len(lines) == 2
    # In the organization's own time (New York here) and the writer's name.
    assert re.fullmatch(r"\[\d{4}-\d\d-\d\d \d\d:\d\d E[SD]T, \w+\] 911 called at 03:12", lines[0])
    assert lines[1].endswith("] Naloxone given by the caller; breathing.")
    events = intake_events(action="update", object_id=str(inquiry.public_id))
    assert [e.detail["fields"] for e in events] == [["crisis_note"], ["crisis_note"]]


def test_an_empty_crisis_note_is_refused(cast):
    worker = admissions(cast)
    inquiry = inquiry_start(worker, signs=["suicidal"])
    with pytest.raises(ValidationFailed) as refused:
        crisis_note_add(worker, inquiry, note="   ")
    assert set(refused.value.errors) == {"note"}


# The clinical lead's review.


@pytest.mark.parametrize("lead", ["director", "physician"])
def test_the_clinical_lead_reviews_a_crisis_call_once(cast, lead):
    actor = cast.actors.get(lead) or cast.new_member(lead)
    inquiry = inquiry_start(admissions(cast), signs=["suicidal"])
    reviewed = lead_review(actor, inquiry, note="  988 connected; follow up tomorrow. ")
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.lead_reviewed_at == reviewed.lead_reviewed_at is not None
    assert stored.lead_reviewed_by == cast.users[lead]
    assert stored.lead_note == "988 connected; follow up tomorrow."
    [event] = intake_events(action="review")
    assert event.actor_username == lead and event.outcome == "success"
    with pytest.raises(Conflict, match="already been reviewed"):
        lead_review(actor, inquiry, note="again")
    assert Inquiry.objects.get(pk=inquiry.pk).lead_note == "988 connected; follow up tomorrow."


@pytest.mark.parametrize("role", ["admissions", "nurse", "counselor", "privacy_officer"])
def test_only_the_clinical_lead_may_review(cast, role):
    actor = cast.new_member(role, f"someone_{role}")
    inquiry = inquiry_start(admissions(cast), signs=["blue_lips"])
    with pytest.raises(AccessDenied):
        lead_review(actor, inquiry, note="Looks fine.")
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.lead_reviewed_at is None and stored.lead_note == ""
    [denied] = intake_events(outcome="denied")
    assert denied.action == "access_denied"
    assert denied.actor_username == f"someone_{role}"
    assert denied.detail == {"permission": "intake.lead"}
    assert not AuditEvent.objects.filter(action="review").exists()


def test_a_call_without_crisis_is_not_for_the_lead(cast):
    inquiry = inquiry_start(admissions(cast), signs=[])
    with pytest.raises(Conflict, match="not flagged"):
        lead_review(cast.actors["director"], inquiry, note="ok")
    with pytest.raises(ValidationFailed):
        lead_review(cast.actors["director"], inquiry, note=" ")


# How a call ends.


def test_information_given_closes_the_call(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    follow_up_set(worker, inquiry, due_at=timezone.now(), note="Call back")
    concluded = inquiry_conclude(worker, inquiry, outcome="information", note="Hours and address")
    stored = Inquiry.objects.get(pk=concluded.pk)
    assert stored.outcome == Outcome.INFORMATION and not stored.is_open
    assert stored.outcome_at is not None and stored.outcome_note == "Hours and address"
    assert stored.follow_up_due_at is None and stored.follow_up_note == ""
    assert stored.referred_to == "" and stored.referral_out_reason == ""
    assert intake_events(action="update")[-1].detail["outcome"] == "information"


def test_a_referral_out_names_where_to_and_why(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    with pytest.raises(ValidationFailed) as refused:
        inquiry_conclude(worker, inquiry, outcome="referred_out", referral_out_reason="nope")
    assert set(refused.value.errors) == {"referred_to", "referral_out_reason"}
    for code in ReferralOutReason.values:
        assert f"{code} (" in refused.value.errors["referral_out_reason"]
    inquiry_conclude(
        worker,
        inquiry,
        outcome="referred_out",
        referred_to=" County Hospital ",
        referral_out_reason="medical",
    )
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert (stored.outcome, stored.referred_to, stored.referral_out_reason) == (
        "referred_out",
        "County Hospital",
        "medical",
    )


def test_no_further_contact_needs_a_note(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    with pytest.raises(ValidationFailed) as refused:
        inquiry_conclude(worker, inquiry, outcome="no_further_contact", note=" ")
    assert set(refused.value.errors) == {"note"}
    inquiry_conclude(worker, inquiry, outcome="no_further_contact", note="Three calls unanswered")
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == "no_further_contact"


@pytest.mark.parametrize("outcome", ["admitted", "scheduled", "waitlisted", "screened", ""])
def test_only_the_conclusions_are_given_by_hand(cast, outcome):
    worker = admissions(cast)
    with pytest.raises(ValidationFailed) as refused:
        inquiry_conclude(worker, call(worker), outcome=outcome, note="x")
    message = refused.value.errors["outcome"]
    assert "information (" in message
    assert "referred_out (" in message
    assert "no_further_contact (" in message


def test_information_is_refused_while_on_the_waitlist(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    entry = waitlist_add(worker, inquiry, cast.residential)
    with pytest.raises(Conflict, match="on the waitlist"):
        inquiry_conclude(worker, inquiry, outcome="information", note="Gave hours")
    # Nothing of the refused conclusion was kept.
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.outcome == Outcome.WAITLISTED and stored.outcome_note == ""
    entry.refresh_from_db()
    assert entry.is_open


@pytest.mark.parametrize(
    ("outcome", "extra", "exit"),
    [
        (
            "referred_out",
            {"referred_to": "Harbor House", "referral_out_reason": "no_capacity"},
            "referred",
        ),
        ("no_further_contact", {"note": "Phone disconnected"}, "lost_contact"),
    ],
)
def test_ending_the_call_closes_the_waitlist_entry_and_gives_back_the_place(
    cast, outcome, extra, exit
):
    worker = admissions(cast)
    inquiry = call(worker)
    entry = waitlist_add(worker, inquiry, cast.residential)
    place_hold(worker, inquiry, cast.detox, expected_at=timezone.now() + timedelta(hours=2))
    inquiry_conclude(worker, inquiry, outcome=outcome, **extra)
    entry.refresh_from_db()
    assert not entry.is_open
    assert entry.exit == exit
    assert entry.left_by == cast.users["admissions"]
    expected_reason = extra.get("note") or "Referred to Harbor House"
    assert entry.exit_reason == expected_reason
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.reservation is not None
    assert stored.reservation.status == ReservationStatus.RELEASED
    assert stored.reservation.close_reason == expected_reason
    last = intake_events(action="update", object_id=str(inquiry.public_id))[-1]
    assert last.detail["waitlist_left"] == [str(entry.public_id)]
    assert last.detail["place_released"] == str(stored.reservation.public_id)
    assert not WaitlistEntry.objects.filter(left_at__isnull=True).exists()


def test_an_admitted_call_is_not_concluded(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    inquiry_admit(worker, inquiry, cast.residential)
    with pytest.raises(Conflict, match="admitted"):
        inquiry_conclude(worker, inquiry, outcome="information")
    assert Inquiry.objects.get(pk=inquiry.pk).outcome == Outcome.ADMITTED


# The follow-up.


def test_a_follow_up_is_set_and_cleared(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    due = timezone.now() + timedelta(days=1)
    follow_up_set(worker, inquiry, due_at=due, note=" Call back about the bed ")
    stored = Inquiry.objects.get(pk=inquiry.pk)
    assert stored.follow_up_due_at == due
    assert stored.follow_up_note == "Call back about the bed"
    assert intake_events(action="update")[-1].detail["follow_up_due_at"] == due.isoformat()
    follow_up_set(worker, inquiry, due_at=None, note="ignored")
    stored.refresh_from_db()
    assert stored.follow_up_due_at is None and stored.follow_up_note == ""
    assert intake_events(action="update")[-1].detail["follow_up_due_at"] is None


def test_a_follow_up_needs_a_time_zone_and_a_reason(cast):
    worker = admissions(cast)
    inquiry = call(worker)
    with pytest.raises(ValidationFailed) as refused:
        follow_up_set(worker, inquiry, due_at=datetime(2026, 5, 4, 9, 0), note="x")  # noqa: DTZ001
    assert set(refused.value.errors) == {"follow_up_due_at"}
    with pytest.raises(ValidationFailed) as refused:
        follow_up_set(worker, inquiry, due_at=timezone.now(), note=" ")
    assert set(refused.value.errors) == {"follow_up_note"}


def test_a_call_logged_afterwards_keeps_its_own_time_for_the_advice(cast):
    rang = timezone.now() - timedelta(hours=3)
    inquiry = inquiry_start(admissions(cast), signs=["blue_lips"], received_at=rang)
    inquiry.refresh_from_db()
    assert inquiry.received_at == rang and inquiry.triaged_at == rang
