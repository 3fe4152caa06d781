"""Security headers on every page and API answer the cast can reach, and CSRF.

The walk resolves the project's URL patterns, so a new page is checked as soon
as it is routed. Path parameters are filled with real ids from the cast; an
unknown parameter gets a fresh id (a 404, which must carry the headers too).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from stepwise.accounts.services import token_create
from stepwise.care.services import episode_admit
from stepwise.care.tests.browser import CHROMIUM, LAUNCH_ARGS, MISSING_CHROMIUM, Watch

STAFF = ("owner", "colleague", "readonly", "admin", "director")
API_PREFIX = "/api/v1/"
DOCS_PATH = "/api/v1/docs"
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
STATIC_REF = re.compile(r"""(?:src|href)="(/static/[^"]+)\"""")
# Pages the walk must actually render (200), so it cannot pass on redirects alone.
MUST_RENDER = {
    "care:census",
    "care:patient_list",
    "care:chart",
    "care:transition",
    "care:discharge",
    "accounts:settings",
    "privacy:audit_log",
    "api:openapi-view",
    "api:openapi-json",
    "api:list_programs",
    "api:list_patients",
    "api:read_patient",
    "api:timeline",
}


@dataclass(frozen=True)
class Route:
    path: str  # the pattern, e.g. "patients/<uuid:public_id>/"
    name: str  # namespaced, e.g. "care:chart"

    @property
    def is_api(self) -> bool:
        return ("/" + self.path).startswith(API_PREFIX)


def walk(patterns: list[Any], prefix: str = "", namespace: str = "") -> Iterator[Route]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield Route(prefix + str(entry.pattern), f"{namespace}{entry.name}")


def routes() -> list[Route]:
    unique = {route.path: route for route in walk(get_resolver().url_patterns)}
    return sorted(unique.values(), key=lambda r: r.path)


class Ids:
    """Real public ids of the cast, by path parameter name."""

    def __init__(self, cast: Any) -> None:
        self.episode = episode_admit(
            cast.actors["owner"], cast.patient, cast.residential, at=timezone.now()
        )
        self.token, self.raw_token = token_create(cast.actors["owner"], name="headers", days=1)
        self.patient = cast.patient

    def fill(self, route: Route) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name == "public_id":
                return str(
                    self.token.public_id if "tokens/" in route.path else self.patient.public_id
                )
            if name == "patient_id":
                return str(self.patient.public_id)
            if name == "episode_id":
                return str(self.episode.public_id)
            return str(uuid.uuid4())

        return "/" + PARAMETER.sub(value, route.path)


def directives(policy: str) -> dict[str, str]:
    found = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            found[name] = value.strip()
    return found


def header_problems(response: Any) -> list[str]:
    """What is missing or wrong in one response's security headers."""
    problems = []
    policy = directives(response.headers.get("Content-Security-Policy", ""))
    expected = {
        "default-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' data:",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
        "connect-src": "'self'",
        "font-src": "'self'",
    }
    problems += [
        f"CSP {name} is {policy.get(name)!r}, not {value!r}"
        for name, value in expected.items()
        if policy.get(name) != value
    ]
    if not re.fullmatch(r"'self' 'nonce-[A-Za-z0-9+/=]{16,}'", policy.get("script-src", "")):
        problems.append(f"CSP script-src is {policy.get('script-src')!r}, not 'self' + a nonce")
    cache = response.headers.get("Cache-Control", "")
    if "no-store" not in cache:
        problems.append(f"Cache-Control is {cache!r}, without no-store")
    if response.headers.get("Referrer-Policy") not in {"same-origin", "no-referrer"}:
        problems.append(f"Referrer-Policy is {response.headers.get('Referrer-Policy')!r}")
    permissions = response.headers.get("Permissions-Policy", "")
    problems += [
        f"Permissions-Policy allows {feature}"
        for feature in ("camera", "microphone", "geolocation", "payment", "usb")
        if f"{feature}=()" not in permissions
    ]
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options is not DENY")
    if response.headers.get("Content-Type", "").startswith("text/html"):
        problems += script_problems(response, policy.get("script-src", ""))
    return problems


