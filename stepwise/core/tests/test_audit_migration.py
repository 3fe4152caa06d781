"""Adding data classes to the audit log keeps every row written before verifiable and
the table append-only (on SQLite the column is added by rebuilding the table)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from stepwise.core.audit import (
    GENESIS_HASH,
    audit_record,
    audit_verify,
    canonical_content,
    link_hash,
)
from stepwise.core.models import AuditAction, AuditEvent

BEFORE = [("core", "0002_audit_append_only")]


def migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor


def test_rows_written_before_the_migration_still_verify(live_db, settings):
    settings.AUDIT_CHAIN_COUNT = 1
    executor = migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    OldEvent = old_apps.get_model("core", "AuditEvent")
    OldHead = old_apps.get_model("core", "AuditChainHead")
    prev = GENESIS_HASH
    for seq in range(1, 4):
        values = {
            "chain": 0,
            "seq": seq,
            "occurred_at": datetime(2025, 1, seq, 12, tzinfo=UTC),
            "actor_username": f"before{seq}",
            "action": "read",
            "category": "chart",
            "outcome": "success",
            "detail": {"n": seq},
        }
        # Hashed as the code of that time did: version 1 fields only.
        digest = link_hash(prev, canonical_content(AuditEvent(hash_version=1, **values)))
        OldEvent.objects.create(prev_hash=prev, hash=digest, **values)
        prev = digest
    OldHead.objects.filter(chain=0).update(seq=3, last_hash=prev)

    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    old = list(AuditEvent.objects.order_by("seq"))
    assert [(e.hash_version, e.data_class) for e in old] == [(1, "")] * 3
    with transaction.atomic():
        new = audit_record(action=AuditAction.READ, category="chart")
    assert new is not None and new.hash_version == 2 and new.prev_hash == prev
    assert audit_verify() == []
    # The rebuilt table is append-only again.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AuditEvent._meta.db_table} SET data_class = 'system'")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {AuditEvent._meta.db_table}")
