"""An administrator resets a member's second factor (a lost phone): the authenticator
app and recovery codes go, the member's open sessions end, and with two-factor
sign-in required they set it up again at their next sign-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from stepwise.accounts.models import Membership, RecoveryCode, RecoveryCodeDevice
from stepwise.accounts.services import recovery_codes_regenerate, staff_second_factor_reset
from stepwise.accounts.tests.support import password_step
from stepwise.core.errors import AccessDenied, Conflict, NotFound
from stepwise.core.models import AuditEvent

ENROL = "/settings/two-factor/"


def member(cast, name: str) -> Membership:
    return Membership.objects.get(user=cast.users[name], organization=cast.org)


def test_a_reset_removes_the_device_and_codes_and_ends_sessions(cast, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    user = cast.users["colleague"]
    session = cast.client_for("colleague")
    other_member = cast.client_for("owner")
    recovery_codes_regenerate(cast.actors["colleague"])
    assert RecoveryCode.objects.filter(device__user=user).count() == 10
    time_machine.shift(timedelta(seconds=5))

    staff_second_factor_reset(cast.actors["admin"], member(cast, "colleague").public_id)

    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.exists()
    event = AuditEvent.objects.get(action="mfa_remove")
    assert (event.category, event.actor_username, event.object_id) == (
        "staff",
        "admin",
        str(member(cast, "colleague").public_id),
    )
    assert event.detail == {"username": "colleague", "sessions_ended": True}
    # The open session ends at its next request, with the reason said and audited.
    ended = session.get("/patients/")
    assert ended.status_code == 302 and ended["Location"].startswith("/login/")
    assert "An administrator ended your session" in session.get(ended["Location"]).content.decode()
    assert AuditEvent.objects.get(action="logout").detail == {"reason": "ended_by_administrator"}
    assert other_member.get("/").status_code == 200  # nobody else's

    # At the next sign-in the password alone leads to enrolment, and the new session lasts.
    time_machine.shift(timedelta(seconds=5))
    again = Client()
    first = password_step(again, "colleague")
    assert first.status_code == 302 and first["Location"].startswith(ENROL)
    assert again.get(ENROL).status_code == 200
    assert again.get("/")["Location"].startswith(ENROL)


def test_without_the_requirement_the_member_signs_in_with_the_password(cast, settings):
    settings.REQUIRE_MFA = False
    cast.client_for("colleague")
    staff_second_factor_reset(cast.actors["admin"], member(cast, "colleague").public_id)
    client = Client()
    assert password_step(client, "colleague")["Location"] == "/"
    assert client.get("/").status_code == 200


def test_who_may_reset_whose_second_factor(cast):
    admin = cast.actors["admin"]
    cast.client_for("colleague")  # gives the colleague a device
    with pytest.raises(Conflict) as own:
        staff_second_factor_reset(admin, member(cast, "admin").public_id)
    assert "your settings" in own.value.message
    with pytest.raises(NotFound):
        staff_second_factor_reset(
            admin, Membership.objects.get(user=cast.users["outsider"]).public_id
        )
    for who in ("owner", "director", "readonly", "colleague"):
        with pytest.raises(AccessDenied):
            staff_second_factor_reset(cast.actors[who], member(cast, "colleague").public_id)
    with pytest.raises(Conflict) as nothing:
        staff_second_factor_reset(admin, member(cast, "director").public_id)
    assert "has not set up" in nothing.value.message
    Membership.objects.create(
        user=cast.users["colleague"], organization=cast.other_org, role="nurse"
    )
    with pytest.raises(Conflict) as elsewhere:
        staff_second_factor_reset(admin, member(cast, "colleague").public_id)
    assert "another organization" in elsewhere.value.message
    assert TOTPDevice.objects.filter(user=cast.users["colleague"]).exists()
    assert not AuditEvent.objects.filter(action="mfa_remove").exists()


def test_the_staff_page_shows_and_resets_the_second_factor(cast):
    client = cast.client_for("admin")
    cast.client_for("colleague")
    target = member(cast, "colleague").public_id
    url = f"/staff/{target}/two-factor/reset/"
    html = client.get("/staff/").content.decode()
    assert "Reset two-factor of colleague" in html and url in html
    assert "Reset two-factor of director" not in html  # none set up
    assert client.get(url).status_code == 405
    done = client.post(url)
    assert done.status_code == 302 and done["Location"] == "/staff/"
    after = client.get("/staff/").content.decode()
    assert "two-factor sign-in is removed" in after
    assert "Reset two-factor of colleague" not in after
    again = client.post(url)
    assert again.status_code == 409 and "has not set up" in again.content.decode()
    own = client.post(f"/staff/{member(cast, 'admin').public_id}/two-factor/reset/")
    assert own.status_code == 409
    foreign = Membership.objects.get(user=cast.users["outsider"]).public_id
    assert client.post(f"/staff/{foreign}/two-factor/reset/").status_code == 404


def test_the_reset_needs_an_administrator_a_recent_password_and_csrf(cast, time_machine):
    cast.client_for("colleague")
    url = f"/staff/{member(cast, 'colleague').public_id}/two-factor/reset/"
    for who in ("owner", "director", "readonly"):
        assert cast.client_for(who).post(url).status_code == 403
    assert cast.client_for("admin", enforce_csrf_checks=True).post(url).status_code == 403
    time_machine.move_to(timezone.now(), tick=False)
    stale = cast.client_for("admin")
    time_machine.shift(timedelta(minutes=6))
    response = stale.post(url, HTTP_REFERER="http://testserver/staff/")
    assert response["Location"] == "/confirm-password/?next=%2Fstaff%2F"
    assert TOTPDevice.objects.filter(user=cast.users["colleague"]).exists()
    assert not AuditEvent.objects.filter(action="mfa_remove").exists()
