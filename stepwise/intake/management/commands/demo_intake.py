"""The demo admissions line: a month of calls through the services, with a crisis
call last night waiting for the clinical lead, people on the waitlist, a detox bed
held for a caller expected this morning, referrals out and admissions from calls."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.care.models import Program
from stepwise.care.services import SubstanceUse, program_place_cap_set
from stepwise.core.errors import Conflict
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.intake.models import Inquiry
from stepwise.intake.services.admission import inquiry_admit
from stepwise.intake.services.inquiries import (
    CallDetails,
    call_details_update,
    crisis_note_add,
    inquiry_conclude,
    inquiry_start,
)
from stepwise.intake.services.places import place_hold
from stepwise.intake.services.screening import ScreenAnswers, screening_record
from stepwise.intake.services.waitlist import waitlist_add

DEMO_SLUG = "riverside"
CALLS = 44
CALLERS = [
    ("Carmen", "Diaz"),
    ("Trevor", "Holt"),
    ("Dana", "Whitfield"),
    ("Marcus", "Bell"),
    ("Tanya", "Ruiz"),
    ("Owen", "Price"),
    ("Leah", "Morgan"),
    ("Victor", "Chen"),
    ("Rosa", "Alvarez"),
    ("Derek", "Young"),
    ("Alicia", "Ford"),
    ("Sean", "Murphy"),
]
# Calls come more at night and on Mondays; hours weighted accordingly.
HOURS = [0, 1, 2, 3, 8, 9, 10, 11, 13, 14, 16, 18, 19, 20, 21, 22, 23]


class Command(BaseCommand):
    help = "Add the demo admissions line's calls. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None:
            raise CommandError("Load the demo first: stepwise demo_load")
        if Inquiry.objects.filter(organization=org).exists():
            return
        actors = actors_by_role(org.pk)
        self.rng = random.Random(options["seed"])  # noqa: S311 # nosec B311 # seeded demo data
        self.now = timezone.now().replace(second=0, microsecond=0)
        self.desk = actors[Role.ADMISSIONS]
        self.programs = {p.name: p for p in Program.objects.filter(organization=org)}
        with transaction.atomic():
            for name in ("Evening IOP", "Outpatient", "Day program (PHP)"):
                if name in self.programs:
                    program_place_cap_set(actors[Role.DIRECTOR], self.programs[name], 40)
            self.programs = {p.name: p for p in Program.objects.filter(organization=org)}
            made = [self._call(index) for index in range(CALLS)]
            self._crisis_last_night()
            self._held_detox_bed()
        self.stdout.write(f"Demo admissions line: {len(made) + 2} calls.")

    def _when(self, days_ago: int) -> datetime:
        hour = self.rng.choice(HOURS)
        return (self.now - timedelta(days=days_ago)).replace(
            hour=hour, minute=self.rng.randint(0, 59)
        )

    def _details(self, index: int, *, injecting: bool, pregnant: bool) -> CallDetails:
        given, family = CALLERS[index % len(CALLERS)]
        family_call = index % 3 == 0
        return CallDetails(
            caller_kind="family" if family_call else "self",
            caller_name=f"{self.rng.choice(['Pat', 'Lee', 'Sam', 'Jo'])} {family}"
            if family_call
            else "",
            caller_relationship="parent" if family_call else "",
            caller_phone=f"555-01{index:02d}",
            callback_ok=True,
            message_ok=index % 2 == 0,
            given_name=f"{given}",
            family_name=f"{family}{'' if index < len(CALLERS) else '-' + str(index)}",
            date_of_birth=date(1975 + index % 25, 1 + index % 12, 1 + index % 27),
            phone=f"555-02{index:02d}",
            substances=[
                SubstanceUse(7 if index % 2 else 5, 4 if injecting else 2, "daily"),
                *([SubstanceUse(13, 1, "3_6_week")] if index % 5 == 0 else []),
            ],
            last_use_at=None,
            prior_treatment=1 if index % 3 else 0,
            pregnancy="yes" if pregnant else "unknown",
            last_overdose_on=(self.now - timedelta(days=10)).date() if index % 7 == 0 else None,
            referral_source=[1, 1, 3, 2, 7, 6][index % 6],
            referring_organization="County ED" if index % 6 == 2 else "",
        )

    def _screen(self, inquiry: Inquiry, moderate: bool) -> None:
        screening_record(
            self.desk,
            inquiry,
            ScreenAnswers(
                withdrawal_estimate="moderate" if moderate else "mild",
                ratings=[3 if moderate else 1, 1, 1, 2, 2, 2],
                payer_type=self.rng.choice(["medicaid", "medicaid", "private", "state_funded"]),
                authorization="approved" if moderate else "not_required",
            ),
        )

    def _call(self, index: int) -> Inquiry:
        received = self._when(self.rng.randint(1, 30))
        inquiry = inquiry_start(self.desk, signs=[], received_at=received)
        kind = index % 8
        inquiry = call_details_update(
            self.desk,
            inquiry,
            self._details(index, injecting=kind in (2, 5), pregnant=index in (5, 13)),
        )
        if kind == 0:
            return inquiry_conclude(
                self.desk,
                inquiry,
                outcome="information",
                note="Asked about visiting hours and costs.",
            )
        self._screen(inquiry, moderate=kind in (1, 4))
        if kind in (2, 5):
            waitlist_add(self.desk, inquiry, self.programs["Residential treatment"])
            return inquiry
        if kind == 3:
            return inquiry_conclude(
                self.desk,
                inquiry,
                outcome="referred_out",
                referred_to="Harbor Methadone Clinic",
                referral_out_reason=self.rng.choice(["preference", "level_not_offered", "payer"]),
            )
        if kind == 6:
            return inquiry_conclude(
                self.desk,
                inquiry,
                outcome="no_further_contact",
                note="Three call-backs unanswered.",
            )
        program = self.programs["Evening IOP" if kind in (1, 7) else "Outpatient"]
        try:
            admitted_at = min(received + timedelta(days=self.rng.randint(0, 4), hours=3), self.now)
            inquiry_admit(self.desk, inquiry, program, at=admitted_at)
        except Conflict:
            waitlist_add(self.desk, inquiry, program)
        return inquiry

    def _crisis_last_night(self) -> None:
        inquiry = inquiry_start(
            self.desk, signs=["unresponsive", "blue_lips"], received_at=self._last_night(2, 40)
        )
        crisis_note_add(
            self.desk, inquiry, note="Caller gave naloxone; 911 on the way; he is breathing."
        )
        call_details_update(
            self.desk,
            inquiry,
            CallDetails(
                caller_kind="friend",
                caller_name="Jamie Cole",
                caller_phone="555-0177",
                callback_ok=True,
                given_name="Ethan",
                family_name="Ward",
                substances=[SubstanceUse(7, 2, "daily")],
                referral_source=1,
            ),
        )

    def _held_detox_bed(self) -> None:
        inquiry = inquiry_start(self.desk, signs=[], received_at=self._last_night(3, 15))
        inquiry = call_details_update(
            self.desk,
            inquiry,
            CallDetails(
                caller_kind="self",
                caller_phone="555-0155",
                callback_ok=True,
                given_name="Nina",
                family_name="Petrova",
                date_of_birth=date(1991, 6, 3),
                substances=[SubstanceUse(7, 4, "daily"), SubstanceUse(13, 1, "1_2_week")],
                last_use_at=self._last_night(1, 30),
                prior_treatment=1,
                referral_source=3,
                referring_organization="St. Mary's Emergency Department",
            ),
        )
        self._screen(inquiry, moderate=True)
        detox = self.programs["Residential withdrawal management"]
        try:
            place_hold(self.desk, inquiry, detox, expected_at=self.now + timedelta(hours=2))
        except Conflict:
            waitlist_add(self.desk, inquiry, detox)

    def _last_night(self, hour: int, minute: int) -> datetime:
        moment = self.now.replace(hour=hour, minute=minute)
        return moment if moment < self.now else moment - timedelta(days=1)
