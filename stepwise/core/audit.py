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
from stepwise.core.models import AuditChainHead, AuditEvent, AuditOutcome

GENESIS_HASH = "0" * 64
MAX_CHAINS = 64

# The fields that enter a row's hash, in a fixed order.
HASHED_FIELDS = (
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


def _canonical_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def canonical_content(event: AuditEvent) -> str:
    data = {name: _canonical_value(getattr(event, name)) for name in HASHED_FIELDS}
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
) -> AuditEvent | None:
    """Append one audit row, linked into a hash chain, in the caller's transaction.

    Called last in a service, so the chain head's row lock is held only for
    the final insert and commit of the transaction.
    """
    if not settings.AUDIT_ENABLED:
        return None
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


def _events_of_chain(chain: int) -> Iterator[AuditEvent]:
    return AuditEvent.objects.filter(chain=chain).order_by("seq", "id").iterator(chunk_size=2000)


def audit_verify() -> list[ChainBreak]:
    """Recompute every chain; return the first break of each broken chain."""
    breaks: list[ChainBreak] = []
    heads = {h.chain: h for h in AuditChainHead.objects.all()}
    chains = set(heads) | set(AuditEvent.objects.values_list("chain", flat=True).distinct())
    for chain in sorted(chains):
        found = _verify_chain(chain, heads.get(chain))
        if found:
            breaks.append(found)
    return breaks


def _verify_chain(chain: int, head: AuditChainHead | None) -> ChainBreak | None:
    prev_hash = GENESIS_HASH
    expected_seq = 1
    for event in _events_of_chain(chain):
        if event.seq != expected_seq:
            reason = f"expected sequence {expected_seq}, found {event.seq} (a row is missing or was inserted)"
            return ChainBreak(chain, event.pk, event.seq, reason)
        if event.prev_hash != prev_hash:
            return ChainBreak(chain, event.pk, event.seq, "previous-hash link does not match")
        if not hmac.compare_digest(event.hash, link_hash(prev_hash, canonical_content(event))):
            return ChainBreak(
                chain, event.pk, event.seq, "content does not match its hash (row edited)"
            )
        prev_hash = event.hash
        expected_seq += 1
    last_seq = expected_seq - 1
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
