"""Looking up the user behind a bearer token."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from stepwise.accounts.models import TOKEN_PREFIX, ApiToken, hash_token

# Recording every use would write on every API read; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def token_lookup(raw: str) -> ApiToken | None:
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "organization")
        .filter(token_hash=hash_token(raw))
        .first()
    )
    now = timezone.now()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
