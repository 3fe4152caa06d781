"""The route walker: every page and every API operation, as every member of the cast.

It reads the routes from the URL configuration and the API, so routes added later
are walked without touching this file. For each route it works out from the role
table (core.roles) whether each person may use it, requests it, and compares:
a route that is open to someone it should not be, a route that declares no
permission, a server error, or a refusal that shows a planted patient's name
fails the test.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from stepwise.accounts.services import token_create
from stepwise.api.permissions import api_operations, operation_permission
from stepwise.api.urls import api
from stepwise.care.models import Episode
from stepwise.care.services import episode_admit
from stepwise.core.roles import (
    NOT_UNDER_EMERGENCY_ACCESS,
    PATIENT_SCOPED,
    Permission,
    needs_care_relationship,
    role_can,
)
from stepwise.core.web import PUBLIC, declared_permission
from stepwise.instruments.definitions.asam import DIMENSIONS as ASAM_ITEMS
from stepwise.instruments.services import assessment_record
from stepwise.instruments.tests.test_services import COWS_13
from stepwise.intake.services.inquiries import CallDetails, call_details_update, inquiry_start
from stepwise.intake.services.waitlist import waitlist_add
from stepwise.notes.services.individual import NoteDraft, note_create, note_sign
from stepwise.patients.models import Alert, BreakGlassAccess, CareTeamMember, Patient
from stepwise.scheduling.models import SessionType
from stepwise.scheduling.services.series import SeriesPlan, series_create
from stepwise.withdrawal.rules.vitals import Vitals
from stepwise.withdrawal.services.last_use import last_use_record
from stepwise.withdrawal.services.medications import (
    OrderInput,
    administration_record,
    order_create,
)
from stepwise.withdrawal.services.observations import vitals_record
from stepwise.withdrawal.services.order_sets import LineInput, order_set_create

# The planted patient: this name must never appear in a refusal.
CANARY_GIVEN, CANARY_FAMILY = "Quillon", "Canarywood"
CANARY_BORN, CANARY_PHONE, CANARY_EMAIL = date(1961, 2, 3), "555-0199", "quillon@canary.example"
# The fixed cast, plus every other role, plus a nurse inside an emergency access:
# owner (counselor on the care team), colleague (nurse, not on it), readonly
# (privacy officer), admin, director, outsider (another organization).
CAST = ["owner", "colleague", "readonly", "admin", "director", "outsider"]
EXTRA_ROLES = ["admissions", "physician", "case_manager"]
EMERGENCY = "emergency"  # a nurse with an active break-glass access to the planted patient
EVERYONE = [*CAST, *EXTRA_ROLES, EMERGENCY]
# Pages that refuse someone inside an emergency access although the role table allows
# their permission there (changing the care team would make the access last).
REFUSED_UNDER_EMERGENCY = {"/patients/<uuid:public_id>/care-team/new/"}
# Path parameters that name the planted patient or its episode.
PATIENT_PARAMETERS = {
    "public_id",
    "patient_id",
    "episode_id",
    "assessment_id",
    "alert_id",
    "order_id",
    "administration_id",
    "vitals_id",
    "last_use_id",
    "note_id",
}
# On the planted patient's care team: the counselor, and the physician of the detox unit.
ON_THE_TEAM = {"owner", "physician"}
_PARAMETER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>|\{(?P<api_name>\w+)\}")


@dataclass(frozen=True)
class Route:
    path: str  # with <converter:name> or {name} placeholders
    methods: tuple[str, ...]
    permission: str | None
    is_api: bool

    @property
    def parameters(self) -> set[str]:
        return {m["name"] or m["api_name"] for m in _PARAMETER.finditer(self.path)}

    @property
    def names_the_patient(self) -> bool:
        return bool(self.parameters & PATIENT_PARAMETERS)


def _page_routes(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route.startswith("api/"):
                continue  # walked through the API's own operations below
            yield from _page_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield Route("/" + route, ("GET", "POST"), declared_permission(entry.callback), False)


def _api_routes() -> Iterator[Route]:
    for path, operation in api_operations(api):
        yield Route(
            "/api/v1" + path, tuple(operation.methods), operation_permission(operation), True
        )


def all_routes() -> list[Route]:
    return [*_page_routes(get_resolver().url_patterns), *_api_routes()]


def test_every_route_declares_a_permission():
    undeclared = [r.path for r in all_routes() if r.permission is None]
    assert undeclared == []


def test_declared_permissions_are_known():
    known = {str(p) for p in Permission} | {PUBLIC}
    assert {r.permission for r in all_routes()} <= known


def test_an_undeclared_page_is_refused(cast, settings):
    """Denied by default: a view that declares nothing is not served to anyone."""
    from django.http import HttpResponse
    from django.urls import path

    def undeclared(request):
        return HttpResponse("open")

    module = type("Urls", (), {"urlpatterns": [path("undeclared/", undeclared)]})
    settings.ROOT_URLCONF = module
    assert cast.client_for("director").get("/undeclared/").status_code == 403


class Walk:
    """The cast, the planted patient on the owner's care team, and a client per person."""

    def __init__(self, cast: Any) -> None:
        self.cast = cast
        self.canary: Patient = cast.new_patient(
            "RR-CANARY", CANARY_GIVEN, CANARY_FAMILY, born=CANARY_BORN
        )
        Patient.objects.filter(pk=self.canary.pk).update(phone=CANARY_PHONE, email=CANARY_EMAIL)
        for role in EXTRA_ROLES:
            cast.new_member(role)
        cast.new_member("nurse", EMERGENCY)
        BreakGlassAccess.objects.create(
            organization=cast.org,
            patient=self.canary,
            user=cast.users[EMERGENCY],
            reason="Walker: collapsed in group",
            started_at=timezone.now() - timedelta(minutes=1),
            expires_at=timezone.now() + timedelta(hours=1),
        )
        self.episode: Episode = episode_admit(
            cast.actors["owner"],
            self.canary,
            cast.detox,
            at=timezone.now() - timedelta(days=2),
        )
        # The records the withdrawal routes name: vital signs, a last-use report, an
        # order and a dose.
        CareTeamMember.objects.create(
            organization=cast.org,
            patient=self.canary,
            user=cast.users["physician"],
            team_role="prescriber",
        )
        physician = cast.actors["physician"]
        self.vitals = vitals_record(physician, self.canary, Vitals(pulse=88))
        self.last_use = last_use_record(
            physician,
            self.canary,
            substance="heroin",
            last_use_at=timezone.now() - timedelta(hours=14),
            source="patient",
        )
        self.order = order_create(
            physician,
            self.canary,
            OrderInput(
                drug="clonidine",
                dose_mg=Decimal("0.1"),
                route="oral",
                frequency="q6h_prn",
                prn_indication="Sweating",
            ),
        )
        self.dose = administration_record(
            cast.actors[EMERGENCY], self.order, outcome="refused", reason="Walker: asleep"
        )
        self.order_set = order_set_create(
            cast.actors["director"],
            cast.detox,
            name="Walker set",
            lines=[LineInput("naloxone", Decimal(4), "intranasal", "q2h_prn", "Overdose")],
        )
        # Records the assessment routes name: an ASAM response (detail, placement) and
        # a COWS of 13 whose alert the alert routes name.
        owner = cast.actors["owner"]
        self.asam = assessment_record(owner, self.canary, "asam3", dict.fromkeys(ASAM_ITEMS, 1))
        assessment_record(owner, self.canary, "cows", COWS_13)
        self.alert = Alert.objects.get(patient=self.canary)
        # A signed individual note the note routes name.
        self.note = note_sign(
            owner,
            note_create(
                owner,
                self.canary,
                NoteDraft("dap", {"data": "Walker", "assessment": "Walker", "plan": "Walker"}),
            ),
        )
        # A call about the planted patient, waiting for the residential program.
        admissions = cast.actors["admissions"]
        self.inquiry = call_details_update(
            admissions,
            inquiry_start(admissions, signs=[]),
            CallDetails(given_name=CANARY_GIVEN, family_name=CANARY_FAMILY, phone=CANARY_PHONE),
        )
        self.waiting = waitlist_add(admissions, self.inquiry, cast.residential)
        # A weekly group of the evening IOP (no patient in it) the series routes name.
        self.series = series_create(
            cast.actors["director"],
            SeriesPlan(
                program=cast.iop,
                session_type=SessionType.objects.get(organization=cast.org, code="group_therapy"),
                facilitator_id=cast.users["owner"].pk,
                rule="FREQ=WEEKLY;BYDAY=MO",
                start_time=time(18, 0),
                minutes=90,
                first_day=timezone.now().date(),
            ),
        )
        self.clients = {who: cast.client_for(who) for who in EVERYONE}
        self.tokens = {
            who: token_create(cast.actors[who], name="walker", days=1)[1] for who in EVERYONE
        }

    def url(self, route: Route) -> str:
        def fill(match: re.Match[str]) -> str:
            name = match["name"] or match["api_name"]
            if name in ("public_id", "patient_id"):
                return str(self.canary.public_id)
            if name == "episode_id":
                return str(self.episode.public_id)
            if name == "assessment_id":
                return str(self.asam.public_id)
            if name == "alert_id":
                return str(self.alert.public_id)
            if name == "code":
                return "cows"
            if name == "program_id":
                return str(self.cast.detox.public_id)
            if name == "order_id":
                return str(self.order.public_id)
            if name == "administration_id":
                return str(self.dose.public_id)
            if name == "vitals_id":
                return str(self.vitals.public_id)
            if name == "last_use_id":
                return str(self.last_use.public_id)
            if name == "item":
                return "naloxone_kit"
            if name == "set_id":
                return str(self.order_set.public_id)
            if name == "key":
                return "comfort"
            if name == "note_id":
                return str(self.note.public_id)
            if name == "inquiry_id":
                return str(self.inquiry.public_id)
            if name == "entry_id":
                return str(self.waiting.public_id)
            if name == "series_id":
                return str(self.series.public_id)
            if match["converter"] == "int":
                return "0"
            return str(uuid.uuid4())  # a record no one has: allowed roles get 404

        return _PARAMETER.sub(fill, route.path)

    def may(self, who: str, route: Route) -> bool:
        """What the role table says: may this person use this route on the planted patient?"""
        if route.permission == PUBLIC:
            return True
        role = self.cast.actors[who].role
        permission = Permission(str(route.permission))
        if not role_can(role, permission):
            return False
        if route.names_the_patient:
            if who == "outsider":
                return False
            if who == EMERGENCY and needs_care_relationship(role, permission):
                return (
                    permission not in NOT_UNDER_EMERGENCY_ACCESS
                    and route.path not in REFUSED_UNDER_EMERGENCY
                )
            if needs_care_relationship(role, permission) and who not in ON_THE_TEAM:
                return False
        return True

    def request(self, who: str | None, route: Route, method: str) -> Any:
        url = self.url(route)
        if route.is_api:
            client = Client()
            headers: dict[str, Any] = (
                {"HTTP_AUTHORIZATION": f"Bearer {self.tokens[who]}"} if who else {}
            )
            if method == "GET":
                return client.get(url, **headers)
            return client.generic(method, url, json.dumps({}), "application/json", **headers)
        client = self.clients[who] if who else Client()
        return client.get(url) if method == "GET" else client.post(url, {})


