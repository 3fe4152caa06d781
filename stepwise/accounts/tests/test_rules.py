"""The pure session and code rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stepwise.accounts.rules import (
    RECOVERY_CODE_ALPHABET,
    SessionEnd,
    SessionPolicy,
    format_recovery_code,
    format_totp_key,
    hash_recovery_code,
    looks_like_totp,
    new_recovery_code,
    normalize_code,
    recently_authenticated,
    recovery_code_matches,
)

POLICY = SessionPolicy(idle_seconds=15 * 60, absolute_seconds=12 * 3600)


def test_a_session_ends_when_idle_or_too_old():
    assert POLICY.ended(now=1000, signed_in_at=0, last_seen_at=900) is None
    assert POLICY.ended(now=900 + 15 * 60, signed_in_at=0, last_seen_at=900) == SessionEnd.IDLE
    # The absolute limit holds however active the user was.
    assert POLICY.ended(now=12 * 3600, signed_in_at=0, last_seen_at=12 * 3600 - 1) == (
        SessionEnd.ABSOLUTE
    )


def test_a_session_signed_in_before_an_administrator_ended_them_is_over():
    assert POLICY.ended(1000, 0, 900, not_before=500) == SessionEnd.ENDED
    # Signed in again after that: the session is good.
    assert POLICY.ended(1000, 600, 900, not_before=500) is None
    assert POLICY.ended(1000, 500, 900, not_before=500) is None
    assert POLICY.ended(1000, 0, 900, not_before=None) is None


def test_a_recovery_code_is_stored_salted_and_matches_only_itself():
    code = new_recovery_code()
    assert len(code) == 10 and set(code) <= set(RECOVERY_CODE_ALPHABET)
    stored = hash_recovery_code(code)
    assert code not in stored and stored.startswith("scrypt$4096$8$1$")
    assert recovery_code_matches(code, stored)
    assert not recovery_code_matches(code[:-1] + ("a" if code[-1] != "a" else "b"), stored)
    # Its own salt: the same code stored twice gives two different digests.
    assert hash_recovery_code(code) != stored
    for broken in ("", "plain-text-code", stored.replace("scrypt", "md5"), stored[:-8] + "!!!!"):
        assert not recovery_code_matches(code, broken)


@given(
    signed_in=st.integers(0, 10**9),
    idle_for=st.integers(0, 10**6),
    active_for=st.integers(0, 10**6),
)
def test_seconds_left_agree_with_the_end(signed_in, idle_for, active_for):
    last_seen = signed_in + active_for
    now = last_seen + idle_for
    left = POLICY.seconds_left(now, signed_in, last_seen)
    ended = POLICY.ended(now, signed_in, last_seen)
    assert (ended is None) == (left.until_sign_out > 0)
    assert left.idle <= POLICY.idle_seconds and left.absolute <= POLICY.absolute_seconds


def test_recent_authentication_is_a_window_that_closes():
    assert recently_authenticated(100, 0, 300)
    assert not recently_authenticated(300, 0, 300)
    assert not recently_authenticated(100, None, 300)
    assert not recently_authenticated(100, 200, 300)  # a stamp from the future is not trusted


def test_codes_are_read_as_typed():
    assert normalize_code(" 123 456 ") == "123456" and looks_like_totp("123456")
    assert not looks_like_totp("12345a") and not looks_like_totp("1234567")
    assert normalize_code("ABCDE-fghjk") == "abcdefghjk"
    assert format_recovery_code("abcdefghjk") == "abcde-fghjk"
    assert format_totp_key("ABCDEFGHIJ") == "ABCD EFGH IJ"
    assert not set("01ilo") & set(RECOVERY_CODE_ALPHABET)
