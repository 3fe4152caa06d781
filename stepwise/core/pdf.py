"""The page every PDF of Stepwise is printed on: A4, a notice in every footer (the
§2.32 notice on a release, a confidentiality line on a sign-in sheet or a note) and
the page number.

The DejaVu fonts ship with the app (fonts/, Bitstream Vera licence) so names in
any script print correctly and no system font is needed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
# Tests turn compression off to read the text back.
COMPRESS = True

_LINE = 5.0


class DocumentPdf(FPDF):
    """An A4 document with its notice and the page number in every footer."""

    def __init__(self, *, title: str, footer_notice: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_notice = footer_notice
        self.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
        self.set_compression(COMPRESS)
        self.set_title(title)
        self.set_subject(footer_notice)
        self.set_creator("Stepwise")
        self.set_margins(18, 18, 18)
        self.set_auto_page_break(auto=True, margin=24)
        self.add_page()

    def footer(self) -> None:
        self.set_y(-18)
        self.set_font(FONT, "B", 8)
        self.multi_cell(0, 4, self.footer_notice, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 7)
        self.cell(0, 4, f"Page {self.page_no()} of {{nb}}", align="C")

    def title_block(self, title: str, subtitle: str = "") -> None:
        self.set_font(FONT, "B", 15)
        self.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        if subtitle:
            self.set_font(FONT, "", 9)
            self.multi_cell(0, _LINE, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(2)

    def heading(self, text: str) -> None:
        self.ln(2)
        self.set_font(FONT, "B", 12)
        self.multi_cell(0, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FONT, "", 10)

    def paragraph(self, text: str, *, size: float = 10, bold: bool = False) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(0, _LINE, text, align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(1)

    def facts(self, rows: Sequence[tuple[str, str]]) -> None:
        """Label: value lines, the label bold, long values wrapping under it."""
        for label, value in rows:
            self.set_font(FONT, "B", 10)
            self.write(_LINE, f"{label}: ")
            self.set_font(FONT, "", 10)
            self.write(_LINE, value or "—")
            self.ln(_LINE)
        self.ln(1)

    def grid(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        self.set_font(FONT, "", 9)
        with self.table(
            first_row_as_headings=True,
            line_height=_LINE,
            text_align="LEFT",
        ) as table:
            head = table.row()
            for text in headers:
                head.cell(text)
            for values in rows:
                row = table.row()
                for text in values:
                    row.cell(text or "—")
        self.ln(2)

    def build(self) -> bytes:
        return bytes(self.output())
