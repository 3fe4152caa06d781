"""The instruments engine: declarative, versioned instruments and their scoring.

Pure Python, no Django: an instrument is data (items in published order with their
allowed values and anchors, bands, codes, source), and scoring is a function of the
responses alone, so every score can be recomputed and tested in milliseconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal


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
    # Questions that lead the clinician to a rating (ASAM dimensions): shown, not scored.
    prompts: tuple[str, ...] = ()
    # Recorded with the response but not part of the total (e.g. a DSM-5 exemption).
    scored: bool = True

    @property
    def allowed(self) -> tuple[int, ...]:
        return tuple(a.value for a in self.anchors)

    @property
    def maximum(self) -> int:
        return max(self.allowed)

    def label_of(self, value: int | None) -> str:
        return next((a.label for a in self.anchors if a.value == value), "")


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
class Finding:
    """A derived result beside the total, e.g. a DSM-5 severity or a suggested code."""

    code: str
    label: str
    value: str


@dataclass(frozen=True)
class ContextField:
    """A fact the score depends on that is not an item (the patient's sex for AUDIT-C,
    a date for DSM-5 remission). Values travel as strings: a choice code or an ISO date."""

    id: str
    label: str
    kind: Literal["choice", "date"] = "choice"
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = True
    help: str = ""

    def error(self, value: str) -> str | None:
        if self.kind == "date":
            try:
                date.fromisoformat(value)
            except (TypeError, ValueError):
                return f"{value!r} is not a date; use YYYY-MM-DD."
            return None
        codes = [code for code, _ in self.choices]
        if value not in codes:
            return f"{value!r} is not allowed; allowed: {', '.join(codes)}."
        return None


@dataclass(frozen=True)
class Score:
    total: int | None  # None for an instrument without a total (ASAM dimensions)
    band: Band | None
    complete: bool
    signals: tuple[Signal, ...] = ()
    findings: tuple[Finding, ...] = ()


class InvalidResponses(ValueError):
    """One message per item at fault, keyed by item id."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{item}: {message}" for item, message in errors.items()))
        self.errors = errors


Responses = Mapping[str, int]
Context = Mapping[str, str]


def plain_sum(instrument: Instrument, responses: Responses) -> int:
    return sum(responses.get(item.id, 0) for item in instrument.items if item.scored)


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
    # Each sees the answers and the facts (a DSM-5 signal depends on remission dates).
    signal_rules: tuple[Callable[[Responses, Context], Signal | None], ...] = field(default=())
    # Needed when the total rule is not a plain sum (a reverse-scored item).
    max_total: int | None = None
    # False for a profile of separate ratings that must never be added up (ASAM).
    totalled: bool = True
    context_fields: tuple[ContextField, ...] = ()
    # Bands that depend on a context value (AUDIT-C's threshold by sex): the field
    # named here picks the set; `bands` is then unused.
    band_context: str | None = None
    band_sets: Mapping[str, tuple[Band, ...]] = field(default_factory=dict)
    findings_rule: Callable[[Instrument, Responses, Context, int], tuple[Finding, ...]] | None = (
        None
    )
    # What the total means when there are no bands (SOWS, craving): read against baseline.
    interpretation: str = ""

    @property
    def reads_against_baseline(self) -> bool:
        """A total with no published bands (SOWS, craving) means something only as a
        change from the patient's own first response."""
        return self.totalled and not self.bands and not self.band_sets

    @property
    def short_name(self) -> str:
        """The abbreviation in the name's parentheses ("COWS"), else the name."""
        if self.name.endswith(")") and "(" in self.name:
            return self.name[self.name.rindex("(") + 1 : -1].split(",")[0]
        return self.name

    def item(self, item_id: str) -> Item:
        return next(i for i in self.items if i.id == item_id)

    @property
    def maximum(self) -> int | None:
        if not self.totalled:
            return None
        if self.max_total is not None:
            return self.max_total
        return self.total_rule(self, {i.id: i.maximum for i in self.items})

    def context_field(self, field_id: str) -> ContextField:
        return next(f for f in self.context_fields if f.id == field_id)

    def validate_context(self, context: Context, *, partial: bool = False) -> dict[str, str]:
        known = {f.id: f for f in self.context_fields}
        errors: dict[str, str] = {}
        for field_id, value in context.items():
            context_field = known.get(field_id)
            if context_field is None:
                errors[field_id] = f"{self.name} takes no {field_id!r}."
            elif value in ("", None) and not context_field.required:
                continue
            elif (message := context_field.error(value)) is not None:
                errors[field_id] = message
        if not partial:
            for context_field in self.context_fields:
                if context_field.required and context.get(context_field.id) in ("", None):
                    errors.setdefault(context_field.id, _required_context(context_field))
        return errors

    def validate(
        self, responses: Responses, context: Context | None = None, *, partial: bool = False
    ) -> None:
        """Raise InvalidResponses naming every unknown item, every value outside its
        item's allowed set, (unless partial) every missing required item, and every
        context value that is unknown, malformed or missing."""
        known = {i.id: i for i in self.items}
        errors: dict[str, str] = self.validate_context(context or {}, partial=partial)
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

    def bands_for(self, context: Context | None = None) -> tuple[Band, ...]:
        if self.band_context is None:
            return self.bands
        return self.band_sets.get((context or {}).get(self.band_context, ""), ())

    def band_of(self, total: int, context: Context | None = None) -> Band | None:
        return next((b for b in self.bands_for(context) if b.contains(total)), None)

    def score(
        self, responses: Responses, context: Context | None = None, *, partial: bool = False
    ) -> Score:
        """Validate, then total, band, findings and safety signals. A partial response
        (allowed only when asked for) is scored as far as it goes and marked incomplete."""
        context = context or {}
        self.validate(responses, context, partial=partial)
        total = self.total_rule(self, responses)
        complete = all(i.id in responses for i in self.items if i.required) and all(
            context.get(f.id) not in ("", None) for f in self.context_fields if f.required
        )
        signals = tuple(
            s for rule in self.signal_rules if (s := rule(responses, context)) is not None
        )
        findings = (
            self.findings_rule(self, responses, context, total)
            if complete and self.findings_rule is not None
            else ()
        )
        return Score(
            total=total if self.totalled else None,
            band=self.band_of(total, context) if complete else None,
            complete=complete,
            signals=signals,
            findings=findings,
        )


def _allowed(item: Item) -> str:
    return ", ".join(str(v) for v in item.allowed)


def _required_context(context_field: ContextField) -> str:
    if context_field.kind == "date":
        return "Required; a date as YYYY-MM-DD."
    return f"Required; allowed: {', '.join(code for code, _ in context_field.choices)}."
