"""Writing and verifying the hash-chained audit log."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from stepwise.core.actor import Actor
from stepwise.core.context import current_request_context
from stepwise.core.models import (
    AuditChainHead,
    AuditEvent,
    AuditOutcome,
    DataClass,
    data_class_for,
)

GENESIS_HASH = "0" * 64
MAX_CHAINS = 64
ANCHOR_FORMAT = "stepwise-audit-anchor/1"

# The fields that enter a row's hash, per hash version. A row keeps the version it
# was written with, so rows from before a change still verify.
_HASHED_FIELDS_V1 = (
    "chain",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_role",
    "organization_id",
    "patient_public_id",
    "action",
    "category",
    "object_type",
    "object_id",
    "outcome",
    "request_id",
    "client_address",
    "detail",
)
HASHED_FIELDS: dict[int, tuple[str, ...]] = {
    1: _HASHED_FIELDS_V1,
    # Version 2 adds the data class; the version itself is hashed so a row cannot
    # be passed off as an older format that leaves the class out.
    2: (*_HASHED_FIELDS_V1, "hash_version", "data_class"),
}
HASH_VERSION = max(HASHED_FIELDS)


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def canonical_content(event: AuditEvent) -> str:
    fields = HASHED_FIELDS[event.hash_version]
    data = {name: _canonical_value(getattr(event, name)) for name in fields}
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def link_hash(prev_hash: str, content: str) -> str:
    key = settings.AUDIT_HMAC_KEY.encode()
    return hmac.new(key, (prev_hash + content).encode(), hashlib.sha256).hexdigest()


def _chain_count() -> int:
    return max(1, min(int(settings.AUDIT_CHAIN_COUNT), MAX_CHAINS))


def chain_for_request(request_id: str) -> int:
    """Requests spread evenly over the chains; all rows of one request share a chain,
    so a transaction never holds two chain heads (no lock-order deadlock)."""
    digest = hashlib.sha256(request_id.encode()).digest()
    return int.from_bytes(digest[:4], "big") % _chain_count()


def audit_record(
    *,
    action: str,
    actor: Actor | None = None,
    actor_id: int | None = None,
    actor_username: str = "",
    organization_id: int | None = None,
    patient_public_id: uuid.UUID | None = None,
    category: str = "",
    object_type: str = "",
    object_id: str | int | uuid.UUID = "",
    outcome: str = AuditOutcome.SUCCESS,
    detail: dict[str, Any] | None = None,
    data_class: str | None = None,
) -> AuditEvent | None:
    """Append one audit row, linked into a hash chain, in the caller's transaction.

    Called last in a service, so the chain head's row lock is held only for
    the final insert and commit of the transaction. `data_class` defaults to the
    class of `category` (stepwise.core.models.CATEGORY_DATA_CLASS).
    """
    if not settings.AUDIT_ENABLED:
        return None
    if data_class is None:
        data_class = data_class_for(category, patient_public_id)
    elif data_class not in DataClass.values:
        raise ValueError(f"Unknown audit data class {data_class!r}.")
    ctx = current_request_context()
    event = AuditEvent(
        occurred_at=timezone.now(),
        actor_id=actor.user_id if actor else actor_id,
        actor_username=actor.username if actor else actor_username,
        actor_role=actor.role if actor else "",
        organization_id=actor.organization_id if actor else organization_id,
        patient_public_id=patient_public_id,
        action=str(action),
        category=category,
        object_type=object_type,
        object_id=str(object_id) if object_id else "",
        outcome=str(outcome),
        request_id=ctx.request_id,
        client_address=ctx.client_address,
        detail=detail or {},
        data_class=str(data_class),
        hash_version=HASH_VERSION,
    )
    with transaction.atomic():
        chain = chain_for_request(ctx.request_id)
        head = AuditChainHead.objects.select_for_update().get(chain=chain)
        event.chain = chain
        event.seq = head.seq + 1
        event.prev_hash = head.last_hash
        event.hash = link_hash(head.last_hash, canonical_content(event))
        event.save()
        head.seq = event.seq
        head.last_hash = event.hash
        head.save(update_fields=["seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainBreak:
    chain: int
    event_id: int | None
    seq: int | None
    reason: str

    def __str__(self) -> str:
        where = f"row id {self.event_id} (chain {self.chain}, seq {self.seq})"
        if self.event_id is None:
            where = f"chain {self.chain} head"
        return f"{where}: {self.reason}"


@dataclass(frozen=True)
class AnchorPoint:
    """The last link of one chain as exported at some time, kept outside the database."""

    chain: int
    seq: int
    hash: str


def _events_of_chain(chain: int) -> Iterator[AuditEvent]:
    return AuditEvent.objects.filter(chain=chain).order_by("seq", "id").iterator(chunk_size=2000)


def audit_verify(anchors: dict[int, AnchorPoint] | None = None) -> list[ChainBreak]:
    """Recompute every chain; return the first break of each broken chain.

    With `anchors` (from `load_anchor`), each anchored row must also still be
    there with its anchored hash: this catches a chain rewritten or cut back by
    someone who holds the HMAC key, which the hashes alone cannot.
    """
    anchors = anchors or {}
    breaks: list[ChainBreak] = []
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    chains = set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    for chain in sorted(chains | set(anchors)):
        found = _verify_chain(chain, heads.get(chain), anchors.get(chain))
        if found:
            breaks.append(found)
    return breaks


def _verify_row(event: AuditEvent, prev_hash: str, prev_version: int) -> str | None:
    """Why this row does not belong where it is in its chain (None if it does)."""
    if event.prev_hash != prev_hash:
        return "previous-hash link does not match"
    if event.hash_version not in HASHED_FIELDS:
        return f"unknown hash version {event.hash_version} (row edited)"
    if event.hash_version < prev_version:
        return "hash version older than the row before (row rewritten in an older format)"
    if event.hash_version < 2 and event.data_class:
        return "data class set on a row written before data classes (row edited)"
    if not hmac.compare_digest(event.hash, link_hash(prev_hash, canonical_content(event))):
        return "content does not match its hash (row edited)"
    return None


def _verify_chain(
    chain: int, head: AuditChainHead | None, anchor: AnchorPoint | None = None
) -> ChainBreak | None:
    prev_hash = GENESIS_HASH
    prev_version = 1
    expected_seq = 1
    for event in _events_of_chain(chain):
        if event.seq != expected_seq:
            reason = f"expected sequence {expected_seq}, found {event.seq} (a row is missing or was inserted)"
            return ChainBreak(chain, event.pk, event.seq, reason)
        problem = _verify_row(event, prev_hash, prev_version)
        if problem:
            return ChainBreak(chain, event.pk, event.seq, problem)
        if anchor and event.seq == anchor.seq and not hmac.compare_digest(event.hash, anchor.hash):
            reason = "hash differs from the anchor (the chain was rewritten up to here)"
            return ChainBreak(chain, event.pk, event.seq, reason)
        prev_hash = event.hash
        prev_version = event.hash_version
        expected_seq += 1
    last_seq = expected_seq - 1
    if anchor and last_seq < anchor.seq:
        reason = f"chain ends at seq {last_seq}, before its anchored row at seq {anchor.seq} (rows removed)"
        return ChainBreak(chain, None, None, reason)
    if head is None:
        if last_seq:
            return ChainBreak(chain, None, None, "chain has rows but no head")
        return None
    if head.seq != last_seq or head.last_hash != prev_hash:
        return ChainBreak(
            chain,
            None,
            None,
            f"head says {head.seq} rows, found {last_seq} (rows removed from the end)",
        )
    return None


def audit_anchor(now: datetime | None = None) -> dict[str, Any]:
    """The last hash of every chain with its row count, as JSON-ready data.

    Kept outside the database (another machine, a ticket, paper), it lets
    `audit_verify --anchor` prove that nothing up to these rows was rewritten or
    cut away, even by someone who holds the HMAC key.
    """
    chains = []
    for head in AuditChainHead.objects.filter(seq__gt=0).order_by("chain"):
        last = AuditEvent.objects.filter(chain=head.chain, seq=head.seq).first()
        if last is None or last.hash != head.last_hash:
            raise ValueError(
                f"Audit chain {head.chain}: its head and its rows disagree; run `stepwise audit_verify`."
            )
        chains.append(
            {
                "chain": head.chain,
                "rows": head.seq,
                "seq": head.seq,
                "hash": head.last_hash,
                "event_id": last.pk,
                "occurred_at": _canonical_value(last.occurred_at),
            }
        )
    return {
        "format": ANCHOR_FORMAT,
        "anchored_at": _canonical_value(now or timezone.now()),
        "rows": sum(c["rows"] for c in chains),
        "chains": chains,
    }


def load_anchor(data: Any) -> dict[int, AnchorPoint]:
    """Anchor points from the parsed JSON of `audit_anchor`; ValueError names what is wrong."""
    if not isinstance(data, dict) or data.get("format") != ANCHOR_FORMAT:
        raise ValueError(f"Not an audit anchor (expected format {ANCHOR_FORMAT!r}).")
    points: dict[int, AnchorPoint] = {}
    for entry in data.get("chains", []):
        try:
            point = AnchorPoint(
                chain=int(entry["chain"]), seq=int(entry["seq"]), hash=str(entry["hash"])
            )
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"Anchor entry {entry!r} lacks chain, seq or hash.") from None
        points[point.chain] = point
    return points
