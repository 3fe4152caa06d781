"""Session and sign-in rules: plain functions over timestamps (seconds since the epoch).

No Django imports: the middleware and views feed these the session's values.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class SessionEnd(StrEnum):
    IDLE = "idle"
    ABSOLUTE = "absolute"


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int
    absolute_seconds: int

    def ended(self, now: float, signed_in_at: float, last_seen_at: float) -> SessionEnd | None:
        """Why a session is over at `now`, or None while it is still good.

        The absolute limit wins when both have passed: it cannot be extended.
        """
        if now - signed_in_at >= self.absolute_seconds:
            return SessionEnd.ABSOLUTE
        if now - last_seen_at >= self.idle_seconds:
            return SessionEnd.IDLE
        return None

    def seconds_left(self, now: float, signed_in_at: float, last_seen_at: float) -> SecondsLeft:
        return SecondsLeft(
            idle=max(0, int(last_seen_at + self.idle_seconds - now)),
            absolute=max(0, int(signed_in_at + self.absolute_seconds - now)),
        )


@dataclass(frozen=True)
class SecondsLeft:
    idle: int
    absolute: int

    @property
    def until_sign_out(self) -> int:
        return min(self.idle, self.absolute)


# Writing the session on every request would cost a write per page; activity is
# recorded at most this often, so the idle limit is exact to within this much.
ACTIVITY_RESOLUTION_SECONDS = 30


def activity_worth_recording(now: float, last_seen_at: float) -> bool:
    return now - last_seen_at >= ACTIVITY_RESOLUTION_SECONDS


def recently_authenticated(now: float, authenticated_at: float | None, window_seconds: int) -> bool:
    """A password entered less than `window_seconds` ago (and not in the future)."""
    if authenticated_at is None:
        return False
    return 0 <= now - authenticated_at < window_seconds


RECOVERY_CODE_COUNT = 10
# Recovery codes are typed by hand: no 0/O, 1/l/I confusion.
RECOVERY_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_CODE_LENGTH = 10


def normalize_code(typed: str) -> str:
    """What a user typed as a code, without the spaces and dashes used to read it."""
    return "".join(typed.split()).replace("-", "").lower()


def looks_like_totp(code: str, digits: int = 6) -> bool:
    return len(code) == digits and code.isdigit()


def format_recovery_code(code: str) -> str:
    """Shown in two halves (abcde-fghjk) so it is easy to copy by hand."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def format_totp_key(base32_key: str) -> str:
    """The key in groups of four, as authenticator apps ask for it when typed."""
    return " ".join(base32_key[i : i + 4] for i in range(0, len(base32_key), 4))
