from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from stepwise.accounts.selectors import actor_from_membership, membership_for_user
from stepwise.accounts.services import token_create
from stepwise.core.errors import ValidationFailed


class Command(BaseCommand):
    help = "Create a personal API token for USERNAME; the token alone is printed on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        user = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {options['username']!r}.")
        membership = membership_for_user(user)
        if membership is None:
            raise CommandError(f"{user.get_username()} belongs to no organization.")
        try:
            token, raw = token_create(
                actor_from_membership(membership), name=options["name"], days=options["days"]
            )
        except ValidationFailed as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(
            f"Token {token.hint}… for {user.get_username()} expires {token.expires_at:%Y-%m-%d}."
        )
        self.stdout.write(raw)
