"""Printable and subscribable forms of the schedule: a session's sign-in sheet (PDF),
a member of staff's private calendar feed (iCalendar), and the page that issues it."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from stepwise.core.errors import Conflict, NotFound
from stepwise.core.roles import Permission
from stepwise.core.web import actor_of, public_view, staff_view
from stepwise.scheduling.models import Session
from stepwise.scheduling.services.common import zone_of
from stepwise.scheduling.services.feeds import (
    feed_issue,
    feed_live,
    feed_read,
    feed_revoke,
    feed_text,
)
from stepwise.scheduling.services.series import session_get
from stepwise.scheduling.signin import sign_in_sheet_pdf, sign_in_sheet_read

PDF = "application/pdf"
ICALENDAR = "text/calendar; charset=utf-8"


@staff_view(Permission.SESSION_RUN)
@require_GET
def sign_in_sheet(request: HttpRequest, session_id: uuid.UUID) -> HttpResponse:
    """The session's sign-in sheet to print, for whoever runs it."""
    actor = actor_of(request)
    session = session_get(actor, session_id)
    try:
        sheet = sign_in_sheet_read(actor, session)
    except Conflict as exc:
        context = {"message": exc.message, "session": session}
        return render(request, "scheduling/documents/refused.html", context, status=409)
    response = HttpResponse(sign_in_sheet_pdf(sheet), content_type=PDF)
    day = session.starts_at.astimezone(zone_of(session.program)).date()
    name = f"sign-in-{day:%Y-%m-%d}-{slugify(session.title)[:40] or 'session'}.pdf"
    # Opened in the browser's viewer, ready to print.
    response["Content-Disposition"] = f'inline; filename="{name}"'
    # Names of members: never kept in a shared or browser cache.
    response["Cache-Control"] = "no-store"
    return response


@public_view
@require_GET
def feed(request: HttpRequest, token: str) -> HttpResponse:
    """A member's calendar feed, reached only with its secret; anything else is 404."""
    try:
        read = feed_read(token)
    except NotFound:
        raise Http404() from None

    def link(session: Session) -> str:
        return request.build_absolute_uri(reverse("scheduling:session", args=[session.public_id]))

    response = HttpResponse(feed_text(read, link=link), content_type=ICALENDAR)
    response["Content-Disposition"] = 'inline; filename="stepwise-sessions.ics"'
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@never_cache  # a new address is shown once: no cache or back button may show it again
@staff_view(Permission.SCHEDULE_READ)
@require_http_methods(["GET", "POST"])
def feed_settings(request: HttpRequest) -> HttpResponse:
    """The member's calendar feed: issue a new address (shown once) or revoke it."""
    actor = actor_of(request)
    new_url = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "revoke":
            if feed_revoke(actor):
                messages.success(request, "Your calendar feed is revoked; its address is dead.")
            else:
                messages.info(request, "You had no calendar feed to revoke.")
            return redirect("scheduling:feed_settings")
        if action != "issue":
            messages.error(request, "Choose to issue a new address or to revoke it.")
            return redirect("scheduling:feed_settings")
        _, raw = feed_issue(actor)
        new_url = request.build_absolute_uri(reverse("scheduling:feed", args=[raw]))
    context = {
        "live": feed_live(actor),
        "new_url": new_url,
        "webcal_url": new_url.replace("https://", "webcal://", 1).replace(
            "http://", "webcal://", 1
        ),
    }
    return render(request, "scheduling/documents/feed_settings.html", context)
