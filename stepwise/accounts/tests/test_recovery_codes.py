"""Hashed one-time recovery codes: the django-otp device, its throttling, and the
migration that hashes the plain codes django-otp's static tokens kept."""

from __future__ import annotations

import importlib
from datetime import timedelta
from typing import Any

import django_otp
from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.utils import timezone

from stepwise.accounts.models import RecoveryCode, RecoveryCodeDevice
from stepwise.accounts.rules import recovery_code_matches
from stepwise.accounts.services import recovery_codes_regenerate, second_factor_check
from stepwise.accounts.tests.support import device_for, password_step

MIGRATION = importlib.import_module(
    "stepwise.accounts.migrations.0004_recovery_codes_from_otp_static"
)


def _codes_for(cast, name: str = "owner") -> list[str]:
    device_for(cast.users[name])
    return recovery_codes_regenerate(cast.actors[name])


def test_a_code_is_accepted_once_through_django_otp(cast):
    codes = _codes_for(cast)
    device = RecoveryCodeDevice.objects.get(user=cast.users["owner"])
    user = cast.users["owner"]
    assert django_otp.user_has_device(user)
    accepted = django_otp.verify_token(user, device.persistent_id, codes[3].upper())
    assert accepted == device
    assert django_otp.verify_token(user, device.persistent_id, codes[3]) is None
    assert RecoveryCode.objects.filter(device=device).count() == 9
    device.refresh_from_db()
    assert device.last_used_at is not None


def test_wrong_codes_slow_the_device_down(cast, time_machine):
    time_machine.move_to(timezone.now(), tick=False)
    codes = _codes_for(cast)
    owner = cast.actors["owner"]
    assert second_factor_check(owner, "wrongwrong").device is None
    # Even the right code waits for the slowdown to pass, and is not used up by it.
    slowed = second_factor_check(owner, codes[0])
    assert slowed.device is None and slowed.wait_seconds == 1
    assert RecoveryCode.objects.count() == 10
    time_machine.shift(timedelta(seconds=1))
    passed = second_factor_check(owner, codes[0])
    assert passed.device is not None and passed.recovery_codes_left == 9
    device = RecoveryCodeDevice.objects.get()
    assert device.throttling_failure_count == 0


def test_new_codes_keep_a_session_verified_by_an_old_one(cast):
    codes = _codes_for(cast)
    client = Client()
    password_step(client, "owner")
    assert client.post("/login/verify/", {"code": codes[0]}).status_code == 302
    client.post("/confirm-password/", {"password": "correct-horse-battery"})
    fresh = client.post("/settings/two-factor/recovery-codes/")
    assert fresh.status_code == 200 and len(fresh.context["codes"]) == 10
    # Same device, new codes: the session that used an old code stays verified.
    assert client.get("/").status_code == 200
    assert RecoveryCodeDevice.objects.count() == 1


class StatementEditor:
    """What the migration uses of a schema editor. A real one cannot open inside the
    test's transaction on SQLite; the migration's statements run the same here."""

    connection = connection

    def execute(self, sql: str, params: Any = ()) -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def _old_static_tables(rows: list[tuple[int, int, bool, str]]) -> None:
    """The two otp_static tables as a database from before this change has them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE otp_static_staticdevice (id integer PRIMARY KEY,"
            " user_id integer NOT NULL, name varchar(64) NOT NULL, confirmed boolean NOT NULL)"
        )
        cursor.execute(
            "CREATE TABLE otp_static_statictoken (id integer PRIMARY KEY,"
            " device_id integer NOT NULL REFERENCES otp_static_staticdevice (id),"
            " token varchar(16) NOT NULL)"
        )
        devices = {(device_id, user_id, confirmed) for device_id, user_id, confirmed, _ in rows}
        for device_id, user_id, confirmed in sorted(devices):
            cursor.execute(
                "INSERT INTO otp_static_staticdevice VALUES (%s, %s, %s, %s)",
                [device_id, user_id, "backup", confirmed],
            )
        for token_id, (device_id, _, _, token) in enumerate(rows, start=1):
            cursor.execute(
                "INSERT INTO otp_static_statictoken VALUES (%s, %s, %s)",
                [token_id, device_id, token],
            )
    MigrationRecorder(connection).record_applied("otp_static", "0001_initial")


def test_the_migration_hashes_the_plain_static_tokens_and_drops_them(cast):
    owner, colleague = cast.users["owner"], cast.users["colleague"]
    _old_static_tables(
        [
            (1, owner.pk, True, "abcdefghjk"),
            (1, owner.pk, True, "mnpqrstuvw"),
            (2, colleague.pk, True, "xyz2345678"),
            (3, colleague.pk, False, "neverconfd"),
        ]
    )
    MIGRATION.hash_static_tokens(apps, StatementEditor())

    tables = connection.introspection.table_names()
    assert "otp_static_statictoken" not in tables and "otp_static_staticdevice" not in tables
    assert not MigrationRecorder(connection).migration_qs.filter(app="otp_static").exists()
    stored = {
        user.username: list(
            RecoveryCode.objects.filter(device__user=user).values_list("digest", flat=True)
        )
        for user in (owner, colleague)
    }
    assert len(stored["owner"]) == 2 and len(stored["colleague"]) == 1
    assert all("abcdefghjk" not in d and "mnpqrstuvw" not in d for d in stored["owner"])
    assert any(recovery_code_matches("abcdefghjk", d) for d in stored["owner"])
    assert recovery_code_matches("xyz2345678", stored["colleague"][0])
    # The converted codes sign in once, as before.
    checked = second_factor_check(cast.actors["owner"], "ABCDE-FGHJK")
    assert checked.device is not None and checked.recovery_codes_left == 1


def test_the_migration_does_nothing_without_the_old_tables(cast):
    MIGRATION.hash_static_tokens(apps, StatementEditor())
    assert not RecoveryCodeDevice.objects.exists()
