"""Read the text back out of an uncompressed PDF written by fpdf2 with TrueType fonts.

fpdf2 writes each TrueType string as 2-byte glyph codes and gives every font a
ToUnicode map; this follows the font switches in the page streams and maps the
codes back to text. Enough for tests; not a general PDF parser.
"""

from __future__ import annotations

import re

_OBJECT = re.compile(rb"(\d+) 0 obj\s*(.*?)endobj", re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _cmap(stream: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
        for code, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
            mapping[int(code, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
        for lo, hi, start in re.findall(
            rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
        ):
            first = int(start, 16)
            for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                mapping[code] = chr(first + offset)
    return mapping


def _unescape(raw: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(raw):
        ch = raw[i : i + 1]
        if ch == b"\\":
            nxt = raw[i + 1 : i + 2]
            if nxt in _ESCAPES:
                out += _ESCAPES[nxt]
                i += 2
            elif nxt.isdigit():
                digits = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
                assert digits is not None
                out.append(int(digits.group(), 8))
                i += 1 + len(digits.group())
            else:
                out += nxt
                i += 2
        else:
            out += ch
            i += 1
    return bytes(out)


def _strings(content: bytes) -> list[tuple[str, bytes]]:
    """(font name, raw string) for each string shown, in order."""
    found = []
    font = ""
    token = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", re.S)
    for match in token.finditer(content):
        if match.group(1):
            font = match.group(1).decode()
        else:
            found.append((font, _unescape(match.group(2))))
    return found


def pages_text(pdf: bytes) -> list[str]:
    """The text of each page, strings joined by spaces."""
    assert pdf.startswith(b"%PDF"), "not a PDF"
    objects = {int(num): body for num, body in _OBJECT.findall(pdf)}
    cmaps: dict[int, dict[int, str]] = {}
    for num, body in objects.items():
        ref = re.search(rb"/ToUnicode (\d+) 0 R", body)
        if ref:
            cmaps[num] = _cmap(objects[int(ref.group(1))])
    font_names = {name.decode(): int(num) for name, num in re.findall(rb"/(F\d+) (\d+) 0 R", pdf)}
    texts = []
    for body in objects.values():
        if b"/Type /Page\n" not in body and b"/Type /Page\r" not in body:
            continue
        ref = re.search(rb"/Contents (\d+) 0 R", body)
        assert ref, "page without contents"
        stream = objects[int(ref.group(1))]
        words = []
        for font, raw in _strings(stream):
            cmap = cmaps.get(font_names.get(font, -1), {})
            codes = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
            words.append("".join(cmap.get(c, "?") for c in codes))
        texts.append(" ".join(words))
    return texts


def squash(text: str) -> str:
    """Whitespace-insensitive form, since lines wrap anywhere."""
    return re.sub(r"\s+", "", text)
