"""The API's public routes, its documentation, and bearer-token authentication."""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.utils import timezone

from stepwise.accounts.models import ApiToken, Membership
from stepwise.accounts.services import token_create, token_revoke
from stepwise.api.tests.support import BASE
from stepwise.core.models import AuditEvent
from stepwise.patients.services import care_team_add


def test_health_needs_no_token(api):
    response = api.get(None, "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_openapi_schema_is_public_and_lists_every_path(api):
    response = api.get(None, "/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Stepwise API"
    paths = set(schema["paths"])
    for path in (
        "/api/v1/health",
        "/api/v1/programs",
        "/api/v1/patients",
        "/api/v1/patients/{patient_id}",
        "/api/v1/patients/{patient_id}/admit",
        "/api/v1/episodes/{episode_id}/transition",
        "/api/v1/episodes/{episode_id}/discharge",
        "/api/v1/episodes/{episode_id}/timeline",
    ):
        assert path in paths
    assert "post" in schema["paths"]["/api/v1/patients"]
    assert "get" in schema["paths"]["/api/v1/patients"]
    # Every operation but the health check asks for the bearer token.
    assert schema["paths"]["/api/v1/patients"]["get"]["security"]
    assert "security" not in schema["paths"]["/api/v1/health"]["get"]


class _Assets(HTMLParser):
    """Collects every URL the page would load (scripts, styles, icons, images, frames)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in {"src", "href"} and value:
                self.urls.append(value)


def test_docs_load_every_asset_from_stepwise_itself(api):
    response = api.get(None, "/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assets = _Assets()
    assets.feed(html)
    assert assets.urls, "the docs page loads its scripts and styles"
    for url in assets.urls:
        assert url.startswith("/") and not url.startswith("//"), url
    assert "http://" not in html and "https://" not in html
    # Each asset is really served by Stepwise, so the page works offline.
    client = Client()
    for url in assets.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        asset.close()
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "http" not in policy


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer stw_not-a-real-token",
        "Bearer not-even-the-prefix",
        "Basic b3duZXI6Y29ycmVjdC1ob3JzZS1iYXR0ZXJ5",
        "Token stw_x",
    ],
)
def test_no_or_bad_token_is_401_with_a_json_detail(cast, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get(f"{BASE}/patients", **extra)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response["WWW-Authenticate"] == "Bearer"
    body = response.json()
    assert "token" in body["detail"]
    assert set(body) <= {"detail", "errors"}


def test_a_signed_in_session_is_not_enough_for_the_api(cast):
    """The API authenticates tokens only: a browser session cannot be ridden by another site."""
    response = cast.client_for("owner").get(f"{BASE}/patients")
    assert response.status_code == 401


def test_every_endpoint_refuses_without_a_token(cast):
    client = Client()
    patient = cast.patient.public_id
    episode = "00000000-0000-0000-0000-000000000000"
    for method, path in [
        ("get", "/programs"),
        ("get", "/patients"),
        ("post", "/patients"),
        ("get", f"/patients/{patient}"),
        ("post", f"/patients/{patient}/admit"),
        ("post", f"/episodes/{episode}/transition"),
        ("post", f"/episodes/{episode}/discharge"),
        ("get", f"/episodes/{episode}/timeline"),
    ]:
        if method == "get":
            response = client.get(BASE + path)
        else:
            response = client.post(BASE + path, "{}", content_type="application/json")
        assert response.status_code == 401, path
        assert "Rivera" not in response.content.decode()
    assert not AuditEvent.objects.filter(action="read").exists()


def test_a_valid_token_authenticates_as_its_user_and_records_its_use(api, cast):
    token, raw = token_create(cast.actors["owner"], name="script", days=7)
    assert token.last_used_at is None
    response = api.client.get(f"{BASE}/patients", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 200
    token.refresh_from_db()
    assert token.last_used_at is not None
    event = AuditEvent.objects.get(category="patient_list")
    assert event.actor_id == cast.users["owner"].pk and event.actor_role == "counselor"
    assert event.organization_id == cast.org.pk
    assert event.request_id == response["X-Request-ID"]


def test_an_expired_token_is_401(api, cast):
    token, raw = token_create(cast.actors["owner"], name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.client.get(f"{BASE}/patients", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_revoked_token_is_401_at_once(api, cast):
    token, raw = token_create(cast.actors["owner"], name="leaked", days=30)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 200
    token_revoke(cast.actors["owner"], token.public_id)
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 401


def test_a_token_of_a_user_who_lost_the_membership_is_401(api, cast):
    _, raw = token_create(cast.actors["colleague"], name="script", days=30)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 200
    Membership.objects.filter(user=cast.users["colleague"]).update(is_active=False)
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 401
    Membership.objects.filter(user=cast.users["colleague"]).delete()
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 401


def test_a_token_works_only_in_its_own_organization(api, cast):
    """A member of two organizations who leaves one: that organization's tokens stop working."""
    user = cast.users["colleague"]
    care_team_add(cast.actors["owner"], cast.patient, user_id=user.pk, team_role="nurse")
    Membership.objects.create(user=user, organization=cast.other_org, role="director")
    _, raw = token_create(cast.actors["colleague"], name="riverside", days=30)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    listed = api.client.get(f"{BASE}/patients", **headers).json()
    assert [row["mrn"] for row in listed["results"]] == ["RR-1"]
    Membership.objects.filter(user=user, organization=cast.org).delete()
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 401


def test_a_deactivated_user_token_is_401(api, cast):
    raw = api.token("owner")
    user = cast.users["owner"]
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = api.client.get(f"{BASE}/patients", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert response.status_code == 401


def test_the_role_is_read_at_each_request_not_frozen_in_the_token(api, cast):
    raw = api.token("colleague")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 200
    Membership.objects.filter(user=cast.users["colleague"]).update(role="admin")
    assert api.client.get(f"{BASE}/patients", **headers).status_code == 403


def test_writes_with_a_token_need_no_csrf_token(api, cast):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        f"{BASE}/patients",
        {"mrn": "RR-9", "given_name": "Lee", "family_name": "Park", "date_of_birth": "1990-01-02"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {api.token('owner')}",
    )
    assert response.status_code == 201
