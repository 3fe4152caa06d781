"""The documents a release produces: the chart summary PDF and the accounting PDF."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from stepwise.core.pdf import DocumentPdf
from stepwise.patients.models import Patient
from stepwise.privacy import rules
from stepwise.privacy.models import Consent, Disclosure, DisclosureNotice
from stepwise.privacy.services import ReleasePacket, RenderedDocument
from stepwise.privacy.summary import summary_sections

PDF = "application/pdf"


def _when(at: datetime | None) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC" if at else "—"


def _basis_block(pdf: DocumentPdf, packet: ReleasePacket) -> None:
    basis = rules.Basis(str(packet.decision.basis))
    request = packet.request
    rows = [("Authority for this disclosure", rules.BASIS_LABELS[basis])]
    if basis == rules.Basis.MEDICAL_EMERGENCY and request.emergency:
        rows += [
            ("Recipient's facility", request.emergency.recipient_facility),
            ("Nature of the emergency", request.emergency.nature),
        ]
    if basis == rules.Basis.COURT_ORDER and request.court_order:
        rows += [
            ("Court order", request.court_order.reference),
            ("Court", request.court_order.court),
        ]
    pdf.facts(rows)


def consent_copy(pdf: DocumentPdf, consent: Consent, patient: Patient, at: datetime) -> None:
    """Every §2.31 element of the consent, as the patient signed it."""
    signer = consent.get_signer_display()
    if consent.representative_authority:
        signer += f" ({consent.representative_authority})"
    rows = [
        ("Kind", consent.get_kind_display()),
        ("Patient", patient.display_name),
        ("Who may disclose", consent.disclosing_party),
        ("Information", "; ".join(consent.category_labels)),
        ("Described as", consent.information_description),
        ("Recipients by name", "; ".join(consent.recipient_names)),
        ("Recipients by class", "; ".join(consent.recipient_class_labels)),
        ("Recipients described as", consent.recipient_description),
        ("Purpose", "; ".join(consent.purpose_labels)),
        ("Purpose described as", consent.purpose_description),
        ("Expires on", f"{consent.expires_on:%Y-%m-%d}" if consent.expires_on else ""),
        ("Expires at the event", consent.expiry_event),
        ("Right to revoke", consent.revocation_statement),
    ]
    if consent.redisclosure_statement:
        rows.append(("Redisclosure statement", consent.redisclosure_statement))
    if consent.irrevocable_until:
        rows.append(("Irrevocable until (§2.35)", f"{consent.irrevocable_until:%Y-%m-%d}"))
    rows += [
        ("Signed by", f"{consent.signer_name} — {signer}"),
        ("Signature", consent.get_signature_method_display()),
        ("Date signed", _when(consent.signed_at)),
        ("State at this disclosure", str(consent.state(at))),
    ]
    rows += [
        ("Re-confirmed", f"{_when(r.confirmed_at)} by {r.signer_name}")
        for r in consent.reconfirmations.all()
    ]
    pdf.facts(rows)


def _notice_page(pdf: DocumentPdf, notice: DisclosureNotice) -> None:
    pdf.add_page()
    pdf.heading("Notice to the recipient (42 CFR §2.32)")
    pdf.paragraph(notice.long_text)
    pdf.paragraph(f"Notice version {notice.version}: {notice.citation}.", size=8)


def render_chart_summary(packet: ReleasePacket) -> RenderedDocument:
    """The chart summary released to an outside recipient, with the long notice and
    a copy of the consent (or the emergency or court-order facts) at the end."""
    patient = packet.patient
    request = packet.request
    pdf = DocumentPdf(
        title=f"Chart summary released to {request.recipient_name}",
        footer_notice=packet.notice.short_text,
    )
    pdf.title_block(
        f"Chart summary of {patient.given_name} {patient.family_name}",
        f"{packet.actor.organization.name} · released {_when(packet.disclosed_at)} · "
        f"reference {packet.reference}",
    )
    pdf.facts(
        [
            ("Released to", request.recipient_name),
            ("Address", request.recipient_address),
            (
                "Recipient class",
                rules.RECIPIENT_CLASS_LABELS[rules.RecipientClass(request.recipient_class)],
            ),
            ("Purpose", rules.PURPOSE_LABELS[rules.Purpose(request.purpose)]),
            ("Purpose described as", request.purpose_description),
            ("Released by", packet.actor.username),
        ]
    )
    _basis_block(pdf, packet)
    for section in summary_sections(packet.actor, patient, packet.categories):
        pdf.heading(section.title)
        if section.facts:
            pdf.facts(section.facts)
        elif section.rows:
            pdf.grid(section.headers, section.rows)
        else:
            pdf.paragraph(section.empty_text)
    if request.information_description:
        pdf.heading("Notes on this release")
        pdf.paragraph(request.information_description)
    _notice_page(pdf, packet.notice)
    if packet.consent is not None:
        pdf.heading("Copy of the patient's consent (42 CFR §2.31)")
        consent_copy(pdf, packet.consent, patient, packet.disclosed_at)
    return RenderedDocument(
        content=pdf.build(),
        filename=f"chart-summary-{packet.disclosed_at:%Y%m%d}-{str(packet.reference)[:8]}.pdf",
        media_type=PDF,
    )


def accounting_pdf(
    *,
    organization_name: str,
    patient: Patient,
    disclosures: Sequence[Disclosure],
    since: datetime,
    until: datetime,
    notice: DisclosureNotice,
    printed_by: str,
) -> RenderedDocument:
    """The accounting of disclosures (§2.25, in the 45 CFR 164.528 format) for the patient."""
    pdf = DocumentPdf(title="Accounting of disclosures", footer_notice=notice.short_text)
    pdf.title_block(
        f"Accounting of disclosures for {patient.given_name} {patient.family_name}",
        f"{organization_name} · from {since:%Y-%m-%d} to {until:%Y-%m-%d} · "
        f"printed {_when(until)} by {printed_by}",
    )
    pdf.paragraph(
        "Every release of your substance use disorder treatment record that this program "
        "made outside the program in this period: the date, who received it (and their "
        "address if known), what was released and why.",
        size=9,
    )
    if disclosures:
        pdf.grid(("Date", "Recipient", "What", "Why", "Authority"), accounting_rows(disclosures))
    else:
        pdf.paragraph("No disclosures were made in this period.")
    return RenderedDocument(
        content=pdf.build(),
        filename=f"accounting-of-disclosures-{until:%Y%m%d}.pdf",
        media_type=PDF,
    )


def accounting_rows(disclosures: Sequence[Disclosure]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for d in disclosures:
        recipient = d.recipient_name + (f", {d.recipient_address}" if d.recipient_address else "")
        what = "; ".join(d.category_labels)
        if d.information_description:
            what += f". {d.information_description}"
        why = d.get_purpose_display()
        if d.purpose_description:
            why += f": {d.purpose_description}"
        rows.append((f"{d.disclosed_at:%Y-%m-%d}", recipient, what, why, d.get_basis_display()))
    return rows
