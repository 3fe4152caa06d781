"""The patient's printed copy of their aftercare plan, in plain words: who to call in a
crisis first, then their supports, warning signs, triggers, people to stay away from,
what to do instead, and when the program will check in."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from stepwise.aftercare.models import Checkin
from stepwise.aftercare.rules import plan as rules
from stepwise.aftercare.selectors import PlanPage, PlanView
from stepwise.core.pdf import DocumentPdf
from stepwise.patients.models import Patient

FOOTER = (
    "This plan is private health information. It is yours: you decide who sees it. "
    "In an emergency call 911. For a crisis call or text 988."
)
# The crisis numbers print larger than the rest of the plan.
CRISIS_SIZE = 12


def _day(value: date) -> str:
    return f"{value:%A} {value.day} {value:%B %Y}"


def _who(user: object) -> str:
    if user is None:
        return ""
    full = getattr(user, "get_full_name", lambda: "")()
    return str(full or getattr(user, "username", ""))


def _support_line(support: rules.Support) -> str:
    parts = [f"{support.kind_label}: {support.name}"]
    if support.schedule:
        parts.append(support.schedule)
    if support.contact:
        parts.append(f"phone {support.contact}")
    if support.next_on:
        parts.append(f"next appointment {_day(support.next_on)}")
    return " · ".join(parts)


def _bullets(pdf: DocumentPdf, items: list[str], empty: str) -> None:
    if not items:
        pdf.paragraph(empty)
    for item in items:
        pdf.paragraph(f"• {item}")


def _section(pdf: DocumentPdf, view: PlanView, section: rules.Section) -> None:
    pdf.heading(rules.PATIENT_HEADINGS[section])
    entries = view.sections[section]
    if section is rules.Section.SUPPORTS:
        _bullets(pdf, [_support_line(s) for s in entries], "None written yet.")
    elif section is rules.Section.PEOPLE:
        _bullets(
            pdf,
            [f"{p.who} ({p.relationship_label.lower()})" for p in entries],
            "None written down.",
        )
    elif section is rules.Section.CONTACTS:
        _bullets(
            pdf,
            [
                f"{c.name}{f' ({c.relationship})' if c.relationship else ''}: {c.phone}"
                for c in entries
            ],
            "None written down yet.",
        )
    else:
        _bullets(pdf, list(entries), "None written down yet.")


def _checkins(pdf: DocumentPdf, view: PlanView, upcoming: list[Checkin]) -> None:
    pdf.heading("When we will check in with you")
    plan = view.plan
    if plan.checkins_from is None:
        pdf.paragraph(
            "Check-ins start when you leave the program. "
            f"{view.schedule_text}, by {plan.get_checkin_method_display().lower()}."
        )
        return
    pdf.paragraph(f"{view.schedule_text}, by {plan.get_checkin_method_display().lower()}.")
    if upcoming:
        pdf.paragraph("Your next check-ins:")
        _bullets(pdf, [_day(c.due_on) for c in upcoming], "")
    pdf.paragraph(
        "If we cannot reach you on the day, someone from the program will try again the next day."
    )


def plan_pdf(page: PlanPage, organization_name: str, *, by: str, at: datetime) -> bytes:
    view = page.view
    assert view is not None
    patient: Patient = page.patient
    plan = view.plan
    zone = ZoneInfo(plan.time_zone)
    pdf = DocumentPdf(title=f"Aftercare plan: {patient.display_name}", footer_notice=FOOTER)
    pdf.title_block(
        "My aftercare plan",
        f"{patient.display_name} · {organization_name} · printed {_day(at.astimezone(zone))}",
    )
    # Who to call comes first and large: it is what a patient in crisis looks for.
    crisis = page.crisis_lines(organization_name)
    pdf.heading(rules.PATIENT_HEADINGS[rules.Section.CRISIS])
    for line in crisis.lines:
        pdf.paragraph(line, size=CRISIS_SIZE, bold=True)
    if crisis.note:
        pdf.paragraph(crisis.note, bold=True)
    if plan.status != "active":
        pdf.paragraph(
            "This plan has not been gone through with you yet: it may still change."
            if plan.status == "draft"
            else "You chose to end this plan. The program is here if you want to pick it up again.",
            bold=True,
        )
    steps = view.sections[rules.Section.CRISIS]
    if steps:
        pdf.paragraph("My steps:")
        for number, step in enumerate(steps, start=1):
            pdf.paragraph(f"{number}. {step}")
    for section in (
        rules.Section.CONTACTS,
        rules.Section.SUPPORTS,
        rules.Section.WARNING_SIGNS,
        rules.Section.TRIGGERS,
        rules.Section.PEOPLE,
        rules.Section.COPING,
    ):
        _section(pdf, view, section)
    _checkins(pdf, view, page.upcoming)
    if plan.reviewed_at:
        pdf.paragraph(
            f"Gone through with you on {_day(plan.reviewed_at.astimezone(zone))} "
            f"by {_who(plan.reviewed_by)}.",
            size=9,
        )
    pdf.paragraph(f"Printed by {by}.", size=8)
    return pdf.build()
