"""The printable sign-in sheet of one session: who runs it, where and when (in the
facility's zone), and a row per seated member to sign with the time they came in.

Everyone who signs sees the whole sheet, so members appear as first name and last
initial only ("Ana R."), never a family name, record number or birth date. The read
is for whoever runs the session and is audited. The PDF is the app's printed-document
page (stepwise.core.pdf: fpdf2 with the DejaVu fonts the app ships, no system
font, the confidentiality notice and page number in every footer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from stepwise.core.actor import Actor
from stepwise.core.audit import audit_record
from stepwise.core.errors import Conflict
from stepwise.core.models import AuditAction
from stepwise.core.pdf import FONT, DocumentPdf
from stepwise.scheduling.models import Attendance, Session
from stepwise.scheduling.services.common import CATEGORY, require_run, zone_of
from stepwise.scheduling.services.series import facilitator_name

NOTICE = (
    "Confidential: this sheet shows who attends a treatment program and is protected "
    "by 42 CFR Part 2. Collect it after the session and file it; do not leave it out."
)
HEADERS = ("#", "Name", "Signature", "Time in")
# Relative widths of the columns above; the signature gets the room.
WIDTHS = (7, 38, 75, 20)
ROW_HEIGHT = 11.0


def member_label(given_name: str, family_name: str, preferred_name: str = "") -> str:
    """First name (the one the member goes by) and the family name's initial."""
    first = (preferred_name or given_name).strip()
    initial = family_name.strip()[:1].upper()
    return f"{first} {initial}." if initial else first


@dataclass(frozen=True)
class SignInSheet:
    organization: str
    program: str
    facility: str
    title: str
    session_type: str
    day: str
    hours: str
    zone: str
    facilitator: str
    room: str
    members: list[str]
    printed: str


def _zone(session: Session) -> ZoneInfo:
    return zone_of(session.program)


def sign_in_sheet_read(
    actor: Actor, session: Session, *, now: datetime | None = None
) -> SignInSheet:
    """The sheet's content, for whoever runs the session (audited: it names members).
    A cancelled session has no sheet to sign."""
    require_run(actor, session)
    if session.is_cancelled:
        raise Conflict(
            f"This session was cancelled ({session.cancel_reason}); there is no sheet to sign."
        )
    seats = list(
        Attendance.objects.filter(session=session).values_list(
            "patient__given_name",
            "patient__family_name",
            "patient__preferred_name",
            "patient__public_id",
        )
    )
    members = sorted(
        (member_label(given, family, preferred) for given, family, preferred, _ in seats),
        key=str.casefold,
    )
    zone = _zone(session)
    starts = session.starts_at.astimezone(zone)
    ends = session.ends_at.astimezone(zone)
    printed = (now or timezone.now()).astimezone(zone)
    with transaction.atomic():
        audit_record(
            action=AuditAction.READ,
            actor=actor,
            category=CATEGORY,
            object_type="sign_in_sheet",
            object_id=session.public_id,
            detail={"patients": sorted(str(seat[3]) for seat in seats)},
        )
    return SignInSheet(
        organization=actor.organization.name,
        program=session.program.name,
        facility=session.program.facility.name,
        title=session.title,
        session_type=session.session_type.name,
        day=f"{starts:%A} {starts.day} {starts:%B %Y}",
        hours=f"{starts:%H:%M}\N{EN DASH}{ends:%H:%M} {starts:%Z}",
        zone=zone.key,
        facilitator=facilitator_name(session.organization_id, session.facilitator_id),
        room=session.room.name if session.room else "",
        members=members,
        printed=f"{printed:%Y-%m-%d %H:%M} by {actor.username}",
    )


class _SheetPdf(DocumentPdf):
    """The app's printed-document page (shipped fonts, the notice and the page number
    in every footer); later pages say which session they continue."""

    def __init__(self, title: str) -> None:
        self.running_head = title
        super().__init__(title=title, footer_notice=NOTICE)

    def header(self) -> None:
        # A loose second page still says which session it belongs to.
        if self.page_no() > 1:
            self.set_font(FONT, "", 8)
            self.cell(
                0,
                5,
                f"{getattr(self, 'running_head', '')} (continued)",
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            self.ln(2)


def sign_in_sheet_pdf(sheet: SignInSheet) -> bytes:
    # Document properties travel with the file: no member's name in them.
    pdf = _SheetPdf(f"Sign-in sheet: {sheet.title}, {sheet.day}, {sheet.hours}")
    pdf.title_block(f"Sign-in sheet: {sheet.title}", f"{sheet.organization} · {sheet.facility}")
    pdf.facts(
        [
            ("Program", sheet.program),
            ("Session", f"{sheet.title} ({sheet.session_type})"),
            ("Date", sheet.day),
            ("Time", f"{sheet.hours} ({sheet.zone})"),
            ("Facilitator", sheet.facilitator),
            ("Room", f"{sheet.room}, {sheet.facility}" if sheet.room else sheet.facility),
        ]
    )
    pdf.ln(2)
    if not sheet.members:
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(
            0, 5, "Nobody is seated in this session.", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
    else:
        pdf.set_font(FONT, "", 10)
        with pdf.table(
            col_widths=WIDTHS,
            first_row_as_headings=True,
            headings_style=FontFace(emphasis="BOLD"),
            line_height=5,
            min_row_height=ROW_HEIGHT,
            text_align=("RIGHT", "LEFT", "LEFT", "LEFT"),
            v_align="MIDDLE",
        ) as table:
            head = table.row()
            for text in HEADERS:
                head.cell(text)
            for number, name in enumerate(sheet.members, start=1):
                row = table.row()
                row.cell(str(number))
                row.cell(name)
                row.cell("")
                row.cell("")
    pdf.ln(4)
    pdf.set_font(FONT, "", 8)
    pdf.multi_cell(0, 4, f"Printed {sheet.printed}.", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return pdf.build()
