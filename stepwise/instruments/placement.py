"""Placement decision support for the ASAM Criteria, 3rd edition.

These are Stepwise's own transparent rules, built from the published placement
principles (domain reference §4.5). They are not ASAM's proprietary software
algorithm and do not reproduce it. The result is a suggestion with every reason
shown: the clinician confirms or overrides it, and the clinician's level is the one
recorded.

Method:

- Each dimension's rating (0-4) picks one rule from the table: the least intensive
  level of care that safely addresses that rating. Each explicit fact that is true
  (imminent danger, unstable severe withdrawal, pregnancy) adds its own rule.
- The recommended level is the most intensive of those minimums, so the result is the
  least intensive level that safely addresses the highest-risk dimensions. Ratings
  are never added up or averaged: one dimension at 3 gives what that dimension alone
  needs, whatever the others are.
- Withdrawal management is a second axis, from dimension 1 (0 none, 1 -> 1-WM,
  2 -> 2-WM, 3 -> 3.7-WM, 4 -> 4-WM), raised by the facts where they call for more.
- Every dimension rated 0 gives level 1 (outpatient), not 0.5: early intervention is
  for people who do not meet the criteria for a substance use disorder, and that is a
  diagnostic fact the six ratings do not hold. A caution says so when it applies.

Published principles encoded here (domain reference §4.5):

- Dimensions 4 and 5 alone never call for level 4: their rules stop at 3.5, and a
  table that breaks this is refused when it is built.
- A withdrawal scale score only informs dimension 1: it adds a rationale line, and a
  caution when the D1 rating looks lower than the score suggests, but no rule reads it.

Stepwise's own rules, not published by ASAM (each says so on the page):

- The rating-to-level table below, and the D1 rating a COWS band suggests.
- Imminent danger to self or others routes to level 4 (medically managed, or acute
  psychiatric care) with a caution to arrange emergency evaluation now.
- Severe withdrawal with unstable vital signs routes to 4-WM.
- Pregnancy with D1 at 2 or more calls for at least medically monitored withdrawal
  management (3.7-WM), with a caution to coordinate obstetric care.

The rules are data (`RuleTable`), checked when built; `recommend` takes another table,
so a different rule set can replace this one without touching the method.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from stepwise.care.rules import LEVELS_BY_EDITION, Level
from stepwise.instruments.definitions.asam import ASAM3, DIMENSIONS, SEVERITY
from stepwise.instruments.definitions.cows import COWS
from stepwise.instruments.definitions.sows import SOWS
from stepwise.instruments.engine import InvalidResponses, Responses

EDITION = 3
LEVELS: Mapping[str, Level] = LEVELS_BY_EDITION[EDITION]
RATINGS = (0, 1, 2, 3, 4)
DIMENSION_NUMBERS = (1, 2, 3, 4, 5, 6)
# The facts a rule can test: the boolean fields of PlacementInput.
FACTS = ("imminent_danger", "unstable_vitals_or_severe_withdrawal", "pregnant")
# Withdrawal scales whose latest total may inform dimension 1, with their maximum.
# SOWS (Handelsman 1987) has no published severity bands, so it suggests no rating.
WITHDRAWAL_SCALES: Mapping[str, int] = {scale.code: scale.maximum or 0 for scale in (COWS, SOWS)}
# COWS published band -> the lowest D1 rating that band suggests. Even a severe score
# suggests 3, not 4: a 4 also needs instability (vital signs, seizures, delirium)
# that the score does not measure.
COWS_SUGGESTED_D1: Mapping[str, int] = {
    "below_mild": 0,
    "mild": 1,
    "moderate": 2,
    "moderately_severe": 3,
    "severe": 3,
}


def rank(code: str) -> int:
    return LEVELS[code].rank


def is_withdrawal_level(code: str) -> bool:
    return code.endswith("-WM")


def describe(code: str) -> str:
    return f"{code} ({LEVELS[code].name})"


@dataclass(frozen=True)
class DimensionRule:
    """What one rating of one dimension requires at least."""

    id: str  # "D1-3": stable, shown to the clinician and stored with the result
    dimension: int
    rating: int
    description: str
    level: str  # the least intensive level of care (never a -WM code)
    withdrawal: str | None = None  # the least intensive withdrawal management, if any


@dataclass(frozen=True)
class FactRule:
    """What an explicit fact requires at least, when it is true (and D1 is high enough)."""

    id: str
    fact: str  # one of FACTS
    description: str
    level: str
    withdrawal: str | None = None
    d1_at_least: int = 0
    caution: str = ""


Rule = DimensionRule | FactRule


@dataclass(frozen=True)
class RuleTable:
    name: str
    version: str  # stored with every decision made from the table (20 characters at most)
    dimension_rules: tuple[DimensionRule, ...]
    fact_rules: tuple[FactRule, ...] = ()

    def __post_init__(self) -> None:
        errors = table_errors(self)
        if errors:
            raise ValueError(f"Rule table {self.name!r} is not usable: " + "; ".join(errors))

    def rule_for(self, dimension: int, rating: int) -> DimensionRule:
        return next(
            r for r in self.dimension_rules if r.dimension == dimension and r.rating == rating
        )


def table_errors(table: RuleTable) -> list[str]:
    """Everything wrong with a rule table: the shape every table must have, and the
    published principles no table may break."""
    errors: list[str] = []
    if not 0 < len(table.version) <= 20:
        errors.append("the version is stored with each decision: 1 to 20 characters")
    rules: list[Rule] = [*table.dimension_rules, *table.fact_rules]
    ids = [r.id for r in rules]
    errors.extend(
        f"rule id {i!r} is used twice" for i in sorted({i for i in ids if ids.count(i) > 1})
    )
    for rule in rules:
        if rule.level not in LEVELS or is_withdrawal_level(rule.level):
            errors.append(f"{rule.id}: {rule.level!r} is not a 3rd-edition level of care")
        if rule.withdrawal is not None and (
            rule.withdrawal not in LEVELS or not is_withdrawal_level(rule.withdrawal)
        ):
            errors.append(f"{rule.id}: {rule.withdrawal!r} is not a withdrawal-management level")
    if errors:
        return errors
    for dimension in DIMENSION_NUMBERS:
        found = [
            [r for r in table.dimension_rules if r.dimension == dimension and r.rating == n]
            for n in RATINGS
        ]
        missing = [str(n) for n, hits in zip(RATINGS, found, strict=True) if len(hits) != 1]
        if missing:
            errors.append(
                f"dimension {dimension} needs exactly one rule for rating {', '.join(missing)}"
            )
            continue
        chain = [hits[0] for hits in found]
        errors.extend(
            f"{higher.id} asks for less than {lower.id}"
            for lower, higher in pairwise(chain)
            if rank(higher.level) < rank(lower.level)
            or _wm_rank(higher.withdrawal) < _wm_rank(lower.withdrawal)
        )
    for rule in table.dimension_rules:
        if rule.dimension not in DIMENSION_NUMBERS or rule.rating not in RATINGS:
            errors.append(f"{rule.id}: no dimension {rule.dimension} rating {rule.rating}")
        if rule.dimension in (4, 5) and rank(rule.level) >= rank("4"):
            errors.append(f"{rule.id}: dimensions 4 and 5 alone never call for level 4")
        if rule.dimension != 1 and rule.withdrawal is not None:
            errors.append(f"{rule.id}: only dimension 1 calls for withdrawal management")
    errors.extend(
        f"{rule.id}: {rule.fact!r} is not a fact; known: {', '.join(FACTS)}"
        for rule in table.fact_rules
        if rule.fact not in FACTS
    )
    return errors


def _wm_rank(code: str | None) -> int:
    return -1 if code is None else rank(code)


def _dimension_rules(
    dimension: int, *entries: tuple[str, str | None, str]
) -> tuple[DimensionRule, ...]:
    """Five (level, withdrawal, description) entries, for ratings 0 to 4."""
    return tuple(
        DimensionRule(f"D{dimension}-{rating}", dimension, rating, text, level, withdrawal)
        for rating, (level, withdrawal, text) in enumerate(entries)
    )


NO_RISK = "No risk here: outpatient care is the least intensive treatment level."
MILD = "Mild, stable risk that regular outpatient contact can follow."

RULES = RuleTable(
    name="Stepwise placement rules, ASAM 3rd edition",
    version="stepwise-asam3-1",
    dimension_rules=(
        *_dimension_rules(
            1,
            ("1", None, "No intoxication or withdrawal risk: no withdrawal management."),
            (
                "1",
                "1-WM",
                "Mild withdrawal: ambulatory withdrawal management without "
                "extended on-site monitoring, alongside outpatient care.",
            ),
            (
                "1",
                "2-WM",
                "Moderate withdrawal: ambulatory withdrawal management with "
                "extended on-site monitoring (supervised all day).",
            ),
            (
                "3.7",
                "3.7-WM",
                "Severe withdrawal, or past complicated withdrawal: "
                "medically monitored inpatient withdrawal management with 24-hour nursing.",
            ),
            (
                "4",
                "4-WM",
                "Incapacitating or unstable withdrawal: medically managed "
                "(hospital) withdrawal management.",
            ),
        ),
        *_dimension_rules(
            2,
            ("1", None, NO_RISK),
            ("1", None, MILD),
            (
                "2.1",
                None,
                "Physical problems that get in the way of recovery: the "
                "structure of intensive outpatient, with medical follow-up arranged.",
            ),
            (
                "3.7",
                None,
                "Poorly controlled physical problems: 24-hour medical "
                "monitoring (clinically managed residential levels have none).",
            ),
            ("4", None, "Severe or unstable physical problems: medically managed inpatient care."),
        ),
        *_dimension_rules(
            3,
            ("1", None, NO_RISK),
            ("1", None, MILD),
            (
                "2.1",
                None,
                "Symptoms that interfere with recovery, without danger: "
                "intensive outpatient with mental health care.",
            ),
            (
                "3.5",
                None,
                "Severe symptoms or impulses that are safe only in a 24-hour "
                "setting: clinically managed high-intensity residential. Consider 3.7 when "
                "they need nursing or physician monitoring.",
            ),
            (
                "4",
                None,
                "Acute danger, psychosis or inability to care for self: medically "
                "managed inpatient or acute psychiatric care.",
            ),
        ),
        *_dimension_rules(
            4,
            ("1", None, NO_RISK),
            ("1", None, MILD),
            (
                "2.1",
                None,
                "Ambivalence about treatment: intensive outpatient for "
                "structured motivational work.",
            ),
            (
                "2.5",
                None,
                "Little recognition of the need to change: daily structure of "
                "partial hospitalization to engage.",
            ),
            (
                "3.5",
                None,
                "Cannot engage while in danger from use: a 24-hour milieu to "
                "engage. Dimension 4 alone never calls for level 4.",
            ),
        ),
        *_dimension_rules(
            5,
            ("1", None, NO_RISK),
            ("1", None, MILD),
            (
                "2.1",
                None,
                "Triggers poorly recognised, coping partly works: intensive "
                "outpatient to build relapse-prevention skills.",
            ),
            (
                "2.5",
                None,
                "Repeated return to use with little control: daily structure "
                "of partial hospitalization.",
            ),
            (
                "3.5",
                None,
                "Cannot stop, with imminent dangerous consequences: a 24-hour "
                "structured setting. Dimension 5 alone never calls for level 4.",
            ),
        ),
        *_dimension_rules(
            6,
            ("1", None, NO_RISK),
            ("1", None, MILD),
            ("2.1", None, "Unsupportive environment: the added structure of intensive outpatient."),
            (
                "3.1",
                None,
                "Environment works against recovery: 24-hour structured living "
                "with clinical services.",
            ),
            (
                "3.1",
                None,
                "Dangerous environment: a safe 24-hour setting now. A hospital "
                "does not fix a home, so this stays residential; the intensity of services "
                "follows the other dimensions.",
            ),
        ),
    ),
    fact_rules=(
        FactRule(
            "F-DANGER",
            "imminent_danger",
            "Imminent danger to self or others: medically managed inpatient or acute "
            "psychiatric care.",
            "4",
            caution="Imminent danger to self or others: arrange emergency evaluation now "
            "(emergency department or crisis team); do not wait for a placement.",
        ),
        FactRule(
            "F-UNSTABLE-WD",
            "unstable_vitals_or_severe_withdrawal",
            "Severe withdrawal with unstable vital signs: medically managed (hospital) "
            "withdrawal management.",
            "4",
            "4-WM",
            caution="Severe withdrawal with unstable vital signs: arrange hospital care now.",
        ),
        FactRule(
            "F-PREGNANT",
            "pregnant",
            "Pregnant: no change of level by itself.",
            "1",
            caution="Pregnant: coordinate with obstetric care.",
        ),
        FactRule(
            "F-PREGNANT-WD",
            "pregnant",
            "Pregnant with D1 at 2 or more: withdrawal management under at least medical "
            "monitoring (24-hour nursing, physician available).",
            "3.7",
            "3.7-WM",
            d1_at_least=2,
            caution="Pregnant with withdrawal risk: coordinate with obstetric care before "
            "and during withdrawal management.",
        ),
    ),
)


def _fact_errors(
    imminent_danger: object,
    unstable_vitals_or_severe_withdrawal: object,
    pregnant: object,
    withdrawal_score: object,
) -> dict[str, str]:
    errors: dict[str, str] = {}
    flags = (imminent_danger, unstable_vitals_or_severe_withdrawal, pregnant)
    for fact, value in zip(FACTS, flags, strict=True):
        if not isinstance(value, bool):
            errors[fact] = f"{value!r} is not allowed; allowed: True, False."
    if (message := _withdrawal_score_error(withdrawal_score)) is not None:
        errors["withdrawal_score"] = message
    return errors


def _withdrawal_score_error(score: object) -> str | None:
    if score is None:
        return None
    codes = ", ".join(WITHDRAWAL_SCALES)
    if not isinstance(score, tuple) or len(score) != 2:
        return f"Give (instrument code, total), the instrument one of: {codes}."
    code, total = score
    if code not in WITHDRAWAL_SCALES:
        return f"{code!r} is not a withdrawal scale here; allowed: {codes}."
    maximum = WITHDRAWAL_SCALES[code]
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total <= maximum:
        return f"A {code.upper()} total is a whole number from 0 to {maximum}, not {total!r}."
    return None


@dataclass(frozen=True)
class Facts:
    """The explicit facts the clinician states beside the ratings (kept with a decision)."""

    imminent_danger: bool = False  # to self or others
    unstable_vitals_or_severe_withdrawal: bool = False  # severe withdrawal, unstable vitals
    pregnant: bool = False
    # The latest withdrawal score, ("cows" | "sows", total): informs D1, sets nothing.
    withdrawal_score: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        errors = _fact_errors(
            self.imminent_danger,
            self.unstable_vitals_or_severe_withdrawal,
            self.pregnant,
            self.withdrawal_score,
        )
        if errors:
            raise InvalidResponses(errors)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready; `from_dict` reads it back."""
        score = self.withdrawal_score
        return {
            "imminent_danger": self.imminent_danger,
            "unstable_vitals_or_severe_withdrawal": self.unstable_vitals_or_severe_withdrawal,
            "pregnant": self.pregnant,
            "withdrawal_score": None if score is None else [score[0], score[1]],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Facts:
        score = data.get("withdrawal_score")
        return cls(
            imminent_danger=data.get("imminent_danger", False),
            unstable_vitals_or_severe_withdrawal=data.get(
                "unstable_vitals_or_severe_withdrawal", False
            ),
            pregnant=data.get("pregnant", False),
            withdrawal_score=tuple(score) if isinstance(score, list) else score,
        )


@dataclass(frozen=True)
class PlacementInput:
    """The six ratings (0-4) and the few facts the rules test. Invalid values raise
    InvalidResponses with one message per field at fault, naming the dimension and
    the allowed values."""

    d1: int
    d2: int
    d3: int
    d4: int
    d5: int
    d6: int
    imminent_danger: bool = False  # to self or others
    unstable_vitals_or_severe_withdrawal: bool = False  # severe withdrawal, unstable vitals
    pregnant: bool = False
    # The latest withdrawal score, ("cows" | "sows", total): informs D1, sets nothing.
    withdrawal_score: tuple[str, int] | None = None

    def __post_init__(self) -> None:
        errors: dict[str, str] = {}
        allowed = ", ".join(str(n) for n in RATINGS)
        for number, item_id in zip(DIMENSION_NUMBERS, DIMENSIONS, strict=True):
            value = getattr(self, f"d{number}")
            if isinstance(value, bool) or not isinstance(value, int) or value not in RATINGS:
                name = ASAM3.item(item_id).text
                errors[f"d{number}"] = f"{name}: {value!r} is not allowed; allowed: {allowed}."
        errors |= _fact_errors(
            self.imminent_danger,
            self.unstable_vitals_or_severe_withdrawal,
            self.pregnant,
            self.withdrawal_score,
        )
        if errors:
            raise InvalidResponses(errors)

    @classmethod
    def from_answers(cls, answers: Responses, facts: Facts | None = None) -> PlacementInput:
        """From a complete ASAM3 response keyed by item id (errors keyed the same way)."""
        ASAM3.validate(answers)
        facts = facts or Facts()
        d1, d2, d3, d4, d5, d6 = (answers[item_id] for item_id in DIMENSIONS)
        return cls(
            d1,
            d2,
            d3,
            d4,
            d5,
            d6,
            imminent_danger=facts.imminent_danger,
            unstable_vitals_or_severe_withdrawal=facts.unstable_vitals_or_severe_withdrawal,
            pregnant=facts.pregnant,
            withdrawal_score=facts.withdrawal_score,
        )

    @property
    def ratings(self) -> tuple[int, int, int, int, int, int]:
        return (self.d1, self.d2, self.d3, self.d4, self.d5, self.d6)

    @property
    def facts(self) -> Facts:
        return Facts(
            self.imminent_danger,
            self.unstable_vitals_or_severe_withdrawal,
            self.pregnant,
            self.withdrawal_score,
        )

    def rating(self, dimension: int) -> int:
        return self.ratings[dimension - 1]

    def fact(self, name: str) -> bool:
        return bool(getattr(self, name))


@dataclass(frozen=True)
class RationaleLine:
    dimension: int | None  # None for a fact or the result
    rule_id: str
    text: str


@dataclass(frozen=True)
class Recommendation:
    level: str  # a LEVELS_3RD code, never a -WM code
    withdrawal_level: str | None  # a -WM code, or None when D1 needs no withdrawal management
    rationale: tuple[RationaleLine, ...]
    cautions: tuple[str, ...]
    decided_by: tuple[str, ...]  # the ids of the rules whose minimum is the level

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(line.rule_id for line in self.rationale)


RULES_VERSION = RULES.version
RESULT = "RESULT"


def recommend(placement: PlacementInput, table: RuleTable = RULES) -> Recommendation:
    """The least intensive level that safely addresses the highest-risk dimensions:
    the most intensive of the fired rules' minimums, never a sum or an average."""
    dimension_rules = [table.rule_for(d, placement.rating(d)) for d in DIMENSION_NUMBERS]
    fact_rules = [
        r for r in table.fact_rules if placement.fact(r.fact) and placement.d1 >= r.d1_at_least
    ]
    fired: list[Rule] = [*dimension_rules, *fact_rules]
    level = max((r.level for r in fired), key=rank)
    withdrawal_codes = [r.withdrawal for r in fired if r.withdrawal is not None]
    withdrawal = max(withdrawal_codes, key=rank) if withdrawal_codes else None
    decided_by = tuple(r.id for r in fired if rank(r.level) == rank(level))

    rationale = [_dimension_line(rule) for rule in dimension_rules]
    cautions = [r.caution for r in fact_rules if r.caution]
    if placement.withdrawal_score is not None:
        line, caution = _withdrawal_score_note(placement.d1, placement.withdrawal_score)
        rationale.insert(1, line)
        if caution:
            cautions.append(caution)
    rationale.extend(RationaleLine(None, r.id, _minimum_text(r.description, r)) for r in fact_rules)
    rationale.append(_result_line(level, withdrawal, decided_by, fired))
    cautions.extend(_consistency_cautions(placement, level, withdrawal))
    return Recommendation(
        level=level,
        withdrawal_level=withdrawal,
        rationale=tuple(rationale),
        cautions=tuple(dict.fromkeys(cautions)),
        decided_by=decided_by,
    )


def _minimum_text(description: str, rule: Rule) -> str:
    text = f"{description} Minimum level {describe(rule.level)}"
    if rule.withdrawal is not None:
        text += f"; withdrawal management at least {describe(rule.withdrawal)}"
    return text + "."


def _dimension_line(rule: DimensionRule) -> RationaleLine:
    lead = f"D{rule.dimension} rated {rule.rating} ({SEVERITY[rule.rating]}): "
    return RationaleLine(rule.dimension, rule.id, lead + _minimum_text(rule.description, rule))


def _withdrawal_score_note(d1: int, score: tuple[str, int]) -> tuple[RationaleLine, str]:
    code, total = score
    rule_id = f"WS-{code.upper()}"
    informs = "The score informs D1; it does not set the level."
    if code != "cows":
        text = (
            f"{code.upper()} {total} of {WITHDRAWAL_SCALES[code]}: no published severity "
            f"bands, so it suggests no D1 rating; read it against the person's earlier "
            f"scores. {informs}"
        )
        return RationaleLine(1, rule_id, text), ""
    band = COWS.band_of(total)
    label = band.label.lower() if band is not None else "no band"
    suggested = COWS_SUGGESTED_D1.get(band.code, 0) if band is not None else 0
    text = (
        f"COWS {total} ({label}) suggests a D1 rating of at least {suggested} "
        f"(a Stepwise rule of thumb, not a published cut-off). {informs}"
    )
    caution = ""
    if d1 < suggested:
        caution = (
            f"D1 is rated {d1} but COWS {total} ({label}) suggests at least "
            f"{suggested}: review the D1 rating. The level follows the rating, not the score."
        )
    return RationaleLine(1, rule_id, text), caution


def _result_line(
    level: str, withdrawal: str | None, decided_by: tuple[str, ...], fired: list[Rule]
) -> RationaleLine:
    text = (
        f"Recommended level {describe(level)}: the most intensive of the minimums above "
        f"(set by {', '.join(decided_by)}); ratings are not added up or averaged."
    )
    if withdrawal is None:
        text += " No withdrawal management needed."
    else:
        by = [
            r.id
            for r in fired
            if r.withdrawal is not None and rank(r.withdrawal) == rank(withdrawal)
        ]
        text += f" Withdrawal management {describe(withdrawal)} (set by {', '.join(by)})."
    return RationaleLine(None, RESULT, text + " The clinician confirms or overrides.")


def _consistency_cautions(
    placement: PlacementInput, level: str, withdrawal: str | None
) -> list[str]:
    cautions: list[str] = []
    if placement.unstable_vitals_or_severe_withdrawal and placement.d1 < 4:
        cautions.append(
            f"Unstable severe withdrawal is recorded but D1 is rated {placement.d1}: "
            "review the D1 rating."
        )
    if placement.imminent_danger and 4 not in placement.ratings[:3]:
        # Danger to self or others belongs to D1-D3 (D3 dangerousness above all);
        # D4 and D5 never carry a patient to level 4.
        cautions.append(
            "Imminent danger is recorded but none of D1-D3 is rated 4: review the "
            "ratings (D3 dangerousness in particular); level 4 here rests on the fact alone."
        )
    if withdrawal in ("1-WM", "2-WM") and rank(level) >= rank("3.1"):
        cautions.append(
            f"Level {level} is a 24-hour setting, but D1 alone calls only for ambulatory "
            f"withdrawal management ({withdrawal}): confirm how withdrawal will be managed "
            "there (clinically managed residential withdrawal management is 3.2-WM)."
        )
    if not any(placement.ratings):
        cautions.append(
            "Every dimension is rated 0: if the person does not meet the criteria for a "
            "substance use disorder, early intervention (0.5) may fit better."
        )
    return cautions
