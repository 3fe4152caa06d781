"""A time of last opioid use reported during a stay, outside the medical admission:
which substances it may name and which times make sense. Pure data and functions."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from stepwise.withdrawal.rules.admission import SUBSTANCES, Substance

# Only an opioid's last use sets a wait in the safety rules.
OPIOIDS: tuple[Substance, ...] = tuple(s for s in SUBSTANCES if s.opioid is not None)
OPIOID_CODES: tuple[str, ...] = tuple(s.code for s in OPIOIDS)

# How long before the stay began a reported use may lie. The longest wait a rule can
# be set to is 14 days (naltrexone after an agonist); a use older than twice that
# changes no verdict, so an older time is far more likely a mistyped date.
REACH_BACK = timedelta(days=30)
# The longest note, as the form and the API take it.
NOTE_MAX_LENGTH = 1000


def substance_error(substance: str) -> str | None:
    if substance not in OPIOID_CODES:
        return "Allowed values: " + ", ".join(OPIOID_CODES) + "."
    return None


def note_error(note: str) -> str | None:
    if len(note.strip()) > NOTE_MAX_LENGTH:
        return f"Keep the note to {NOTE_MAX_LENGTH} characters."
    return None


def time_errors(
    *,
    last_use_at: datetime,
    stay_started_at: datetime,
    zone: ZoneInfo,
    back_dated_to: datetime | None = None,
) -> dict[str, str]:
    """What is wrong with the reported time, by field (empty when nothing is). The
    times are aware; that they are not in the future is the caller's clock check (with
    its allowance for skew), and a back-dated report bounds the use by its own time.
    A time the message gives is in `zone`, the facility's, as the form takes it."""
    if back_dated_to is not None and last_use_at > back_dated_to:
        return {"last_use_at": "The last use cannot come after the time of this report."}
    earliest = stay_started_at - REACH_BACK
    if last_use_at < earliest:
        return {
            "last_use_at": f"Give a time after {earliest.astimezone(zone):%Y-%m-%d %H:%M} "
            f"{zone.key} time ({REACH_BACK.days} days before the stay began): an older use "
            "changes no rule's wait; check the date."
        }
    return {}
