"""Re-authentication before sensitive actions, and the change-password page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from stepwise.accounts.models import ApiToken
from stepwise.core.models import AuditEvent


@pytest.fixture
def stale(cast, time_machine):
    """The owner, verified, whose password was entered more than the window ago."""
    time_machine.move_to(timezone.now(), tick=False)
    client = cast.client_for("owner")
    time_machine.shift(timedelta(minutes=settings.REAUTH_MINUTES, seconds=1))
    return client


def test_a_token_needs_a_recent_password(cast, stale):
    response = stale.post("/settings/", {"name": "script", "days": "30"})
    assert response.status_code == 302
    assert response["Location"] == "/confirm-password/?next=%2Fsettings%2F"
    assert not ApiToken.objects.exists()
    page = stale.get(response["Location"])
    assert page.status_code == 200 and "Confirm your password" in page.content.decode()

    wrong = stale.post("/confirm-password/", {"password": "nope", "next": "/settings/"})
    assert wrong.status_code == 422 and wrong.context["form"].errors["password"]
    failed = AuditEvent.objects.get(action="reauth", outcome="failed")
    assert failed.category == "login" and failed.actor_id == cast.users["owner"].pk
    assert failed.organization_id == cast.org.pk
    assert failed.detail == {"purpose": "confirm_page"}
    assert not AuditEvent.objects.filter(action="login_failed").exists()

    confirmed = stale.post("/confirm-password/", {"password": PASSWORD, "next": "/settings/"})
    assert confirmed.status_code == 302 and confirmed["Location"] == "/settings/"
    passed = AuditEvent.objects.get(action="reauth", outcome="success")
    assert passed.actor_username == "owner" and passed.category == "login"
    assert passed.detail == {"purpose": "confirm_page"} and passed.data_class == "account"
    created = stale.post("/settings/", {"name": "script", "days": "30"})
    assert created.status_code == 200 and ApiToken.objects.count() == 1


def test_confirming_never_sends_to_another_site(cast, stale):
    response = stale.post(
        "/confirm-password/", {"password": PASSWORD, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_confirm_page_needs_sign_in_and_csrf(cast):
    assert Client().get("/confirm-password/").status_code == 302
    client = cast.client_for("owner", enforce_csrf_checks=True)
    assert client.post("/confirm-password/", {"password": PASSWORD}).status_code == 403


def test_too_many_wrong_confirmations_sign_out_and_lock(cast, stale):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert stale.post("/confirm-password/", {"password": "nope"}).status_code == 422
    locked = stale.post("/confirm-password/", {"password": "nope"})
    assert locked.status_code == 429 and "try again later" in locked.content.decode()
    assert stale.get("/").status_code == 302  # signed out
    assert Client().post("/login/", {"username": "owner", "password": PASSWORD}).status_code == 429


# --- change password ------------------------------------------------------------------------


def test_change_password_applies_the_rules_and_is_audited(cast):
    client = cast.client_for("owner")
    assert client.get("/settings/password/").status_code == 200
    weak = client.post(
        "/settings/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "password1234",
            "new_password2": "password1234",
        },
    )
    assert weak.status_code == 422
    assert "too common" in " ".join(weak.context["form"].errors["new_password2"])
    short = client.post(
        "/settings/password/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert "at least 12 characters" in " ".join(short.context["form"].errors["new_password2"])
    wrong_old = client.post(
        "/settings/password/",
        {
            "old_password": "nope",
            "new_password1": "lanterns by the river",
            "new_password2": "lanterns by the river",
        },
    )
    assert wrong_old.status_code == 422 and "old_password" in wrong_old.context["form"].errors
    other_session = cast.client_for("owner")
    done = client.post(
        "/settings/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "lanterns by the river",
            "new_password2": "lanterns by the river",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/settings/"
    cast.users["owner"].refresh_from_db()
    assert cast.users["owner"].check_password("lanterns by the river")
    assert client.get("/").status_code == 200  # this session stays signed in
    assert other_session.get("/").status_code == 302  # other sessions end
    event = AuditEvent.objects.get(action="password_change")
    assert (event.category, event.actor_username, event.object_id) == (
        "login",
        "owner",
        str(cast.users["owner"].pk),
    )
    assert event.detail == {} and "lanterns" not in str(event.detail)


def test_the_new_password_must_differ_from_the_current_one(cast):
    client = cast.client_for("owner")
    same = client.post(
        "/settings/password/",
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert same.status_code == 422 and "new_password1" in same.context["form"].errors
    assert not AuditEvent.objects.filter(action="password_change").exists()
