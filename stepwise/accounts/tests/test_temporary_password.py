"""A password set by an administrator (new account, or reset) is temporary: until the
person chooses their own, they reach only the change-password page, sign-out and
the second-factor steps."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import PASSWORD
from stepwise.accounts.models import AccountState, Membership
from stepwise.accounts.services import NewStaff, staff_create, staff_password_reset
from stepwise.accounts.tests.support import code_for, password_step, sign_in
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditEvent

TEMPORARY = "quiet harbor lanterns"
OWN = "silver birch at dawn"
CHANGE = "/settings/password/"


def member(cast, name: str) -> Membership:
    return Membership.objects.get(user=cast.users[name], organization=cast.org)


def _new_colleague(cast) -> Membership:
    return staff_create(
        cast.actors["admin"],
        NewStaff(username="jordan", role="nurse", password=TEMPORARY, first_name="Jordan"),
    )


def _choose(client: Client, new: str = OWN, old: str = TEMPORARY, **extra: str):
    return client.post(
        CHANGE, {"old_password": old, "new_password1": new, "new_password2": new, **extra}
    )


def test_a_new_account_must_choose_its_own_password_first(cast, settings):
    settings.REQUIRE_MFA = False
    _new_colleague(cast)
    client = Client()
    signed_in = password_step(client, "jordan", TEMPORARY)
    assert signed_in.status_code == 302 and signed_in["Location"] == "/"
    for path in ("/", "/patients/", "/settings/", "/settings/two-factor/remove/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(CHANGE), path
    assert client.get("/patients/?q=a")["Location"] == f"{CHANGE}?next=%2Fpatients%2F%3Fq%3Da"
    assert client.get("/patients/", HTTP_HX_REQUEST="true")["HX-Redirect"].startswith(CHANGE)
    refused = client.get("/session/keep-alive/", HTTP_ACCEPT="application/json")
    assert refused.status_code == 405  # a second-factor-era page: open, and POST only
    json = client.get("/patients/", HTTP_ACCEPT="application/json")
    assert json.status_code == 403 and json.json() == {"detail": "Password change required."}
    assert client.get("/session/").status_code == 200
    page = client.get(f"{CHANGE}?next=%2Fpatients%2F")
    assert page.status_code == 200
    html = page.content.decode()
    assert "temporary password" in html and "Sign out" in html and "Cancel" not in html

    same = _choose(client, new=TEMPORARY)
    assert same.status_code == 422 and "new_password1" in same.context["form"].errors
    assert AccountState.objects.get(user__username="jordan").must_change_password

    done = _choose(client, next="/patients/")
    assert done.status_code == 302 and done["Location"] == "/patients/"
    assert not AccountState.objects.get(user__username="jordan").must_change_password
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get(action="password_change", actor_username="jordan")
    assert event.category == "login" and event.detail == {"replaced_temporary": True}
    assert OWN not in str(event.detail)


def test_sign_out_stays_open_with_a_temporary_password(cast, settings):
    settings.REQUIRE_MFA = False
    _new_colleague(cast)
    client = Client()
    password_step(client, "jordan", TEMPORARY)
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_second_factor_comes_first_then_the_password(cast):
    _new_colleague(cast)
    client = Client()
    first = password_step(client, "jordan", TEMPORARY)
    assert first["Location"].startswith("/settings/two-factor/")
    # The change page waits for the second factor.
    assert client.get(CHANGE)["Location"].startswith("/settings/two-factor/")
    client.get("/settings/two-factor/")
    device = TOTPDevice.objects.get(user__username="jordan")
    enrolled = client.post("/settings/two-factor/", {"code": code_for(device), "next": "/"})
    assert enrolled.status_code == 200 and len(enrolled.context["codes"]) == 10
    assert client.get("/")["Location"] == f"{CHANGE}?next=%2F"
    assert _choose(client)["Location"] == "/"
    assert client.get("/").status_code == 200


def test_a_reset_password_is_temporary_and_ends_open_sessions(cast):
    target = member(cast, "colleague")
    open_session = cast.client_for("colleague")
    device = device_for_existing(cast, "colleague")

    staff_password_reset(cast.actors["admin"], target.public_id, TEMPORARY)

    assert open_session.get("/").status_code == 302  # signed out
    assert password_step(Client(), "colleague", PASSWORD).status_code == 200  # old one refused
    assert AccountState.objects.get(user=cast.users["colleague"]).must_change_password
    event = AuditEvent.objects.get(action="password_change")
    assert (event.category, event.actor_username, event.object_id) == (
        "staff",
        "admin",
        str(target.public_id),
    )
    assert event.detail == {"username": "colleague", "temporary": True}
    assert TEMPORARY not in str(event.detail)

    client = Client()
    sign_in(client, cast.users["colleague"], device, password=TEMPORARY)
    assert client.get("/")["Location"] == f"{CHANGE}?next=%2F"
    _choose(client)
    assert client.get("/").status_code == 200


def device_for_existing(cast, name: str):
    """The device the cast's verified client already gave the user."""
    return TOTPDevice.objects.get(user=cast.users[name])


