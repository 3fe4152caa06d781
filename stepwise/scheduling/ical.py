"""iCalendar text (RFC 5545) for a subscribed calendar: plain data in, text out.

No Django import. Lines end with CRLF, TEXT values are escaped (backslash, comma,
semicolon, newline), control characters are dropped, and every content line is
folded at 75 octets without splitting a UTF-8 character. Times are written in UTC
("...Z"), so no VTIMEZONE is needed and every calendar app shows them in its own zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

CRLF = "\r\n"
LINE_OCTETS = 75
PRODID = "-//Stepwise//Schedule//EN"

STATUS_CONFIRMED = "CONFIRMED"
STATUS_CANCELLED = "CANCELLED"


@dataclass(frozen=True)
class Event:
    uid: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    stamp: datetime
    location: str = ""
    description: str = ""
    status: str = STATUS_CONFIRMED
    url: str = ""
    last_modified: datetime | None = None


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon and comma escaped, any line break as \\n,
    other control characters (not allowed in TEXT) dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif char == ";":
            out.append("\\;")
        elif char == ",":
            out.append("\\,")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t" or not (ord(char) < 0x20 or ord(char) == 0x7F):
            out.append(char)
    return "".join(out)


def fold(line: str) -> str:
    """One content line folded into lines of at most 75 octets (the CRLF not counted):
    each continuation starts with a space, and a UTF-8 character is never split."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    limit = LINE_OCTETS
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            pieces.append("".join(current))
            # The continuation's leading space takes one of its 75 octets.
            current, size, limit = [" "], 1, LINE_OCTETS
        current.append(char)
        size += width
    pieces.append("".join(current))
    return CRLF.join(pieces)


def utc_stamp(at: datetime) -> str:
    """A DATE-TIME in UTC form, e.g. 20260702T220000Z. Refuses a naive time."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("An iCalendar time needs its time zone.")
    return at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _event_lines(event: Event) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        f"DTSTAMP:{utc_stamp(event.stamp)}",
        f"DTSTART:{utc_stamp(event.starts_at)}",
        f"DTEND:{utc_stamp(event.ends_at)}",
        f"SUMMARY:{escape_text(event.summary)}",
    ]
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        # URI values are not TEXT: no escaping, but no line breaks either.
        lines.append(f"URL:{event.url.replace(CRLF, '').replace(chr(10), '')}")
    if event.last_modified is not None:
        lines.append(f"LAST-MODIFIED:{utc_stamp(event.last_modified)}")
    lines += [
        f"STATUS:{event.status}",
        f"TRANSP:{'TRANSPARENT' if event.status == STATUS_CANCELLED else 'OPAQUE'}",
        "END:VEVENT",
    ]
    return lines


def calendar(name: str, events: Iterable[Event], *, refresh_minutes: int = 60) -> str:
    """A whole VCALENDAR published for subscription (METHOD:PUBLISH)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"NAME:{escape_text(name)}",
        f"X-WR-CALNAME:{escape_text(name)}",
        f"REFRESH-INTERVAL;VALUE=DURATION:PT{refresh_minutes}M",
        f"X-PUBLISHED-TTL:PT{refresh_minutes}M",
    ]
    for event in events:
        lines += _event_lines(event)
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + CRLF for line in lines)
