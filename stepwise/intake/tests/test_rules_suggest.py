"""The program suggested after a screening: never a less intensive level than the
screening calls for, withdrawal management only in a withdrawal-management program,
the nearest level first and, among those, one with a place open now."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.care.rules import LEVELS_3RD
from stepwise.intake.rules.suggest import ProgramOption, Target, suggest

LEVELS = [lv for lv in LEVELS_3RD if lv.code != "CC"]
BY_CODE = {lv.code: lv for lv in LEVELS}


def target(code: str) -> Target:
    return Target(code, BY_CODE[code].rank, code.endswith("-WM"))


def option(key: int, name: str, code: str, available: int | None) -> ProgramOption:
    return ProgramOption(key, name, code, BY_CODE[code].rank, code.endswith("-WM"), available)


DETOX = option(1, "Detox", "3.7-WM", 2)
RESIDENTIAL = option(2, "Residential", "3.5", 10)
IOP = option(3, "Evening IOP", "2.1", None)
IOP_EAST = option(4, "Evening IOP East", "2.1", None)
HOUSE = [DETOX, RESIDENTIAL, IOP, IOP_EAST]


def test_withdrawal_management_goes_to_the_detox_program():
    result = suggest(target("3.7-WM"), HOUSE)
    assert result.program == DETOX
    assert result.has_place
    assert result.reasons == (
        "Detox offers withdrawal management at level 3.7-WM.",
        "2 places are open now.",
    )


def test_a_lower_withdrawal_level_gets_the_nearest_more_intensive_one():
    result = suggest(target("2-WM"), HOUSE)
    assert result.program == DETOX
    assert result.reasons[0] == (
        "No program here is at level 2-WM; Detox (level 3.7-WM) is the nearest more intensive one."
    )


def test_treatment_never_goes_to_a_detox_program_nor_to_a_lower_level():
    assert suggest(target("3.5"), HOUSE).program == RESIDENTIAL
    assert suggest(target("3.1"), HOUSE).program == RESIDENTIAL
    # 3.7 is more intensive than residential 3.5, and detox is no treatment program.
    result = suggest(target("3.7"), HOUSE)
    assert result.program is None
    assert not result.has_place
    assert result.reasons == (
        "No program here offers treatment at level 3.7 or a more intensive one: refer "
        "elsewhere, saying why.",
    )


def test_no_withdrawal_program_at_or_above_the_level_is_a_referral():
    result = suggest(target("4-WM"), HOUSE)
    assert result.program is None
    assert result.reasons == (
        "No program here offers withdrawal management at level 4-WM or a more intensive "
        "one: refer elsewhere, saying why.",
    )


def test_an_uncapped_program_always_has_a_place_and_ties_go_by_name():
    result = suggest(target("2.1"), HOUSE)
    assert result.program == IOP
    assert result.has_place
    assert result.reasons[1] == "Evening IOP has no cap on places."


def test_among_programs_at_the_level_one_with_a_place_is_preferred():
    full = option(5, "A Full IOP", "2.1", 0)
    one_left = option(6, "B IOP", "2.1", 1)
    three_left = option(7, "C IOP", "2.1", 3)
    assert suggest(target("2.1"), [full, one_left]).program == one_left
    assert suggest(target("2.1"), [full, one_left, three_left]).program == three_left
    assert suggest(target("2.1"), [full, one_left]).reasons[1] == "1 place is open now."


def test_a_full_program_is_still_suggested_saying_it_is_full():
    full_detox = option(1, "Detox", "3.7-WM", 0)
    result = suggest(target("3.7-WM"), [full_detox, RESIDENTIAL])
    assert result.program == full_detox
    assert not result.has_place
    assert result.reasons[1] == (
        "Detox is full now: add the person to its waitlist, or refer elsewhere."
    )


def test_the_nearest_level_wins_over_a_more_intensive_one_with_places():
    full_iop = option(5, "Evening IOP", "2.1", 0)
    assert suggest(target("2.1"), [full_iop, RESIDENTIAL]).program == full_iop


def test_no_options_at_all():
    result = suggest(target("1"), [])
    assert result.program is None and not result.has_place
    assert "refer elsewhere" in result.reasons[0]


level_codes = st.sampled_from([lv.code for lv in LEVELS])
options = st.lists(
    st.builds(
        lambda key, code, available: option(key, f"Program {key}", code, available),
        st.integers(0, 10_000),
        level_codes,
        st.one_of(st.none(), st.integers(0, 4)),
    ),
    max_size=12,
    unique_by=lambda o: o.key,
)


@settings(max_examples=300)
@given(code=level_codes, offered=options)
def test_the_suggestion_fits_the_target(code, offered):
    wanted = target(code)
    result = suggest(wanted, offered)
    fitting = [
        o
        for o in offered
        if o.withdrawal_management == wanted.withdrawal_management and o.rank >= wanted.rank
    ]
    if not fitting:
        assert result.program is None
        assert not result.has_place
        assert len(result.reasons) == 1 and "refer elsewhere" in result.reasons[0]
        return
    chosen = result.program
    assert chosen is not None and chosen in offered
    # Never less intensive; withdrawal management only where it is offered, and back.
    assert chosen.rank >= wanted.rank
    assert chosen.withdrawal_management == wanted.withdrawal_management
    # The nearest fitting level.
    nearest = min(o.rank for o in fitting)
    assert chosen.rank == nearest
    # At that level, a program with a place whenever there is one.
    with_place = [
        o for o in fitting if o.rank == nearest and (o.available is None or o.available > 0)
    ]
    assert result.has_place == bool(with_place)
    assert result.has_place == (chosen.available is None or chosen.available > 0)
    if not result.has_place:
        assert result.reasons[-1] == (
            f"{chosen.name} is full now: add the person to its waitlist, or refer elsewhere."
        )
    assert len(result.reasons) == 2
    assert chosen.name in result.reasons[0]
