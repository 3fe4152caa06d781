"""Session and sign-in rules: plain functions over timestamps (seconds since the epoch),
and how recovery codes are made readable and stored.

No Django imports: the middleware and views feed these the session's values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum


class SessionEnd(StrEnum):
    IDLE = "idle"
    ABSOLUTE = "absolute"
    # An administrator ended the account's sessions (second factor reset).
    ENDED = "ended_by_administrator"


@dataclass(frozen=True)
class SessionPolicy:
    idle_seconds: int
    absolute_seconds: int

    def ended(
        self,
        now: float,
        signed_in_at: float,
        last_seen_at: float,
        not_before: float | None = None,
    ) -> SessionEnd | None:
        """Why a session is over at `now`, or None while it is still good.

        A session signed in before `not_before` (when an administrator ended the
        account's sessions) is over whatever its clocks say. The absolute limit
        wins over idling when both have passed: it cannot be extended.
        """
        if not_before is not None and signed_in_at < not_before:
            return SessionEnd.ENDED
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


# Recovery codes are stored as salted scrypt digests, never as the codes.
#
# A code has 10 characters from 31, about 49.5 bits: far beyond guessing online
# (each wrong code slows the device down), but a plain or salted SHA-256 of it could
# be brute-forced offline on GPUs within days from a copied table. scrypt with
# these parameters costs about 4 MiB and 10 ms per code here, enough to make that
# search thousands of times dearer, while checking one typed code against at most
# ten stored ones stays near a tenth of a second. Each code has its own salt, so no
# work done for one code helps with another. The parameters are stored in each
# digest, so they can be raised later without invalidating existing codes.
RECOVERY_HASH_N = 2**12
RECOVERY_HASH_R = 8
RECOVERY_HASH_P = 1
_SCRYPT = "scrypt"


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _scrypt(code: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(code.encode(), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 2**20)


def new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def hash_recovery_code(code: str) -> str:
    """The stored form of a (normalized) code: `scrypt$n$r$p$salt$digest`."""
    salt = secrets.token_bytes(16)
    n, r, p = RECOVERY_HASH_N, RECOVERY_HASH_R, RECOVERY_HASH_P
    digest = _scrypt(code, salt, n, r, p)
    return f"{_SCRYPT}${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def recovery_code_matches(code: str, stored: str) -> bool:
    """Whether a normalized code is the one behind `stored` (compared in constant time)."""
    try:
        algorithm, n, r, p, salt, digest = stored.split("$")
        if algorithm != _SCRYPT:
            return False
        expected = base64.b64decode(digest)
        actual = _scrypt(code, base64.b64decode(salt), int(n), int(r), int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)
