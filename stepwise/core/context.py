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


# Outside a request (management commands, the shell): one id for the whole process.
_PROCESS_CONTEXT = RequestContext(request_id=f"cli-{uuid.uuid4().hex[:16]}", client_address="")


def current_request_context() -> RequestContext:
    ctx = _current.get()
    return _PROCESS_CONTEXT if ctx is None else ctx


def set_request_context(ctx: RequestContext | None) -> contextvars.Token[RequestContext | None]:
    return _current.set(ctx)


def reset_request_context(token: contextvars.Token[RequestContext | None]) -> None:
    _current.reset(token)
