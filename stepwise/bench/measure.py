"""What every part of the benchmark measures with: the log line, the nearest-rank
percentile, the database's name and version, and one page's timed requests."""

from __future__ import annotations

import math
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass
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
