from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from stepwise.care.models import Episode
from stepwise.plans.tests.support import TODAY, admitted, at


@pytest.fixture(autouse=True)
def _afternoon_of_today() -> Iterator[None]:
    """Every plan test runs on the afternoon of TODAY in the facility's zone."""
    with time_machine.travel(at(TODAY, 15), tick=True):
        yield


@pytest.fixture
def episode(cast: Any) -> Episode:
    """The cast's patient, admitted to the evening IOP a week ago."""
    return admitted(cast)
