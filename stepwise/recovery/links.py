"""Where the work of a response item is done, when another app holds it (the plan
review lives with the treatment plan). Apps above register a link when they load."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stepwise.recovery.models import RelapseEvent

ResponseLink = Callable[["RelapseEvent"], str]
_LINKS: dict[str, ResponseLink] = {}


def register_response_link(item: str, link: ResponseLink) -> None:
    _LINKS[item] = link


def response_link(item: str, event: RelapseEvent) -> str:
    link = _LINKS.get(item)
    return link(event) if link else ""
