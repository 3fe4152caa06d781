"""What the released PDF says: the notice on every page, the long notice, the consent."""

from __future__ import annotations

from django.utils import timezone

from stepwise.care.exits import prepare_exit
from stepwise.care.services import episode_admit, stay_transition
from stepwise.core.tests.pdftext import pages_text, squash
from stepwise.privacy import rules
from stepwise.privacy.notice import VERSION_1
from stepwise.privacy.services import consent_reconfirm
from stepwise.privacy.tests.factories import release, signed_consent

SHORT = squash(VERSION_1["short_text"])


def test_chart_summary_carries_notice_summary_and_consent(cast):
    owner = cast.actors["owner"]
    episode = episode_admit(owner, cast.patient, cast.detox)
    prepare_exit(owner, episode, cast.detox, timezone.now(), ends_episode=False)
    stay_transition(
        owner, episode, cast.residential, kind="step_down", reason="Withdrawal resolved"
    )
    consent = signed_consent(cast)
    consent_reconfirm(owner, consent, signer_name="Ana Rivera")
    done = release(cast)
    assert done.document.content.startswith(b"%PDF")
    pages = [squash(p) for p in pages_text(done.document.content)]
    assert len(pages) >= 2
    assert all(SHORT in page for page in pages)
    text = "".join(pages)
    assert squash("Chart summary of Ana Rivera") in text
    assert (
        squash("Detox") in text and squash("Residential") in text and squash("ASAM 3.7-WM") in text
    )
    assert squash(VERSION_1["long_text"]) in text
    for element in (
        "Who may disclose",
        "Right to revoke",
        "Redisclosure statement",
        "Date signed",
        "Re-confirmed",
    ):
        assert squash(element) in text, element
    assert squash(str(done.disclosure.public_id)) in text


def test_emergency_summary_names_the_basis_and_has_no_consent(cast):
    done = release(cast, emergency=rules.EmergencyFacts("County General ER", "Unresponsive"))
    text = "".join(squash(p) for p in pages_text(done.document.content))
    assert squash("Medical emergency (§2.51)") in text and squash("County General ER") in text
    assert squash("Copy of the patient's consent") not in text


def test_unicode_names_print(cast):
    cast.patient.given_name = "Zoë"
    cast.patient.family_name = "Nguyễn"
    cast.patient.save()
    signed_consent(cast)
    text = "".join(pages_text(release(cast).document.content))
    assert "Zoë Nguyễn" in text
