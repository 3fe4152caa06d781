"""The relapse response checklist, what each entry needs, and whether tolerance may be
lost before a use: plain rules, checked with Hypothesis."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.recovery.rules.relapse import (
    ITEM_HELP,
    ITEM_LABELS,
    Item,
    MoudAnswer,
    State,
    Tolerance,
    checklist,
    is_settled,
    item_errors,
    open_items,
    outreach_due,
    tolerance_before,
)

# --- the checklist ------------------------------------------------------------------------


def test_every_relapse_starts_all_five_items_safety_first():
    assert checklist() == (
        Item.NALOXONE,
        Item.REASSESSMENT,
        Item.MOUD,
        Item.PLAN_REVIEW,
        Item.OUTREACH,
    )
    assert set(checklist()) == set(Item) == set(ITEM_LABELS) == set(ITEM_HELP)


def test_nothing_recorded_means_everything_open():
    assert open_items({}) == list(checklist())
    assert not is_settled({})


def test_settled_when_every_item_is_done_or_declined():
    states = dict.fromkeys(checklist(), State.DONE)
    states[Item.MOUD] = State.DECLINED
    assert is_settled(states) and open_items(states) == []
    states[Item.OUTREACH] = State.OPEN
    assert not is_settled(states) and open_items(states) == [Item.OUTREACH]


states_maps = st.dictionaries(st.sampled_from(list(Item)), st.sampled_from(list(State)))


@given(states=states_maps, as_text=st.booleans())
def test_open_items_in_order_and_settled_iff_none(states, as_text):
    # The database hands back plain text; the rules read it the same as the enum.
    given_states = {item: str(state) for item, state in states.items()} if as_text else states
    still_open = [i for i in checklist() if states.get(i, State.OPEN) is State.OPEN]
    assert open_items(given_states) == still_open
    assert is_settled(given_states) == (still_open == [])


# --- what an entry needs ------------------------------------------------------------------


def test_declining_needs_a_reason():
    errors = item_errors(Item.NALOXONE, State.DECLINED, "   ")
    assert errors == {"note": "Say why this is declined; the reason is part of the record."}
    assert item_errors(Item.NALOXONE, State.DECLINED, "Has two kits at home") == {}


def test_done_needs_a_note_except_the_medication_offer():
    assert item_errors(Item.OUTREACH, State.DONE, "") == {"note": "Say what was done."}
    assert item_errors(Item.OUTREACH, State.DONE, "Called; coming Thursday") == {}
    assert item_errors(Item.MOUD, State.DONE, "", moud_answer=MoudAnswer.ACCEPTED) == {}


def test_the_medication_offer_done_needs_its_answer():
    errors = item_errors(Item.MOUD, State.DONE, "Offered")
    assert errors == {"moud_answer": "Allowed values: accepted, refused, dose_reviewed."}
    assert item_errors(Item.MOUD, State.DECLINED, "Not indicated: alcohol only") == {}


def test_open_is_not_an_entry():
    assert item_errors(Item.NALOXONE, State.OPEN, "x") == {
        "state": "Allowed values: done, declined."
    }


@given(
    item=st.sampled_from(list(Item)),
    state=st.sampled_from(list(State)),
    note=st.sampled_from(["", "  \n", "Done today"]),
    answer=st.one_of(st.none(), st.sampled_from(list(MoudAnswer))),
)
def test_an_entry_is_refused_exactly_when_something_is_missing(item, state, note, answer):
    errors = item_errors(item, state, note, moud_answer=answer)
    written = bool(note.strip())
    if state is State.OPEN:
        assert "state" in errors
    else:
        assert "state" not in errors
    needs_note = (state is State.DECLINED and not written) or (
        state is State.DONE and not written and item is not Item.MOUD
    )
    assert ("note" in errors) == needs_note
    assert ("moud_answer" in errors) == (
        item is Item.MOUD and state is State.DONE and answer is None
    )


# --- outreach -----------------------------------------------------------------------------


def test_outreach_is_due_the_set_hours_after_confirmation():
    confirmed = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    assert outreach_due(confirmed, 24) == datetime(2026, 11, 3, 15, 0, tzinfo=UTC)
    assert outreach_due(confirmed, 4) == datetime(2026, 11, 2, 19, 0, tzinfo=UTC)


# --- tolerance before a use ---------------------------------------------------------------

START = date(2026, 1, 1)
END = date(2026, 12, 31)
days = st.dates(min_value=START, max_value=END)


def test_no_earlier_use_counts_from_the_start_of_the_record():
    found = tolerance_before(date(2026, 1, 15), [], START, 7)
    assert found == Tolerance(14, True)


def test_a_use_soon_after_another_keeps_tolerance():
    assert tolerance_before(date(2026, 3, 3), [date(2026, 3, 1)], START, 7) == Tolerance(2, False)


def test_the_threshold_day_itself_counts_as_lost():
    before = date(2026, 3, 1)
    assert tolerance_before(before + timedelta(days=7), [before], START, 7) == Tolerance(7, True)
    assert tolerance_before(before + timedelta(days=6), [before], START, 7) == Tolerance(6, False)


def test_a_back_dated_use_is_measured_against_the_use_before_it():
    uses = [date(2026, 2, 1), date(2026, 6, 1)]
    found = tolerance_before(date(2026, 2, 4), uses, START, 7)
    assert found == Tolerance(3, False)  # not against June, which came after


def test_a_use_the_same_day_is_not_an_earlier_use():
    found = tolerance_before(date(2026, 3, 1), [date(2026, 3, 1)], START, 7)
    assert found == Tolerance((date(2026, 3, 1) - START).days, True)


def test_a_use_before_the_record_has_no_count():
    assert tolerance_before(date(2025, 12, 1), [], START, 7) == Tolerance(None, False)


@settings(max_examples=300)
@given(
    used_on=days,
    earlier=st.lists(days, max_size=12),
    threshold=st.integers(min_value=1, max_value=365),
)
def test_measured_from_the_latest_earlier_use_or_the_record_start(used_on, earlier, threshold):
    found = tolerance_before(used_on, earlier, START, threshold)
    before = [d for d in earlier if d < used_on]
    since = max(before) if before else START
    assert found.abstinent_days == (used_on - since).days
    assert found.lost == ((used_on - since).days >= threshold)
    # Uses recorded after this one (back-dating it) change nothing.
    assert tolerance_before(used_on, before, START, threshold) == found


@given(
    used_on=days,
    earlier=st.lists(days, max_size=12),
    threshold=st.integers(min_value=1, max_value=365),
)
def test_a_higher_threshold_never_loses_more(used_on, earlier, threshold):
    lower = tolerance_before(used_on, earlier, START, threshold)
    higher = tolerance_before(used_on, earlier, START, threshold + 1)
    assert lower.abstinent_days == higher.abstinent_days
    assert lower.lost or not higher.lost


@pytest.mark.parametrize("threshold", [1, 7, 30])
def test_a_use_on_the_first_day_of_the_record_is_zero_days(threshold):
    assert tolerance_before(START, [], START, threshold) == Tolerance(0, False)
