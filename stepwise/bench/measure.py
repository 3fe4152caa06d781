"""What every part of the benchmark measures with: the log line, the nearest-rank
percentile, the database's name and version, and one page's timed requests."""

from __future__ import annotations

import math
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any


def log(message: str) -> None:
    print(f"  [worker] {message}", file=sys.stderr, flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample at or above `fraction` of them."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass
class PageResult:
    page: str
    example: str
    requests: int
    median_ms: float
    p95_ms: float
    min_ms: float
    max_ms: float
    queries_min: int
    queries_max: int
    note: str = ""


def database_version() -> tuple[str, str]:
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
        return "PostgreSQL", str(row[0]) if row else "?"
    if connection.vendor == "sqlite":
        return "SQLite", sqlite3.sqlite_version
    return connection.vendor, "?"


def analyze_after_load() -> None:
    """What autovacuum does soon after a load, on PostgreSQL: planner statistics and the
    visibility map (not possible inside a transaction, as in the tests)."""
    from django.db import connection

    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def migrated_run(run: Callable[[], Any]) -> dict[str, Any]:
    """A part's worker job: migrate the fresh database, then `run` (build and measure);
    its result, with the migration's seconds, as JSON-ready data."""
    import io

    from django.core.management import call_command

    log(f"{' '.join(database_version())}: migrate")
    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0, stdout=io.StringIO())
    migrate_s = time.monotonic() - started
    result = run()
    result.migrate_s = round(migrate_s, 1)
    data: dict[str, Any] = asdict(result)
    return data


def measure_page(
    client: Any, name: str, paths: list[str], repeat: int, note: str = ""
) -> PageResult:
    """A warm-up, then the query count of up to 10 requests, then `repeat` timed requests."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get(path: str) -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"GET {path} answered {response.status_code}")

    for i in range(5):
        get(paths[i % len(paths)])
    counts = []
    for i in range(min(10, max(len(paths), 3))):
        with CaptureQueriesContext(connection) as captured:
            get(paths[i % len(paths)])
        counts.append(len(captured.captured_queries))
    timings = []
    for i in range(repeat):
        path = paths[i % len(paths)]
        started = time.perf_counter()
        get(path)
        timings.append((time.perf_counter() - started) * 1000)
    return PageResult(
        page=name,
        example=paths[0],
        requests=repeat,
        median_ms=round(statistics.median(timings), 2),
        p95_ms=round(percentile(timings, 0.95), 2),
        min_ms=round(min(timings), 2),
        max_ms=round(max(timings), 2),
        queries_min=min(counts),
        queries_max=max(counts),
        note=note,
    )
