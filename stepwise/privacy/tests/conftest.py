import pytest

from stepwise.core import pdf


@pytest.fixture(autouse=True)
def _readable_pdfs(monkeypatch):
    # Uncompressed streams, so the tests can read the released text back.
    monkeypatch.setattr(pdf, "COMPRESS", False)
