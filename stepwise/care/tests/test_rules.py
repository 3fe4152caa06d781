"""The pure rules of the continuum, checked over many generated cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from stepwise.care import rules

BASE = datetime(2026, 1, 1, tzinfo=UTC)
levels_3rd = st.sampled_from(rules.LEVELS_3RD)


@given(levels_3rd, levels_3rd)
def test_every_move_has_exactly_one_right_kind(a, b):
    kind = rules.transition_kind_between(a, b)
    assert rules.transition_kind_error(kind, a, b) is None
    for other in rules.TransitionKind:
        if other != kind:
            assert rules.transition_kind_error(other, a, b) is not None


@given(levels_3rd, levels_3rd)
def test_a_move_and_its_reverse_are_opposites(a, b):
    there, back = rules.transition_kind_between(a, b), rules.transition_kind_between(b, a)
    opposite = {
        rules.TransitionKind.STEP_UP: rules.TransitionKind.STEP_DOWN,
        rules.TransitionKind.STEP_DOWN: rules.TransitionKind.STEP_UP,
        rules.TransitionKind.TRANSFER: rules.TransitionKind.TRANSFER,
    }
    assert back == opposite[there]


def test_known_moves():
    detox, residential, iop = (rules.level(3, c) for c in ("3.7-WM", "3.5", "2.1"))
    assert rules.transition_kind_between(detox, residential) == rules.TransitionKind.STEP_DOWN
    assert rules.transition_kind_between(iop, residential) == rules.TransitionKind.STEP_UP
    assert (
        rules.transition_kind_between(rules.level(3, "3.7"), detox) == rules.TransitionKind.TRANSFER
    )
    assert (
        rules.transition_kind_between(iop, rules.level(3, rules.CONTINUING_CARE))
        == rules.TransitionKind.STEP_DOWN
    )


def test_editions_have_their_own_level_lists():
    assert "3.2-WM" in rules.LEVELS_BY_EDITION[3] and "3.2-WM" not in rules.LEVELS_BY_EDITION[4]
    assert "1.7" in rules.LEVELS_BY_EDITION[4] and "1.7" not in rules.LEVELS_BY_EDITION[3]
    assert [code for code, _ in rules.DISCHARGE_REASONS] == [1, 2, 3, 4, 5, 6, 7]
    assert [code for code, _ in rules.TEDS_SERVICES] == list(range(1, 9))


@st.composite
def contiguous_stays(draw) -> list[rules.Span]:
    lengths = draw(st.lists(st.integers(min_value=1, max_value=10_000), min_size=1, max_size=8))
    still_open = draw(st.booleans())
    spans, start = [], BASE
    for index, minutes in enumerate(lengths):
        end = start + timedelta(minutes=minutes)
        last = index == len(lengths) - 1
        spans.append(rules.Span(start, None if (last and still_open) else end))
        start = end
    return spans


@given(contiguous_stays())
def test_contiguous_stays_have_no_errors(spans):
    assert rules.stay_sequence_errors(spans) == []


@given(contiguous_stays(), st.integers(min_value=1, max_value=500), st.data())
def test_shifting_a_later_stay_is_caught(spans, shift, data):
    if len(spans) < 2 or spans[0].end is None:
        return
    index = data.draw(st.integers(min_value=1, max_value=len(spans) - 1))
    moved = spans[index]
    direction = data.draw(st.sampled_from([1, -1]))
    new_start = moved.start + direction * timedelta(minutes=shift)
    if moved.end is not None and new_start >= moved.end:
        return
    spans = [*spans[:index], rules.Span(new_start, moved.end), *spans[index + 1 :]]
    errors = rules.stay_sequence_errors(spans)
    assert any(("gap" in e) or ("overlap" in e) for e in errors)


def test_open_stay_must_be_last():
    spans = [rules.Span(BASE, None), rules.Span(BASE + timedelta(days=1), None)]
    assert "stay 1 is open but is not the last stay" in rules.stay_sequence_errors(spans)
