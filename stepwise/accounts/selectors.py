"""Reads about staff: who is acting and in which organization."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from stepwise.accounts.models import ApiToken, Membership
from stepwise.core.actor import Actor


def membership_for_user(
    user: AbstractBaseUser | AnonymousUser, organization_id: int | None = None
) -> Membership | None:
    """The user's active membership: the chosen organization's, else their first."""
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.select_related("organization").filter(
        user_id=user.pk, is_active=True
    )
    if organization_id is not None:
        chosen = next((m for m in memberships if m.organization_id == organization_id), None)
        if chosen:
            return chosen
    return memberships.order_by("id").first()


def actor_from_membership(membership: Membership) -> Actor:
    user = membership.user
    return Actor(
        user_id=membership.user_id,
        username=user.get_username(),
        organization=membership.organization,
        role=membership.role,
    )


def tokens_for_user(user_id: int) -> QuerySet[ApiToken]:
    return (
        ApiToken.objects.filter(user_id=user_id)
        .select_related("organization")
        .order_by("-created_at")
    )


def staff_of_organization(organization_id: int) -> QuerySet[Membership]:
    """Everyone with a role in the organization, active first, by name."""
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user")
        .order_by("-is_active", "user__last_name", "user__first_name", "user__username")
    )
