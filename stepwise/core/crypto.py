"""Encrypted model fields: values the database, its dumps and its backups never hold in clear.

`EncryptedTextField` stores text as a Fernet token (AES-128-CBC with an
HMAC-SHA256 tag, from `cryptography`) made with the first key of
`settings.FIELD_ENCRYPTION_KEYS`; any key of the list decrypts. The keys come from
the environment (`STEPWISE_FIELD_KEYS` or `STEPWISE_FIELD_KEYS_FILE`, comma-
separated), never from the database, so someone holding only the database learns
nothing from these columns. Rotating: put a new key first, run
`stepwise rotate_field_keys` (it re-encrypts every column of this type with the
first key), then drop the old key (docs/operations.md, "Field encryption keys").

It is meant for the few values whose disclosure does the most harm: today the
social security and payer member numbers of a patient; later the text of SUD
counseling notes (42 CFR 2.11, which need their own consent to be disclosed).
A notes model only declares, e.g.::

    body = EncryptedTextField("note", blank=True)

and `rotate_field_keys` finds the new column by itself.

What it costs, on purpose:
- No lookups except `isnull`: every encryption is randomized, so the database
  cannot compare, sort or search these columns (a search would need a separate
  keyed-hash column).
- The empty string is stored as is, so "no value" stays visible and cheap.
- Values are decrypted when a row is loaded; lists that do not show them should
  `.defer()` them.
- Whatever serializes model values (`dumpdata`, a JSON export) writes them in
  clear: such outputs are as sensitive as the keys' plaintext.
"""

from __future__ import annotations

import functools
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

KEYS_SETTING = "STEPWISE_FIELD_KEYS"


class FieldKeyError(ImproperlyConfigured):
    """The configured field keys cannot encrypt or decrypt a value."""


def generate_key() -> str:
    return Fernet.generate_key().decode()


def key_problems(keys: list[str]) -> list[str]:
    """What is wrong with a list of keys, in words an operator can act on (empty if fine)."""
    if not keys:
        return [f"{KEYS_SETTING} is empty: give at least one key."]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except ValueError:
            problems.append(
                f"{KEYS_SETTING} key #{position} is not a Fernet key (32 url-safe "
                "base64-encoded bytes; make one with `stepwise rotate_field_keys --generate-key`)."
            )
    return problems


@functools.lru_cache(maxsize=8)
def _keys_for(keys: tuple[str, ...]) -> tuple[MultiFernet, Fernet]:
    # Keyed on the key list itself, so tests that change the setting get fresh keys.
    problems = key_problems(list(keys))
    if problems:
        raise FieldKeyError(" ".join(problems))
    fernets = [Fernet(key) for key in keys]
    return MultiFernet(fernets), fernets[0]


def _configured() -> tuple[MultiFernet, Fernet]:
    return _keys_for(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_text(value: str) -> str:
    return _configured()[0].encrypt(value.encode()).decode()


def _unreadable(label: str) -> FieldKeyError:
    count = len(settings.FIELD_ENCRYPTION_KEYS)
    return FieldKeyError(
        f"Cannot decrypt {label}: none of the {count} key(s) in {KEYS_SETTING} opens it. "
        "If a key was removed before `stepwise rotate_field_keys` re-encrypted every "
        "value, put it back after the first key and run the rotation."
    )


def decrypt_text(token: str, *, label: str = "an encrypted value") -> str:
    try:
        return _configured()[0].decrypt(token.encode()).decode()
    except InvalidToken:
        raise _unreadable(label) from None


def is_current(token: str) -> bool:
    """Whether the first (encrypting) key opens this token: rotation can skip it."""
    try:
        _configured()[1].decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate_token(token: str, *, label: str = "an encrypted value") -> str:
    """The same value encrypted again with the first key."""
    try:
        return _configured()[0].rotate(token.encode()).decode()
    except InvalidToken:
        raise _unreadable(label) from None


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]
    """Text stored as a Fernet token; see the module's docstring for what it allows."""

    description = "Text encrypted with the field keys"

    def _label(self) -> str:
        model = getattr(self, "model", None)
        return f"{model._meta.label}.{self.name}" if model else self.name

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt_text(str(value))

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        if value is None or value == "":
            return value
        return decrypt_text(value, label=self._label())

    def get_lookup(self, lookup_name: str) -> Any:
        # Ciphertexts are randomized: any comparison but NULL-ness would silently match nothing.
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name: str) -> Any:
        return None


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every encrypted column of every installed model (what a key rotation must cover)."""
    from django.apps import apps

    return [
        (model, field)
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
        for field in model._meta.concrete_fields
        if isinstance(field, EncryptedTextField)
    ]
