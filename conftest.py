"""The fixed cast every test uses.

- owner: the counselor on the patient's care team (Riverside)
- colleague: a nurse of the same organization, not on the care team
- readonly: the privacy officer (reads charts, changes nothing)
- admin: the system administrator (no clinical access)
- outsider: a director of another organization
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import actor_from_membership
from stepwise.care.models import Program
from stepwise.core.actor import Actor
from stepwise.core.models import Facility, Organization
from stepwise.patients.models import CareTeamMember, Patient
from stepwise.patients.services import PatientData, patient_create

PASSWORD = "correct-horse-battery"  # noqa: S105 (test users only)


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


class Cast:
    def __init__(self, django_user_model: Any) -> None:
        self.org = Organization.objects.create(name="Riverside Recovery", slug="riverside")
        self.other_org = Organization.objects.create(name="Harbor Light", slug="harbor")
        self.facility = Facility.objects.create(
            organization=self.org, name="Main", time_zone="America/New_York"
        )
        self.other_facility = Facility.objects.create(
            organization=self.other_org, name="Harbor", time_zone="UTC"
        )
        self.detox = Program.objects.create(
            organization=self.org,
            facility=self.facility,
            name="Detox",
            asam_level="3.7-WM",
            teds_service=2,
            is_24_hour=True,
            bed_capacity=2,
        )
        self.residential = Program.objects.create(
            organization=self.org,
            facility=self.facility,
            name="Residential",
            asam_level="3.5",
            teds_service=4,
            is_24_hour=True,
            bed_capacity=10,
        )
        self.iop = Program.objects.create(
            organization=self.org,
            facility=self.facility,
            name="Evening IOP",
            asam_level="2.1",
            teds_service=6,
        )
        self.iop_east = Program.objects.create(
            organization=self.org,
            facility=self.facility,
            name="Evening IOP East",
            asam_level="2.1",
            teds_service=6,
        )
        self.other_program = Program.objects.create(
            organization=self.other_org,
            facility=self.other_facility,
            name="Harbor OP",
            asam_level="1",
            teds_service=7,
        )
        self.users: dict[str, Any] = {}
        self.actors: dict[str, Actor] = {}
        for name, org, role in [
            ("owner", self.org, "counselor"),
            ("colleague", self.org, "nurse"),
            ("readonly", self.org, "privacy_officer"),
            ("admin", self.org, "admin"),
            ("director", self.org, "director"),
            ("outsider", self.other_org, "director"),
        ]:
            user = django_user_model.objects.create_user(
                username=name, password=PASSWORD, first_name=name.title()
            )
            membership = Membership.objects.create(user=user, organization=org, role=role)
            self.users[name] = user
            self.actors[name] = actor_from_membership(membership)
        self.patient = self.new_patient("RR-1", "Ana", "Rivera")
        # The owner registered the patient, which put them on the care team.
        assert CareTeamMember.objects.filter(
            patient=self.patient, user=self.users["owner"], team_role="primary_counselor"
        ).exists()
        self.other_patient = patient_create(
            self.actors["outsider"],
            PatientData(
                mrn="HL-1", given_name="Oscar", family_name="Other", date_of_birth=date(1980, 1, 1)
            ),
        )

    def new_member(self, role: str, name: str | None = None, *, other_org: bool = False) -> Actor:
        """Another member of staff (any role), reachable later as `name` like the cast."""
        name = name or role
        user = get_user_model().objects.create_user(
            username=name, password=PASSWORD, first_name=name.title()
        )
        membership = Membership.objects.create(
            user=user, organization=self.other_org if other_org else self.org, role=role
        )
        self.users[name] = user
        self.actors[name] = actor_from_membership(membership)
        return self.actors[name]

    def new_patient(
        self, mrn: str, given: str = "Sam", family: str = "Doe", born: date = date(1990, 5, 17)
    ) -> Patient:
        return patient_create(
            self.actors["owner"],
            PatientData(mrn=mrn, given_name=given, family_name=family, date_of_birth=born),
        )

    def client_for(self, name: str, *, enforce_csrf_checks: bool = False) -> Client:
        """A signed-in client that has passed the second factor, as every member must."""
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        user = self.users[name]
        client.force_login(user)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client


@pytest.fixture
def cast(db: Any, django_user_model: Any) -> Cast:
    return Cast(django_user_model)


# The migration that makes the audit log append-only in the database and seeds its
# chain heads. Tests on committed data (live server, threads) must empty the
# database afterwards, which those triggers rightly refuse: they are lifted for the
# flush, and triggers and heads are put back for the next test.
AUDIT_APPEND_ONLY = importlib.import_module("stepwise.core.migrations.0002_audit_append_only")


def _audit_log_as_migrated() -> None:
    with connection.schema_editor() as editor:
        AUDIT_APPEND_ONLY.backward(apps, editor)  # idempotent, whatever came before
        AUDIT_APPEND_ONLY.forward(apps, editor)


@pytest.fixture(scope="module")
def _audit_log_restored(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """After the module's last flush, later tests get the triggers and chain heads back."""
    yield
    with django_db_blocker.unblock():
        _audit_log_as_migrated()
        # This teardown may run in another context than the session's (Playwright's
        # event loop); close what it opened so the test database can be dropped.
        connection.close()


@pytest.fixture
def live_db(_audit_log_restored: None, transactional_db: Any) -> Iterator[None]:
    """A committed database other threads see, emptied after the test."""
    _audit_log_as_migrated()  # the previous test's flush emptied the chain heads too
    yield
    with connection.schema_editor() as editor:
        AUDIT_APPEND_ONLY.backward(apps, editor)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium per test module of browser journeys."""
    from stepwise.care.tests.browser import chromium_browser

    with chromium_browser() as browser:
        yield browser
