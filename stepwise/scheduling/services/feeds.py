"""Private calendar feeds: a member of staff's sessions as facilitator, for the
calendar app on their phone, at a secret address.

Only the SHA-256 of the secret is kept, so the address is shown once, when it is
issued. Each member has at most one live feed per organization; issuing a new one
revokes the old. The feed names no patient: an individual appointment shows only
its session type ("Individual therapy"), never who it is with."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from stepwise.accounts.models import Membership, hash_token
from stepwise.accounts.selectors import actor_from_membership
from stepwise.core.access import require_permission
from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import NotFound
from stepwise.core.models import AuditAction, DataClass
from stepwise.core.roles import Permission, role_can
from stepwise.scheduling import ical
from stepwise.scheduling.models import CalendarFeed, Session, SessionMode
from stepwise.scheduling.services.common import CATEGORY, settings_of

# Issuing and revoking a feed change a staff member's credentials (account data).
TOKENS_CATEGORY = "tokens"
OBJECT_TYPE = "calendar_feed"
# How far back the feed reaches; forward it reaches the organization's horizon.
DAYS_BACK = 14
# The right-hand side of every event's UID: stable whatever host serves the feed, and
# a reserved name (RFC 2606) that can never clash with a real domain.
UID_DOMAIN = "stepwise.invalid"
# Longer than any secret issued here; anything longer is not looked up.
MAX_TOKEN_LENGTH = 128


def _live(organization_id: int, user_id: int) -> CalendarFeed | None:
    return CalendarFeed.objects.filter(
        organization_id=organization_id, user_id=user_id, revoked_at__isnull=True
    ).first()


def feed_live(actor: Actor) -> CalendarFeed | None:
    """The actor's live feed in their organization (its dates only; the secret is gone)."""
    return _live(actor.organization_id, actor.user_id)


def _revoke_live(actor: Actor, now: datetime, *, why: str) -> int:
    """Revoke the actor's live feed, inside the caller's transaction."""
    revoked = 0
    for feed in CalendarFeed.objects.select_for_update().filter(
        organization_id=actor.organization_id, user_id=actor.user_id, revoked_at__isnull=True
    ):
        feed.revoked_at = now
        feed.save(update_fields=["revoked_at", "updated_at"])
        audit_record(
            action=AuditAction.UPDATE,
            actor=actor,
            category=TOKENS_CATEGORY,
            object_type=OBJECT_TYPE,
            object_id=feed.pk,
            detail={"revoked": why},
        )
        revoked += 1
    return revoked


def feed_issue(actor: Actor, *, now: datetime | None = None) -> tuple[CalendarFeed, str]:
    """A new private feed address for the actor; returns the feed and its secret, which
    is shown once and never stored. The live feed before it, if any, stops working."""
    require_permission(actor, Permission.SCHEDULE_READ, category=CATEGORY)
    now = now or timezone.now()
    raw = secrets.token_urlsafe(32)
    with transaction.atomic():
        # One issue at a time per member: the membership row is the lock.
        list(
            Membership.objects.select_for_update()
            .filter(organization_id=actor.organization_id, user_id=actor.user_id)
            .values_list("pk", flat=True)
        )
        replaced = _revoke_live(actor, now, why="replaced by a new feed")
        feed = CalendarFeed.objects.create(
            organization_id=actor.organization_id,
            user_id=actor.user_id,
            token_hash=hash_token(raw),
        )
        audit_record(
            action=AuditAction.CREATE,
            actor=actor,
            category=TOKENS_CATEGORY,
            object_type=OBJECT_TYPE,
            object_id=feed.pk,
            detail={"replaced": replaced},
        )
    return feed, raw


def feed_revoke(actor: Actor, *, now: datetime | None = None) -> int:
    """Stop the actor's live feed at once; returns how many were revoked (0 or 1).
    Anyone may give up their own feed, whatever their role now."""
    with transaction.atomic():
        return _revoke_live(actor, now or timezone.now(), why="revoked by its owner")


