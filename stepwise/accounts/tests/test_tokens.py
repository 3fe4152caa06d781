"""Personal access tokens: created on the command line or the settings page, stored as a
SHA-256 only, revoked at once, and every creation and revocation audited."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from stepwise.accounts.models import TOKEN_PREFIX, ApiToken, Membership
from stepwise.accounts.services import MAX_TOKEN_DAYS, token_create, token_revoke
from stepwise.accounts.tokens import token_lookup
from stepwise.core.errors import NotFound, ValidationFailed
from stepwise.core.models import AuditEvent

PATIENTS = "/api/v1/patients"


def bearer(raw: str) -> dict[str, Any]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def sha256(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def assert_not_stored(raw: str) -> None:
    """The raw token appears in no token row and no audit row."""
    for token in ApiToken.objects.all():
        values = [getattr(token, f.attname) for f in ApiToken._meta.concrete_fields]
        assert raw not in [str(v) for v in values]
    for event in AuditEvent.objects.all():
        assert raw not in str(event.detail) and raw not in event.object_id


# --- the create_token command ---------------------------------------------------------------


def test_create_token_prints_the_token_alone_on_its_last_line(cast):
    out = io.StringIO()
    call_command("create_token", "owner", stdout=out)
    lines = out.getvalue().strip().splitlines()
    raw = lines[-1]
    assert raw.startswith(TOKEN_PREFIX) and " " not in raw and len(raw) > 40
    assert "owner" in lines[0] and raw not in lines[0]
    token = ApiToken.objects.get()
    assert token.user == cast.users["owner"] and token.organization == cast.org
    assert token.token_hash == sha256(raw)
    assert token.hint == raw[:10] and token.name == "command line"
    assert_not_stored(raw)
    assert Client().get(PATIENTS, **bearer(raw)).status_code == 200


def test_create_token_takes_a_name_and_a_lifetime(cast):
    out = io.StringIO()
    call_command("create_token", "colleague", "--name", "nightly export", "--days", "7", stdout=out)
    token = ApiToken.objects.get()
    assert token.name == "nightly export" and token.user == cast.users["colleague"]
    lifetime = token.expires_at - token.created_at
    assert timedelta(days=7) - timedelta(minutes=1) < lifetime <= timedelta(days=7)


def test_create_token_defaults_to_the_configured_lifetime(cast, settings):
    settings.API_TOKEN_DEFAULT_DAYS = 30
    call_command("create_token", "owner", stdout=io.StringIO())
    token = ApiToken.objects.get()
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)


def test_create_token_audits_the_creation(cast):
    call_command("create_token", "owner", stdout=io.StringIO())
    token = ApiToken.objects.get()
    (event,) = AuditEvent.objects.filter(action="token_create")
    assert event.actor_id == cast.users["owner"].pk and event.actor_username == "owner"
    assert event.organization_id == cast.org.pk and event.object_id == str(token.public_id)
    assert event.detail == {"days": 90, "behind_second_factor": True}


def test_create_token_refuses_unknown_inactive_and_roleless_users(cast, django_user_model):
    with pytest.raises(CommandError, match="No active user"):
        call_command("create_token", "nobody", stdout=io.StringIO())
    cast.users["owner"].is_active = False
    cast.users["owner"].save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="No active user"):
        call_command("create_token", "owner", stdout=io.StringIO())
    django_user_model.objects.create_user(username="loner", password="x" * 12)
    with pytest.raises(CommandError, match="belongs to no organization"):
        call_command("create_token", "loner", stdout=io.StringIO())
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize("days", ["0", "-1", str(MAX_TOKEN_DAYS + 1)])
def test_create_token_refuses_a_lifetime_out_of_range(cast, days):
    with pytest.raises(CommandError, match="days"):
        call_command("create_token", "owner", "--days", days, stdout=io.StringIO())
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="token_create").exists()


# --- the token service and lookup -----------------------------------------------------------


def test_each_token_is_unique_and_stored_as_its_sha256(cast):
    raws = {token_create(cast.actors["owner"], name=f"t{n}", days=1)[1] for n in range(5)}
    assert len(raws) == 5
    assert set(ApiToken.objects.values_list("token_hash", flat=True)) == {sha256(r) for r in raws}
    for raw in raws:
        assert_not_stored(raw)


def test_token_create_validates_name_and_days(cast):
    with pytest.raises(ValidationFailed) as refused:
        token_create(cast.actors["owner"], name="  ", days=0)
    assert set(refused.value.errors) == {"name", "days"}
    assert not ApiToken.objects.exists()


def test_lookup_finds_only_usable_tokens(cast):
    token, raw = token_create(cast.actors["owner"], name="t", days=1)
    assert token_lookup(raw) == token
    assert token_lookup(raw + "x") is None
    assert token_lookup(raw[len(TOKEN_PREFIX) :]) is None
    assert token_lookup(token.token_hash) is None  # the stored hash is not a credential
    assert token_lookup("") is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    assert token_lookup(raw) is None


def test_lookup_records_the_last_use_at_most_once_a_minute(cast):
    token, raw = token_create(cast.actors["owner"], name="t", days=1)
    token_lookup(raw)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    token_lookup(raw)
    token.refresh_from_db()
    assert token.last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=5))
    token_lookup(raw)
    token.refresh_from_db()
    assert token.last_used_at > first - timedelta(minutes=5)


def test_expired_revoked_and_orphaned_tokens_get_401(cast):
    client = Client()
    _, expired = token_create(cast.actors["owner"], name="expired", days=1)
    ApiToken.objects.filter(name="expired").update(expires_at=timezone.now() - timedelta(hours=1))
    revoked_token, revoked = token_create(cast.actors["owner"], name="revoked", days=1)
    token_revoke(cast.actors["owner"], revoked_token.public_id)
    _, orphaned = token_create(cast.actors["colleague"], name="orphaned", days=1)
    assert client.get(PATIENTS, **bearer(orphaned)).status_code == 200
    Membership.objects.filter(user=cast.users["colleague"]).delete()
    for raw in (expired, revoked, orphaned):
        response = client.get(PATIENTS, **bearer(raw))
        assert response.status_code == 401
        assert "detail" in response.json()
    _, good = token_create(cast.actors["owner"], name="good", days=1)
    assert client.get(PATIENTS, **bearer(good)).status_code == 200


def test_revoking_is_audited_once_and_only_for_the_owner(cast):
    token, _ = token_create(cast.actors["owner"], name="t", days=1)
    with pytest.raises(NotFound):
        token_revoke(cast.actors["colleague"], token.public_id)
    token.refresh_from_db()
    assert token.revoked_at is None
    token_revoke(cast.actors["owner"], token.public_id)
    token_revoke(cast.actors["owner"], token.public_id)  # again: no change, no second row
    (event,) = AuditEvent.objects.filter(action="token_revoke")
    assert event.actor_username == "owner" and event.object_id == str(token.public_id)


# --- the settings page ----------------------------------------------------------------------


def test_settings_page_lists_the_users_own_tokens(cast):
    token_create(cast.actors["owner"], name="reporting script", days=10)
    token_create(cast.actors["colleague"], name="nurse rota sync", days=10)
    response = cast.client_for("owner").get("/settings/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "reporting script" in html and "nurse rota sync" not in html
    assert [t.name for t in response.context["tokens"]] == ["reporting script"]
    assert "badge-active" in html


def test_settings_page_creates_a_token_shown_once(cast):
    client = cast.client_for("owner")
    response = client.post("/settings/", {"name": "reporting script", "days": "30"})
    assert response.status_code == 200
    token = ApiToken.objects.get()
    raw = response.context["new_token"][1]
    assert raw.startswith(TOKEN_PREFIX) and raw in response.content.decode()
    assert token.token_hash == sha256(raw) and token.name == "reporting script"
    assert token.user == cast.users["owner"] and token.organization == cast.org
    assert_not_stored(raw)
    # Shown once: not cached, and the next visit lists the token by its hint, never the secret.
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    again = client.get("/settings/").content.decode()
    assert raw not in again and token.hint in again
    # The token works on the API.
    assert Client().get(PATIENTS, **bearer(raw)).status_code == 200
    (event,) = AuditEvent.objects.filter(action="token_create")
    assert event.actor_username == "owner" and event.object_id == str(token.public_id)
    assert event.detail == {"days": 30, "behind_second_factor": True}


@pytest.mark.parametrize(
    "data", [{"name": "", "days": "30"}, {"name": "x", "days": "0"}, {"name": "x", "days": "999"}]
)
def test_settings_page_refuses_an_invalid_token_form(cast, data):
    response = cast.client_for("owner").post("/settings/", data)
    assert response.status_code == 422
    assert response.context["new_token"] is None
    assert response.context["form"].errors
    assert not ApiToken.objects.exists()
    assert not AuditEvent.objects.filter(action="token_create").exists()


def test_settings_page_revokes_a_token(cast):
    token, raw = token_create(cast.actors["owner"], name="leaked", days=30)
    client = cast.client_for("owner")
    response = client.post(f"/settings/tokens/{token.public_id}/revoke/")
    assert response.status_code == 302 and response["Location"] == "/settings/"
    token.refresh_from_db()
    assert token.revoked_at is not None and token.status == "revoked"
    assert Client().get(PATIENTS, **bearer(raw)).status_code == 401
    (event,) = AuditEvent.objects.filter(action="token_revoke")
    assert event.actor_username == "owner" and event.object_id == str(token.public_id)
    page = client.get("/settings/").content.decode()
    assert "revoked" in page and f"/settings/tokens/{token.public_id}/revoke/" not in page


def test_revoking_needs_a_post(cast):
    token, _ = token_create(cast.actors["owner"], name="t", days=30)
    response = cast.client_for("owner").get(f"/settings/tokens/{token.public_id}/revoke/")
    assert response.status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_a_user_cannot_revoke_another_users_token(cast):
    token, raw = token_create(cast.actors["owner"], name="mine", days=30)
    for who in ("colleague", "director", "outsider"):
        response = cast.client_for(who).post(f"/settings/tokens/{token.public_id}/revoke/")
        assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert Client().get(PATIENTS, **bearer(raw)).status_code == 200
    assert not AuditEvent.objects.filter(action="token_revoke").exists()


def test_revoking_an_unknown_token_is_404(cast):
    client = cast.client_for("owner")
    response = client.post("/settings/tokens/00000000-0000-0000-0000-000000000000/revoke/")
    assert response.status_code == 404
    assert client.post("/settings/tokens/not-a-uuid/revoke/").status_code == 404


def test_settings_need_sign_in(cast):
    response = Client().get("/settings/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    token, _ = token_create(cast.actors["owner"], name="t", days=30)
    response = Client().post(f"/settings/tokens/{token.public_id}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is None


def test_settings_forms_are_csrf_protected(cast):
    client = Client(enforce_csrf_checks=True)
    client.force_login(cast.users["owner"])
    assert client.post("/settings/", {"name": "x", "days": "30"}).status_code == 403
    token, _ = token_create(cast.actors["owner"], name="t", days=30)
    assert client.post(f"/settings/tokens/{token.public_id}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_tokens_end_with_the_second_factor_they_were_made_behind(cast):
    """Removing one's authenticator (or an administrator resetting it) revokes the
    tokens made while it protected the account."""
    from stepwise.accounts.services import second_factor_remove, staff_second_factor_reset
    from stepwise.accounts.tests.support import device_for

    device_for(cast.users["owner"])
    token, _ = token_create(cast.actors["owner"], name="script", days=30)
    second_factor_remove(cast.actors["owner"])
    token.refresh_from_db()
    assert token.revoked_at is not None

    device_for(cast.users["colleague"])
    other, _ = token_create(cast.actors["colleague"], name="script", days=30)
    membership = Membership.objects.get(user=cast.users["colleague"])
    staff_second_factor_reset(cast.actors["admin"], membership.public_id)
    other.refresh_from_db()
    assert other.revoked_at is not None


def test_a_token_made_without_a_second_factor_stops_where_two_factor_is_required(cast, settings):
    _, demo_raw = token_create(
        cast.actors["owner"], name="made in the demo", days=30, behind_second_factor=False
    )
    _, raw = token_create(cast.actors["owner"], name="made behind the code", days=30)
    client = Client()
    settings.REQUIRE_MFA = False
    assert (
        client.get("/api/v1/programs", HTTP_AUTHORIZATION=f"Bearer {demo_raw}").status_code == 200
    )
    settings.REQUIRE_MFA = True
    refused = client.get("/api/v1/programs", HTTP_AUTHORIZATION=f"Bearer {demo_raw}")
    assert refused.status_code == 403 and "two-factor" in refused.json()["detail"]
    assert client.get("/api/v1/programs", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200


def test_the_settings_page_marks_a_token_made_in_a_verified_session(cast):
    client = cast.client_for("owner")  # passed the second factor
    client.post("/confirm-password/", {"password": "correct-horse-battery"})
    client.post("/settings/", {"name": "laptop", "days": "30"})
    token = ApiToken.objects.get(name="laptop")
    assert token.behind_second_factor
