"""Scoped reads of the admissions line: a fixed number of queries per page."""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from stepwise.care import rules as care_rules
from stepwise.core.actor import Actor
from stepwise.core.errors import NotFound
from stepwise.core.ids import public_id_or_404
from stepwise.intake.models import (
    CLOSED_OUTCOMES,
    Inquiry,
    Pregnancy,
    Screening,
    WaitlistEntry,
)
from stepwise.intake.rules import priority
from stepwise.intake.services.common import settings_of


def inquiries_of(actor: Actor) -> QuerySet[Inquiry]:
    return Inquiry.objects.filter(organization_id=actor.organization_id)


def _with_details(found: QuerySet[Inquiry]) -> QuerySet[Inquiry]:
    return found.select_related(
        "answered_by",
        "lead_reviewed_by",
        "patient",
        "episode",
        "reservation__program__facility",
    ).prefetch_related(
        "substances",
        Prefetch(
            "screenings",
            queryset=Screening.objects.select_related(
                "screened_by", "suggested_program__facility"
            ).order_by("-screened_at", "-id"),
        ),
        Prefetch(
            "waitlist",
            queryset=WaitlistEntry.objects.select_related("program", "left_by").order_by(
                "-added_at"
            ),
        ),
    )


def inquiry_get(actor: Actor, public_id: uuid.UUID | str) -> Inquiry:
    """One call with its substances, screenings and waitlist entries (4 queries)."""
    inquiry = (
        _with_details(inquiries_of(actor)).filter(public_id=public_id_or_404(public_id)).first()
    )
    if inquiry is None:
        raise NotFound()
    return inquiry


def latest_screening(inquiry: Inquiry) -> Screening | None:
    """From the prefetched screenings of `inquiry_get`."""
    screenings = list(inquiry.screenings.all())
    return screenings[0] if screenings else None


@dataclass(frozen=True)
class CallDesk:
    """The admissions desk: calls that still need someone, the lead's queue, and
    follow-ups due."""

    open_calls: list[Inquiry]
    open_count: int  # all open calls; the list shows the newest DESK_LIMIT
    lead_queue: list[Inquiry]
    follow_ups_due: list[Inquiry]
    recent_closed: list[Inquiry]


DESK_LIMIT = 50


def call_desk(actor: Actor, now: datetime) -> CallDesk:
    """Four queries (five past DESK_LIMIT open calls), each capped, whatever the size
    of the call log."""
    base = inquiries_of(actor).select_related("answered_by", "patient", "reservation__program")
    still_open = base.exclude(outcome__in=list(CLOSED_OUTCOMES))
    open_calls = list(still_open.order_by("-received_at")[:DESK_LIMIT])
    open_count = len(open_calls) if len(open_calls) < DESK_LIMIT else still_open.order_by().count()
    lead_queue = list(
        base.filter(lead_flagged=True, lead_reviewed_at__isnull=True).order_by("received_at")[
            :DESK_LIMIT
        ]
    )
    follow_ups_due = list(
        base.filter(follow_up_due_at__lte=now).order_by("follow_up_due_at")[:DESK_LIMIT]
    )
    recent_closed = list(
        base.filter(outcome__in=list(CLOSED_OUTCOMES)).order_by("-outcome_at")[:20]
    )
    return CallDesk(open_calls, open_count, lead_queue, follow_ups_due, recent_closed)


@dataclass(frozen=True)
class WaitingPerson:
    entry: WaitlistEntry
    priority: priority.Priority
    days_waiting: int

    @property
    def priority_label(self) -> str:
        return priority.PRIORITY_LABELS[self.priority]

    @property
    def inquiry(self) -> Inquiry:
        return self.entry.inquiry


def waiting_facts(inquiry: Inquiry) -> priority.WaitingFacts:
    """From an inquiry with its substances prefetched."""
    return priority.WaitingFacts(
        pregnant=inquiry.pregnancy == Pregnancy.YES,
        injecting=any(s.route == care_rules.INJECTION for s in inquiry.substances.all()),
        last_overdose_on=inquiry.last_overdose_on,
    )


def waitlist(
    actor: Actor, now: datetime | None = None, *, program_id: int | None = None
) -> list[WaitingPerson]:
    """Everyone waiting, most urgent first, then longest waiting: three queries (the
    settings row, the entries, their substances)."""
    moment = now or timezone.now()
    recent_days = settings_of(actor.organization_id).recent_overdose_days
    entries = (
        WaitlistEntry.objects.filter(organization_id=actor.organization_id, left_at__isnull=True)
        .select_related("program__facility", "inquiry__patient", "inquiry__reservation__program")
        .prefetch_related("inquiry__substances")
    )
    if program_id is not None:
        entries = entries.filter(program_id=program_id)
    # Days waiting count from the first request for treatment (the call), in the
    # program's facility days: the figure TEDS keeps at admission (DAYWAIT).
    ranked = []
    for entry in entries:
        zone = zoneinfo.ZoneInfo(entry.program.facility.time_zone)
        today = moment.astimezone(zone).date()
        first_call = entry.inquiry.received_at
        level = priority.priority_of(waiting_facts(entry.inquiry), today, recent_days)
        person = WaitingPerson(
            entry, level, priority.days_between(first_call.astimezone(zone).date(), today)
        )
        ranked.append((priority.Ranked(level, first_call), person))
    return priority.ordered(ranked)


def inquiry_search(actor: Actor, text: str) -> QuerySet[Inquiry]:
    """Calls by the person's or caller's name or phone, newest first (at most 50)."""
    words = text.strip()
    found = inquiries_of(actor).select_related("answered_by", "patient")
    if not words:
        return found.none()
    return found.filter(
        Q(family_name__icontains=words)
        | Q(given_name__icontains=words)
        | Q(caller_name__icontains=words)
        | Q(phone__icontains=words)
        | Q(caller_phone__icontains=words)
    ).order_by("-received_at")[:50]


def waitlist_entry_get(actor: Actor, public_id: uuid.UUID | str) -> WaitlistEntry:
    entry = (
        WaitlistEntry.objects.filter(
            organization_id=actor.organization_id, public_id=public_id_or_404(public_id)
        )
        .select_related("inquiry__patient", "program")
        .first()
    )
    if entry is None:
        raise NotFound()
    return entry
