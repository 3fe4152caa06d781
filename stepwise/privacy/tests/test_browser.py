"""42 CFR Part 2 end to end in a real Chromium against the live server: the counselor
records and the patient signs a consent, the counselor releases a chart summary (a
PDF download) that the privacy officer then finds in the accounting of disclosures,
a revoked consent stops the next release, and a release for a proceeding against
the patient needs a court order. No page may log a console error (a CSP violation
is one) or show the patient on a refusal."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from conftest import PASSWORD, Cast
from stepwise.care.tests.browser import CHROMIUM, MISSING_CHROMIUM
from stepwise.core.models import AuditEvent
from stepwise.core.tests.pdftext import pages_text, squash
from stepwise.privacy.models import Consent, Disclosure
from stepwise.privacy.services import Signature, consent_create, consent_sign
from stepwise.privacy.tests.browser_support import (
    Person,
    assert_refused,
    downloaded_bytes,
    person_at,
)
from stepwise.privacy.tests.factories import specific_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=MISSING_CHROMIUM),
]

CLINIC = "Main Street Family Clinic"
CLINIC_ADDRESS = "400 Main Street, Springfield"
DEMOGRAPHICS = "Demographics and identity"
EPISODES = "Episodes of treatment and levels of care, with dates"
TREATING = "Treating provider or medical personnel"


@pytest.fixture
def live_cast(live_db: None, django_user_model: Any) -> Cast:
    return Cast(django_user_model)


@pytest.fixture
def counselor(chromium: Browser, live_server: Any, live_cast: Cast) -> Iterator[Person]:
    with person_at(chromium, live_server.url) as person:
        person.sign_in("owner", PASSWORD)
        yield person


@pytest.fixture
def privacy_officer(chromium: Browser, live_server: Any, live_cast: Cast) -> Iterator[Person]:
    """Signs in when the test first needs them, after the counselor's work."""
    with person_at(chromium, live_server.url) as person:
        yield person


def signed_consent_for_the_clinic(cast: Cast) -> Consent:
    """The consent journey (a) ends with, made through the services."""
    owner = cast.actors["owner"]
    draft = consent_create(owner, cast.patient, specific_data(recipient_names=[CLINIC]))
    return consent_sign(owner, draft, Signature("patient", "Ana Rivera", attested=True))


def open_consents(person: Person) -> None:
    """From the patient list to the chart, then to the consents."""
    page = person.page
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.locator("#results").get_by_role("link", name="Rivera, Ana").click()
    expect(page.get_by_role("heading", name="Ana Rivera", level=1)).to_be_visible()
    page.get_by_role("link", name="Consents and disclosures").click()
    expect(page.get_by_role("heading", name="Consents", exact=True)).to_be_visible()


def open_release_form(person: Person) -> None:
    open_consents(person)
    person.page.get_by_role("navigation", name="Consents and disclosures").get_by_role(
        "link", name="Release information"
    ).click()
    expect(person.page.get_by_role("heading", name="Release of information")).to_be_visible()


def fill_release(
    person: Person, *, purpose: str = "Treatment", kind: str = TREATING, recipient: str = CLINIC
) -> None:
    page = person.page
    page.get_by_role("combobox", name="Recipient", exact=True).fill(recipient)
    page.get_by_label("Recipient's address").fill(CLINIC_ADDRESS)
    page.get_by_label("Kind of recipient").select_option(label=kind)
    page.get_by_role("combobox", name="Purpose", exact=True).select_option(label=purpose)
    page.get_by_label("Purpose in words").fill("Coordinating buprenorphine care with the PCP.")
    what = page.get_by_role("group", name="Information to release")
    what.get_by_label(DEMOGRAPHICS).check()
    what.get_by_label(EPISODES).check()