@dataclass(frozen=True)
class FeedRead:
    """What one fetch of a feed shows: its owner's sessions, no patient in them."""

    feed: CalendarFeed
    actor: Actor
    sessions: list[Session]
    generated_at: datetime


def _owner(feed: CalendarFeed) -> Actor | None:
    """The feed's owner as an actor, while they still may read the schedule there."""
    membership = (
        Membership.objects.filter(
            organization_id=feed.organization_id,
            user_id=feed.user_id,
            is_active=True,
            user__is_active=True,
        )
        .select_related("user", "organization")
        .first()
    )
    if membership is None or not role_can(membership.role, Permission.SCHEDULE_READ):
        return None
    return actor_from_membership(membership)


def feed_read(raw: str, *, now: datetime | None = None) -> FeedRead:
    """Open a feed by its secret: the owner's sessions as facilitator from two weeks
    back to the organization's horizon, cancelled ones included (so calendars drop
    them). Unknown, revoked, or an owner who lost access: NotFound, saying nothing
    more. Records when the feed was last used; audited (no patient data)."""
    if not raw or len(raw) > MAX_TOKEN_LENGTH:
        raise NotFound()
    feed = CalendarFeed.objects.filter(token_hash=hash_token(raw), revoked_at__isnull=True).first()
    owner = _owner(feed) if feed is not None else None
    if feed is None or owner is None:
        raise NotFound()
    now = now or timezone.now()
    until = now + timedelta(weeks=settings_of(feed.organization_id).horizon_weeks)
    sessions = list(
        Session.objects.filter(
            organization_id=feed.organization_id,
            facilitator_id=feed.user_id,
            starts_at__gte=now - timedelta(days=DAYS_BACK),
            starts_at__lt=until,
        )
        .select_related("session_type", "room", "program__facility")
        .order_by("starts_at", "id")
    )
    with transaction.atomic():
        CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=now)
        audit_record(
            action=AuditAction.READ,
            actor=owner,
            category=CATEGORY,
            object_type=OBJECT_TYPE,
            object_id=feed.pk,
            detail={"sessions": len(sessions)},
            # Times, places and session types of one member of staff: no patient.
            data_class=DataClass.ACCOUNT,
        )
    feed.last_used_at = now
    return FeedRead(feed, owner, sessions, now)


def event_summary(session: Session) -> str:
    """The group's title; for an individual session only its type, never who with."""
    if session.session_type.mode == SessionMode.INDIVIDUAL:
        return session.session_type.name
    return session.title


def event_location(session: Session) -> str:
    """Room, facility and the facility's address (for the map in a calendar app)."""
    facility = session.program.facility
    parts = [session.room.name if session.room else "", facility.name, facility.address]
    return ", ".join(part.strip() for part in parts if part.strip())


def session_event(
    session: Session, *, stamp: datetime, link: Callable[[Session], str] | None = None
) -> ical.Event:
    """One session as a calendar event. The cancel reason is left out: it is free text
    and could name someone."""
    description = f"{session.program.name} · {session.session_type.name}"
    if session.is_cancelled:
        description += "\nCancelled."
    return ical.Event(
        uid=f"{session.public_id}@{UID_DOMAIN}",
        summary=event_summary(session),
        starts_at=session.starts_at,
        ends_at=session.ends_at,
        stamp=stamp,
        location=event_location(session),
        description=description,
        status=ical.STATUS_CANCELLED if session.is_cancelled else ical.STATUS_CONFIRMED,
        url=link(session) if link else "",
        last_modified=session.updated_at,
    )


def feed_text(read: FeedRead, *, link: Callable[[Session], str] | None = None) -> str:
    """The feed as iCalendar text."""
    name = f"Stepwise: my sessions at {read.actor.organization.name}"
    return ical.calendar(
        name, (session_event(s, stamp=read.generated_at, link=link) for s in read.sessions)
    )
