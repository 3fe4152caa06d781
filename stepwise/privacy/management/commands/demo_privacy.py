"""Consents, releases and reviews for the demo organization, made through the services.

Run by `demo_load` after the demo patients exist; safe to run again (it adds
nothing once the demo organization has consents).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from stepwise.accounts.selectors import actors_by_role
from stepwise.core.actor import Actor
from stepwise.core.models import Organization
from stepwise.core.roles import Role
from stepwise.patients.break_glass import break_glass_open
from stepwise.patients.models import CareTeamMember, Patient
from stepwise.privacy import rules
from stepwise.privacy.documents import render_chart_summary
from stepwise.privacy.models import Consent
from stepwise.privacy.services import (
    ConsentData,
    DisclosureRequest,
    Signature,
    consent_create,
    consent_reconfirm,
    consent_revoke,
    consent_sign,
    disclosure_release,
)

DEMO_SLUG = "riverside"
CLINIC = "Dr. Mira Shah, Eastside Family Clinic"


def _tpo() -> ConsentData:
    return ConsentData(
        kind=rules.ConsentKind.TPO,
        categories=[rules.InfoCategory.ALL_SUD],
        information_description="My substance use disorder treatment records, "
        "except counseling notes.",
        purposes=[rules.Purpose.TREATMENT, rules.Purpose.PAYMENT, rules.Purpose.OPERATIONS],
        recipient_classes=[
            rules.RecipientClass.TREATING_PROVIDER,
            rules.RecipientClass.HEALTH_PLAN,
            rules.RecipientClass.BUSINESS_ASSOCIATE,
        ],
        recipient_description="My treating providers, health plans, third-party payers, "
        "and people helping to operate this program.",
        expiry_event="End of treatment",
        redisclosure_statement=rules.DEFAULT_REDISCLOSURE_STATEMENT,
    )


def _clinic(expires_on: date) -> ConsentData:
    return ConsentData(
        kind=rules.ConsentKind.SPECIFIC,
        categories=[rules.InfoCategory.DEMOGRAPHICS, rules.InfoCategory.EPISODES],
        information_description="Dates of treatment and levels of care for opioid use disorder.",
        purposes=[rules.Purpose.TREATMENT],
        recipient_names=[CLINIC],
        expires_on=expires_on,
        redisclosure_statement=rules.DEFAULT_REDISCLOSURE_STATEMENT,
    )


class Command(BaseCommand):
    help = "Add demo consents, a release of information and items to review. Safe to run again."

    def handle(self, *args: Any, **options: Any) -> None:
        org = Organization.objects.filter(slug=DEMO_SLUG).first()
        if org is None:
            raise CommandError("Load the demo first: stepwise demo_load")
        if Consent.objects.filter(organization=org).exists():
            return
        actors = actors_by_role(org.pk)
        with transaction.atomic():
            self._load(org, actors)
        self.stdout.write("Demo consents, a release of information and two reviews added.")

    def _load(self, org: Organization, actors: dict[Role, Actor]) -> None:
        counselor = actors[Role.COUNSELOR]
        director = actors[Role.DIRECTOR]
        today = timezone.localdate()
        cared = list(
            Patient.objects.filter(organization=org, care_team__user_id=counselor.user_id)
            .distinct()
            .order_by("mrn")[:10]
        )
        if len(cared) < 4:
            raise CommandError("The demo counselor cares for too few patients.")
        for patient in cared:
            consent = consent_create(counselor, patient, _tpo())
            consent_sign(
                counselor, consent, Signature("patient", patient.display_name, attested=True)
            )
        # Signed at intake during withdrawal, confirmed once the patient was well.
        first = Consent.objects.filter(patient=cared[0]).get()
        consent_reconfirm(counselor, first, signer_name=cared[0].display_name)

        # A named clinic, a release of information to it, then a revocation by letter.
        to_clinic = consent_create(counselor, cared[1], _clinic(today + timedelta(days=365)))
        consent_sign(
            counselor, to_clinic, Signature("patient", cared[1].display_name, attested=True)
        )
        disclosure_release(
            counselor,
            cared[1],
            DisclosureRequest(
                recipient_name=CLINIC,
                recipient_class=rules.RecipientClass.TREATING_PROVIDER,
                purpose=rules.Purpose.TREATMENT,
                categories=(rules.InfoCategory.DEMOGRAPHICS, rules.InfoCategory.EPISODES),
                recipient_address="88 Elm Street, Springfield",
            ),
            render_chart_summary,
        )
        revoked = consent_create(counselor, cared[2], _clinic(today + timedelta(days=180)))
        consent_sign(counselor, revoked, Signature("patient", cared[2].display_name, attested=True))
        consent_revoke(counselor, revoked, channel="letter", note="Letter received at the desk.")

        # A §2.51 emergency disclosure, waiting for the privacy officer.
        disclosure_release(
            director,
            cared[3],
            DisclosureRequest(
                recipient_name="Dr. Lee, Emergency Department",
                recipient_class=rules.RecipientClass.TREATING_PROVIDER,
                purpose=rules.Purpose.TREATMENT,
                categories=(rules.InfoCategory.DEMOGRAPHICS, rules.InfoCategory.MEDICATIONS),
                emergency=rules.EmergencyFacts(
                    recipient_facility="St. Mary's Hospital",
                    nature="Unresponsive after suspected overdose; treating team asked "
                    "for current medications.",
                ),
            ),
            render_chart_summary,
        )

        # An emergency chart access by the nurse, waiting for review.
        nurse = actors[Role.NURSE]
        outside = (
            Patient.objects.filter(organization=org)
            .exclude(pk__in=CareTeamMember.objects.filter(user_id=nurse.user_id).values("patient"))
            .order_by("mrn")
            .first()
        )
        if outside is not None:
            break_glass_open(
                nurse,
                outside,
                reason="Patient collapsed in the lobby; needed allergies before paramedics came.",
                password_confirmed=True,  # the demo acts as the nurse, who re-entered it
                now=timezone.now(),
            )
