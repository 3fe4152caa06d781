"""Signing in: Argon2 and the password rules, the password step then the second
factor, the lockout after repeated failures, and CSRF on the sign-in form."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from stepwise.accounts.tests.support import code_for, device_for, password_step, sign_in
from stepwise.core.models import AuditEvent

LOCKED = "Too many failed sign-ins"
_PER_RESPONSE = re.compile(r'(nonce|value)="[^"]*"')


def wrong_code(device) -> str:
    return "000000" if code_for(device) != "000000" else "111111"


def page_text(response) -> str:
    """The page without what differs on every response (CSP nonce, CSRF token)."""
    return _PER_RESPONSE.sub("", response.content.decode())


# --- passwords ------------------------------------------------------------------------------


def test_argon2_hashes_passwords_outside_the_tests():
    # The test suite swaps in a fast hasher (conftest); the project's own list leads with Argon2.
    from stepwise import settings as project_settings

    assert project_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pass1", "at least 12 characters"),
        ("password1234", "too common"),
        ("margaret-hollingsworth", "too similar"),
    ],
)
def test_password_rules(django_user_model, password, message):
    user = django_user_model(username="margaret.hollingsworth")
    with pytest.raises(ValidationError) as refused:
        password_validation.validate_password(password, user)
    assert message in " ".join(refused.value.messages)


def test_long_passwords_need_no_composition_rules(cast):
    password_validation.validate_password("plain lowercase words only", cast.users["owner"])


# --- the two steps --------------------------------------------------------------------------


def test_sign_in_asks_for_the_code_after_the_password(cast, time_machine):
    time_machine.move_to(timezone.now())
    device = device_for(cast.users["owner"])
    client = Client()
    first = password_step(client, "owner")
    assert first.status_code == 302 and first["Location"] == "/login/verify/?next=%2F"
    # The password alone opens nothing but the code step and sign-out.
    for path in ("/", "/settings/", "/patients/", "/staff/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/login/verify/")
    page = client.get("/login/verify/")
    assert page.status_code == 200 and "authenticator app" in page.content.decode()
    wrong = client.post("/login/verify/", {"code": wrong_code(device), "next": "/"})
    assert wrong.status_code == 422
    assert "not right" in wrong.context["form"].errors["code"][0]
    time_machine.shift(timedelta(seconds=2))  # a wrong code slows the next try by a second
    done = client.post("/login/verify/", {"code": code_for(device), "next": "/"})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200
    failed, passed = AuditEvent.objects.filter(category="mfa").order_by("id")
    assert (failed.action, failed.outcome, failed.actor_username) == (
        "login_failed",
        "failed",
        "owner",
    )
    assert (passed.action, passed.detail["method"]) == ("login", "totp")


def test_a_code_works_once(cast):
    user = cast.users["owner"]
    device = device_for(user)
    sign_in(Client(), user, device)
    client = Client()
    password_step(client, "owner")
    reused = client.post("/login/verify/", {"code": code_for(device)})
    assert reused.status_code == 422


def test_wrong_codes_slow_the_device_down(cast):
    device = device_for(cast.users["owner"])
    client = Client()
    password_step(client, "owner")
    client.post("/login/verify/", {"code": wrong_code(device)})
    response = client.post("/login/verify/", {"code": code_for(device)})
    assert response.status_code == 422
    assert "Too many wrong codes" in response.context["form"].errors["code"][0]


def test_without_a_device_the_password_leads_to_enrolment_when_required(cast):
    client = Client()
    response = password_step(client, "owner")
    assert response.status_code == 302 and response["Location"] == "/settings/two-factor/?next=%2F"
    assert client.get("/").status_code == 302


def test_the_demo_signs_in_with_the_password_alone(cast, settings):
    settings.REQUIRE_MFA = False
    client = Client()
    response = password_step(client, "owner")
    assert response.status_code == 302 and response["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200
    assert "set up two-factor sign-in" in page.content.decode()  # offered, not required


def test_the_demo_still_asks_the_code_of_those_who_set_one_up(cast, settings):
    settings.REQUIRE_MFA = False
    device_for(cast.users["owner"])
    client = Client()
    response = password_step(client, "owner")
    assert response["Location"].startswith("/login/verify/")
    assert client.get("/").status_code == 302


def test_a_verified_session_does_not_carry_over_to_a_new_password_sign_in(cast):
    user = cast.users["owner"]
    device = device_for(user)
    client = Client()
    sign_in(client, user, device)
    client.post("/logout/")
    password_step(client, "owner")
    assert client.get("/").status_code == 302


def test_sign_in_form_is_csrf_protected_and_works_with_the_token(cast):
    device = device_for(cast.users["owner"])
    client = Client(enforce_csrf_checks=True)
    refused = client.post("/login/", {"username": "owner", "password": PASSWORD})
    assert refused.status_code == 403
    page = client.get("/login/")
    token = page.context["csrf_token"]
    first = client.post(
        "/login/", {"username": "owner", "password": PASSWORD, "csrfmiddlewaretoken": str(token)}
    )
    assert first.status_code == 302
    verify = client.get(first["Location"])
    token = verify.context["csrf_token"]
    assert client.post("/login/verify/", {"code": code_for(device)}).status_code == 403
    done = client.post(
        "/login/verify/", {"code": code_for(device), "csrfmiddlewaretoken": str(token)}
    )
    assert done.status_code == 302
    assert client.get("/").status_code == 200


# --- lockout --------------------------------------------------------------------------------


def _fail(client: Client, username: str, times: int, address: str = "127.0.0.1") -> None:
    for _ in range(times):
        response = password_step(client, username, "not-the-password", REMOTE_ADDR=address)
        assert response.status_code in (200, 429)


def test_repeated_failures_lock_the_account_at_that_address(cast):
    client = Client()
    _fail(client, "owner", settings.AXES_FAILURE_LIMIT - 1)
    last = password_step(client, "owner", "not-the-password")
    assert last.status_code == 429 and LOCKED in last.content.decode()
    assert "try again later" in last.content.decode()
    # Even the right password is refused during the lockout.
    locked = password_step(client, "owner")
    assert locked.status_code == 429 and LOCKED in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Every failure is audited, as before.
    assert AuditEvent.objects.filter(action="login_failed", actor_username="owner").count() == (
        settings.AXES_FAILURE_LIMIT + 1
    )
    # Another address is not locked out: a guesser cannot lock a colleague out.
    elsewhere = password_step(Client(), "owner", REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 302


def test_an_unknown_username_is_locked_out_the_same_way(cast):
    client = Client()
    known = page_text(password_step(client, "owner", "not-the-password"))
    unknown = page_text(password_step(client, "nobody-here", "not-the-password"))
    assert known == unknown
    _fail(client, "owner", settings.AXES_FAILURE_LIMIT)
    _fail(client, "nobody-here", settings.AXES_FAILURE_LIMIT)
    known_locked = password_step(client, "owner", "not-the-password")
    unknown_locked = password_step(client, "nobody-here", "not-the-password")
    assert known_locked.status_code == unknown_locked.status_code == 429
    assert page_text(known_locked) == page_text(unknown_locked)


def test_the_lockout_ends_after_the_cool_off(cast, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = Client()
    _fail(client, "owner", settings.AXES_FAILURE_LIMIT)
    assert password_step(client, "owner").status_code == 429
    time_machine.shift(settings.AXES_COOLOFF_TIME - timedelta(minutes=1))
    assert password_step(client, "owner").status_code == 429
    time_machine.shift(timedelta(minutes=2))
    assert password_step(client, "owner").status_code == 302


def test_the_lockout_callable_is_configured():
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert settings.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
