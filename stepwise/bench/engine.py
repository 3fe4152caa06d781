"""Engine time: how long scoring one response takes, without a database.

For every instrument in the registry, a fixed-seed set of valid, complete
responses (every item answered with one of its allowed values, every context fact
given) is scored one at a time with `instrument.score(answers, context)`, each
call timed with `time.perf_counter_ns`. The same responses then go through the
scoring endpoint's own schemas, as the API sees them: the JSON body parsed by
`ScoreIn`, scored (partial allowed, as the endpoint does), and the result
validated and dumped by `ScoreOut`. That path needs Django's settings (the API
module imports models) but opens no database; HTTP, routing and authentication
are not part of it.

Pure measurement: the caller decides where the numbers go (`report.engine_section`).
"""

from __future__ import annotations

import json
import platform
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from stepwise.bench import DEFAULT_ENGINE_SAMPLE, DEFAULT_SEED
from stepwise.bench.measure import percentile
from stepwise.instruments.engine import Instrument
from stepwise.instruments.registry import INSTRUMENTS

# Responses scored (and thrown away) before the timed ones: imports, caches, branches.
WARMUP = 50
# The date every response is "observed" on; other date facts fall before it.
REFERENCE_DATE = date(2026, 1, 15)
OBSERVED_ON = "observed_on"

Answers = dict[str, int]
Facts = dict[str, str]
Case = tuple[Answers, Facts]


@dataclass
class EngineRow:
    instrument: str  # the registry code
    items: int
    responses: int
    median_us: float
    p95_us: float
    max_us: float
    # The scoring endpoint's schemas around the engine; None when not measured.
    api_median_us: float | None = None
    api_p95_us: float | None = None


@dataclass
class EngineResult:
    seed: int
    sample: int
    warmup: int
    python: str
    rows: list[EngineRow] = field(default_factory=list)


def _context(instrument: Instrument, rng: random.Random) -> Facts:
    facts: Facts = {}
    for context_field in instrument.context_fields:
        if context_field.kind == "date":
            # The assessment date, and earlier dates for the rest (a remission clock).
            days_before = 0 if context_field.id == OBSERVED_ON else rng.randint(0, 730)
            facts[context_field.id] = (REFERENCE_DATE - timedelta(days=days_before)).isoformat()
        else:
            facts[context_field.id] = rng.choice([code for code, _ in context_field.choices])
    return facts


def responses_for(instrument: Instrument, count: int, rng: random.Random) -> list[Case]:
    """`count` valid complete responses: every item, optional ones too, and every fact."""
    return [
        (
            {item.id: rng.choice(item.allowed) for item in instrument.items},
            _context(instrument, rng),
        )
        for _ in range(count)
    ]


def _time_each(cases: Sequence[Case], call: Callable[[Case], object]) -> list[int]:
    for case in cases[:WARMUP]:
        call(case)
    timings = []
    clock = time.perf_counter_ns
    for case in cases:
        started = clock()
        call(case)
        timings.append(clock() - started)
    return timings


def time_engine(instrument: Instrument, cases: Sequence[Case]) -> list[int]:
    """Nanoseconds per `instrument.score` call, one per case."""

    def score(case: Case) -> object:
        result = instrument.score(case[0], case[1])
        if not result.complete:
            raise AssertionError(f"{instrument.code}: a complete response scored incomplete")
        return result

    return _time_each(cases, score)


def time_api(instrument: Instrument, cases: Sequence[Case]) -> list[int]:
    """Nanoseconds per response through the scoring endpoint's schemas and the engine,
    from the JSON body to the JSON result (what `POST /instruments/{code}/score` does
    between authentication and rendering). Needs Django set up; opens no database."""
    from stepwise.api.assessments import ScoreIn, ScoreOut

    bodies = {id(case): json.dumps({"answers": case[0], "context": case[1]}) for case in cases}

    def through_api(case: Case) -> object:
        payload = ScoreIn.model_validate_json(bodies[id(case)])
        result = instrument.score(payload.answers, payload.context, partial=True)
        out = ScoreOut.model_validate(
            {
                "instrument": instrument.code,
                "version": instrument.version,
                "total": result.total,
                "band": result.band,
                "complete": result.complete,
                "signals": result.signals,
                "findings": result.findings,
            }
        )
        return out.model_dump_json()

    return _time_each(cases, through_api)


def _us(nanoseconds: float) -> float:
    return round(nanoseconds / 1000, 2)


def run(
    sample: int = DEFAULT_ENGINE_SAMPLE, seed: int = DEFAULT_SEED, *, api: bool = True
) -> EngineResult:
    """Time every registered instrument on `sample` responses drawn with `seed`."""
    if sample < 1:
        raise ValueError("The engine sample needs at least one response.")
    rng = random.Random(seed)  # nosec B311 # a seeded sample, not a secret
    result = EngineResult(
        seed=seed, sample=sample, warmup=min(WARMUP, sample), python=platform.python_version()
    )
    for instrument in INSTRUMENTS.values():
        cases = responses_for(instrument, sample, rng)
        engine_ns = time_engine(instrument, cases)
        row = EngineRow(
            instrument=instrument.code,
            items=len(instrument.items),
            responses=len(cases),
            median_us=_us(statistics.median(engine_ns)),
            p95_us=_us(percentile([float(t) for t in engine_ns], 0.95)),
            max_us=_us(max(engine_ns)),
        )
        if api:
            api_ns = time_api(instrument, cases)
            row.api_median_us = _us(statistics.median(api_ns))
            row.api_p95_us = _us(percentile([float(t) for t in api_ns], 0.95))
        result.rows.append(row)
    return result


def run_in_worker(sample: int, seed: int) -> dict[str, Any]:
    """The `--worker engine` job: Django is set up (for the API schemas); the
    measurement must not have opened a database connection."""
    from dataclasses import asdict

    from django.db import connections

    measured = asdict(run(sample, seed, api=True))
    opened = [alias for alias in connections if connections[alias].connection is not None]
    if opened:
        raise SystemExit(f"The engine benchmark opened a database connection: {opened}")
    return measured
