"""The start rules for opioid agonists and antagonists, each at its boundaries:
R-BUP-1 (first buprenorphine dose), R-MTD-1 (methadone) and R-NTX-1 (naltrexone),
domain reference §1.3, §6 and §11."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stepwise.withdrawal.rules.safety import (
    RULE_TITLES,
    BuprenorphineStart,
    CowsReading,
    LastUse,
    OpioidKind,
    Verdict,
    buprenorphine_first_dose,
    latest_by_kind,
    methadone_dose,
    naltrexone_start,
)
from stepwise.withdrawal.rules.thresholds import SETTINGS, SETTINGS_BY_NAME, SafetyThresholds

NY = ZoneInfo("America/New_York")
# The dose time: 10:00 EDT on an ordinary day, far from any clock change.
AT = datetime(2026, 5, 4, 14, 0, tzinfo=UTC)
DEFAULT = SafetyThresholds()
MINUTE = timedelta(minutes=1)
SECOND = timedelta(seconds=1)

FULL_AGONIST_WAIT = {
    OpioidKind.SHORT_ACTING: "bup_hours_short_acting",
    OpioidKind.EXTENDED_RELEASE: "bup_hours_extended_release",
    OpioidKind.METHADONE: "bup_hours_methadone",
}
KIND_LABEL = {
    OpioidKind.SHORT_ACTING: "short-acting opioid",
    OpioidKind.EXTENDED_RELEASE: "extended-release opioid",
    OpioidKind.METHADONE: "methadone",
    OpioidKind.BUPRENORPHINE: "buprenorphine",
}


def local(at: datetime) -> str:
    """How the rules print a time for the clinician."""
    return at.astimezone(NY).strftime("%Y-%m-%d %H:%M %Z")


def use_at(kind: OpioidKind, at: datetime, source: str = "medical admission") -> LastUse:
    return LastUse(kind, at, source)


def use(kind: OpioidKind, before: timedelta, at: datetime = AT) -> LastUse:
    return LastUse(kind, at - before, "medical admission")


def cows(total: int, before: timedelta, at: datetime = AT) -> CowsReading:
    return CowsReading(total, at - before)


def bup(
    *,
    at: datetime = AT,
    start: BuprenorphineStart = BuprenorphineStart.STANDARD,
    last_uses: list[LastUse] | tuple[LastUse, ...] = (),
    readings: list[CowsReading] | tuple[CowsReading, ...] = (),
    on_buprenorphine: bool = False,
    fentanyl_exposure: bool = False,
    th: SafetyThresholds = DEFAULT,
) -> Verdict:
    verdict = buprenorphine_first_dose(
        at=at,
        start=start,
        last_uses=last_uses,
        cows=readings,
        on_buprenorphine=on_buprenorphine,
        fentanyl_exposure=fentanyl_exposure,
        th=th,
        zone=NY,
    )
    check_shape(verdict, "R-BUP-1")
    return verdict


def ntx(
    *,
    at: datetime = AT,
    last_uses: list[LastUse] | tuple[LastUse, ...] = (),
    challenge: datetime | None = None,
    th: SafetyThresholds = DEFAULT,
) -> Verdict:
    verdict = naltrexone_start(
        at=at, last_uses=last_uses, negative_challenge_at=challenge, th=th, zone=NY
    )
    check_shape(verdict, "R-NTX-1")
    return verdict


def mtd(
    *,
    certified: bool = True,
    first_day: bool = True,
    given: str = "0",
    dose: str = "30",
    rationale: str = "",
    th: SafetyThresholds = DEFAULT,
) -> Verdict:
    verdict = methadone_dose(
        program_otp_certified=certified,
        program_name="Riverside Detox",
        first_day=first_day,
        given_first_day_mg=Decimal(given),
        dose_mg=Decimal(dose),
        rationale=rationale,
        th=th,
    )
    check_shape(verdict, "R-MTD-1")
    return verdict


def check_shape(verdict: Verdict, rule: str) -> None:
    """Every verdict names its rule, shows what it saw, and says what would satisfy it
    exactly when it blocks."""
    assert verdict.rule == rule
    assert verdict.title == RULE_TITLES[rule]
    assert verdict.saw and all(line.strip() for line in verdict.saw)
    assert (not verdict.needs) == verdict.allowed
    assert verdict.blocked == (not verdict.allowed)
    assert all(line.strip() for line in verdict.needs)


def thresholds() -> st.SearchStrategy[SafetyThresholds]:
    """Any configuration a program may choose (every value inside its range)."""
    return st.builds(
        SafetyThresholds,
        **{s.name: st.integers(min_value=s.low, max_value=s.high) for s in SETTINGS},
    )


def wait_for(kind: OpioidKind, th: SafetyThresholds) -> timedelta:
    return timedelta(hours=getattr(th, FULL_AGONIST_WAIT[kind]))


# --- R-BUP-1: waits since last use -------------------------------------------------


@pytest.mark.parametrize("kind", list(FULL_AGONIST_WAIT))
@pytest.mark.parametrize("which", ["low", "high"])
def test_bup_exactly_at_the_required_wait_is_allowed(kind: OpioidKind, which: str):
    setting = SETTINGS_BY_NAME[FULL_AGONIST_WAIT[kind]]
    hours = setting.low if which == "low" else setting.high
    th = SafetyThresholds(**{setting.name: hours})
    verdict = bup(
        last_uses=[use(kind, timedelta(hours=hours))],
        readings=[cows(th.bup_cows_threshold, timedelta(minutes=5))],
        th=th,
    )
    assert verdict.allowed
    assert any(KIND_LABEL[kind] in line and f"{hours:.1f} h" in line for line in verdict.saw)


@pytest.mark.parametrize("kind", list(FULL_AGONIST_WAIT))
@pytest.mark.parametrize("which", ["low", "high"])
def test_bup_one_minute_short_of_the_wait_is_blocked_and_says_until_when(
    kind: OpioidKind, which: str
):
    setting = SETTINGS_BY_NAME[FULL_AGONIST_WAIT[kind]]
    hours = setting.low if which == "low" else setting.high
    th = SafetyThresholds(**{setting.name: hours})
    verdict = bup(
        last_uses=[use(kind, timedelta(hours=hours) - MINUTE)],
        readings=[cows(13, timedelta(minutes=5))],
        th=th,
    )
    assert verdict.blocked
    assert verdict.needs == (
        f"Wait until {local(AT + MINUTE)}: {hours} h after the last {KIND_LABEL[kind]}.",
    )


def test_bup_one_second_short_is_still_blocked():
    verdict = bup(
        last_uses=[use(OpioidKind.SHORT_ACTING, timedelta(hours=12) - SECOND)],
        readings=[cows(8, timedelta(0))],
    )
    assert verdict.blocked


def ny(year: int, month: int, day: int, hour: int, minute: int = 0, fold: int = 0) -> datetime:
    """A New York wall-clock time as the UTC instant the services pass to the rules."""
    return datetime(year, month, day, hour, minute, fold=fold, tzinfo=NY).astimezone(UTC)


def test_bup_wait_is_elapsed_time_across_the_spring_forward_night():
    # Last heroin 20:00 EST on 7 March; 12 elapsed hours later is 09:00 EDT on 8 March,
    # though the wall clock shows 13 hours.
    last = ny(2026, 3, 7, 20)
    ready = ny(2026, 3, 8, 9)
    assert ready - last == timedelta(hours=12)
    uses = [use_at(OpioidKind.SHORT_ACTING, last)]
    wall_clock_twelve = ny(2026, 3, 8, 8)  # 11 elapsed hours
    blocked = bup(
        at=wall_clock_twelve,
        last_uses=uses,
        readings=[cows(9, timedelta(0), at=wall_clock_twelve)],
    )
    assert blocked.needs == (
        "Wait until 2026-03-08 09:00 EDT: 12 h after the last short-acting opioid.",
    )
    assert bup(at=ready, last_uses=uses, readings=[cows(9, timedelta(0), at=ready)]).allowed


def test_bup_wait_is_elapsed_time_across_the_fall_back_night():
    # 20:00 EDT on 31 October + 12 elapsed hours = 07:00 EST on 1 November.
    last = ny(2026, 10, 31, 20)
    uses = [use_at(OpioidKind.SHORT_ACTING, last)]
    ready = ny(2026, 11, 1, 7)
    early = ready - MINUTE
    assert ready - last == timedelta(hours=12)
    assert bup(at=ready, last_uses=uses, readings=[cows(9, timedelta(0), at=ready)]).allowed
    blocked = bup(at=early, last_uses=uses, readings=[cows(9, timedelta(0), at=early)])
    assert blocked.needs == (
        "Wait until 2026-11-01 07:00 EST: 12 h after the last short-acting opioid.",
    )


def test_bup_wait_is_elapsed_time_even_when_both_times_carry_the_facility_zone():
    last = datetime(2026, 3, 7, 20, 0, tzinfo=NY)  # 01:00 UTC on 8 March
    at = datetime(2026, 3, 8, 8, 30, tzinfo=NY)  # 12:30 UTC: 11.5 elapsed hours later
    assert at.astimezone(UTC) - last.astimezone(UTC) == timedelta(hours=11, minutes=30)
    verdict = bup(
        at=at,
        last_uses=[use_at(OpioidKind.SHORT_ACTING, last)],
        readings=[CowsReading(9, at)],
    )
    assert verdict.blocked


def test_bup_the_latest_use_of_a_kind_counts_whatever_the_order():
    older = use(OpioidKind.SHORT_ACTING, timedelta(hours=30))
    newer = use(OpioidKind.SHORT_ACTING, timedelta(hours=11))
    reading = [cows(10, timedelta(minutes=10))]
    for uses in ([older, newer], [newer, older]):
        verdict = bup(last_uses=uses, readings=reading)
        assert verdict.blocked
        assert len(verdict.needs) == 1 and local(newer.at + timedelta(hours=12)) in verdict.needs[0]
    assert bup(last_uses=[older], readings=reading).allowed


def test_bup_every_kind_must_be_satisfied():
    short_ok = use(OpioidKind.SHORT_ACTING, timedelta(hours=12))
    er_ok = use(OpioidKind.EXTENDED_RELEASE, timedelta(hours=24))
    mtd_ok = use(OpioidKind.METHADONE, timedelta(hours=36))
    mtd_short = use(OpioidKind.METHADONE, timedelta(hours=36) - MINUTE)
    er_short = use(OpioidKind.EXTENDED_RELEASE, timedelta(hours=23))
    reading = [cows(8, timedelta(minutes=1))]

    assert bup(last_uses=[short_ok, er_ok, mtd_ok], readings=reading).allowed

    one = bup(last_uses=[short_ok, er_ok, mtd_short], readings=reading)
    assert one.blocked and len(one.needs) == 1 and "36 h after the last methadone" in one.needs[0]

    two = bup(last_uses=[short_ok, er_short, mtd_short], readings=reading)
    assert two.blocked and len(two.needs) == 2
    assert any("extended-release" in n for n in two.needs)
    assert any("methadone" in n for n in two.needs)


def test_bup_a_buprenorphine_last_use_needs_no_wait_but_does_not_replace_a_full_agonist():
    reading = [cows(9, timedelta(minutes=1))]
    only_bup = bup(last_uses=[use(OpioidKind.BUPRENORPHINE, timedelta(hours=1))], readings=reading)
    assert only_bup.blocked
    assert any("Record the time of last use" in n for n in only_bup.needs)
    mixed = bup(
        last_uses=[
            use(OpioidKind.BUPRENORPHINE, timedelta(minutes=30)),
            use(OpioidKind.SHORT_ACTING, timedelta(hours=12)),
        ],
        readings=reading,
    )
    assert mixed.allowed


def test_bup_no_last_use_recorded_is_blocked():
    verdict = bup(readings=[cows(20, timedelta(minutes=1))])
    assert verdict.blocked
    assert verdict.needs == (
        "Record the time of last use (short-acting, extended-release or methadone): "
        "the short last-use entry from the flowsheet, or the medical admission assessment.",
    )
    assert any("No time of last full-agonist opioid use" in s for s in verdict.saw)


def test_bup_a_last_use_after_the_dose_time_blocks():
    verdict = bup(
        last_uses=[use(OpioidKind.SHORT_ACTING, -timedelta(hours=1))],
        readings=[cows(9, timedelta(0))],
    )
    assert verdict.blocked


def test_bup_saw_names_the_source_of_each_time():
    verdict = bup(
        last_uses=[use_at(OpioidKind.SHORT_ACTING, AT - timedelta(hours=20), "patient report")],
        readings=[cows(9, timedelta(minutes=3))],
    )
    assert any("patient report" in s and "20.0 h before the dose" in s for s in verdict.saw)
    assert any(s == f"COWS 9 at {local(AT - timedelta(minutes=3))}." for s in verdict.saw)
    assert verdict.saw[0] == "Induction chosen: Standard induction (wait for withdrawal)."


# --- R-BUP-1: objective withdrawal ----------------------------------------------------

WAITED = [use(OpioidKind.SHORT_ACTING, timedelta(hours=48))]


@pytest.mark.parametrize("threshold", range(8, 14))
def test_bup_cows_exactly_at_threshold_allowed_one_below_blocked(threshold: int):
    th = SafetyThresholds(bup_cows_threshold=threshold)
    at_threshold = bup(last_uses=WAITED, readings=[cows(threshold, timedelta(minutes=5))], th=th)
    below = bup(last_uses=WAITED, readings=[cows(threshold - 1, timedelta(minutes=5))], th=th)
    assert at_threshold.allowed
    assert below.blocked
    assert below.needs == (
        f"COWS must be {threshold} or more (the organization's threshold); wait and "
        "rescore, commonly after 1-2 hours.",
    )


def test_bup_cows_exactly_sixty_minutes_before_counts():
    assert bup(last_uses=WAITED, readings=[cows(8, timedelta(minutes=60))]).allowed


@pytest.mark.parametrize("older", [timedelta(minutes=60) + SECOND, timedelta(minutes=61)])
def test_bup_cows_older_than_sixty_minutes_is_ignored(older: timedelta):
    verdict = bup(last_uses=WAITED, readings=[cows(30, older)])
    assert verdict.blocked
    assert verdict.needs == ("Score COWS; it must be 8 or more within 60 minutes before the dose.",)
    assert any("No COWS scored in the 60 minutes" in s for s in verdict.saw)


def test_bup_cows_at_the_dose_time_counts_and_after_it_is_ignored():
    assert bup(last_uses=WAITED, readings=[cows(8, timedelta(0))]).allowed
    after = bup(last_uses=WAITED, readings=[cows(30, -SECOND)])
    assert after.blocked
    assert any("No COWS scored" in s for s in after.saw)


def test_bup_the_latest_cows_in_the_window_counts_not_the_highest():
    high_then_low = [cows(12, timedelta(minutes=50)), cows(5, timedelta(minutes=10))]
    low_then_high = [cows(5, timedelta(minutes=50)), cows(9, timedelta(minutes=10))]
    assert bup(last_uses=WAITED, readings=high_then_low).blocked
    assert bup(last_uses=WAITED, readings=list(reversed(high_then_low))).blocked
    assert bup(last_uses=WAITED, readings=low_then_high).allowed
    # An old high score outside the window and a later low one: blocked.
    assert bup(
        last_uses=WAITED, readings=[cows(20, timedelta(minutes=70)), cows(5, timedelta(minutes=5))]
    ).blocked
    # A later score after the dose time does not count against the one before it.
    assert bup(
        last_uses=WAITED, readings=[cows(9, timedelta(minutes=10)), cows(2, -MINUTE)]
    ).allowed


def test_bup_wait_and_cows_both_missing_give_two_needs():
    verdict = bup(last_uses=[use(OpioidKind.SHORT_ACTING, timedelta(hours=2))])
    assert verdict.blocked and len(verdict.needs) == 2


# --- R-BUP-1: other induction choices and cautions -------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    on_bup=st.booleans(),
    fentanyl=st.booleans(),
    hours_since=st.integers(min_value=-5, max_value=100),
    score=st.integers(min_value=0, max_value=48),
    th=thresholds(),
)
def test_bup_low_dose_protocol_is_allowed_regardless(on_bup, fentanyl, hours_since, score, th):
    verdict = bup(
        start=BuprenorphineStart.LOW_DOSE,
        last_uses=[use(OpioidKind.SHORT_ACTING, timedelta(hours=hours_since))],
        readings=[cows(score, timedelta(minutes=1))],
        on_buprenorphine=on_bup,
        fentanyl_exposure=fentanyl,
        th=th,
    )
    assert verdict.allowed and verdict.needs == ()


def test_bup_low_dose_with_nothing_recorded_is_allowed():
    verdict = bup(start=BuprenorphineStart.LOW_DOSE)
    assert verdict.allowed
    assert "Low-dose induction protocol" in verdict.saw[0]


def test_bup_continuation_only_when_on_buprenorphine():
    uses = [use(OpioidKind.SHORT_ACTING, timedelta(hours=1))]  # would block a standard start
    on = bup(start=BuprenorphineStart.CONTINUATION, on_buprenorphine=True, last_uses=uses)
    off = bup(start=BuprenorphineStart.CONTINUATION, on_buprenorphine=False, last_uses=WAITED)
    assert on.allowed
    assert off.blocked
    assert len(off.needs) == 1 and "current buprenorphine" in off.needs[0]
    # Being on buprenorphine does not excuse a standard induction.
    assert bup(start=BuprenorphineStart.STANDARD, on_buprenorphine=True, last_uses=uses).blocked


@pytest.mark.parametrize("allowed", [True, False])
def test_bup_fentanyl_exposure_adds_a_caution_without_blocking(allowed: bool):
    reading = [cows(9 if allowed else 3, timedelta(minutes=5))]
    with_fentanyl = bup(last_uses=WAITED, readings=reading, fentanyl_exposure=True)
    without = bup(last_uses=WAITED, readings=reading, fentanyl_exposure=False)
    assert with_fentanyl.allowed == without.allowed == allowed
    assert len(with_fentanyl.cautions) == 1
    assert "Fentanyl" in with_fentanyl.cautions[0] and "low-dose" in with_fentanyl.cautions[0]
    assert without.cautions == ()


# --- R-BUP-1 as a property -------------------------------------------------------------

KINDS = list(OpioidKind)


@st.composite
def bup_case(
    draw: st.DrawFn,
) -> tuple[SafetyThresholds, list[LastUse], list[CowsReading]]:
    th = draw(thresholds())
    # Offsets in minutes before the dose; negative values are after it.
    uses = [
        LastUse(kind, AT - timedelta(minutes=m), "medical admission")
        for kind, m in draw(
            st.lists(
                st.tuples(st.sampled_from(KINDS), st.integers(min_value=-120, max_value=80 * 60)),
                max_size=6,
            )
        )
    ]
    readings = [
        CowsReading(total, AT - timedelta(minutes=m))
        for total, m in draw(
            st.lists(
                st.tuples(st.integers(min_value=0, max_value=48), st.integers(-30, 120)),
                max_size=5,
                unique_by=lambda r: r[1],
            )
        )
    ]
    if draw(st.booleans()):  # the same instants, recorded in the facility's zone
        uses = [LastUse(u.kind, u.at.astimezone(NY), u.source) for u in uses]
        readings = [CowsReading(c.total, c.at.astimezone(NY)) for c in readings]
    return th, uses, readings


@settings(max_examples=300, deadline=None)
@given(bup_case(), st.booleans())
def test_bup_allowed_iff_every_wait_met_and_latest_recent_cows_at_threshold(case, fentanyl):
    th, uses, readings = case
    verdict = bup(last_uses=uses, readings=readings, th=th, fentanyl_exposure=fentanyl)

    latest: dict[OpioidKind, datetime] = {}
    for u in uses:
        latest[u.kind] = max(latest.get(u.kind, u.at), u.at)
    full = {k: t for k, t in latest.items() if k in FULL_AGONIST_WAIT}
    waits_met = bool(full) and all(AT - t >= wait_for(k, th) for k, t in full.items())
    window = [c for c in readings if timedelta(0) <= AT - c.at <= timedelta(minutes=60)]
    cows_met = bool(window) and max(window, key=lambda c: c.at).total >= th.bup_cows_threshold

    assert verdict.allowed == (waits_met and cows_met)
    unmet_waits = sum(1 for k, t in full.items() if AT - t < wait_for(k, th))
    assert len(verdict.needs) == unmet_waits + (not full) + (not cows_met)
    assert bool(verdict.cautions) == fentanyl


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000)), max_size=8))
def test_latest_by_kind_keeps_the_latest_of_each_kind(raw):
    uses = [LastUse(k, AT - timedelta(minutes=m), "x") for k, m in raw]
    latest = latest_by_kind(uses)
    assert set(latest) == {u.kind for u in uses}
    for kind, chosen in latest.items():
        assert chosen.at == max(u.at for u in uses if u.kind is kind)


# --- R-MTD-1 ---------------------------------------------------------------------------


def test_mtd_not_certified_is_blocked():
    verdict = mtd(certified=False, first_day=False, dose="10")
    assert verdict.blocked
    assert len(verdict.needs) == 1 and "42 CFR 8.11" in verdict.needs[0]
    assert verdict.saw[0] == "Riverside Detox is not a certified opioid treatment program."


def test_mtd_certified_is_named():
    verdict = mtd(first_day=False)
    assert verdict.allowed
    assert verdict.saw == ("Riverside Detox is a certified opioid treatment program.",)


@pytest.mark.parametrize("cap", [30, 40, 50])
def test_mtd_first_day_total_exactly_at_cap_allowed(cap: int):
    th = SafetyThresholds(methadone_first_day_cap_mg=cap)
    assert mtd(given="20", dose=str(cap - 20), th=th).allowed
    assert mtd(given="0", dose=f"{cap}.000", th=th).allowed


@pytest.mark.parametrize("cap", [30, 40, 50])
def test_mtd_first_day_a_thousandth_over_the_cap_needs_a_rationale(cap: int):
    th = SafetyThresholds(methadone_first_day_cap_mg=cap)
    over = mtd(given="20", dose=f"{cap - 20}.001", th=th)
    assert over.blocked
    assert over.needs == (
        f"A first-day total above {cap} mg needs the physician's written clinical "
        "rationale on the order.",
    )
    assert any(f"the cap is {cap} mg" in s for s in over.saw)
    assert mtd(given="20", dose=f"{cap - 20}.001", rationale="   \n\t", th=th).blocked
    with_reason = mtd(given="20", dose=f"{cap - 20}.001", rationale="Tolerant; 2 prior OTPs", th=th)
    assert with_reason.allowed
    assert any("rationale" in s for s in with_reason.saw)


def test_mtd_earlier_doses_count_toward_the_first_day_total():
    assert mtd(given="30", dose="20").allowed
    assert mtd(given="30", dose="21").blocked
    assert mtd(given="51", dose="0").blocked


def test_mtd_not_the_first_day_has_no_cap():
    verdict = mtd(first_day=False, given="0", dose="200")
    assert verdict.allowed
    assert not any("First methadone day" in s for s in verdict.saw)


def test_mtd_not_certified_and_over_the_cap_gives_both_needs():
    verdict = mtd(certified=False, dose="60")
    assert verdict.blocked and len(verdict.needs) == 2


@settings(max_examples=200, deadline=None)
@given(
    certified=st.booleans(),
    first_day=st.booleans(),
    given_mg=st.decimals(min_value=0, max_value=120, places=3),
    dose_mg=st.decimals(min_value=0, max_value=120, places=3),
    rationale=st.sampled_from(["", " ", "Documented tolerance"]),
    cap=st.integers(min_value=30, max_value=50),
)
def test_mtd_allowed_iff_certified_and_within_cap_or_explained(
    certified, first_day, given_mg, dose_mg, rationale, cap
):
    th = SafetyThresholds(methadone_first_day_cap_mg=cap)
    verdict = mtd(
        certified=certified,
        first_day=first_day,
        given=str(given_mg),
        dose=str(dose_mg),
        rationale=rationale,
        th=th,
    )
    within = (not first_day) or given_mg + dose_mg <= cap or bool(rationale.strip())
    assert verdict.allowed == (certified and within)


# --- R-NTX-1 ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [OpioidKind.SHORT_ACTING, OpioidKind.EXTENDED_RELEASE])
@pytest.mark.parametrize("days", [7, 10])
def test_ntx_exactly_the_opioid_free_days_after_a_full_agonist(kind: OpioidKind, days: int):
    th = SafetyThresholds(naltrexone_opioid_free_days=days)
    assert ntx(last_uses=[use(kind, timedelta(days=days))], th=th).allowed
    short = ntx(last_uses=[use(kind, timedelta(days=days) - MINUTE)], th=th)
    assert short.blocked
    assert short.needs == (
        f"Opioid-free until {local(AT + MINUTE)} ({days} days after {KIND_LABEL[kind]}), "
        "or a negative naloxone challenge.",
    )


@pytest.mark.parametrize("kind", [OpioidKind.METHADONE, OpioidKind.BUPRENORPHINE])
@pytest.mark.parametrize("days", [10, 14])
def test_ntx_after_an_agonist_needs_the_after_agonist_days(kind: OpioidKind, days: int):
    th = SafetyThresholds(naltrexone_after_agonist_days=days)
    assert ntx(last_uses=[use(kind, timedelta(days=days))], th=th).allowed
    assert ntx(last_uses=[use(kind, timedelta(days=days) - MINUTE)], th=th).blocked
    if days > th.naltrexone_opioid_free_days:
        # The opioid-free interval alone is not enough after an agonist.
        assert ntx(last_uses=[use(kind, timedelta(days=7))], th=th).blocked


def test_ntx_every_recent_use_must_be_old_enough():
    heroin = use(OpioidKind.SHORT_ACTING, timedelta(days=8))
    methadone = use(OpioidKind.METHADONE, timedelta(days=13))
    verdict = ntx(last_uses=[heroin, methadone])
    assert verdict.blocked and len(verdict.needs) == 1 and "methadone" in verdict.needs[0]
    older_methadone = use(OpioidKind.METHADONE, timedelta(days=30))
    # The latest methadone counts.
    assert ntx(last_uses=[heroin, older_methadone, methadone]).blocked
    assert ntx(last_uses=[heroin, older_methadone]).allowed


def test_ntx_no_last_use_is_blocked():
    verdict = ntx()
    assert verdict.blocked
    assert len(verdict.needs) == 1 and "naloxone challenge" in verdict.needs[0]
    assert any("No time of last opioid use" in s for s in verdict.saw)


@pytest.mark.parametrize(
    "age", [timedelta(0), MINUTE, timedelta(hours=23, minutes=59), timedelta(hours=24)]
)
def test_ntx_a_negative_challenge_within_24_hours_allows_regardless(age: timedelta):
    verdict = ntx(last_uses=[use(OpioidKind.METHADONE, timedelta(hours=2))], challenge=AT - age)
    assert verdict.allowed
    assert verdict.saw == (f"Negative naloxone challenge at {local(AT - age)}.",)
    assert ntx(challenge=AT - age).allowed  # even with no last use recorded


@pytest.mark.parametrize("age", [timedelta(hours=24) + SECOND, timedelta(hours=24, minutes=1)])
def test_ntx_a_challenge_older_than_24_hours_does_not_count(age: timedelta):
    recent = ntx(last_uses=[use(OpioidKind.SHORT_ACTING, timedelta(days=2))], challenge=AT - age)
    assert recent.blocked
    assert any("older than 24 hours" in s for s in recent.saw)
    # The opioid-free interval still works on its own.
    assert ntx(
        last_uses=[use(OpioidKind.SHORT_ACTING, timedelta(days=7))], challenge=AT - age
    ).allowed
    assert ntx(challenge=AT - age).blocked


def test_ntx_a_challenge_after_the_dose_time_does_not_count():
    verdict = ntx(
        last_uses=[use(OpioidKind.SHORT_ACTING, timedelta(days=1))], challenge=AT + MINUTE
    )
    assert verdict.blocked


def test_ntx_a_challenge_after_the_dose_time_is_not_described_as_too_old():
    verdict = ntx(
        last_uses=[use(OpioidKind.SHORT_ACTING, timedelta(days=1))], challenge=AT + MINUTE
    )
    assert not any("older than" in s for s in verdict.saw)


@settings(max_examples=300, deadline=None)
@given(
    raw=st.lists(
        st.tuples(st.sampled_from(KINDS), st.integers(min_value=-60, max_value=20 * 24 * 60)),
        max_size=5,
    ),
    challenge_minutes=st.none() | st.integers(min_value=-120, max_value=30 * 60),
    th=thresholds(),
)
def test_ntx_allowed_iff_challenge_or_every_interval_met(raw, challenge_minutes, th):
    uses = [LastUse(k, AT - timedelta(minutes=m), "medical admission") for k, m in raw]
    challenge = None if challenge_minutes is None else AT - timedelta(minutes=challenge_minutes)
    verdict = ntx(last_uses=uses, challenge=challenge, th=th)

    valid_challenge = challenge_minutes is not None and 0 <= challenge_minutes <= 24 * 60

    def needed(kind: OpioidKind) -> timedelta:
        agonist = kind in (OpioidKind.METHADONE, OpioidKind.BUPRENORPHINE)
        return timedelta(
            days=th.naltrexone_after_agonist_days if agonist else th.naltrexone_opioid_free_days
        )

    intervals_met = bool(uses) and all(AT - u.at >= needed(u.kind) for u in uses)
    assert verdict.allowed == (valid_challenge or intervals_met)


def test_ntx_withdrawal_signs_now_block_whatever_the_interval_or_challenge():
    from stepwise.withdrawal.rules.safety import (
        WITHDRAWAL_SIGNS_COWS,
        CowsReading,
        LastUse,
        OpioidKind,
        naltrexone_start,
    )
    from stepwise.withdrawal.rules.thresholds import SafetyThresholds

    at = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    old_use = [LastUse(OpioidKind.SHORT_ACTING, at - timedelta(days=20), "admission")]
    zone = ZoneInfo("America/New_York")
    signs = [CowsReading(WITHDRAWAL_SIGNS_COWS, at - timedelta(hours=1))]
    blocked = naltrexone_start(
        at=at,
        last_uses=old_use,
        challenge=(at - timedelta(hours=2), True),
        cows=signs,
        th=SafetyThresholds(),
        zone=zone,
    )
    assert blocked.blocked and "withdrawal signs" in blocked.saw[0]
    calm = [CowsReading(WITHDRAWAL_SIGNS_COWS - 1, at - timedelta(hours=1))]
    assert naltrexone_start(
        at=at, last_uses=old_use, cows=calm, th=SafetyThresholds(), zone=zone
    ).allowed
    stale = [CowsReading(20, at - timedelta(hours=7))]
    assert naltrexone_start(
        at=at, last_uses=old_use, cows=stale, th=SafetyThresholds(), zone=zone
    ).allowed
