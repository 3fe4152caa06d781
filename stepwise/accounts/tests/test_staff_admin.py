"""The administrator's staff pages: list, create with a role and a temporary password,
change a role, disable and enable; each audited, each refused to other roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from conftest import PASSWORD
from stepwise.accounts.models import AccountState, ApiToken, Membership
from stepwise.accounts.services import (
    NewStaff,
    staff_change_role,
    staff_create,
    staff_set_active,
    token_create,
)
from stepwise.core.errors import AccessDenied, Conflict, NotFound, ValidationFailed
from stepwise.core.models import AuditEvent

NEW = {
    "username": "jordan",
    "first_name": "Jordan",
    "last_name": "Lee",
    "email": "jordan@example.org",
    "role": "nurse",
    "password": "quiet harbor lanterns",
}
NOT_ADMINS = ["owner", "colleague", "readonly", "director", "outsider"]


def member(cast, name: str) -> Membership:
    return Membership.objects.get(user=cast.users[name])


# --- services -------------------------------------------------------------------------------


def test_create_makes_a_user_with_a_role_and_audits_both(cast, django_user_model):
    membership = staff_create(cast.actors["admin"], NewStaff(**NEW))
    user = django_user_model.objects.get(username="jordan")
    assert membership.user == user and membership.organization == cast.org
    assert membership.role == "nurse" and user.check_password(NEW["password"])
    created, granted = AuditEvent.objects.filter(category="staff").order_by("id")
    assert created.action == "user_create"
    assert created.detail == {"username": "jordan", "temporary_credential": True}
    assert created.object_id == str(user.pk) and created.actor_username == "admin"
    assert granted.action == "role_change" and granted.object_id == str(membership.public_id)
    assert granted.detail == {"username": "jordan", "from": None, "to": "nurse"}
    assert {created.data_class, granted.data_class} == {"account"}
    assert NEW["password"] not in str(created.detail) + str(granted.detail)
    # The password is the administrator's choice: the new colleague replaces it.
    assert AccountState.objects.get(user=user).must_change_password


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": ""}, "username"),
        ({"username": "owner"}, "username"),
        ({"username": "OWNER"}, "username"),
        ({"username": "has space"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"role": "superuser"}, "role"),
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"username": "riverhollow", "password": "riverhollow1"}, "password"),
    ],
)
def test_create_names_the_field_it_refuses(cast, change, field):
    with pytest.raises(ValidationFailed) as refused:
        staff_create(cast.actors["admin"], NewStaff(**{**NEW, **change}))
    assert field in refused.value.errors
    assert (
        not Membership.objects.filter(user__username=change.get("username", "jordan"))
        .exclude(user__username__in=["owner"])
        .exists()
    )
    assert not AuditEvent.objects.filter(category="staff").exists()


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_every_staff_write_is_refused_to_other_roles(cast, who):
    actor = cast.actors[who]
    target = member(cast, "colleague").public_id
    with pytest.raises(AccessDenied):
        staff_create(actor, NewStaff(**NEW))
    with pytest.raises(AccessDenied):
        staff_change_role(actor, target, "director")
    with pytest.raises(AccessDenied):
        staff_set_active(actor, target, active=False)
    assert not Membership.objects.filter(user__username="jordan").exists()
    assert member(cast, "colleague").role == "nurse" and member(cast, "colleague").is_active
    assert AuditEvent.objects.filter(action="access_denied", actor_username=who).count() == 3


def test_role_change_is_audited_with_before_and_after(cast):
    target = member(cast, "colleague")
    staff_change_role(cast.actors["admin"], target.public_id, "physician")
    target.refresh_from_db()
    assert target.role == "physician"
    (event,) = AuditEvent.objects.filter(category="staff")
    assert event.action == "role_change"
    assert event.detail == {"username": "colleague", "from": "nurse", "to": "physician"}
    assert event.object_id == str(target.public_id)
    staff_change_role(cast.actors["admin"], target.public_id, "physician")  # no change, no row
    assert AuditEvent.objects.filter(category="staff").count() == 1
    with pytest.raises(ValidationFailed) as refused:
        staff_change_role(cast.actors["admin"], target.public_id, "king")
    assert set(refused.value.errors) == {"role"}


def test_nobody_changes_their_own_role_or_account(cast):
    own = member(cast, "admin").public_id
    with pytest.raises(Conflict):
        staff_change_role(cast.actors["admin"], own, "nurse")
    with pytest.raises(Conflict):
        staff_set_active(cast.actors["admin"], own, active=False)
    assert member(cast, "admin").role == "admin" and member(cast, "admin").is_active


def test_another_organizations_staff_do_not_exist_for_the_admin(cast):
    foreign = member(cast, "outsider").public_id
    with pytest.raises(NotFound):
        staff_change_role(cast.actors["admin"], foreign, "nurse")
    with pytest.raises(NotFound):
        staff_set_active(cast.actors["admin"], foreign, active=False)
    assert member(cast, "outsider").is_active


def test_disabling_ends_sign_in_sessions_and_api_tokens(cast):
    target = member(cast, "colleague")
    _, raw = token_create(cast.actors["colleague"], name="rota", days=30)
    session = cast.client_for("colleague")
    assert Client().get("/api/v1/patients", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 200

    staff_set_active(cast.actors["admin"], target.public_id, active=False)
    target.refresh_from_db()
    cast.users["colleague"].refresh_from_db()
    assert not target.is_active and not cast.users["colleague"].is_active
    assert ApiToken.objects.get(name="rota").revoked_at is not None
    assert Client().get("/api/v1/patients", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert session.get("/").status_code == 302  # the open session is over
    refused = Client().post("/login/", {"username": "colleague", "password": PASSWORD})
    assert refused.status_code == 200 and "not right" in refused.content.decode()
    (event,) = AuditEvent.objects.filter(category="staff")
    assert event.action == "account_disable"
    assert event.detail == {"username": "colleague", "tokens_revoked": 1}

    staff_set_active(cast.actors["admin"], target.public_id, active=True)
    cast.users["colleague"].refresh_from_db()
    assert cast.users["colleague"].is_active
    enabled = AuditEvent.objects.filter(category="staff").latest("id")
    assert enabled.action == "account_enable" and enabled.detail == {"username": "colleague"}
    assert (
        Client().post("/login/", {"username": "colleague", "password": PASSWORD}).status_code == 302
    )


def test_disabling_in_one_organization_keeps_the_account_for_another(cast):
    user = cast.users["colleague"]
    Membership.objects.create(user=user, organization=cast.other_org, role="nurse")
    staff_set_active(cast.actors["admin"], member_in(cast, user, cast.org).public_id, active=False)
    user.refresh_from_db()
    assert user.is_active  # still works at Harbor Light


def member_in(cast, user, org) -> Membership:
    return Membership.objects.get(user=user, organization=org)


# --- pages ----------------------------------------------------------------------------------


def test_the_staff_page_lists_the_organization_only(cast):
    response = cast.client_for("admin").get("/staff/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "colleague" in html and "outsider" not in html
    assert {m.user.username for m in response.context["members"]} == {
        "owner",
        "colleague",
        "readonly",
        "admin",
        "director",
    }
    assert "(you)" in html and 'href="/staff/"' in html


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_the_staff_pages_are_refused_to_other_roles(cast, who):
    client = cast.client_for(who)
    target = member(cast, "colleague").public_id
    assert client.get("/staff/").status_code == 403
    assert client.get("/staff/new/").status_code == 403
    assert client.post("/staff/new/", NEW).status_code == 403
    assert client.post(f"/staff/{target}/role/", {"role": "director"}).status_code == 403
    assert client.post(f"/staff/{target}/disable/").status_code == 403
    assert not Membership.objects.filter(user__username="jordan").exists()
    assert member(cast, "colleague").role == "nurse" and member(cast, "colleague").is_active
    assert 'href="/staff/"' not in client.get("/").content.decode()


def test_create_through_the_form(cast):
    client = cast.client_for("admin")
    assert client.get("/staff/new/").status_code == 200
    response = client.post("/staff/new/", NEW)
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert Membership.objects.get(user__username="jordan").role == "nurse"
    # The new colleague signs in and is sent to set up two-factor sign-in.
    first = Client().post("/login/", {"username": "jordan", "password": NEW["password"]})
    assert first["Location"].startswith("/settings/two-factor/")
    assert "choose their own password" in client.get("/staff/").content.decode()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": "owner"}, "username"),
        ({"password": "password1234"}, "password"),
        ({"role": "x"}, "role"),
    ],
)
def test_the_create_form_names_the_field(cast, change, field):
    response = cast.client_for("admin").post("/staff/new/", {**NEW, **change})
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not Membership.objects.filter(user__username="jordan").exists()


def test_role_and_account_forms(cast):
    client = cast.client_for("admin")
    target = member(cast, "colleague")
    changed = client.post(f"/staff/{target.public_id}/role/", {"role": "physician"})
    assert changed.status_code == 302
    target.refresh_from_db()
    assert target.role == "physician"
    bad = client.post(f"/staff/{target.public_id}/role/", {"role": "king"})
    assert bad.status_code == 422 and "Role:" in bad.content.decode()
    own = client.post(f"/staff/{member(cast, 'admin').public_id}/disable/")
    assert own.status_code == 409 and "your own" in own.content.decode()
    assert client.get(f"/staff/{target.public_id}/disable/").status_code == 405
    assert client.post(f"/staff/{target.public_id}/disable/").status_code == 302
    target.refresh_from_db()
    assert not target.is_active
    assert "Enable colleague" in client.get("/staff/").content.decode()
    assert client.post(f"/staff/{target.public_id}/enable/").status_code == 302
    target.refresh_from_db()
    assert target.is_active
    foreign = member(cast, "outsider").public_id
    assert client.post(f"/staff/{foreign}/disable/").status_code == 404


def test_staff_pages_need_a_recent_password(cast, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    client = cast.client_for("admin")
    time_machine.shift(timedelta(minutes=6))
    response = client.get("/staff/")
    assert (
        response.status_code == 302
        and response["Location"] == "/confirm-password/?next=%2Fstaff%2F"
    )
    target = member(cast, "colleague")
    post = client.post(
        f"/staff/{target.public_id}/disable/", HTTP_REFERER="http://testserver/staff/"
    )
    assert post["Location"] == "/confirm-password/?next=%2Fstaff%2F"
    target.refresh_from_db()
    assert target.is_active
    client.post("/confirm-password/", {"password": PASSWORD})
    assert client.get("/staff/").status_code == 200


def test_staff_forms_are_csrf_protected(cast):
    client = cast.client_for("admin", enforce_csrf_checks=True)
    target = member(cast, "colleague")
    assert client.post("/staff/new/", NEW).status_code == 403
    assert client.post(f"/staff/{target.public_id}/disable/").status_code == 403
    target.refresh_from_db()
    assert target.is_active
