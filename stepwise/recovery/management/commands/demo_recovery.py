"""The demo's recovery: weekly drug screens for the evening IOP (a third of its patients
on buprenorphine), one unexpected fentanyl positive waiting for the counselor, one
missing buprenorphine flagged, and one confirmed relapse with its response half done."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.care.models import Stay
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.patients.models import Patient
from stepwise.recovery.models import DrugScreen
from stepwise.recovery.rules.relapse import Item, MoudAnswer
from stepwise.recovery.services.relapse import UseDetails, relapse_record, response_item_record
from stepwise.recovery.services.screens import ScreenInput, screen_record

DEMO_SLUG = "riverside"
IOP = "Evening IOP"
PANEL = ("fentanyl", "opiates", "buprenorphine", "methadone", "cocaine", "benzodiazepines")


class Command(BaseCommand):
    help = "Add drug screens and relapse events to the demo organization. Safe to run again."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None or DrugScreen.objects.filter(organization=org).exists():
            return
        rng = random.Random(options["seed"])  # noqa: S311  # nosec B311 # seeded demo data
        counselor = actors_by_role(org.pk)[Role.COUNSELOR]
        stays = list(
            Stay.objects.filter(organization=org, program__name=IOP, ended_at__isnull=True)
            .select_related("episode__patient")
            .order_by("started_at", "id")
        )
        if len(stays) < 3:
            return
        now = timezone.now()
        patients = [stay.episode.patient for stay in stays]
        on_bup = {p.pk for i, p in enumerate(patients) if i % 3 == 0}
        with transaction.atomic():
            for weeks_ago in (3, 2, 1):
                for stay, patient in zip(stays, patients, strict=True):
                    at = now - timedelta(weeks=weeks_ago, hours=rng.randint(0, 48))
                    if at <= stay.started_at:
                        continue
                    self._screen(counselor, patient, at, bup=patient.pk in on_bup)
            relapsed, fentanyl, missed = patients[0], patients[1], patients[2]
            # Yesterday's cup: fentanyl on buprenorphine, proposed for the counselor.
            self._screen(
                counselor, fentanyl, now - timedelta(days=1), bup=True, positive=("fentanyl",)
            )
            # Buprenorphine absent from a patient who takes it: possible non-adherence.
            self._screen(counselor, missed, now - timedelta(hours=20), bup=True, missing_bup=True)
            self._relapse(counselor, relapsed, now)
        self.stdout.write("Demo recovery: drug screens and a relapse response loaded.")

    def _screen(
        self,
        actor: Any,
        patient: Patient,
        at: Any,
        *,
        bup: bool,
        positive: tuple[str, ...] = (),
        missing_bup: bool = False,
    ) -> None:
        results = dict.fromkeys(PANEL, "negative")
        if bup and not missing_bup:
            results["buprenorphine"] = "positive"
        for code in positive:
            results[code] = "positive"
        screen_record(
            actor,
            patient,
            ScreenInput(
                collected_at=at,
                observed=True,
                medications=["buprenorphine"] if bup else [],
                results=results,
            ),
        )

    def _relapse(self, actor: Any, patient: Patient, now: Any) -> None:
        event = relapse_record(
            actor,
            patient,
            UseDetails(
                used_on=(now - timedelta(days=4)).date(),
                kind="lapse",
                substances=[7],
                route=2,
                context="A weekend with an old friend who still uses.",
                triggers="Payday, the old neighbourhood, loneliness.",
            ),
        )
        response_item_record(
            actor, event, item=Item.NALOXONE, state="done", note="Kit given; reviewed its use."
        )
        response_item_record(
            actor,
            event,
            item=Item.MOUD,
            state="done",
            moud_answer=MoudAnswer.ACCEPTED,
            note="Referred to the clinic's prescriber for buprenorphine.",
        )
