"""What the privacy, emergency-access and two-factor browser journeys share: one
Chromium per module, one fresh profile per person, the downloads a page starts,
and the check that a refusal page shows nothing of the patient."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Download, Page, Response, expect

from stepwise.care.tests.browser import Browse, Watch
from stepwise.patients.models import Patient


@dataclass
class Person(Browse):
    """One member of staff at their own browser: its page, what it watched, and every
    file it downloaded."""

    downloads: list[Download] = field(default_factory=list)


@contextmanager
def person_at(chromium: Browser, base_url: str) -> Iterator[Person]:
    """A fresh browser profile (no cookies), as on another workstation."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(5_000)
    page = context.new_page()
    watch = Watch(origin=base_url)
    watch.attach(page)
    person = Person(page=page, watch=watch, base_url=base_url)
    page.on("download", lambda download: person.downloads.append(download))
    try:
        yield person
    finally:
        context.close()


def downloaded_bytes(download: Download) -> bytes:
    path = download.path()
    assert path is not None, download.failure()
    return Path(path).read_bytes()


def assert_shows_nothing_of(page: Page, patient: Patient) -> None:
    """A refusal says only that access is refused: no name, record number or birth date,
    neither in the page nor in its title."""
    body = page.locator("body")
    for secret in (
        patient.given_name,
        patient.family_name,
        patient.mrn,
        patient.date_of_birth.isoformat(),
    ):
        expect(body).not_to_contain_text(secret)
        assert secret not in page.title()
    # Nor hidden in the markup (attributes, hidden elements).
    html = page.content()
    for secret in (
        patient.mrn,
        patient.display_name,
        f"{patient.family_name}, {patient.given_name}",
    ):
        assert secret not in html


def assert_refused(response: Response | None, status: int, page: Page, patient: Patient) -> None:
    assert response is not None
    assert response.status == status
    assert_shows_nothing_of(page, patient)
