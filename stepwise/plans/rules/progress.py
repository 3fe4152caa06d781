"""An objective's progress from the notes that addressed it. No Django imports.

Each note that addressed the objective gives one rating (progressing, no change,
regressed, met; the codes are the notes app's). The summary says how many notes
addressed it, when it was last addressed and the latest rating."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from stepwise.notes.rules import PROGRESS_RATINGS

# Two notes of the same moment that disagree: the more cautious rating is shown.
CAUTION = ("regressed", "no_change", "progressing", "met")


def _caution(rating: str) -> int:
    return CAUTION.index(rating) if rating in CAUTION else len(CAUTION)


@dataclass(frozen=True)
class ProgressSummary:
    count: int
    last_at: datetime | None
    latest: str | None
    # Notes per rating, in the order of PROGRESS_RATINGS, leaving out ratings never given.
    by_rating: tuple[tuple[str, int], ...]

    @property
    def latest_label(self) -> str:
        return PROGRESS_RATINGS.get(self.latest or "", "")


def summarize(entries: Iterable[tuple[datetime, str]]) -> ProgressSummary:
    """The summary of (when, rating) entries given in any order."""
    found = list(entries)
    if not found:
        return ProgressSummary(0, None, None, ())
    last_at = max(when for when, _ in found)
    latest = min((rating for when, rating in found if when == last_at), key=_caution)
    counts = {code: 0 for code in PROGRESS_RATINGS}
    for _, rating in found:
        counts[rating] = counts.get(rating, 0) + 1
    by_rating = tuple((code, n) for code, n in counts.items() if n)
    return ProgressSummary(len(found), last_at, latest, by_rating)
