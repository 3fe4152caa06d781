"""The engine benchmark's shape (not its timings): every instrument, the sample size
asked for, valid responses fixed by the seed, and its table in the report."""

from __future__ import annotations

import random
from dataclasses import asdict

from stepwise.bench import engine
from stepwise.bench.report import (
    BEGIN,
    END,
    ENGINE_BEGIN,
    ENGINE_END,
    engine_section,
    write_engine_docs,
)
from stepwise.bench.run import parse_args
from stepwise.instruments.registry import INSTRUMENTS


def test_every_instrument_is_timed_on_the_sample_asked_for_without_a_database():
    # No `db` fixture: pytest-django refuses any query, so this also shows none is made.
    result = engine.run(sample=3, seed=2026)
    assert (result.seed, result.sample, result.warmup) == (2026, 3, 3)
    assert [row.instrument for row in result.rows] == list(INSTRUMENTS)
    for row in result.rows:
        assert row.responses == 3
        assert row.items == len(INSTRUMENTS[row.instrument].items)
        assert 0 < row.median_us <= row.p95_us <= row.max_us
        assert row.api_median_us is not None and row.api_p95_us is not None
        assert 0 < row.api_median_us <= row.api_p95_us


def test_the_api_path_can_be_left_out():
    result = engine.run(sample=2, seed=1, api=False)
    assert all(row.api_median_us is None and row.api_p95_us is None for row in result.rows)


def test_the_responses_are_valid_complete_and_fixed_by_the_seed():
    for instrument in INSTRUMENTS.values():
        cases = engine.responses_for(instrument, 20, random.Random(2026))
        assert cases == engine.responses_for(instrument, 20, random.Random(2026))
        for answers, context in cases:
            assert set(answers) == {item.id for item in instrument.items}
            assert set(context) == {f.id for f in instrument.context_fields}
            assert instrument.score(answers, context).complete


def test_the_table_lists_every_instrument_and_replaces_only_itself(tmp_path):
    measured = asdict(engine.run(sample=2, seed=2026))
    section = engine_section(measured)
    assert section.startswith(ENGINE_BEGIN) and section.endswith(ENGINE_END)
    for code in INSTRUMENTS:
        assert f"| `{code}` | " in section
    assert "**met**" in section or "**missed**" in section

    doc = tmp_path / "benchmarks.md"
    doc.write_text(f"# Benchmarks\n\n{BEGIN}\n## Results\n\nPages table\n\n{END}\n\n## Findings\n")
    alone = engine_section(
        measured,
        command="python -m stepwise.bench --only engine",
        facts={"Date": "today", "Python": "3.11", "CPUs": "2", "CPU model": "x"},
    )
    write_engine_docs(doc, alone)
    write_engine_docs(doc, alone)  # a second run replaces the table, not adds one
    text = doc.read_text()
    assert text.count(ENGINE_BEGIN) == 1 and "Measured on its own by" in text
    assert text.index("Pages table") < text.index(ENGINE_BEGIN) < text.index(END)
    assert text.endswith("## Findings\n")


def test_only_engine_is_an_option():
    args = parse_args(["--only", "engine", "--engine-sample", "10"])
    assert (args.only, args.engine_sample) == ("engine", 10)