@pytest.fixture
def walk(cast) -> Walk:
    return Walk(cast)


def _assert_reveals_nothing(response: Any, context: tuple[Any, ...]) -> None:
    body = response.content.decode(errors="replace")
    for planted in (CANARY_FAMILY, CANARY_GIVEN, "RR-CANARY", CANARY_PHONE, CANARY_EMAIL):
        assert planted not in body, (planted, *context)
    assert CANARY_BORN.isoformat() not in body and "02/03/1961" not in body, context


@pytest.mark.parametrize("who", EVERYONE)
def test_each_route_is_open_exactly_to_whom_the_role_table_says(walk, who):
    """GET every route; POST every route the person may not use (a refused write
    must be refused before anything is read or written)."""
    mismatches = []
    for route in all_routes():
        if route.permission == PUBLIC:
            continue  # sign-in, sign-out, health: walked separately below
        allowed = walk.may(who, route)
        methods = [m for m in route.methods if m == "GET" or not allowed]
        for method in methods:
            response = walk.request(who, route, method)
            context = (who, method, route.path, response.status_code)
            assert response.status_code < 500, context
            # 405 (a GET-only page posted to) refuses too, and reveals nothing.
            refused = response.status_code in (403, 404, 405) and not (
                allowed and response.status_code == 404
            )
            if allowed and response.status_code == 403:
                mismatches.append(("refused but allowed", *context))
            # A route that names only the planted patient (and its episode) must find it.
            only_the_patient = (
                route.names_the_patient
                and route.parameters <= PATIENT_PARAMETERS
                and route.permission in PATIENT_SCOPED
            )
            if allowed and response.status_code == 404 and only_the_patient:
                mismatches.append(("planted patient not found", *context))
            if not allowed and not refused:
                mismatches.append(("served but not allowed", *context))
            if response.status_code in (403, 404):
                _assert_reveals_nothing(response, context)
    assert mismatches == [], "\n".join(map(str, mismatches))