@pytest.mark.parametrize("password", ["short", "password1234", "colleague123"])
def test_a_reset_names_the_password_rule_it_breaks(cast, password):
    target = member(cast, "colleague")
    with pytest.raises(ValidationFailed) as refused:
        staff_password_reset(cast.actors["admin"], target.public_id, password)
    assert set(refused.value.errors) == {"password"}
    assert not AccountState.objects.exists()
    assert not AuditEvent.objects.filter(action="password_change").exists()


def test_who_may_reset_whose_password(cast):
    admin = cast.actors["admin"]
    with pytest.raises(Conflict):
        staff_password_reset(admin, member(cast, "admin").public_id, TEMPORARY)
    outsider = Membership.objects.get(user=cast.users["outsider"])
    with pytest.raises(NotFound):
        staff_password_reset(admin, outsider.public_id, TEMPORARY)
    for who in ("owner", "director", "readonly"):
        with pytest.raises(AccessDenied):
            staff_password_reset(cast.actors[who], member(cast, "colleague").public_id, TEMPORARY)
    # Someone who also works for another organization keeps their password there.
    Membership.objects.create(
        user=cast.users["colleague"], organization=cast.other_org, role="nurse"
    )
    with pytest.raises(Conflict) as refused:
        staff_password_reset(admin, member(cast, "colleague").public_id, TEMPORARY)
    assert "another organization" in refused.value.message
    assert cast.users["colleague"].check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="password_change").exists()


# --- the administrator's page ---------------------------------------------------------------


def test_the_reset_page(cast):
    client = cast.client_for("admin")
    target = member(cast, "colleague")
    url = f"/staff/{target.public_id}/password/"
    assert url in client.get("/staff/").content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "Temporary password for colleague" in page.content.decode()
    weak = client.post(url, {"password": "password1234"})
    assert weak.status_code == 422 and "password" in weak.context["form"].errors
    done = client.post(url, {"password": TEMPORARY})
    assert done.status_code == 302 and done["Location"] == "/staff/"
    listing = client.get("/staff/").content.decode()
    assert "temporary password" in listing and "choose their own password" in listing
    assert client.get(f"/staff/{member(cast, 'admin').public_id}/password/")["Location"] == CHANGE
    foreign = Membership.objects.get(user=cast.users["outsider"]).public_id
    assert client.get(f"/staff/{foreign}/password/").status_code == 404


def test_the_reset_page_needs_an_administrator_a_recent_password_and_csrf(cast, time_machine):
    target = member(cast, "colleague")
    url = f"/staff/{target.public_id}/password/"
    for who in ("owner", "director"):
        assert cast.client_for(who).post(url, {"password": TEMPORARY}).status_code == 403
    strict = cast.client_for("admin", enforce_csrf_checks=True)
    assert strict.post(url, {"password": TEMPORARY}).status_code == 403
    time_machine.move_to(timezone.now(), tick=False)
    stale = cast.client_for("admin")
    time_machine.shift(timedelta(minutes=6))
    response = stale.post(url, {"password": TEMPORARY}, HTTP_REFERER=f"http://testserver{url}")
    assert response["Location"].startswith("/confirm-password/")
    assert cast.users["colleague"].check_password(PASSWORD)
    assert not AccountState.objects.exists()
