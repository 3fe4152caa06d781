from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from stepwise.core import pdf
from stepwise.notes.tests.support import GROUP_DAY, Group, group_with_attendance
from stepwise.scheduling.tests.support import at


@pytest.fixture(autouse=True)
def _evening_of_the_group() -> Iterator[None]:
    """Every notes test runs on the evening of the group, just after it ended."""
    with time_machine.travel(at(GROUP_DAY, 21, 30), tick=True):
        yield


@pytest.fixture(autouse=True)
def _readable_pdfs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf, "COMPRESS", False)


@pytest.fixture
def group(cast: Any) -> Group:
    return group_with_attendance(cast)