def test_without_sign_in_every_page_sends_to_sign_in_and_every_operation_is_401(walk):
    for route in all_routes():
        if route.permission == PUBLIC:
            continue
        for method in route.methods:
            response = walk.request(None, route, method)
            context = (method, route.path, response.status_code)
            if route.is_api:
                assert response.status_code == 401, context
            else:
                assert response.status_code == 302, context
                assert response["Location"].startswith("/login/"), context
            _assert_reveals_nothing(response, context)


def test_public_routes_show_no_patient(walk):
    for route in all_routes():
        if route.permission != PUBLIC:
            continue
        response = walk.request(None, route, "GET")
        assert response.status_code < 500, route.path
        _assert_reveals_nothing(response, (route.path,))


def test_the_walk_covers_the_routes_that_matter(walk):
    """Guards the walker itself: it must find the chart, the API and the break-glass form."""
    paths = {r.path for r in all_routes()}
    assert "/patients/<uuid:public_id>/" in paths
    assert "/patients/<uuid:public_id>/emergency-access/" in paths
    assert "/api/v1/patients/{patient_id}" in paths
    chart = next(r for r in all_routes() if r.path == "/patients/<uuid:public_id>/")
    assert walk.may("owner", chart) and not walk.may("colleague", chart)
    assert walk.may("readonly", chart) and not walk.may("admin", chart)


def test_every_write_without_its_csrf_token_is_refused(walk):
    """Pages (not the API, which takes bearer tokens and no cookies) refuse a POST that
    lacks the CSRF token, whoever sends it and whatever the page."""
    client = walk.cast.client_for("director", enforce_csrf_checks=True)
    anonymous = Client(enforce_csrf_checks=True)
    for route in all_routes():
        if route.is_api:
            continue
        url = walk.url(route)
        for who, sender in (("director", client), ("anonymous", anonymous)):
            response = sender.post(url, {})
            assert response.status_code == 403, (who, route.path, response.status_code)
            _assert_reveals_nothing(response, (who, route.path))
