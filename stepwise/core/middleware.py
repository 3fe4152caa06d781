"""Request id, client address, sign-in and route checks, and the security headers of
every response (Content-Security-Policy, Permissions-Policy, Cache-Control)."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from csp.middleware import CSPMiddleware
from django.conf import settings
from django.contrib.auth import middleware as auth_middleware
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden
from django.utils import timezone

from stepwise.core.context import RequestContext, reset_request_context, set_request_context

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Gives each request an id for the audit log. An incoming X-Request-ID is kept only
    behind a proxy trusted to set it (STEPWISE_TRUST_REQUEST_ID): a client must not
    choose the id its audit rows carry."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        trusted = settings.TRUST_REQUEST_ID and _SAFE_REQUEST_ID.match(incoming)
        request_id = incoming if trusted else uuid.uuid4().hex
        client = request.META.get("REMOTE_ADDR", "") or ""
        token = set_request_context(RequestContext(request_id=request_id, client_address=client))
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = request_id
        return response


class DisplayZoneMiddleware:
    """Every request starts showing times in UTC; a page about one patient may switch to
    the patient's facility zone (timezone.activate), and the switch ends with the
    request so the next request on this thread does not inherit it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy (settings.CONTENT_SECURITY_POLICY), with the nonce made up
    front: every response names one, and a template rendered late (a streamed or
    lazily rendered response) never meets a header written without it."""

    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        str(request.csp_nonce)  # type: ignore[attr-defined]  # evaluate the lazy nonce now


# Browser features Stepwise never uses, switched off for every page and any frame.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "encrypted-media",
        "fullscreen",
        "geolocation",
        "gyroscope",
        "hid",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "screen-wake-lock",
        "serial",
        "usb",
        "xr-spatial-tracking",
    )
)


class SecurityHeadersMiddleware:
    """Headers Django does not set itself: Permissions-Policy, and `no-store` so no
    browser or proxy keeps a copy of a page or API answer that may show patient data.

    Static assets are left to WhiteNoise's caching; a view that sets its own
    Cache-Control keeps it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = urlsplit(settings.STATIC_URL or "/static/").path

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if not request.path.startswith(self.static_prefix):
            response.setdefault("Cache-Control", "no-store")
        return response


class LoginRequiredMiddleware(auth_middleware.LoginRequiredMiddleware):
    """Sign-in is required everywhere, except the API, which answers 401 itself
    (bearer tokens, no redirects) and marks its public routes."""

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


logger = logging.getLogger(__name__)


class RoutePermissionMiddleware:
    """Denied by default: a page whose view declares no permission is refused.

    Views declare with ``core.web.staff_view(Permission...)`` or ``core.web.public_view``.
    API operations are checked the same way when the API is built (``api.permissions``).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponseBase],
        view_args: tuple[Any, ...],
        view_kwargs: dict[str, Any],
    ) -> HttpResponseBase | None:
        from stepwise.core.web import declared_permission

        if request.path_info.startswith("/api/") or declared_permission(view_func):
            return None
        logger.error("Refused %s: its view declares no permission", request.path_info)
        return HttpResponseForbidden("This page is not available.")
