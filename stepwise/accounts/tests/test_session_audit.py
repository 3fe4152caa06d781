"""Signing in and out, and failing to, are audited; a user without a role sees nothing."""

from __future__ import annotations

from django.test import Client

from conftest import PASSWORD
from stepwise.core.models import AuditEvent


def test_login_logout_and_failures_are_audited(cast):
    client = Client()
    response = client.post("/login/", {"username": "owner", "password": "wrong"})
    assert response.status_code == 200 and "not right" in response.content.decode()
    failed = AuditEvent.objects.get(action="login_failed")
    assert failed.actor_username == "owner" and failed.outcome == "failed"
    assert "wrong" not in str(failed.detail)

    response = client.post("/login/", {"username": "owner", "password": PASSWORD})
    assert response.status_code == 302
    login = AuditEvent.objects.get(action="login")
    assert login.actor_id == cast.users["owner"].pk and login.organization_id == cast.org.pk

    assert client.post("/logout/").status_code == 302
    assert AuditEvent.objects.filter(action="logout", actor_username="owner").exists()
    assert client.get("/").status_code == 302  # signed out


def test_logout_needs_post(cast):
    client = cast.client_for("owner")
    assert client.get("/logout/").status_code == 405


def test_an_account_without_a_role_is_signed_out(cast, django_user_model):
    loner = django_user_model.objects.create_user(username="loner", password=PASSWORD)
    client = Client()
    client.force_login(loner)
    response = client.get("/")
    assert response.status_code == 403 and "no organization" in response.content.decode()
    assert client.get("/").status_code == 302


def test_pages_send_a_strict_content_security_policy(cast):
    response = cast.client_for("owner").get("/")
    policy = response["Content-Security-Policy"]
    assert (
        "default-src 'self'" in policy and "script-src 'self'" in policy and "unsafe" not in policy
    )
    assert response["X-Frame-Options"] == "DENY"
    assert len(response["X-Request-ID"]) >= 8
