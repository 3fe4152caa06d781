"""On PostgreSQL the application's runtime role can append to the audit log and read it,
but not change or remove a row: a second wall beside the triggers, which that role
cannot lower because it does not own the table."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction

from stepwise.core.audit import audit_record
from stepwise.core.models import AuditAction, AuditEvent

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="database roles are a PostgreSQL feature"
)
AUDIT = AuditEvent._meta.db_table


@pytest.fixture
def app_role(live_db: None) -> Iterator[tuple[str, str]]:
    """A throwaway login role, dropped after the test with every privilege it was given."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user"
        )
        if not cursor.fetchone()[0]:
            pytest.skip("the test database role needs CREATEROLE to make a throwaway role")
        name = f"stepwise_app_{secrets.token_hex(4)}"
        password = secrets.token_hex(16)  # hex: safe to inline, roles take no parameters
        cursor.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    try:
        yield name, password
    finally:
        with connection.cursor() as cursor:
            for statement in (
                f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}",
                f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {name}",
                f"REVOKE ALL ON SCHEMA public FROM {name}",
                f"DROP ROLE {name}",
            ):
                cursor.execute(statement)


def connect_as(name: str, password: str) -> Any:
    import psycopg

    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        dbname=settings["NAME"],
        user=name,
        password=password,
        autocommit=True,
    )


def an_audit_row(chain: int) -> tuple[Any, ...]:
    return (chain, 999_999, datetime.now(UTC), "app", "read", "success", "0" * 64, "f" * 64)


@postgres_only
def test_the_app_role_may_append_to_the_audit_log_and_nothing_more(app_role):
    import psycopg
    from psycopg.errors import InsufficientPrivilege

    with transaction.atomic():
        audit_record(action=AuditAction.READ, actor_username="owner-side")
    out = StringIO()
    call_command("db_grant_app_role", app_role[0], stdout=out)
    assert f"{AUDIT} SELECT, INSERT" in out.getvalue()

    with connect_as(*app_role) as conn:
        assert conn.execute(f"SELECT count(*) FROM {AUDIT}").fetchone()[0] == 1
        # What audit_record does: lock the chain head, insert the row, move the head.
        # Rolled back, so the chain the test leaves behind stays intact.
        with conn.transaction(force_rollback=True):
            conn.execute("SELECT seq FROM core_auditchainhead WHERE chain = 0 FOR UPDATE")
            inserted = conn.execute(
                f"INSERT INTO {AUDIT} (chain, seq, occurred_at, actor_username, action, outcome,"
                " prev_hash, hash, actor_role, category, object_type, object_id, request_id,"
                " client_address, detail, data_class, hash_version)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, '', '', '', '', '', '', '{}', 'system', 2)"
                " RETURNING id",
                an_audit_row(0),
            ).fetchone()
            assert inserted is not None
            conn.execute("UPDATE core_auditchainhead SET seq = seq WHERE chain = 0")

        for refused in (
            f"UPDATE {AUDIT} SET actor_username = 'someone_else'",
            f"DELETE FROM {AUDIT}",
            f"TRUNCATE {AUDIT}",
            f"ALTER TABLE {AUDIT} DISABLE TRIGGER USER",
            "DELETE FROM core_auditchainhead",
            "INSERT INTO core_auditchainhead (chain, seq, last_hash) VALUES (99, 0, '')",
            "DELETE FROM django_migrations",
        ):
            with pytest.raises(InsufficientPrivilege):
                conn.execute(refused)

        # The rest of the application works as usual.
        conn.execute("SELECT count(*) FROM patients_patient")
        conn.execute("UPDATE patients_patient SET phone = phone WHERE id < 0")
        conn.execute("DELETE FROM patients_patient WHERE id < 0")
        conn.execute("SELECT count(*) FROM django_migrations")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE app_made (id int)")

    assert AuditEvent.objects.count() == 1
    # Running it again (after the next migrate) gives the same privileges.
    call_command("db_grant_app_role", app_role[0], stdout=StringIO())


@postgres_only
def test_the_grant_refuses_unknown_superuser_and_own_roles(db):
    with pytest.raises(CommandError, match="There is no database role"):
        call_command("db_grant_app_role", "no_such_role_here")
    with pytest.raises(CommandError, match="not a plain role name"):
        call_command("db_grant_app_role", 'x"; DROP TABLE core_auditevent; --')
    with pytest.raises(CommandError, match="superuser"):
        call_command("db_grant_app_role", "postgres")
    with pytest.raises(CommandError, match="schema owner"):
        call_command("db_grant_app_role", connection.settings_dict["USER"])


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite refusal")
def test_the_grant_explains_that_sqlite_has_no_roles(db):
    with pytest.raises(CommandError, match="PostgreSQL only"):
        call_command("db_grant_app_role", "stepwise_app")
