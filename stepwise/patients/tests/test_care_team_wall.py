"""The organization and care-team walls, and emergency (break-glass) access."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import PASSWORD
from stepwise.accounts.models import Membership
from stepwise.accounts.selectors import actor_from_membership
from stepwise.care.chart import patient_access, patient_list_page
from stepwise.core.errors import AccessDenied, NotFound, OutsideCareTeam
from stepwise.core.models import AuditEvent
from stepwise.core.roles import (
    NOT_UNDER_EMERGENCY_ACCESS,
    PATIENT_SCOPED,
    Permission,
    Role,
    needs_care_relationship,
    role_can,
)
from stepwise.patients.access import AccessBasis
from stepwise.patients.models import BreakGlassAccess, CareTeamMember
from stepwise.patients.services import care_team_add

_serial = itertools.count()


def _member(cast, role: str, *, other_org: bool = False):
    user = get_user_model().objects.create_user(username=f"staff{next(_serial)}", password=PASSWORD)
    membership = Membership.objects.create(
        user=user, organization=cast.other_org if other_org else cast.org, role=role
    )
    return actor_from_membership(membership)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    role=st.sampled_from(list(Role)),
    same_org=st.booleans(),
    on_team=st.booleans(),
    emergency=st.sampled_from(["none", "active", "expired"]),
    permission=st.sampled_from(sorted(PATIENT_SCOPED)),
)
def test_who_reaches_a_record_follows_the_role_table_and_the_care_team(
    cast, role, same_org, on_team, emergency, permission
):
    """Allowed exactly when: same organization, the role grants the permission, and
    either the role spans the facility or the actor cares for the patient now."""
    actor = _member(cast, role.value, other_org=not same_org)
    now = timezone.now()
    if on_team and same_org:
        CareTeamMember.objects.create(
            organization=cast.org, patient=cast.patient, user_id=actor.user_id, team_role="other"
        )
    if emergency != "none" and same_org:
        start = now - timedelta(hours=2 if emergency == "expired" else 0, minutes=1)
        BreakGlassAccess.objects.create(
            organization=cast.org,
            patient=cast.patient,
            user_id=actor.user_id,
            reason="Found unresponsive in the lobby",
            started_at=start,
            expires_at=start + timedelta(minutes=60),
        )
    under_emergency = emergency == "active" and permission not in NOT_UNDER_EMERGENCY_ACCESS
    cares = same_org and (on_team or under_emergency)
    expected = (
        same_org
        and role_can(role.value, permission)
        and (not needs_care_relationship(role.value, permission) or cares)
    )
    try:
        _, basis = patient_access(actor, cast.patient.public_id, permission=permission)
    except NotFound:
        assert not same_org
    except AccessDenied:
        assert same_org and not expected
    else:
        assert expected
        if basis is AccessBasis.BREAK_GLASS:
            assert emergency == "active" and not on_team


def test_a_refusal_at_the_wall_is_audited_and_names_no_one(cast):
    colleague = cast.actors["colleague"]
    with pytest.raises(OutsideCareTeam) as refused:
        patient_access(colleague, cast.patient.public_id, permission=Permission.CHART_READ)
    assert "Rivera" not in refused.value.message
    denied = AuditEvent.objects.get(action="access_denied", actor_username="colleague")
    assert denied.patient_public_id == cast.patient.public_id
    assert denied.detail["why"] == "not on the care team"


def test_treating_clinicians_list_only_their_patients(cast):
    other = cast.new_patient("RR-2", "Bea", "Adams")  # registered by the owner
    colleague = cast.actors["colleague"]
    _, rows = patient_list_page(colleague, "", 1, 25)
    assert rows == []
    care_team_add(cast.actors["owner"], other, user_id=colleague.user_id, team_role="nurse")
    _, rows = patient_list_page(colleague, "", 1, 25)
    assert [r.patient.mrn for r in rows] == ["RR-2"]
    _, rows = patient_list_page(cast.actors["readonly"], "", 1, 25)
    assert {r.patient.mrn for r in rows} == {"RR-1", "RR-2"}


def test_a_clinician_who_registers_a_patient_joins_the_care_team(cast):
    patient = cast.new_patient("RR-3")
    member = CareTeamMember.objects.get(patient=patient)
    assert member.user == cast.users["owner"] and member.team_role == "primary_counselor"


# --- Emergency access through the pages ------------------------------------------------------


def chart(cast) -> str:
    return f"/patients/{cast.patient.public_id}/"


def emergency(cast) -> str:
    return f"/patients/{cast.patient.public_id}/emergency-access/"


def test_the_refusal_offers_emergency_access_without_showing_the_patient(cast):
    response = cast.client_for("colleague").get(chart(cast))
    assert response.status_code == 403
    body = response.content.decode()
    assert emergency(cast) in body
    assert "Rivera" not in body and "Ana" not in body and "RR-1" not in body
    form = cast.client_for("colleague").get(emergency(cast))
    assert form.status_code == 200
    assert "Rivera" not in form.content.decode()


def test_roles_that_do_not_treat_get_no_emergency_access(cast):
    director = cast.client_for("director")
    assert director.get(emergency(cast)).status_code == 403
    assert cast.client_for("admin").get(emergency(cast)).status_code == 403
    assert cast.client_for("outsider").get(emergency(cast)).status_code == 403


def test_emergency_access_needs_a_reason_and_the_password(cast):
    client = cast.client_for("colleague")
    response = client.post(emergency(cast), {"reason": "now", "password": "wrong password!"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "at least 15 characters" in body and "The password is not correct." in body
    assert "Rivera" not in body
    assert not BreakGlassAccess.objects.exists()
    assert AuditEvent.objects.filter(
        action="access_denied", category="break_glass", detail__why="password not confirmed"
    ).exists()


def test_emergency_access_opens_the_chart_for_a_set_time_and_is_audited_as_such(cast, settings):
    settings.BREAK_GLASS_MINUTES = 10
    client = cast.client_for("colleague")
    reason = "Patient collapsed in group; paramedics need the medication list"
    response = client.post(emergency(cast), {"reason": reason, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == chart(cast)
    access = BreakGlassAccess.objects.get()
    assert access.user == cast.users["colleague"] and access.reason == reason
    assert access.expires_at - access.started_at == timedelta(minutes=10)
    opened = AuditEvent.objects.get(category="break_glass", action="break_glass")
    assert opened.detail["access"] == "break_glass" and opened.detail["minutes"] == 10

    assert client.get(chart(cast)).status_code == 200
    read = AuditEvent.objects.filter(action="read", category="chart").latest("id")
    assert read.actor_username == "colleague" and read.detail == {"access": "break_glass"}

    # Within the idle sign-out time, so the refusal is the access ending, not the session.
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        assert client.get(chart(cast)).status_code == 403


def test_a_care_team_member_needs_no_emergency_access(cast):
    response = cast.client_for("owner").post(
        emergency(cast), {"reason": "Checking what happens here", "password": PASSWORD}
    )
    assert response.status_code == 409
    assert not BreakGlassAccess.objects.exists()


def _open_access(cast) -> BreakGlassAccess:
    cast.client_for("colleague").post(
        emergency(cast),
        {"reason": "Seizure in the waiting room, need allergies", "password": PASSWORD},
    )
    return BreakGlassAccess.objects.get()


def test_the_privacy_officer_reviews_each_emergency_access(cast):
    access = _open_access(cast)
    queue = cast.client_for("readonly").get("/patients/emergency-access/")
    assert queue.status_code == 200
    assert "Seizure in the waiting room" in queue.content.decode()
    review = f"/patients/emergency-access/{access.public_id}/review/"
    response = cast.client_for("readonly").post(review, {"note": "Justified: seizure"})
    assert response.status_code == 302
    access.refresh_from_db()
    assert (
        access.reviewed_by == cast.users["readonly"] and access.review_note == "Justified: seizure"
    )
    again = cast.client_for("director").post(review, {"note": "Again"})
    assert again.status_code == 302
    access.refresh_from_db()
    assert access.review_note == "Justified: seizure"  # reviewed once


def test_the_review_queue_is_for_the_privacy_officer_and_the_director_only(cast):
    access = _open_access(cast)
    review = f"/patients/emergency-access/{access.public_id}/review/"
    for who in ("owner", "colleague", "admin"):
        assert cast.client_for(who).get("/patients/emergency-access/").status_code == 403
        assert cast.client_for(who).post(review, {"note": "fine"}).status_code == 403
    outsider = cast.client_for("outsider")
    assert outsider.get("/patients/emergency-access/").status_code == 200
    assert "Seizure" not in outsider.get("/patients/emergency-access/").content.decode()
    assert outsider.post(review, {"note": "fine"}).status_code == 404
    access.refresh_from_db()
    assert access.reviewed_at is None


def test_the_review_queue_costs_the_same_queries_for_one_or_many(cast):
    def add_accesses(n: int) -> None:
        for _ in range(n):
            patient = cast.new_patient(f"RR-Q{next(_serial)}")
            BreakGlassAccess.objects.create(
                organization=cast.org,
                patient=patient,
                user=cast.users["colleague"],
                reason="Emergency in the parking lot",
                started_at=timezone.now(),
                expires_at=timezone.now() + timedelta(minutes=5),
            )

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/patients/emergency-access/").status_code == 200
        return len(captured)

    client = cast.client_for("readonly")
    add_accesses(1)
    client.get("/patients/emergency-access/")  # warm the session
    one = queries()
    add_accesses(5)
    assert queries() == one


def test_the_grants_that_matter_written_out_by_hand():
    """The role table, checked against expectations written independently of it."""
    expected_yes = [
        ("admissions", Permission.PATIENT_CREATE),
        ("admissions", Permission.CONSENT_WRITE),
        ("nurse", Permission.BREAK_GLASS),
        ("privacy_officer", Permission.DISCLOSURE_ACCOUNTING),
        ("privacy_officer", Permission.PRIVACY_REVIEW),
        ("director", Permission.AUDIT_READ),
        ("admin", Permission.STAFF_ADMIN),
    ]
    expected_no = [
        ("admissions", Permission.DISCLOSURE_RELEASE),
        ("admissions", Permission.DISCLOSURE_EMERGENCY),
        ("admin", Permission.CHART_READ),
        ("admin", Permission.PATIENT_LIST),
        ("privacy_officer", Permission.CARE_WRITE),
        ("privacy_officer", Permission.BREAK_GLASS),
        ("director", Permission.BREAK_GLASS),
        ("counselor", Permission.AUDIT_READ),
        ("nurse", Permission.PRIVACY_REVIEW),
        ("director", Permission.STAFF_ADMIN),
    ]
    assert all(role_can(role, p) for role, p in expected_yes)
    assert not any(role_can(role, p) for role, p in expected_no)
    assert needs_care_relationship("counselor", Permission.CHART_READ)
    assert not needs_care_relationship("admissions", Permission.CHART_READ)
    assert Permission.DISCLOSURE_RELEASE in NOT_UNDER_EMERGENCY_ACCESS
    assert Permission.DISCLOSURE_EMERGENCY not in NOT_UNDER_EMERGENCY_ACCESS


def test_emergency_access_reads_and_discloses_in_the_emergency_but_releases_nothing_else(cast):
    _open_access(cast)
    colleague = cast.actors["colleague"]
    for permission in (Permission.CHART_READ, Permission.DISCLOSURE_EMERGENCY):
        patient_access(colleague, cast.patient.public_id, permission=permission)
    for permission in (Permission.DISCLOSURE_RELEASE, Permission.CONSENT_WRITE):
        with pytest.raises(AccessDenied):
            patient_access(colleague, cast.patient.public_id, permission=permission)
