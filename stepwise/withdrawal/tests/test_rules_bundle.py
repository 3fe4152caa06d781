"""The safe-discharge bundle (domain reference §6.1, R-OD-1): which leavings it gates,
what is still missing, the 7-day aftercare edge, item validation and the 30-day flag."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.care.rules import DISCHARGE_REASONS
from stepwise.withdrawal.rules.bundle import (
    AFTERCARE_WITHIN,
    DEATH,
    FLAG_DAYS,
    ITEM_LABELS,
    LEFT_WITHOUT_NOTICE,
    Item,
    ItemRecord,
    Leaving,
    MoudAnswer,
    Policy,
    State,
    bundle_gaps,
    flag_window,
    item_record_errors,
    policy_for,
)

LEAVING_AT = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
DISCHARGE = Leaving(LEAVING_AT, to_next_program=False, discharge_reason=1)
TRANSITION = Leaving(LEAVING_AT, to_next_program=True)
MINUTE = timedelta(minutes=1)


def done(item: Item, appointment_at: datetime | None = None) -> ItemRecord:
    if item is Item.MOUD_OFFER:
        return ItemRecord(item, State.DONE, moud_answer=MoudAnswer.ACCEPTED)
    if item is Item.NEXT_CARE:
        return ItemRecord(
            item,
            State.DONE,
            appointment_at=appointment_at or LEAVING_AT + timedelta(days=2),
            appointment_with="Harbor outpatient clinic",
        )
    return ItemRecord(item, State.DONE)


def declined(item: Item) -> ItemRecord:
    return ItemRecord(item, State.DECLINED, reason="Patient refused")


def complete() -> dict[Item, ItemRecord]:
    return {item: done(item) for item in Item}


# --- policy ------------------------------------------------------------------------------


def test_the_discharge_reasons_are_the_teds_codes():
    assert dict(DISCHARGE_REASONS)[DEATH] == "Death"
    assert {dict(DISCHARGE_REASONS)[r] for r in LEFT_WITHOUT_NOTICE} == {
        "Dropped out of treatment",
        "Incarcerated",
    }


@pytest.mark.parametrize(
    ("reason", "policy"),
    [
        (1, Policy.REQUIRED),  # completed
        (2, Policy.RECORD_ONLY),  # dropped out
        (3, Policy.REQUIRED),  # terminated by facility
        (4, Policy.REQUIRED),  # transferred
        (5, Policy.RECORD_ONLY),  # incarcerated
        (6, Policy.EXEMPT),  # death
        (7, Policy.REQUIRED),  # other
    ],
)
def test_policy_for_each_teds_discharge_reason(reason: int, policy: Policy):
    assert reason in dict(DISCHARGE_REASONS)
    assert policy_for(Leaving(LEAVING_AT, to_next_program=False, discharge_reason=reason)) is policy


def test_every_teds_reason_has_a_policy_case_above():
    assert [code for code, _label in DISCHARGE_REASONS] == [1, 2, 3, 4, 5, 6, 7]


def test_policy_for_a_transition_or_an_open_reason_is_required():
    assert policy_for(TRANSITION) is Policy.REQUIRED
    assert policy_for(Leaving(LEAVING_AT, to_next_program=False)) is Policy.REQUIRED
    # A transition is gated whatever reason was filled in.
    for reason in (2, 5, 6):
        assert (
            policy_for(Leaving(LEAVING_AT, to_next_program=True, discharge_reason=reason))
            is Policy.REQUIRED
        )


# --- gaps --------------------------------------------------------------------------------


def test_every_item_pending_gives_four_gaps():
    gaps = bundle_gaps({}, DISCHARGE)
    assert gaps == [f"{ITEM_LABELS[item]}: not done or declined yet." for item in Item]
    assert len(gaps) == 4
    pending = {item: ItemRecord(item, State.PENDING) for item in Item}
    assert bundle_gaps(pending, DISCHARGE) == gaps


def test_a_complete_bundle_has_no_gaps():
    assert bundle_gaps(complete(), DISCHARGE) == []
    assert bundle_gaps({item: declined(item) for item in Item}, DISCHARGE) == []


@pytest.mark.parametrize("missing", list(Item))
def test_each_missing_item_is_named(missing: Item):
    records = complete()
    del records[missing]
    assert bundle_gaps(records, DISCHARGE) == [f"{ITEM_LABELS[missing]}: not done or declined yet."]


def test_a_transition_does_not_need_next_care():
    records = complete()
    del records[Item.NEXT_CARE]
    assert bundle_gaps(records, TRANSITION) == []
    assert len(bundle_gaps({}, TRANSITION)) == 3
    # Even a far appointment is no gap on a transition.
    far = {**complete(), Item.NEXT_CARE: done(Item.NEXT_CARE, LEAVING_AT + timedelta(days=30))}
    assert bundle_gaps(far, TRANSITION) == []


def test_aftercare_exactly_seven_days_after_leaving_is_fine():
    records = {**complete(), Item.NEXT_CARE: done(Item.NEXT_CARE, LEAVING_AT + timedelta(days=7))}
    assert timedelta(days=7) == AFTERCARE_WITHIN
    assert bundle_gaps(records, DISCHARGE) == []


def test_aftercare_seven_days_and_a_minute_is_a_gap():
    late = LEAVING_AT + timedelta(days=7) + MINUTE
    records = {**complete(), Item.NEXT_CARE: done(Item.NEXT_CARE, late)}
    assert bundle_gaps(records, DISCHARGE) == [
        f"{ITEM_LABELS[Item.NEXT_CARE]}: the appointment is more than 7 days after leaving; "
        "book one sooner or decline with a reason."
    ]


def test_declined_next_care_needs_no_appointment():
    records = {**complete(), Item.NEXT_CARE: declined(Item.NEXT_CARE)}
    assert bundle_gaps(records, DISCHARGE) == []


def test_an_appointment_before_leaving_is_not_aftercare():
    records = {
        **complete(),
        Item.NEXT_CARE: done(Item.NEXT_CARE, LEAVING_AT - timedelta(minutes=1)),
    }
    (gap,) = bundle_gaps(records, DISCHARGE)
    assert "before the patient leaves" in gap


@settings(max_examples=200, deadline=None)
@given(
    states=st.fixed_dictionaries({item: st.sampled_from([None, *State]) for item in Item}),
    appointment_minutes=st.integers(min_value=-60, max_value=10 * 24 * 60),
    to_next=st.booleans(),
)
def test_gaps_property(states, appointment_minutes, to_next):
    appointment = LEAVING_AT + timedelta(minutes=appointment_minutes)
    records: dict[Item, ItemRecord] = {}
    for item, state in states.items():
        if state is State.DONE:
            records[item] = done(item, appointment)
        elif state is State.DECLINED:
            records[item] = declined(item)
        elif state is State.PENDING:
            records[item] = ItemRecord(item, State.PENDING)
    leaving = Leaving(LEAVING_AT, to_next_program=to_next, discharge_reason=None if to_next else 1)
    gaps = bundle_gaps(records, leaving)
    expected = 0
    for item in Item:
        if item is Item.NEXT_CARE and to_next:
            continue
        state = states[item]
        if state in (None, State.PENDING) or (
            item is Item.NEXT_CARE
            and state is State.DONE
            and not 0 <= appointment_minutes <= 7 * 24 * 60
        ):
            expected += 1
    assert len(gaps) == expected


# --- item validation ---------------------------------------------------------------------


@pytest.mark.parametrize("item", list(Item))
def test_a_pending_item_cannot_be_entered(item: Item):
    assert item_record_errors(ItemRecord(item, State.PENDING)) == {
        "state": "Allowed values: done, declined."
    }


@pytest.mark.parametrize("item", list(Item))
def test_a_declined_item_needs_a_reason(item: Item):
    assert item_record_errors(declined(item)) == {}
    for blank in ("", "   ", "\n\t"):
        errors = item_record_errors(ItemRecord(item, State.DECLINED, reason=blank))
        assert set(errors) == {"reason"}


@pytest.mark.parametrize("item", list(Item))
def test_a_done_item_with_what_it_needs_is_valid(item: Item):
    assert item_record_errors(done(item)) == {}


def test_moud_offer_done_needs_the_answer():
    errors = item_record_errors(ItemRecord(Item.MOUD_OFFER, State.DONE))
    assert errors == {"moud_answer": "Record the patient's answer: accepted or declined."}
    for answer in MoudAnswer:
        assert item_record_errors(ItemRecord(Item.MOUD_OFFER, State.DONE, moud_answer=answer)) == {}


def test_next_care_done_needs_when_and_with_whom():
    errors = item_record_errors(ItemRecord(Item.NEXT_CARE, State.DONE))
    assert set(errors) == {"appointment_at", "appointment_with"}
    only_when = ItemRecord(Item.NEXT_CARE, State.DONE, appointment_at=LEAVING_AT)
    assert set(item_record_errors(only_when)) == {"appointment_with"}
    blank_with = ItemRecord(
        Item.NEXT_CARE, State.DONE, appointment_at=LEAVING_AT, appointment_with="  "
    )
    assert set(item_record_errors(blank_with)) == {"appointment_with"}
    only_with = ItemRecord(Item.NEXT_CARE, State.DONE, appointment_with="Clinic")
    assert set(item_record_errors(only_with)) == {"appointment_at"}


def test_a_declined_next_care_or_moud_offer_needs_only_the_reason():
    assert item_record_errors(declined(Item.NEXT_CARE)) == {}
    assert item_record_errors(declined(Item.MOUD_OFFER)) == {}


# --- the lost-tolerance flag --------------------------------------------------------------


@pytest.mark.parametrize("reason", [None, 1, 2, 3, 4, 5, 7])
def test_the_flag_lasts_30_days_from_leaving(reason: int | None):
    leaving = Leaving(LEAVING_AT, to_next_program=False, discharge_reason=reason)
    assert FLAG_DAYS == 30
    assert flag_window(leaving) == (LEAVING_AT, LEAVING_AT + timedelta(days=30))


def test_the_flag_is_raised_on_a_transition():
    assert flag_window(TRANSITION) == (LEAVING_AT, LEAVING_AT + timedelta(days=30))


def test_no_flag_after_death():
    assert flag_window(Leaving(LEAVING_AT, to_next_program=False, discharge_reason=6)) is None