def script_problems(response: Any, script_src: str) -> list[str]:
    """No inline script: every script is a Stepwise static file; Stepwise's own
    pages put the response's nonce on each (django-ninja's docs page has none)."""
    nonce = script_src.partition("'nonce-")[2].rstrip("'")
    problems = []
    for attributes in SCRIPT_TAG.findall(response.content.decode()):
        if 'type="application/json"' in attributes:
            continue  # a data block, never run
        if not re.search(rf'\bsrc="{re.escape(settings.STATIC_URL)}[^"]+"', attributes):
            problems.append(f"a script that is not a local static file: <script{attributes}>")
        if response.wsgi_request.path != DOCS_PATH and f'nonce="{nonce}"' not in attributes:
            problems.append(f"a script without the response's nonce: <script{attributes}>")
    return problems


def check(response: Any, label: str, failures: list[str]) -> None:
    failures += [f"{label} ({response.status_code}): {p}" for p in header_problems(response)]


def test_every_page_and_api_answer_carries_the_security_headers(cast: Any) -> None:
    ids = Ids(cast)
    bearer = {"Authorization": f"Bearer {ids.raw_token}"}
    failures: list[str] = []
    rendered: set[str] = set()
    anonymous = Client()
    clients = {who: cast.client_for(who) for who in STAFF}

    for route in routes():
        url = ids.fill(route)
        check(anonymous.get(url), f"anonymous GET {url}", failures)
        if route.is_api:
            answers = {
                "GET": anonymous.get(url, headers=bearer),
                "POST": anonymous.post(url, "{}", content_type="application/json", headers=bearer),
            }
            for method, response in answers.items():
                check(response, f"API {method} {url}", failures)
                if response.status_code == 200:
                    rendered.add(route.name)
            continue
        for who, client in clients.items():
            response = client.get(url)
            check(response, f"{who} GET {url}", failures)
            if response.status_code == 200:
                rendered.add(route.name)
        check(clients["owner"].get(url, HTTP_HX_REQUEST="true"), f"htmx GET {url}", failures)

    check(clients["owner"].get("/no-such-page/"), "GET /no-such-page/", failures)
    assert not failures, "\n".join(failures)
    assert rendered >= MUST_RENDER, f"never rendered: {sorted(MUST_RENDER - rendered)}"


@pytest.mark.django_db
def test_static_files_are_cacheable_and_served_by_stepwise() -> None:
    client = Client()
    pages = [client.get(reverse("accounts:login")), client.get(DOCS_PATH)]
    assets = {ref for page in pages for ref in STATIC_REF.findall(page.content.decode())}
    # The docs page loads Swagger UI from Stepwise itself, never from a CDN.
    assert {"swagger-ui-bundle.js", "swagger-ui.css"} <= {a.rsplit("/", 1)[-1] for a in assets}
    assert not re.search(r"""(?:src|href)="(?:https?:)?//""", pages[1].content.decode())

    for asset in sorted(assets):
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert "no-store" not in response.headers.get("Cache-Control", ""), asset
        response.close()


def test_csrf_is_enforced(cast: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("accounts:login"))  # sets the CSRF cookie, as a browser would
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    client.force_login(cast.users["owner"])
    logout = reverse("accounts:logout")

    refused = client.post(logout)
    assert refused.status_code == 403
    assert not header_problems(refused)
    assert client.post(reverse("patients:new"), {"mrn": "RR-9"}).status_code == 403
    # The same request with the token goes through.
    assert client.post(logout, headers={"X-CSRFToken": token}).status_code == 302


def test_cookies_are_http_only_and_same_site(db: Any, rf: RequestFactory) -> None:
    csrf = Client().get(reverse("accounts:login")).cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] and csrf["samesite"] == "Lax"

    request = rf.get("/")
    sessions = SessionMiddleware(lambda r: HttpResponse())
    sessions.process_request(request)
    request.session["visited"] = True
    response = sessions.process_response(request, HttpResponse())
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] and session["samesite"] == "Lax"


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM)
def test_api_docs_work_under_the_strict_policy(
    live_db: None, live_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Swagger UI runs from Stepwise's own files, with no inline style or script
    allowed: Chromium reports no CSP violation and no foreign request."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, as in care
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        try:
            page = browser.new_page()
            watch = Watch(origin=live_server.url)
            watch.attach(page)
            page.goto(f"{live_server.url}{DOCS_PATH}")
            expect(page.locator(".opblock").first).to_be_visible()
            page.locator(".opblock-summary").first.click()
            page.get_by_role("button", name="Try it out").first.click()
            page.get_by_role("button", name="Execute").first.click()
            expect(page.locator(".live-responses-table").first).to_be_visible()
            watch.assert_clean()
        finally:
            browser.close()
