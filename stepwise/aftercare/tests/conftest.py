from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from stepwise.core import pdf

# Instants at which counting days in 24-hour steps, or by UTC's date, gives another
# day than the cast facility's calendar (New York).
AWKWARD = {
    "now": None,
    # 23:30 EST, nine days after the clocks went back: 20 x 24 hours is 19 days.
    "2330-after-fall-back": datetime(2026, 11, 10, 4, 30, tzinfo=UTC),
    # 00:30 EDT, six days after the clocks went forward: 20 x 24 hours is 21 days.
    "0030-after-spring-forward": datetime(2027, 3, 20, 4, 30, tzinfo=UTC),
    # 23:30 EDT on a summer evening: already tomorrow in UTC.
    "2330-summer-evening": datetime(2027, 7, 16, 3, 30, tzinfo=UTC),
}


@pytest.fixture(autouse=True)
def _readable_pdfs(monkeypatch: Any) -> None:
    """Uncompressed, so the tests can read the printed copy back."""
    monkeypatch.setattr(pdf, "COMPRESS", False)


@pytest.fixture(params=list(AWKWARD))
def clock(request: Any) -> Iterator[datetime]:
    """The test runs now and at each awkward instant; ask for it before `cast`, so the
    cast is made at that instant too."""
    at = AWKWARD[request.param]
    if at is None:
        yield timezone.now()
        return
    with time_machine.travel(at, tick=False):
        yield at
