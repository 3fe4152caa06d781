from __future__ import annotations

from typing import Any

import pytest

from stepwise.core import pdf


@pytest.fixture(autouse=True)
def _readable_pdfs(monkeypatch: Any) -> None:
    """Uncompressed, so the tests can read the printed copy back."""
    monkeypatch.setattr(pdf, "COMPRESS", False)
