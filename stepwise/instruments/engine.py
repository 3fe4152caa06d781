"""The instruments engine: declarative, versioned instruments and their scoring.

Pure Python, no Django: an instrument is data (items in published order with their
allowed values and anchors, bands, codes, source), and scoring is a function of the
responses alone, so every score can be recomputed and tested in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Anchor:
    value: int
    label: str


@dataclass(frozen=True)
class Item:
    id: str  # stable: stored with every response, never renamed
    text: str
    anchors: tuple[Anchor, ...]
    guidance: str = ""
    required: bool = True

    @property
    def allowed(self) -> tuple[int, ...]:
        return tuple(a.value for a in self.anchors)

    @property
    def maximum(self) -> int:
        return max(self.allowed)


@dataclass(frozen=True)
class Band:
    """A range of totals; `high` None means no upper end. An unpublished band (a
    label many programs use but the instrument's authors did not) says so."""

    low: int
    high: int | None
    code: str
    label: str
    published: bool = True

    def contains(self, total: int) -> bool:
        return total >= self.low and (self.high is None or total <= self.high)


@dataclass(frozen=True)
class Signal:
    """Something the clinician must act on, whatever the total (e.g. a suicide item)."""

    code: str
    message: str


@dataclass(frozen=True)
class Score:
    total: int
    band: Band | None
    complete: bool
    signals: tuple[Signal, ...] = ()


class InvalidResponses(ValueError):
    """One message per item at fault, keyed by item id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{item}: {message}" for item, message in errors.items()))
        self.errors = errors


Responses = Mapping[str, int]


def plain_sum(instrument: Instrument, responses: Responses) -> int:
    return sum(responses.get(item.id, 0) for item in instrument.items)


@dataclass(frozen=True)
class Instrument:
    code: str  # used in URLs and data: "cows", "phq9"...
    name: str
    version: str
    source: str
    licence: str
    items: tuple[Item, ...]
    bands: tuple[Band, ...] = ()
    loinc: str | None = None
    local_code: str = ""
    total_rule: Callable[[Instrument, Responses], int] = plain_sum
    signal_rules: tuple[Callable[[Responses], Signal | None], ...] = field(default=())
    # Needed when the total rule is not a plain sum (a reverse-scored item).
    max_total: int | None = None

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    @property
    def maximum(self) -> int:
        if self.max_total is not None:
            return self.max_total
        return self.total_rule(self, {i.id: i.maximum for i in self.items})

    def validate(self, responses: Responses, *, partial: bool = False) -> None:
        """Raise InvalidResponses naming every unknown item, every value outside its
        item's allowed set, and (unless partial) every missing required item."""
        known = {i.id: i for i in self.items}
        errors: dict[str, str] = {}
        for item_id, value in responses.items():
            item = known.get(item_id)
            if item is None:
                errors[item_id] = f"{self.name} has no item {item_id!r}."
            elif isinstance(value, bool) or not isinstance(value, int):
                errors[item_id] = f"A whole number is required; allowed: {_allowed(item)}."
            elif value not in item.allowed:
                errors[item_id] = f"{value} is not allowed; allowed: {_allowed(item)}."
        if not partial:
            for item in self.items:
                if item.required and item.id not in responses:
                    errors.setdefault(item.id, f"Required; allowed: {_allowed(item)}.")
        if errors:
            raise InvalidResponses(errors)

    def band_of(self, total: int) -> Band | None:
        return next((b for b in self.bands if b.contains(total)), None)

    def score(self, responses: Responses, *, partial: bool = False) -> Score:
        """Validate, then total, band and safety signals. A partial response (allowed
        only when asked for) is scored as far as it goes and marked incomplete."""
        self.validate(responses, partial=partial)
        total = self.total_rule(self, responses)
        complete = all(i.id in responses for i in self.items if i.required)
        signals = tuple(s for rule in self.signal_rules if (s := rule(responses)) is not None)
        return Score(
            total=total,
            band=self.band_of(total) if complete else None,
            complete=complete,
            signals=signals,
        )


def _allowed(item: Item) -> str:
    return ", ".join(str(v) for v in item.allowed)
