"""Two-factor enrolment, recovery codes, removal, and what an unverified user may reach."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from stepwise.accounts import session as account_session
from stepwise.accounts.models import RecoveryCode, RecoveryCodeDevice
from stepwise.accounts.rules import recovery_code_matches
from stepwise.accounts.services import second_factor_check
from stepwise.accounts.tests.support import code_for, device_for, password_step, sign_in
from stepwise.core.models import AuditEvent

ENROL = "/settings/two-factor/"


def _password_only(username: str = "owner") -> Client:
    client = Client()
    password_step(client, username)
    return client


def test_enrolment_shows_a_qr_code_and_the_key_then_needs_a_first_code(cast):
    client = _password_only()
    page = client.get(ENROL)
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]
    html = page.content.decode()
    qr = re.search(r'<img class="qr" src="data:image/svg\+xml;base64,([^"]+)"', html)
    assert qr and base64.b64decode(qr.group(1)).startswith(b"<svg")
    device = TOTPDevice.objects.get(user=cast.users["owner"])
    assert not device.confirmed
    key = base64.b32encode(device.bin_key).decode()
    assert key[:4] + " " + key[4:8] in html
    # Reloading keeps the key the user may already have scanned.
    client.get(ENROL)
    assert TOTPDevice.objects.get(user=cast.users["owner"]).key == device.key
    # Not active until confirmed: the rest is still closed.
    assert client.get("/").status_code == 302

    wrong = client.post(ENROL, {"code": "12345"})
    assert wrong.status_code == 422 and "code" in wrong.context["form"].errors
    done = client.post(ENROL, {"code": code_for(device), "next": "/"})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(code in done.content.decode() for code in codes)
    assert "no-store" in done["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed
    stored = list(
        RecoveryCode.objects.filter(device__user=cast.users["owner"]).values_list(
            "digest", flat=True
        )
    )
    assert len(stored) == 10
    # Only salted digests are stored, each matching one code.
    plain = [c.replace("-", "") for c in codes]
    assert not any(code in digest for code in plain for digest in stored)
    assert all(any(recovery_code_matches(c, d) for d in stored) for c in plain)
    # The session passed its second factor by confirming the first code.
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get(category="mfa", action="mfa_enrol")
    assert event.actor_username == "owner" and event.object_id == str(device.pk)
    assert event.detail == {"method": "totp", "recovery_codes": 10}
    assert not any(code.replace("-", "") in str(event.detail) for code in codes)
    # Shown once: the enrolment page now only says it is set up.
    again = client.get(ENROL)
    assert again.status_code == 302 and again["Location"] == "/settings/"


def test_the_password_alone_cannot_replace_an_existing_device(cast):
    device_for(cast.users["owner"])
    client = _password_only()
    response = client.get(ENROL)
    assert response.status_code == 302 and response["Location"].startswith("/login/verify/")
    assert client.post(ENROL, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=cast.users["owner"]).count() == 1


def test_a_recovery_code_signs_in_once(cast):
    user = cast.users["owner"]
    client = _password_only()
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=False)
    codes = client.post(ENROL, {"code": code_for(device)}).context["codes"]
    client.post("/logout/")

    fresh = _password_only()
    used = fresh.post("/login/verify/", {"code": codes[0].upper(), "next": "/"})
    assert used.status_code == 302 and used["Location"] == "/"
    assert fresh.get("/").status_code == 200
    assert RecoveryCode.objects.filter(device__user=user).count() == 9
    event = AuditEvent.objects.filter(category="mfa", action="login").latest("id")
    assert event.detail == {"method": "recovery_code"}
    # The session is verified by the recovery-code device, as django-otp knows it.
    recovery = RecoveryCodeDevice.objects.get(user=user)
    assert fresh.session["otp_device_id"] == recovery.persistent_id

    again = _password_only()
    assert again.post("/login/verify/", {"code": codes[0]}).status_code == 422


def test_an_unverified_user_reaches_only_sign_out_enrolment_and_the_code_step(cast):
    client = _password_only()
    for path in ("/", "/settings/", "/settings/password/", "/confirm-password/", "/staff/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(ENROL), path
    assert client.get(ENROL).status_code == 200
    assert client.get("/login/verify/").status_code == 302  # no device yet: to enrolment
    htmx = client.get("/patients/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"].startswith(ENROL)
    # Static files and the bearer-token API are not this middleware's business.
    assert client.get("/static/stepwise/stepwise.css").status_code == 200
    assert client.get("/api/v1/patients").status_code == 401
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_cast_clients_are_verified(cast):
    client = cast.client_for("owner")
    assert client.get("/").status_code == 200
    assert client.get("/settings/").status_code == 200


def test_new_recovery_codes_replace_the_old_ones(cast):
    client = cast.client_for("owner")
    user = cast.users["owner"]
    first = client.post("/settings/two-factor/recovery-codes/")
    assert first.status_code == 200 and len(first.context["codes"]) == 10
    second = client.post("/settings/two-factor/recovery-codes/").context["codes"]
    assert not set(first.context["codes"]) & set(second)
    stored = list(RecoveryCode.objects.filter(device__user=user).values_list("digest", flat=True))
    assert len(stored) == 10
    assert all(any(recovery_code_matches(c.replace("-", ""), d) for d in stored) for c in second)
    assert not any(
        recovery_code_matches(c.replace("-", ""), d) for c in first.context["codes"] for d in stored
    )
    assert RecoveryCodeDevice.objects.filter(user=user).count() == 1
    regenerated = list(AuditEvent.objects.filter(category="mfa", action="mfa_enrol"))
    assert [e.detail for e in regenerated] == [
        {"method": "recovery_codes", "recovery_codes": 10}
    ] * 2
    assert client.get("/settings/two-factor/recovery-codes/").status_code == 405


def test_new_recovery_codes_need_a_recent_password(cast, time_machine):
    time_machine.move_to(timezone.now())
    client = cast.client_for("owner")
    time_machine.shift(timedelta(minutes=6))
    client.get("/")  # active, so not signed out for idling
    response = client.post(
        "/settings/two-factor/recovery-codes/", HTTP_REFERER="http://testserver/settings/"
    )
    assert response.status_code == 302
    assert response["Location"] == "/confirm-password/?next=%2Fsettings%2F"
    assert not RecoveryCodeDevice.objects.exists()


def test_removing_the_device_asks_for_the_password(cast, settings):
    settings.REQUIRE_MFA = False
    client = cast.client_for("owner")
    user = cast.users["owner"]
    client.post("/settings/two-factor/recovery-codes/")
    page = client.get("/settings/two-factor/remove/")
    assert page.status_code == 200
    wrong = client.post("/settings/two-factor/remove/", {"password": "not-it"})
    assert wrong.status_code == 422 and "password" in wrong.context["form"].errors
    assert TOTPDevice.objects.filter(user=user).exists()
    failed = AuditEvent.objects.get(action="reauth", outcome="failed")
    assert failed.actor_id == user.pk and failed.detail == {"purpose": "mfa_remove"}
    done = client.post("/settings/two-factor/remove/", {"password": PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/settings/"
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCodeDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.exists()
    assert AuditEvent.objects.filter(category="mfa", action="mfa_remove", actor_id=user.pk).exists()
    assert client.get("/").status_code == 200  # the demo does not require it


def test_after_removal_the_requirement_sends_the_user_to_enrol_again(cast):
    client = cast.client_for("owner")
    client.post("/settings/two-factor/remove/", {"password": PASSWORD})
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(ENROL)


def test_the_settings_page_shows_the_second_factor(cast):
    html = cast.client_for("owner").get("/settings/").content.decode()
    assert "Turn off two-factor sign-in" in html and "Change your password" in html


def test_the_demo_banner_offers_two_factor_and_can_be_dismissed(cast, settings):
    settings.REQUIRE_MFA = False
    client = Client()
    password_step(client, "owner")
    assert "Not now" in client.get("/").content.decode()
    response = client.post("/settings/two-factor/dismiss/", {"next": "/patients/"})
    assert response.status_code == 302 and response["Location"] == "/patients/"
    assert client.session[account_session.MFA_BANNER_DISMISSED] is True
    assert "Not now" not in client.get("/").content.decode()
    external = client.post("/settings/two-factor/dismiss/", {"next": "https://evil.example/"})
    assert external["Location"] == "/"


def test_the_banner_is_not_shown_when_required_or_verified(cast):
    assert "Not now" not in cast.client_for("owner").get("/").content.decode()


def test_code_check_is_for_the_actor_only(cast):
    other = device_for(cast.users["colleague"])
    checked = second_factor_check(cast.actors["owner"], code_for(other))
    assert checked.device is None


def test_sign_in_with_the_helper(cast):
    user = cast.users["director"]
    client = Client()
    sign_in(client, user, device_for(user))
    assert client.get("/").status_code == 200