def test_counselor_records_a_consent_the_patient_reads_and_signs(
    counselor: Person, live_cast: Cast
) -> None:
    page = counselor.page
    open_consents(counselor)
    expect(page.locator("table tbody")).to_contain_text("No consent on file.")
    page.get_by_role("link", name="New consent").click()
    expect(page.get_by_role("heading", name="New consent")).to_be_visible()

    page.get_by_role("group", name="Kind of consent").get_by_label("Specific recipient").check()
    page.get_by_label("Who may disclose").fill("Riverside Recovery, Main")
    what = page.get_by_role("group", name="Information that may be disclosed")
    what.get_by_label(DEMOGRAPHICS).check()
    what.get_by_label(EPISODES).check()
    page.get_by_label("Description of the information").fill(
        "Dates of treatment and levels of care for opioid use disorder."
    )
    page.get_by_label("Recipients by name").fill(CLINIC)
    page.get_by_label("Recipients described in words").fill("")
    page.get_by_role("group", name="Purpose", exact=True).get_by_label(
        "Treatment", exact=True
    ).check()
    page.get_by_label("Purpose in words").fill("Primary care alongside addiction treatment.")
    expires = timezone.localdate() + timedelta(days=365)
    page.get_by_label("Expires on").fill(expires.isoformat())
    page.get_by_role("button", name="Draft the consent and show the summary").click()

    # The draft: its plain-language summary first, then the place to sign.
    expect(page.get_by_role("status")).to_contain_text("Read the summary with the patient")
    heading = page.get_by_role("heading", level=2)
    expect(heading).to_contain_text("Specific recipient consent")
    expect(heading.locator(".badge")).to_have_text("draft")
    summary = page.get_by_role("region", name="In plain words")
    expect(summary).to_contain_text(
        "Ana Rivera, this consent lets Riverside Recovery, Main share information"
    )
    expect(summary).to_contain_text(
        "What may be shared: demographics and identity; "
        "episodes of treatment and levels of care, with dates."
    )
    expect(summary).to_contain_text(f"Who may receive it: {CLINIC}.")
    expect(summary).to_contain_text("Why: treatment; Primary care alongside addiction treatment.")
    expect(summary).to_contain_text("You may revoke this consent at any time, in writing")
    expect(summary).to_contain_text("Your treatment does not depend on signing this consent")
    sign = page.get_by_role("region", name="Sign", exact=True)
    above, below = summary.bounding_box(), sign.bounding_box()
    assert above is not None and below is not None and above["y"] < below["y"]
    consent = Consent.objects.get(patient=live_cast.patient)
    assert consent.signed_at is None

    # Typing the name is not enough: the patient also attests that it is their signature.
    expect(sign.get_by_label("The patient")).to_be_checked()
    sign.get_by_label("Full name, typed by the signer").fill("Ana Rivera")
    expect(sign.get_by_role("combobox", name="Signature")).to_have_value("electronic")
    sign.get_by_role("button", name="Sign the consent").click()
    attested = page.get_by_role("checkbox", name="typing my name here is my signature")
    expect(attested).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".field.has-error .error")).to_have_text(
        "The signer must confirm that typing their name is their signature and that "
        "they read (or had read to them) the summary."
    )
    consent.refresh_from_db()
    assert consent.signed_at is None

    attested.check()
    page.get_by_role("button", name="Sign the consent").click()
    expect(page.get_by_role("status")).to_contain_text("Consent signed. It is active now.")
    expect(page.get_by_role("heading", level=2).locator(".badge")).to_have_text("active")
    elements = page.get_by_role("region", name="The consent, element by element")
    expect(elements).to_contain_text(
        "Ana Rivera — The patient, electronic (typed name and attestation)"
    )
    expect(elements).to_contain_text("recorded by Owner")
    expect(page.get_by_role("region", name="Sign", exact=True)).to_have_count(0)

    page.get_by_role("navigation", name="Consents and disclosures").get_by_role(
        "link", name="Consents"
    ).click()
    row = page.locator("table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(CLINIC)
    expect(row).to_contain_text(f"{DEMOGRAPHICS}; {EPISODES}")
    expect(row.locator(".badge")).to_have_text("active")
    # The refused signature's 422.
    counselor.watch.assert_clean(error_statuses=1)

    consent.refresh_from_db()
    assert consent.signed_at is not None and consent.signature_attested
    assert (consent.signer, consent.signer_name, consent.signature_method) == (
        "patient",
        "Ana Rivera",
        "electronic",
    )
    assert consent.recipient_names == [CLINIC] and consent.purposes == ["treatment"]
    assert consent.expires_on == expires


def test_release_downloads_a_pdf_the_privacy_officer_finds_in_the_accounting(
    counselor: Person, privacy_officer: Person, live_cast: Cast
) -> None:
    signed_consent_for_the_clinic(live_cast)
    page = counselor.page
    open_release_form(counselor)
    fill_release(counselor)
    with page.expect_download() as started:
        page.get_by_role("button", name="Check and release the PDF").click()
    released = downloaded_bytes(started.value)
    assert released.startswith(b"%PDF")
    assert started.value.suggested_filename.endswith(".pdf")
    disclosure = Disclosure.objects.get(patient=live_cast.patient)
    assert disclosure.recipient_name == CLINIC and disclosure.basis == "consent"
    assert hashlib.sha256(released).hexdigest() == disclosure.document_sha256
    text = squash(" ".join(pages_text(released)))
    assert squash(CLINIC) in text and squash("Rivera") in text
    # The form stays as it was; nothing refused.
    expect(page.get_by_role("heading", name="Release of information")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_count(0)

    # The counselor releases, but the accounting is the privacy officer's.
    accounting = f"/privacy/patients/{live_cast.patient.public_id}/accounting/"
    refused = page.goto(counselor.url(accounting))
    assert_refused(refused, 403, page, live_cast.patient)
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    counselor.watch.assert_clean(error_statuses=1)

    officer = privacy_officer
    officer.sign_in("readonly", PASSWORD)
    open_consents(officer)
    officer.page.get_by_role("navigation", name="Consents and disclosures").get_by_role(
        "link", name="Accounting of disclosures"
    ).click()
    expect(officer.page.get_by_role("heading", name="Accounting of disclosures")).to_be_visible()
    rows = officer.page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    cells = rows.first.locator("td")
    day = timezone.localtime(disclosure.disclosed_at).date().isoformat()
    expect(cells.nth(0)).to_have_text(day)
    expect(cells.nth(1)).to_contain_text(CLINIC)
    expect(cells.nth(1).locator("small")).to_have_text(CLINIC_ADDRESS)
    expect(cells.nth(2)).to_have_text(f"{DEMOGRAPHICS}; {EPISODES}")
    expect(cells.nth(3)).to_have_text("Treatment: Coordinating buprenorphine care with the PCP.")
    expect(cells.nth(4)).to_have_text("Patient consent (§2.31)")
    expect(cells.nth(5)).to_have_text("Owner")

    with officer.page.expect_download() as printed:
        officer.page.get_by_role("link", name="Print for the patient (PDF)").click()
    accounting_pdf = downloaded_bytes(printed.value)
    assert accounting_pdf.startswith(b"%PDF")
    listed = squash(" ".join(pages_text(accounting_pdf)))
    assert squash(CLINIC) in listed and day in listed
    officer.watch.assert_clean()
    assert len(counselor.downloads) == 1 and len(officer.downloads) == 1


def test_a_revoked_consent_stops_the_next_release(counselor: Person, live_cast: Cast) -> None:
    signed_consent_for_the_clinic(live_cast)
    page = counselor.page
    open_consents(counselor)
    page.locator("table tbody").get_by_role("link", name="Specific recipient").click()
    expect(page.get_by_role("heading", level=2).locator(".badge")).to_have_text("active")
    revoke = page.get_by_role("region", name="Revoke")
    revoke.get_by_label("Written revocation received as").select_option(label="Signed letter")
    # By its place, not its label: see test_each_form_on_the_consent_page_labels_its_own_note.
    revoke.locator("textarea").fill("Letter handed to the front desk.")
    revoke.get_by_role("button", name="Record the revocation").click()
    expect(page.get_by_role("status")).to_contain_text(
        "Revocation recorded. No further disclosure under this consent."
    )
    expect(page.get_by_role("heading", level=2).locator(".badge")).to_have_text("revoked")
    expect(page.get_by_role("region", name="The consent, element by element")).to_contain_text(
        "signed letter; recorded by Owner. Letter handed to the front desk."
    )
    expect(page.get_by_role("region", name="Revoke")).to_have_count(0)
    revoked_on = Consent.objects.get().revoked_at
    assert revoked_on is not None

    page.get_by_role("navigation", name="Consents and disclosures").get_by_role(
        "link", name="Release information"
    ).click()
    fill_release(counselor)
    with page.expect_response("**/release/") as answered:
        page.get_by_role("button", name="Check and release the PDF").click()
    assert answered.value.status == 409
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Not released.")
    expect(refusal).to_contain_text(
        f"The patient revoked the consent naming {CLINIC} on {revoked_on:%Y-%m-%d}. "
        "A revocation stops every later disclosure."
    )
    expect(refusal).to_contain_text("This refusal has been recorded.")
    # What was typed stays, to correct or to keep as the record of the attempt.
    expect(page.get_by_role("combobox", name="Recipient", exact=True)).to_have_value(CLINIC)
    assert counselor.downloads == []
    assert not Disclosure.objects.exists()
    assert AuditEvent.objects.filter(
        action="disclosure_refused", actor_username="owner", outcome="denied"
    ).exists()
    counselor.watch.assert_clean(error_statuses=1)


def test_a_release_for_a_proceeding_against_the_patient_needs_a_court_order(
    counselor: Person, live_cast: Cast
) -> None:
    # Even with an active consent naming the recipient.
    signed_consent_for_the_clinic(live_cast)
    page = counselor.page
    open_release_form(counselor)
    fill_release(
        counselor,
        purpose="Legal proceeding against the patient",
        kind="Court, probation, parole or other criminal-justice agency",
    )
    expect(page.get_by_label("Court order reference (§2.64 / §2.65)")).to_have_value("")
    with page.expect_response("**/release/") as answered:
        page.get_by_role("button", name="Check and release the PDF").click()
    assert answered.value.status == 409
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text(
        "Records may not be used in a civil, criminal, administrative or legislative "
        "proceeding against the patient without a court order under 42 CFR §2.64 or §2.65. "
        "The patient's consent or a subpoena alone is not enough. Attach the court order."
    )
    expect(page.get_by_role("combobox", name="Purpose", exact=True)).to_have_value(
        "legal_proceeding"
    )
    assert counselor.downloads == []
    assert not Disclosure.objects.exists()

    # Someone outside the care team learns nothing of the patient from these pages.
    assert_shows_nothing_of_the_patient_to_a_colleague(counselor, live_cast)
    counselor.watch.assert_clean(error_statuses=2)


def test_each_form_on_the_consent_page_labels_its_own_note(
    counselor: Person, live_cast: Cast
) -> None:
    consent = signed_consent_for_the_clinic(live_cast)
    page = counselor.page
    page.goto(
        counselor.url(
            f"/privacy/patients/{live_cast.patient.public_id}/consents/{consent.public_id}/"
        )
    )
    expect(page.get_by_role("region", name="Revoke")).to_be_visible()
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map((e) => e.id)")
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    revoke = page.get_by_role("region", name="Revoke")
    revoke.get_by_text("Note", exact=True).click()
    expect(revoke.get_by_role("textbox", name="Note")).to_be_focused()
    counselor.watch.assert_clean()


def assert_shows_nothing_of_the_patient_to_a_colleague(person: Person, cast: Cast) -> None:
    """The nurse outside the care team, on the same workstation after the counselor."""
    page = person.page
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/login/")
    person.sign_in("colleague", PASSWORD)
    refused = page.goto(person.url(f"/privacy/patients/{cast.patient.public_id}/release/"))
    assert_refused(refused, 403, page, cast.patient)
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
