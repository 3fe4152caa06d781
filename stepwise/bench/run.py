"""The top level of the benchmark: databases, worker processes, gunicorn, the report.

Settings read DATABASE_URL once, at import, so every database and size gets its
own worker process (`python -m stepwise.bench --worker ...`) with its own
environment; this process only starts them and collects their JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import subprocess  # nosec B404 # runs the benchmark's own workers
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from stepwise.bench import DEFAULT_ENGINE_SAMPLE, DEFAULT_REPEAT, DEFAULT_SEED, DEFAULT_SIZES
from stepwise.bench.load import drive, gunicorn
from stepwise.bench.report import (
    engine_section,
    machine_facts,
    render,
    write_docs,
    write_engine_docs,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
BENCH_DIR = PROJECT_DIR / "var" / "bench"
DOCS = PROJECT_DIR / "docs" / "benchmarks.md"
GUNICORN_WORKERS = 2
HTTP_WARMUP_SECONDS = 3.0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stepwise.bench",
        description=(
            "Benchmark Stepwise on SQLite (always) and PostgreSQL (when DATABASE_URL is a "
            "postgres:// URL): page server time and query counts at each size, then "
            "audited chart reads per second over HTTP, then the scoring engine's time per "
            "response (no database). Writes docs/benchmarks.md."
        ),
    )
    parser.add_argument(
        "--only",
        choices=["engine"],
        help="Run one part alone: 'engine' times the scoring engine (a few seconds, no "
        "database) and rewrites only its table in docs/benchmarks.md.",
    )
    parser.add_argument(
        "--engine-sample",
        type=int,
        default=DEFAULT_ENGINE_SAMPLE,
        help="Responses per instrument for the engine time; 0 skips it (default: %(default)s).",
    )
    parser.add_argument(
        "--sizes",
        default=",".join(str(s) for s in DEFAULT_SIZES),
        help="Comma-separated numbers of synthetic patients (default: %(default)s).",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=DEFAULT_REPEAT,
        help="Timed requests per page (default: %(default)s).",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="synth's seed.")
    parser.add_argument(
        "--http-seconds",
        type=float,
        default=15.0,
        help="Length of each HTTP load run; 0 skips the HTTP measurement (default: %(default)s).",
    )
    parser.add_argument(
        "--http-rounds",
        type=int,
        default=2,
        help="Rounds of (audit on, audit off) runs, alternating their order (default: %(default)s).",
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="HTTP client connections (default: %(default)s)."
    )
    parser.add_argument(
        "--sqlite-only", action="store_true", help="Ignore a postgres DATABASE_URL."
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="Keep the benchmark databases afterwards (to look at plans), instead of dropping them.",
    )
    parser.add_argument(
        "--no-docs", action="store_true", help="Print the results; leave docs/benchmarks.md alone."
    )
    # Internal: the worker processes.
    parser.add_argument("--worker", choices=["pages", "session", "engine"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@dataclass
class Database:
    """Where one database of the benchmark lives, and how to make it fresh."""

    label: str
    url_for: Callable[[int], str]
    fresh: Callable[[int], None]
    drop: Callable[[int], None]


def sqlite_database() -> Database:
    def path(size: int) -> Path:
        return BENCH_DIR / f"bench-{size}.sqlite3"

    def drop(size: int) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path(size)}{suffix}").unlink(missing_ok=True)

    return Database("SQLite", lambda size: f"sqlite:///{path(size)}", drop, drop)


def postgres_database(url: str) -> Database:
    """One throwaway database per size beside the one DATABASE_URL names
    (`<name>_<size>`, or `<name>_bench_<size>`), created and dropped through it,
    so the named database itself is never changed. The role needs CREATEDB."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    base = parts.path.lstrip("/") or "stepwise"
    prefix = base if "bench" in base else f"{base}_bench"

    def name(size: int) -> str:
        return f"{prefix}_{size}"

    def url_for(size: int) -> str:
        return urlunsplit(parts._replace(path=f"/{name(size)}"))

    def execute(*statements: sql.Composed) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def drop(size: int) -> None:
        execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name(size))))

    def fresh(size: int) -> None:
        try:
            drop(size)
            execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name(size))))
        except psycopg.Error as exc:
            raise SystemExit(
                f"Could not create the benchmark database {name(size)!r} through "
                f"{masked(url)}: {exc}\nThe role needs CREATEDB (ALTER ROLE ... CREATEDB)."
            ) from None

    return Database("PostgreSQL", url_for, fresh, drop)


def worker_env(database_url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "stepwise.settings",
        "STEPWISE_DEBUG": "0",
        "STEPWISE_ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The benchmark signs its counselor in directly; the second factor is not measured.
        "STEPWISE_REQUIRE_MFA": "0",
        **extra,
    }


