"""Every privacy page for every member of the cast, the release flow, and query counts."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from stepwise.core.models import AuditEvent
from stepwise.core.tests.pdftext import pages_text, squash
from stepwise.privacy import rules
from stepwise.privacy.models import Consent, Disclosure
from stepwise.privacy.services import consent_reconfirm
from stepwise.privacy.tests.factories import CLINIC, release, signed_consent


def routes(cast, consent: Consent, disclosure: Disclosure) -> dict[str, str]:
    base = f"/privacy/patients/{cast.patient.public_id}/"
    return {
        "consents": f"{base}consents/",
        "consent_new": f"{base}consents/new/",
        "consent": f"{base}consents/{consent.public_id}/",
        "release": f"{base}release/",
        "emergency": f"{base}emergency/",
        "accounting": f"{base}accounting/",
        "accounting_pdf": f"{base}accounting.pdf",
        "review_queue": "/privacy/review/",
    }


ALL = [
    "consents",
    "consent_new",
    "consent",
    "release",
    "emergency",
    "accounting",
    "accounting_pdf",
    "review_queue",
]
EXPECTED = {
    # The counselor on the care team: consents and releases, not the accounting.
    "owner": dict.fromkeys(ALL, 200)
    | {"accounting": 403, "accounting_pdf": 403, "review_queue": 403},
    # A nurse of the same program, not on the care team.
    "colleague": dict.fromkeys(ALL, 403),
    "readonly": dict.fromkeys(ALL, 200),
    "admin": dict.fromkeys(ALL, 403),
    "director": dict.fromkeys(ALL, 200),
    # Another organization never learns the patient exists; its own queue is empty.
    "outsider": dict.fromkeys(ALL, 404) | {"review_queue": 200},
}


def _world(cast: Any) -> tuple[Consent, Disclosure]:
    consent = signed_consent(cast)
    disclosure = release(cast, emergency=rules.EmergencyFacts("County ER", "Overdose")).disclosure
    return consent, disclosure


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_route_for_every_member_of_the_cast(cast, who):
    urls = routes(cast, *_world(cast))
    client = cast.client_for(who)
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == EXPECTED[who][name], (who, name)
        if response.status_code in (403, 404):
            assert b"Rivera" not in response.content and b"RR-1" not in response.content, (
                who,
                name,
            )
    if who == "outsider":
        assert b"Rivera" not in client.get(urls["review_queue"]).content


def test_writes_are_refused_to_the_wrong_roles(cast):
    consent, disclosure = _world(cast)
    urls = routes(cast, consent, disclosure)
    for who, status in [("admin", 403), ("colleague", 403), ("outsider", 404)]:
        client = cast.client_for(who)
        assert client.post(urls["consent"] + "revoke/", {"channel": "letter"}).status_code == status
        response = client.post(urls["release"], {"recipient_name": CLINIC})
        assert response.status_code == status and b"Rivera" not in response.content
    assert (
        cast.client_for("owner")
        .post(f"/privacy/review/{disclosure.public_id}/", {"note": "x"})
        .status_code
        == 403
    )
    assert (
        cast.client_for("outsider")
        .post(f"/privacy/review/{disclosure.public_id}/", {"note": "x"})
        .status_code
        == 404
    )
    consent.refresh_from_db()
    assert consent.revoked_at is None


def test_anonymous_visitors_are_sent_to_sign_in(cast):
    for url in routes(cast, *_world(cast)).values():
        response = Client().get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_new_consent_shows_the_summary_then_signs(cast):
    client = cast.client_for("owner")
    base = f"/privacy/patients/{cast.patient.public_id}/consents/"
    response = client.post(f"{base}new/", {"kind": "specific", "categories": ["episodes"]})
    assert response.status_code == 422
    html = response.content.decode()
    assert "names each recipient" in html and "Give an expiration date or event" in html
    response = client.post(
        f"{base}new/",
        {
            "kind": "specific",
            "categories": ["demographics", "episodes"],
            "information_description": "Treatment dates for opioid use disorder",
            "recipient_names": "Dr. Mira Shah",
            "purposes": ["treatment"],
            "expires_on": "2099-01-01",
            "revocation_statement": rules.DEFAULT_REVOCATION_STATEMENT,
            "redisclosure_statement": rules.DEFAULT_REDISCLOSURE_STATEMENT,
        },
    )
    assert response.status_code == 302
    consent = Consent.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert (
        "this consent lets Riverside Recovery and its staff share" in page
        and "Sign the consent" in page
    )
    sign = f"{base}{consent.public_id}/sign/"
    response = client.post(
        sign, {"signer": "patient", "signer_name": "Ana Rivera", "method": "electronic"}
    )
    assert response.status_code == 422 and "must confirm" in response.content.decode()
    response = client.post(
        sign,
        {
            "signer": "patient",
            "signer_name": "Ana Rivera",
            "method": "electronic",
            "attested": "on",
        },
    )
    assert response.status_code == 302
    consent.refresh_from_db()
    assert consent.signed_at and consent.signature_recorded_by == cast.users["owner"]
    assert (
        client.post(
            f"{base}{consent.public_id}/reconfirm/", {"signer_name": "Ana Rivera"}
        ).status_code
        == 302
    )
    assert (
        client.post(f"{base}{consent.public_id}/revoke/", {"channel": "letter"}).status_code == 302
    )
    html = client.get(base).content.decode()
    assert "revoked" in html and "Dr. Mira Shah" in html


def test_release_form_downloads_the_pdf_or_says_why_not(cast):
    client = cast.client_for("owner")
    url = f"/privacy/patients/{cast.patient.public_id}/release/"
    form = {
        "recipient_name": CLINIC,
        "recipient_class": "treating_provider",
        "purpose": "treatment",
        "categories": ["demographics", "episodes"],
    }
    refused = client.post(url, form)
    assert refused.status_code == 409
    assert "No consent on file names Dr. Mira Shah, Eastside Clinic" in refused.content.decode()
    assert AuditEvent.objects.filter(category="disclosures", outcome="denied").count() == 1
    signed_consent(cast)
    assert CLINIC in client.get(url).content.decode()  # suggested from the consents on file
    response = client.post(url, form)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith('attachment; filename="chart-summary-')
    assert "no-store" in response["Cache-Control"]
    text = squash(" ".join(pages_text(response.content)))
    assert (
        squash("42 CFR part 2 prohibits unauthorized use or disclosure of these records.") in text
    )
    legal = client.post(
        url, form | {"purpose": "legal_proceeding", "recipient_class": "criminal_justice"}
    )
    assert legal.status_code == 409 and "court order" in legal.content.decode()


def test_emergency_form_records_and_queues(cast):
    client = cast.client_for("owner")
    url = f"/privacy/patients/{cast.patient.public_id}/emergency/"
    missing = client.post(url, {"recipient_name": "Dr. Lee", "categories": ["demographics"]})
    assert missing.status_code == 422 and "nature of the emergency" in missing.content.decode()
    response = client.post(
        url,
        {
            "recipient_name": "Dr. Lee",
            "recipient_facility": "County ER",
            "nature": "Overdose",
            "categories": ["demographics", "episodes"],
        },
    )
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    disclosure = Disclosure.objects.get()
    queue = cast.client_for("readonly").get("/privacy/review/").content.decode()
    assert "County ER" in queue and "Rivera, Ana" in queue
    done = cast.client_for("readonly").post(
        f"/privacy/review/{disclosure.public_id}/", {"note": "Bona fide."}
    )
    assert done.status_code == 302
    disclosure.refresh_from_db()
    assert disclosure.review_state == "reviewed"


def test_accounting_page_and_pdf(cast):
    signed_consent(cast)
    release(cast, recipient_address="12 Main St")
    client = cast.client_for("director")
    url = f"/privacy/patients/{cast.patient.public_id}/accounting/"
    html = client.get(url).content.decode()
    assert CLINIC in html and "12 Main St" in html and "Treatment" in html
    assert client.get(url, {"since": "2001-01-01"}).status_code == 422
    response = client.get(f"/privacy/patients/{cast.patient.public_id}/accounting.pdf")
    assert response["Content-Type"] == "application/pdf" and "no-store" in response["Cache-Control"]
    text = squash(" ".join(pages_text(response.content)))
    assert squash(CLINIC) in text and squash("Accounting of disclosures for Ana Rivera") in text


def test_list_pages_cost_a_fixed_number_of_queries(cast, django_assert_max_num_queries):
    client = cast.client_for("readonly")
    for _ in range(2):
        signed_consent(cast)
        release(cast)
        release(cast, emergency=rules.EmergencyFacts("ER", "Overdose"))
    base = f"/privacy/patients/{cast.patient.public_id}/"
    budget = {}
    for name, url in [
        ("consents", f"{base}consents/"),
        ("accounting", f"{base}accounting/"),
        ("queue", "/privacy/review/"),
    ]:
        with django_assert_max_num_queries(40) as captured:
            client.get(url)
        budget[name] = len(captured.captured_queries)
    for _ in range(6):
        c = signed_consent(cast)
        consent_reconfirm(cast.actors["owner"], c, signer_name="Ana Rivera")
        release(cast)
        release(cast, emergency=rules.EmergencyFacts("ER", "Overdose"))
    for name, url in [
        ("consents", f"{base}consents/"),
        ("accounting", f"{base}accounting/"),
        ("queue", "/privacy/review/"),
    ]:
        with django_assert_max_num_queries(budget[name]):
            assert client.get(url).status_code == 200


def test_reviewers_see_how_many_releases_and_emergency_accesses_wait(cast):
    from datetime import timedelta

    from django.utils import timezone

    from stepwise.patients.models import BreakGlassAccess

    BreakGlassAccess.objects.create(
        organization=cast.org,
        patient=cast.patient,
        user=cast.users["colleague"],
        reason="Seizure in the waiting room",
        started_at=timezone.now(),
        expires_at=timezone.now() + timedelta(minutes=5),
    )
    page = cast.client_for("readonly").get("/").content.decode()
    assert 'title="1 awaiting review">1</span>' in page
    assert "awaiting review" not in cast.client_for("owner").get("/").content.decode()
