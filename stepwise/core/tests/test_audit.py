"""The audit log is append-only and tamper-evident: any edit, deletion, insertion
or reordering of rows is named by the verifier."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from io import StringIO
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.http import QueryDict
from django.utils import timezone

from stepwise.core.audit import (
    GENESIS_HASH,
    audit_anchor,
    audit_record,
    audit_verify,
    canonical_content,
    link_hash,
    load_anchor,
)
from stepwise.core.context import RequestContext, reset_request_context, set_request_context
from stepwise.core.models import AuditAction, AuditChainHead, AuditEvent, DataClass
from stepwise.privacy.selectors import AuditFilter, audit_events

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


# --- Data classes and hash versions --------------------------------------------------------


def append_legacy(chain: int = 0, **fields: Any) -> AuditEvent:
    """A row as written before data classes existed (hash version 1, no class)."""
    head = AuditChainHead.objects.get(chain=chain)
    values: dict[str, Any] = {
        "action": "read",
        "outcome": "success",
        "category": "chart",
        "detail": {},
        **fields,
    }
    event = AuditEvent(
        chain=chain,
        seq=head.seq + 1,
        occurred_at=timezone.now(),
        hash_version=1,
        data_class="",
        prev_hash=head.last_hash,
        **values,
    )
    event.hash = link_hash(head.last_hash, canonical_content(event))
    event.save()
    AuditChainHead.objects.filter(chain=chain).update(seq=event.seq, last_hash=event.hash)
    return event


@pytest.mark.parametrize(
    ("category", "with_patient", "expected"),
    [
        ("chart", True, "part2"),
        ("demographics", True, "part2"),
        ("patient_list", False, "part2"),
        ("consents", True, "part2"),
        ("counseling_notes", True, "part2"),
        ("audit", False, "part2"),
        ("census", False, "phi"),
        ("session", False, "account"),
        ("api_token", False, "account"),
        ("route", False, "system"),
        ("something_new", True, "part2"),
        ("something_new", False, "system"),
    ],
)
def test_each_event_gets_the_class_of_its_category(one_chain, db, category, with_patient, expected):
    with transaction.atomic():
        event = audit_record(
            action=AuditAction.READ,
            category=category,
            patient_public_id=uuid.uuid4() if with_patient else None,
        )
    assert event is not None and event.data_class == expected and event.hash_version == 2


def test_the_class_can_be_given_explicitly_but_only_a_known_one(one_chain, db):
    with transaction.atomic():
        event = audit_record(action=AuditAction.EXPORT, category="route", data_class="part2")
    assert event is not None and event.data_class == DataClass.PART2
    with pytest.raises(ValueError, match="Unknown audit data class"), transaction.atomic():
        audit_record(action=AuditAction.READ, data_class="secret")
    assert audit_verify() == []


def test_an_edited_data_class_is_named(events):
    """Relabelling a Part 2 read as a system event would hide it from review."""
    with triggers_off():
        raw(f"UPDATE {TABLE} SET data_class = 'system' WHERE id = %s", [events[1].pk])
    (found,) = audit_verify()
    assert found.event_id == events[1].pk and "edited" in found.reason


def test_rows_from_before_data_classes_still_verify(db, one_chain):
    old = [append_legacy(actor_username=f"old{n}") for n in range(3)]
    with transaction.atomic():
        new = audit_record(action=AuditAction.READ, category="session")
    assert new is not None and new.prev_hash == old[-1].hash
    assert audit_verify() == []
    assert old[0].shown_data_class == "part2" and old[0].get_shown_data_class_display() == "Part 2"


def test_a_class_slipped_onto_an_old_row_is_named(db, one_chain):
    old = [append_legacy() for _ in range(2)]
    with triggers_off():
        raw(f"UPDATE {TABLE} SET data_class = 'system' WHERE id = %s", [old[1].pk])
    (found,) = audit_verify()
    assert found.event_id == old[1].pk and "before data classes" in found.reason


def test_a_new_row_passed_off_as_an_old_one_is_named(events):
    """Version 1 leaves the class out of the hash; downgrading a row must not free it."""
    with triggers_off():
        raw(f"UPDATE {TABLE} SET hash_version = 1, data_class = '' WHERE id = %s", [events[2].pk])
    (found,) = audit_verify()
    assert found.event_id == events[2].pk


def test_an_old_format_row_after_a_new_one_is_named(events):
    """Even with a valid hash (someone holding the key), formats never go backwards."""
    late = append_legacy()
    (found,) = audit_verify()
    assert found.event_id == late.pk and "older format" in found.reason


def test_an_unknown_hash_version_is_named(events):
    with triggers_off():
        raw(f"UPDATE {TABLE} SET hash_version = 9 WHERE id = %s", [events[0].pk])
    (found,) = audit_verify()
    assert found.event_id == events[0].pk and "unknown hash version" in found.reason


def test_the_audit_page_filters_by_data_class(cast, one_chain):
    """Old rows count in the class their category implies."""
    actor = cast.actors["director"]
    legacy = append_legacy(organization_id=cast.org.pk, category="episodes")
    with transaction.atomic():
        login = audit_record(action=AuditAction.LOGIN, actor=actor, category="session")
        census = audit_record(action=AuditAction.READ, actor=actor, category="census")

    def shown(query: str) -> set[int]:
        return {e.pk for e in audit_events(actor, AuditFilter.from_query(QueryDict(query)))}

    assert login and census
    part2 = shown("class=part2")
    assert legacy.pk in part2 and login.pk not in part2 and census.pk not in part2
    assert shown("class=account") >= {login.pk} and legacy.pk not in shown("class=account")
    assert shown("class=phi") == {census.pk}
    assert AuditFilter.from_query(QueryDict("class=bogus")).data_class == ""
    ordered = list(audit_events(actor, AuditFilter.from_query(QueryDict("sort=class"))))
    assert ordered[0].data_class <= ordered[-1].data_class


# --- Anchors -------------------------------------------------------------------------------


def anchor_file(tmp_path: Path) -> Path:
    path = tmp_path / "anchor.json"
    out = StringIO()
    call_command("audit_anchor", "--output", str(path), stdout=out)
    assert f"to {path}" in out.getvalue()
    return path


def verify_with(path: Path) -> list[str]:
    """The BROKEN lines of `audit_verify --anchor` (empty if it passed)."""
    err = StringIO()
    try:
        call_command("audit_verify", "--anchor", str(path), stdout=StringIO(), stderr=err)
    except CommandError:
        assert err.getvalue()
    return [line for line in err.getvalue().splitlines() if line.startswith("BROKEN")]


def rewrite_with_the_key(events: list[AuditEvent], start: int, **changes: Any) -> None:
    """What someone holding both the database and the HMAC key can do: edit a row and
    recompute every later hash and the head, so the chain alone verifies again."""
    prev = events[start - 1].hash if start else GENESIS_HASH
    with triggers_off():
        for n, event in enumerate(events[start:]):
            fresh = AuditEvent.objects.get(pk=event.pk)
            for name, value in (changes if n == 0 else {}).items():
                setattr(fresh, name, value)
            fresh.prev_hash = prev
            fresh.hash = link_hash(prev, canonical_content(fresh))
            AuditEvent.objects.filter(pk=event.pk).update(
                prev_hash=fresh.prev_hash, hash=fresh.hash, **(changes if n == 0 else {})
            )
            prev = fresh.hash
    AuditChainHead.objects.filter(chain=events[0].chain).update(last_hash=prev)


def test_the_anchor_lists_the_last_hash_and_count_of_each_chain(events):
    anchor = audit_anchor()
    assert anchor["format"] == "stepwise-audit-anchor/1" and anchor["rows"] == 5
    (chain,) = anchor["chains"]
    assert chain["chain"] == 0 and chain["seq"] == chain["rows"] == 5
    assert chain["hash"] == events[-1].hash and chain["event_id"] == events[-1].pk
    assert chain["occurred_at"].startswith(str(events[-1].occurred_at.year))
    out = StringIO()
    call_command("audit_anchor", stdout=out)
    assert json.loads(out.getvalue())["chains"] == anchor["chains"]


def test_a_log_that_grew_after_its_anchor_verifies(events, tmp_path):
    path = anchor_file(tmp_path)
    with transaction.atomic():
        audit_record(action=AuditAction.READ, actor_username="later")
    out = StringIO()
    call_command("audit_verify", "--anchor", str(path), stdout=out)
    assert "6 rows verified" in out.getvalue() and "1 chain(s) continue" in out.getvalue()


def test_a_log_cut_back_before_its_anchor_is_named(events, tmp_path):
    """Deleting the tail and rewinding the head passes the plain check, not the anchor."""
    path = anchor_file(tmp_path)
    with triggers_off():
        raw(f"DELETE FROM {TABLE} WHERE id IN (%s, %s)", [events[3].pk, events[4].pk])
    AuditChainHead.objects.filter(chain=0).update(seq=3, last_hash=events[2].hash)
    assert audit_verify() == []
    (line,) = verify_with(path)
    assert "chain 0 head" in line and "before its anchored row at seq 5" in line


def test_a_chain_emptied_entirely_is_named(events, tmp_path):
    path = anchor_file(tmp_path)
    with triggers_off():
        raw(f"DELETE FROM {TABLE} WHERE chain = %s", [0])
    AuditChainHead.objects.filter(chain=0).update(seq=0, last_hash=GENESIS_HASH)
    assert audit_verify() == []
    (line,) = verify_with(path)
    assert "chain ends at seq 0" in line


def test_a_chain_rewritten_with_the_key_is_named(events, tmp_path):
    path = anchor_file(tmp_path)
    rewrite_with_the_key(events, 1, actor_username="someone_else")
    assert audit_verify() == []
    (line,) = verify_with(path)
    assert f"row id {events[4].pk}" in line and "differs from the anchor" in line


def test_a_rewrite_after_the_anchor_is_left_to_the_hashes(events, tmp_path):
    path = anchor_file(tmp_path)
    with transaction.atomic():
        later = audit_record(action=AuditAction.READ, actor_username="later")
    assert later is not None
    with triggers_off():
        raw(f"UPDATE {TABLE} SET actor_username = 'x' WHERE id = %s", [later.pk])
    (line,) = verify_with(path)
    assert f"row id {later.pk}" in line and "edited" in line


def test_a_bad_anchor_file_is_a_clear_error(db, tmp_path):
    path = tmp_path / "anchor.json"
    for text, message in [
        ("not json", "anchor.json"),
        ('{"format": "other"}', "Not an audit anchor"),
        ('{"format": "stepwise-audit-anchor/1", "chains": [{"chain": 0}]}', "lacks"),
    ]:
        path.write_text(text)
        with pytest.raises(CommandError, match=message):
            call_command("audit_verify", "--anchor", str(path), stdout=StringIO())
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("audit_verify", "--anchor", str(tmp_path / "missing.json"))
    with pytest.raises(ValueError, match="Not an audit anchor"):
        load_anchor([])


def test_the_audit_page_shows_and_filters_the_data_class(cast):
    client = cast.client_for("director")
    html = client.get("/audit/?class=part2").content.decode()
    assert 'id="f-class"' in html and '<option value="part2" selected>' in html
    assert "<strong>Part 2</strong>" in html  # the cast's registrations
    html = client.get("/audit/?class=account").content.decode()
    assert "<strong>Part 2</strong>" not in html
    assert client.get("/audit/?sort=-class").status_code == 200


def test_a_client_does_not_choose_its_request_id_unless_a_proxy_is_trusted(cast, settings):
    client = cast.client_for("owner")
    chosen = "chosen-by-the-client-0001"
    response = client.get("/", HTTP_X_REQUEST_ID=chosen)
    assert response["X-Request-ID"] != chosen
    settings.TRUST_REQUEST_ID = True
    assert client.get("/", HTTP_X_REQUEST_ID=chosen)["X-Request-ID"] == chosen
