from __future__ import annotations

from typing import Any

import pytest

from stepwise.api.tests.support import Api


@pytest.fixture
def api(cast: Any) -> Api:
    return Api(cast)
