"""Per-request facts (request id, client address) that audit rows carry.

Set by RequestIdMiddleware; services read them without taking the request.
"""

from __future__ import annotations

import contextvars
import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    client_address: str


_current: contextvars.ContextVar[RequestContext | None] = contextvars.ContextVar(
    "stepwise_request_context", default=None
)


def current_request_context() -> RequestContext:
    ctx = _current.get()
    if ctx is None:
        # Management commands and tests: a fresh id per write, no client address.
        return RequestContext(request_id=f"cli-{uuid.uuid4().hex[:16]}", client_address="")
    return ctx


def set_request_context(ctx: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    return _current.set(ctx)


def reset_request_context(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)
