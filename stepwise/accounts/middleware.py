"""Attaches `request.actor` (user, organization, role) to every signed-in request."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from stepwise.accounts.selectors import actor_from_membership, membership_for_user

ACTIVE_ORG_SESSION_KEY = "stepwise_active_org"


class MembershipMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        request.membership = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            membership = membership_for_user(
                request.user, request.session.get(ACTIVE_ORG_SESSION_KEY)
            )
            if membership is None:
                # A signed-in account with no organization has nothing to see.
                logout(request)
                return render(request, "accounts/no_membership.html", status=403)
            membership.user = request.user
            request.membership = membership  # type: ignore[attr-defined]
            request.actor = actor_from_membership(membership)  # type: ignore[attr-defined]
        return self.get_response(request)
