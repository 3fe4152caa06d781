"""Reads about staff: who is acting and in which organization."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from stepwise.accounts.models import AccountState, ApiToken, Membership
from stepwise.core.actor import Actor
from stepwise.core.roles import Role


def membership_for_user(
    user: AbstractBaseUser | AnonymousUser, organization_id: int | None = None
) -> Membership | None:
    """The user's active membership: the chosen organization's, else their first,
    with the user's account state (`membership.user.account_state`) in the same query."""
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organization", "user__account_state").filter(
        user_id=user.pk, is_active=True
    )
    if organization_id is not None:
        chosen = next((m for m in memberships if m.organization_id == organization_id), None)
        if chosen:
            return chosen
    return memberships.order_by("id").first()


def account_state_of(membership: Membership) -> AccountState | None:
    """The account state loaded with the membership (None when never needed)."""
    state: AccountState | None = getattr(membership.user, "account_state", None)
    return state


def actor_from_membership(membership: Membership) -> Actor:
    user = membership.user
    return Actor(
        user_id=membership.user_id,
        username=user.get_username(),
        organization=membership.organization,
        role=membership.role,
    )


def actors_by_role(organization_id: int) -> dict[Role, Actor]:
    """One acting member per role of the organization (the demo's staff, one each)."""
    return {
        Role(m.role): actor_from_membership(m)
        for m in Membership.objects.filter(organization_id=organization_id).select_related(
            "user", "organization"
        )
    }


def tokens_for_user(user_id: int) -> QuerySet[ApiToken]:
    return (
        ApiToken.objects.filter(user_id=user_id)
        .select_related("organization")
        .order_by("-created_at")
    )


def staff_of_organization(organization_id: int) -> QuerySet[Membership]:
    """Everyone with a role in the organization, active first, by name, with whether
    they have set up two-factor sign-in (`has_second_factor`) and their account state."""
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user", "user__account_state")
        .annotate(
            has_second_factor=Exists(
                TOTPDevice.objects.filter(user_id=OuterRef("user_id"), confirmed=True)
            )
        )
        .order_by("-is_active", "user__last_name", "user__first_name", "user__username")
    )


def staff_member(organization_id: int, public_id: uuid.UUID | str) -> Membership | None:
    return (
        Membership.objects.filter(organization_id=organization_id, public_id=public_id)
        .select_related("user")
        .first()
    )
