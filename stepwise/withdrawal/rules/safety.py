"""Safety rules for starting opioid agonists and antagonists (domain §6, §11).

Each rule is a pure function of the data it needs and returns a Verdict that says
whether the action may go ahead, what data the rule saw and, when it may not, what
would satisfy it. A physician may override a blocking verdict with a reason; the
service that records the dose stores and audits that override.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from stepwise.withdrawal.rules.thresholds import (
    COWS_RECENCY_MINUTES,
    NALOXONE_CHALLENGE_VALID_HOURS,
    SafetyThresholds,
)


class OpioidKind(StrEnum):
    SHORT_ACTING = "short_acting"
    EXTENDED_RELEASE = "extended_release"
    METHADONE = "methadone"
    BUPRENORPHINE = "buprenorphine"


OPIOID_KIND_LABELS = {
    OpioidKind.SHORT_ACTING: "short-acting opioid",
    OpioidKind.EXTENDED_RELEASE: "extended-release opioid",
    OpioidKind.METHADONE: "methadone",
    OpioidKind.BUPRENORPHINE: "buprenorphine",
}


class BuprenorphineStart(StrEnum):
    STANDARD = "standard"
    LOW_DOSE = "low_dose"
    CONTINUATION = "continuation"


BUPRENORPHINE_START_LABELS = {
    BuprenorphineStart.STANDARD: "Standard induction (wait for withdrawal)",
    BuprenorphineStart.LOW_DOSE: "Low-dose induction protocol",
    BuprenorphineStart.CONTINUATION: "Continuation of the patient's current buprenorphine",
}


@dataclass(frozen=True)
class LastUse:
    kind: OpioidKind
    at: datetime
    source: str  # where the time came from, shown with the verdict
    # The substance was fentanyl: buprenorphine may precipitate withdrawal even after
    # the usual wait, so the induction rule cautions.
    fentanyl: bool = False


@dataclass(frozen=True)
class CowsReading:
    total: int
    at: datetime


@dataclass(frozen=True)
class Verdict:
    rule: str
    title: str
    allowed: bool
    saw: tuple[str, ...]
    needs: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        return not self.allowed


# A COWS this high within this many hours before a naltrexone start means withdrawal
# signs are present (5 is where the published mild band begins).
WITHDRAWAL_SIGNS_COWS = 5
WITHDRAWAL_SIGNS_HOURS = 6

RULE_TITLES = {
    "R-BUP-1": "First buprenorphine dose: wait since last opioid and objective withdrawal",
    "R-MTD-1": "Methadone: certified program only; first-day total above the cap needs a rationale",
    "R-NTX-1": "Naltrexone start: opioid-free interval or a negative naloxone challenge",
}


def _when(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f} h"


def _utc(at: datetime) -> datetime:
    """Elapsed time is measured in UTC: two times carrying the same zone would
    otherwise subtract as wall-clock times across a daylight-saving change."""
    return at.astimezone(UTC)


def latest_by_kind(uses: Iterable[LastUse]) -> dict[OpioidKind, LastUse]:
    latest: dict[OpioidKind, LastUse] = {}
    for given in uses:
        use = LastUse(given.kind, _utc(given.at), given.source, given.fentanyl)
        if use.kind not in latest or use.at > latest[use.kind].at:
            latest[use.kind] = use
    return latest


def _required_wait(kind: OpioidKind, th: SafetyThresholds) -> timedelta | None:
    hours = {
        OpioidKind.SHORT_ACTING: th.bup_hours_short_acting,
        OpioidKind.EXTENDED_RELEASE: th.bup_hours_extended_release,
        OpioidKind.METHADONE: th.bup_hours_methadone,
    }.get(kind)
    return None if hours is None else timedelta(hours=hours)


def buprenorphine_first_dose(
    *,
    at: datetime,
    start: BuprenorphineStart,
    last_uses: Iterable[LastUse],
    cows: Iterable[CowsReading],
    on_buprenorphine: bool,
    fentanyl_exposure: bool,
    th: SafetyThresholds,
    zone: ZoneInfo,
) -> Verdict:
    """R-BUP-1 for the episode's first buprenorphine dose given at `at`."""
    rule, title = "R-BUP-1", RULE_TITLES["R-BUP-1"]
    at = _utc(at)
    saw: list[str] = [f"Induction chosen: {BUPRENORPHINE_START_LABELS[start]}."]
    if start is BuprenorphineStart.LOW_DOSE:
        saw.append("A low-dose protocol does not wait for withdrawal; the rule does not apply.")
        return Verdict(rule, title, True, tuple(saw))
    if start is BuprenorphineStart.CONTINUATION:
        if on_buprenorphine:
            saw.append("The medical admission lists buprenorphine among current medications.")
            return Verdict(rule, title, True, tuple(saw))
        saw.append("The medical admission does not list buprenorphine among current medications.")
        return Verdict(
            rule,
            title,
            False,
            tuple(saw),
            (
                "Record the patient's current buprenorphine in the medical admission "
                "assessment, or choose a standard or low-dose induction.",
            ),
        )

    needs: list[str] = []
    cautions: list[str] = []
    latest = latest_by_kind(last_uses)
    full_agonists = [latest[k] for k in latest if _required_wait(k, th) is not None]
    if not full_agonists:
        saw.append("No time of last full-agonist opioid use is recorded.")
        needs.append(
            "Record the time of last use (short-acting, extended-release or methadone): "
            "the short last-use entry from the flowsheet, or the medical admission assessment."
        )
    for use in sorted(full_agonists, key=lambda u: u.at):
        wait = _required_wait(use.kind, th)
        assert wait is not None
        since = at - use.at
        saw.append(
            f"Last {OPIOID_KIND_LABELS[use.kind]} {_when(use.at, zone)} "
            f"({_hours(since)} before the dose; {use.source})."
        )
        if since < wait:
            needs.append(
                f"Wait until {_when(use.at + wait, zone)}: {int(wait.total_seconds() // 3600)} h "
                f"after the last {OPIOID_KIND_LABELS[use.kind]}."
            )

    window = timedelta(minutes=COWS_RECENCY_MINUTES)
    readings = [CowsReading(c.total, _utc(c.at)) for c in cows]
    recent = [c for c in readings if at - window <= c.at <= at]
    if not recent:
        saw.append(f"No COWS scored in the {COWS_RECENCY_MINUTES} minutes before the dose.")
        needs.append(
            f"Score COWS; it must be {th.bup_cows_threshold} or more within "
            f"{COWS_RECENCY_MINUTES} minutes before the dose."
        )
    else:
        reading = max(recent, key=lambda c: c.at)
        saw.append(f"COWS {reading.total} at {_when(reading.at, zone)}.")
        if reading.total < th.bup_cows_threshold:
            needs.append(
                f"COWS must be {th.bup_cows_threshold} or more (the organization's "
                "threshold); wait and rescore, commonly after 1-2 hours."
            )
    if fentanyl_exposure:
        cautions.append(
            "Fentanyl exposure: buprenorphine may precipitate withdrawal even after 12 hours. "
            "Consider the low-dose protocol."
        )
    return Verdict(rule, title, not needs, tuple(saw), tuple(needs), tuple(cautions))