def run_worker(job: str, database_url: str, args: argparse.Namespace, size: int) -> Any:
    out = BENCH_DIR / f"{job}-{os.getpid()}.json"
    out.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "stepwise.bench",
        "--worker",
        job,
        "--size",
        str(size),
        "--seed",
        str(args.seed),
        "--repeat",
        str(args.repeat),
        "--out",
        str(out),
    ]
    subprocess.run(command, env=worker_env(database_url), cwd=PROJECT_DIR, check=True)  # nosec B603 # a fixed command, no shell
    try:
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def measure_http(database: Database, size: int, args: argparse.Namespace) -> dict[str, Any] | None:
    """Chart reads per second through gunicorn, with the audit log on, then off."""
    url = database.url_for(size)
    session = run_worker("session", url, args, size)
    headers = {
        "Cookie": f"{session['cookie_name']}={session['cookie']}",
        "Host": "127.0.0.1",
        "Connection": "keep-alive",
    }
    runs = []
    # On, off, off, on, ...: alternating cancels a drift of the machine over the runs.
    order = [(True, False), (False, True)]
    for audit in [a for r in range(args.http_rounds) for a in order[r % 2]]:
        label = "on" if audit else "off"
        print(
            f"== HTTP: {database.label}, {size:,} patients, audit log {label}, "
            f"{args.concurrency} connections, {args.http_seconds:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        env = worker_env(url, STEPWISE_AUDIT_ENABLED="1" if audit else "0")
        log = BENCH_DIR / f"gunicorn-audit-{label}.log"
        with gunicorn(env, log, workers=GUNICORN_WORKERS) as port:
            budget = {"concurrency": args.concurrency, "max_requests": 1_000_000}
            drive(
                port, session["paths"], headers, seconds=HTTP_WARMUP_SECONDS, audit=audit, **budget
            )
            result = drive(
                port, session["paths"], headers, seconds=args.http_seconds, audit=audit, **budget
            )
        if result.errors:
            print(f"   {result.errors} errors, first: {result.first_error}", file=sys.stderr)
        print(f"   {result.per_second} requests/s", file=sys.stderr, flush=True)
        runs.append(asdict(result))
    return {
        "database": database.label,
        "size": size,
        "workers": GUNICORN_WORKERS,
        "concurrency": args.concurrency,
        "seconds": args.http_seconds,
        "warmup": HTTP_WARMUP_SECONDS,
        "patients": len(session["paths"]),
        "rounds": args.http_rounds,
        "runs": runs,
    }


def measure_engine(args: argparse.Namespace) -> dict[str, Any]:
    """Engine time per instrument, in a worker: the API schemas need Django's settings,
    which this process never imports. The worker opens no database (it checks); the
    URL only satisfies the settings."""
    print(
        f"== Scoring engine: {args.engine_sample:,} responses per instrument, no database",
        file=sys.stderr,
        flush=True,
    )
    unused = f"sqlite:///{BENCH_DIR / 'engine-opens-no-database.sqlite3'}"
    result: dict[str, Any] = run_worker("engine", unused, args, args.engine_sample)
    return result


def only_engine(args: argparse.Namespace, argv: list[str]) -> int:
    """`--only engine`: the engine table alone, written over the last one."""
    if args.engine_sample < 1:
        raise SystemExit("--only engine needs --engine-sample of at least 1.")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    section = engine_section(
        measure_engine(args), command=command_line(argv), facts=machine_facts([])
    )
    print()
    print(section)
    if not args.no_docs:
        write_engine_docs(DOCS, section)
        print(f"Wrote the engine table in {DOCS.relative_to(PROJECT_DIR)}", file=sys.stderr)
    return 0


def command_line(argv: list[str]) -> str:
    prefix = ""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        prefix = f"DATABASE_URL={masked(url)} "
    if os.environ.get("MAKELEVEL") and not argv:
        return f"{prefix}make bench"
    return f"{prefix}.venv/bin/python -m stepwise.bench {shlex.join(argv)}".rstrip()


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    # Turn SIGTERM into an exception, so `finally` blocks stop gunicorn and drop databases.
    raise SystemExit(128 + signum)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if args.worker:
        from stepwise.bench import worker

        return worker.main(args)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if args.only == "engine":
        return only_engine(args, argv)
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 10:
        raise SystemExit("--sizes needs numbers of patients of at least 10, e.g. 1000,100000")
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    databases = [sqlite_database()]
    env_url = os.environ.get("DATABASE_URL", "")
    if env_url.startswith(("postgres://", "postgresql://")) and not args.sqlite_only:
        databases.append(postgres_database(env_url))
    http_database = databases[-1]
    http_size = 1000 if 1000 in sizes else sizes[0]
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    http: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None
    made: list[tuple[Database, int]] = []
    try:
        for database in databases:
            for size in sizes:
                print(
                    f"== {database.label}, {size:,} patients: fresh database, migrate, synth, "
                    "measure",
                    file=sys.stderr,
                    flush=True,
                )
                database.fresh(size)
                made.append((database, size))
                results.append(run_worker("pages", database.url_for(size), args, size))
        if args.http_seconds > 0:
            http = measure_http(http_database, http_size, args)
        engine = measure_engine(args) if args.engine_sample > 0 else None
    finally:
        if not args.keep:
            for database, size in made:
                database.drop(size)
    options = {"seed": args.seed, "repeat": args.repeat}
    section = render(results, http, machine_facts(results), command_line(argv), options, engine)
    print()
    print(section)
    print(f"(benchmark took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    if not args.no_docs:
        write_docs(DOCS, section)
        print(f"Wrote {DOCS.relative_to(PROJECT_DIR)}", file=sys.stderr)
    return 0
