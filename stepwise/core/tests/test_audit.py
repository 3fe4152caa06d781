"""The audit log is append-only and tamper-evident: any edit, deletion, insertion
or reordering of rows is named by the verifier."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from stepwise.core.audit import audit_record, audit_verify, canonical_content, link_hash
from stepwise.core.context import RequestContext, reset_request_context, set_request_context
from stepwise.core.models import AuditAction, AuditChainHead, AuditEvent

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def one_chain(settings):
    settings.AUDIT_CHAIN_COUNT = 1


@pytest.fixture
def events(db, one_chain) -> list[AuditEvent]:
    made = []
    for n in range(5):
        with transaction.atomic():
            event = audit_record(
                action=AuditAction.READ,
                actor_username=f"user{n}",
                category="chart",
                detail={"n": n},
            )
        assert event is not None
        made.append(event)
    return made


@contextlib.contextmanager
def triggers_off() -> Iterator[None]:
    """What an attacker with database access would do first (rolled back with the test)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER core_auditevent_no_update")
            cursor.execute("DROP TRIGGER core_auditevent_no_delete")
    yield


def raw(sql: str, params: list[str | int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_untouched_log_verifies(events):
    assert audit_verify() == []
    out = StringIO()
    call_command("audit_verify", stdout=out)
    assert "5 rows verified" in out.getvalue()


def test_rows_link_to_the_previous_hash(events):
    assert events[0].prev_hash == "0" * 64
    for before, after in pairwise(events):
        assert after.prev_hash == before.hash
        assert after.hash == link_hash(before.hash, canonical_content(after))
    head = AuditChainHead.objects.get(chain=0)
    assert head.seq == 5 and head.last_hash == events[-1].hash


def test_the_database_refuses_update_and_delete(events):
    with pytest.raises(DatabaseError), transaction.atomic():
        raw(f"UPDATE {TABLE} SET action = 'create' WHERE id = %s", [events[1].pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])
    assert AuditEvent.objects.count() == 5


def test_the_model_refuses_update_and_delete(events):
    with pytest.raises(ValueError, match="append-only"):
        events[0].save()
    with pytest.raises(ValueError, match="append-only"):
        events[0].delete()


def test_an_edited_row_is_named(events):
    with triggers_off():
        raw(f"UPDATE {TABLE} SET actor_username = 'someone_else' WHERE id = %s", [events[2].pk])
    (found,) = audit_verify()
    assert found.event_id == events[2].pk
    assert "edited" in found.reason


def test_an_edited_detail_is_named(events):
    with triggers_off():
        raw(f"UPDATE {TABLE} SET detail = %s WHERE id = %s", ['{"n": 99}', events[3].pk])
    (found,) = audit_verify()
    assert found.event_id == events[3].pk


def test_a_deleted_row_is_named_by_the_row_after_it(events):
    with triggers_off():
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])
    (found,) = audit_verify()
    assert found.event_id == events[2].pk
    assert "missing" in found.reason


def test_a_deleted_last_row_is_caught_by_the_chain_head(events):
    with triggers_off():
        raw(f"DELETE FROM {TABLE} WHERE id = %s", [events[4].pk])
    (found,) = audit_verify()
    assert found.event_id is None and "removed from the end" in found.reason


def test_an_inserted_row_is_named(events):
    """A forged row slipped in between: the forger does not hold the HMAC key."""
    with triggers_off():
        for event in reversed(events[2:]):  # make room at seq 3, highest first
            raw(f"UPDATE {TABLE} SET seq = seq + 1 WHERE id = %s", [event.pk])
        forged = AuditEvent(
            chain=0,
            seq=3,
            occurred_at=events[2].occurred_at,
            actor_username="forger",
            action="read",
            outcome="success",
            prev_hash=events[1].hash,
            hash="f" * 64,
            detail={},
        )
        forged.save()
    (found,) = audit_verify()
    assert found.event_id == forged.pk


def test_reordered_rows_are_named(events):
    with triggers_off():
        raw(f"UPDATE {TABLE} SET seq = 100 WHERE id = %s", [events[1].pk])
        raw(f"UPDATE {TABLE} SET seq = 2 WHERE id = %s", [events[2].pk])
        raw(f"UPDATE {TABLE} SET seq = 3 WHERE id = %s", [events[1].pk])
    (found,) = audit_verify()
    assert found.event_id == events[2].pk


def test_the_command_fails_and_names_the_broken_row(events):
    with triggers_off():
        raw(f"UPDATE {TABLE} SET outcome = 'denied' WHERE id = %s", [events[0].pk])
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("audit_verify", stderr=err)
    assert f"row id {events[0].pk}" in err.getvalue()


def test_rows_spread_over_several_chains_each_verify(db, settings):
    settings.AUDIT_CHAIN_COUNT = 8
    for n in range(40):
        token = set_request_context(
            RequestContext(request_id=f"request-{n:04d}", client_address="10.0.0.1")
        )
        try:
            for _ in range(2):
                with transaction.atomic():
                    audit_record(action=AuditAction.READ, actor_username=f"u{n}")
        finally:
            reset_request_context(token)
    assert AuditEvent.objects.values("chain").distinct().count() > 1
    # All rows of one request are on one chain: a transaction never locks two heads.
    for n in range(40):
        assert (
            AuditEvent.objects.filter(request_id=f"request-{n:04d}")
            .values("chain")
            .distinct()
            .count()
            == 1
        )
    assert audit_verify() == []


def test_the_audit_row_rolls_back_with_its_transaction(db, one_chain):
    with contextlib.suppress(RuntimeError), transaction.atomic():
        audit_record(action=AuditAction.CREATE, actor_username="x")
        raise RuntimeError("the clinical write failed")
    assert not AuditEvent.objects.exists()
    assert AuditChainHead.objects.get(chain=0).seq == 0
    assert audit_verify() == []