def methadone_dose(
    *,
    program_otp_certified: bool,
    program_name: str,
    first_day: bool,
    given_first_day_mg: Decimal,
    dose_mg: Decimal,
    rationale: str,
    th: SafetyThresholds,
) -> Verdict:
    """R-MTD-1 for ordering or giving methadone: `given_first_day_mg` is what was
    already given (or ordered) on the first day, before this dose."""
    rule, title = "R-MTD-1", RULE_TITLES["R-MTD-1"]
    saw: list[str] = []
    needs: list[str] = []
    if program_otp_certified:
        saw.append(f"{program_name} is a certified opioid treatment program.")
    else:
        saw.append(f"{program_name} is not a certified opioid treatment program.")
        needs.append(
            "Methadone for OUD is given only in a certified opioid treatment program "
            "(42 CFR 8.11); transfer the patient or choose buprenorphine. The exceptions "
            "(another primary condition, a 3-day emergency bridge) need a physician's override."
        )
    if first_day:
        total = given_first_day_mg + dose_mg
        saw.append(
            f"First methadone day: {given_first_day_mg} mg before this dose, "
            f"{total} mg with it; the cap is {th.methadone_cap} mg."
        )
        if total > th.methadone_cap:
            if rationale.strip():
                saw.append(
                    "A written clinical rationale for a higher first-day dose is on the order."
                )
            else:
                needs.append(
                    f"A first-day total above {th.methadone_cap} mg needs the physician's "
                    "written clinical rationale on the order."
                )
    return Verdict(rule, title, not needs, tuple(saw), tuple(needs))


def naltrexone_start(
    *,
    at: datetime,
    last_uses: Iterable[LastUse],
    negative_challenge_at: datetime | None = None,
    challenge: tuple[datetime, bool] | None = None,
    cows: Iterable[CowsReading] = (),
    th: SafetyThresholds,
    zone: ZoneInfo,
) -> Verdict:
    """R-NTX-1 for the episode's first naltrexone dose given at `at`. `challenge` is
    the latest naloxone challenge (time, negative?); `negative_challenge_at` is the
    same for a known negative one."""
    rule, title = "R-NTX-1", RULE_TITLES["R-NTX-1"]
    at = _utc(at)
    saw: list[str] = []
    # Withdrawal signs now: naltrexone would precipitate a worse withdrawal, whatever
    # the interval or an earlier challenge says (domain §6).
    window = timedelta(hours=WITHDRAWAL_SIGNS_HOURS)
    recent_cows = [
        CowsReading(c.total, _utc(c.at)) for c in cows if at - window <= _utc(c.at) <= at
    ]
    if recent_cows:
        reading = max(recent_cows, key=lambda c: c.at)
        if reading.total >= WITHDRAWAL_SIGNS_COWS:
            saw.append(f"COWS {reading.total} at {_when(reading.at, zone)}: withdrawal signs.")
            return Verdict(
                rule,
                title,
                False,
                tuple(saw),
                (
                    f"Do not start naltrexone while withdrawal signs are present; wait for a "
                    f"COWS under {WITHDRAWAL_SIGNS_COWS}.",
                ),
            )
    if challenge is not None:
        challenge_at, negative = challenge
        recent = (
            timedelta(0)
            <= at - _utc(challenge_at)
            <= timedelta(hours=NALOXONE_CHALLENGE_VALID_HOURS)
        )
        if not negative and recent:
            saw.append(
                f"Positive naloxone challenge (withdrawal signs) at {_when(challenge_at, zone)}."
            )
            return Verdict(
                rule,
                title,
                False,
                tuple(saw),
                (
                    "Do not start naltrexone while withdrawal signs follow naloxone; wait and "
                    "repeat the challenge, or keep the opioid-free interval.",
                ),
            )
        if negative:
            negative_challenge_at = challenge_at
    if negative_challenge_at is not None:
        age = at - _utc(negative_challenge_at)
        if timedelta(0) <= age <= timedelta(hours=NALOXONE_CHALLENGE_VALID_HOURS):
            saw.append(f"Negative naloxone challenge at {_when(negative_challenge_at, zone)}.")
            return Verdict(rule, title, True, tuple(saw))
        if age < timedelta(0):
            saw.append(
                f"The negative naloxone challenge at {_when(negative_challenge_at, zone)} "
                "comes after the dose time."
            )
        else:
            saw.append(
                f"The negative naloxone challenge at {_when(negative_challenge_at, zone)} is "
                f"older than {NALOXONE_CHALLENGE_VALID_HOURS} hours."
            )
    latest = latest_by_kind(last_uses)
    needs: list[str] = []
    if not latest:
        saw.append("No time of last opioid use is recorded.")
        needs.append(
            "Record the time of last opioid use (the short last-use entry from the "
            "flowsheet, or the medical admission assessment), or document a negative "
            "naloxone challenge."
        )
    for use in sorted(latest.values(), key=lambda u: u.at):
        agonist = use.kind in (OpioidKind.METHADONE, OpioidKind.BUPRENORPHINE)
        days = th.naltrexone_after_agonist_days if agonist else th.naltrexone_opioid_free_days
        since = at - use.at
        saw.append(
            f"Last {OPIOID_KIND_LABELS[use.kind]} {_when(use.at, zone)} "
            f"({since.days} days before; {use.source})."
        )
        if since < timedelta(days=days):
            needs.append(
                f"Opioid-free until {_when(use.at + timedelta(days=days), zone)} ({days} days "
                f"after {OPIOID_KIND_LABELS[use.kind]}), or a negative naloxone challenge."
            )
    return Verdict(rule, title, not needs, tuple(saw), tuple(needs))
