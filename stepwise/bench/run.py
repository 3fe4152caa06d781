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

from stepwise.bench import (
    DEFAULT_ENGINE_SAMPLE,
    DEFAULT_INTAKE_CALLS,
    DEFAULT_INTAKE_REPEAT,
    DEFAULT_RECOVERY_REPEAT,
    DEFAULT_REPEAT,
    DEFAULT_SCHEDULE_IOP,
    DEFAULT_SCHEDULE_OP,
    DEFAULT_SCHEDULE_PHP,
    DEFAULT_SCHEDULE_REPEAT,
    DEFAULT_SCHEDULE_WEEKS,
    DEFAULT_SEED,
    DEFAULT_SIZES,
    DEFAULT_UNIT_BEDS,
    DEFAULT_UNIT_REPEAT,
)
from stepwise.bench.load import drive, gunicorn
from stepwise.bench.report import (
    engine_section,
    intake_section,
    machine_facts,
    recovery_section,
    render,
    schedule_section,
    unit_section,
    write_docs,
    write_engine_docs,
    write_intake_docs,
    write_recovery_docs,
    write_schedule_docs,
    write_unit_docs,
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
            "postgres:// URL): page server time and query counts at each size, the detox "
            "unit's board, eMAR and flowsheet on a full unit, the admissions line's pages "
            "after a year of calls, the programs' schedule pages after twelve weeks of "
            "sessions, then audited chart reads per second over HTTP, then the scoring "
            "engine's time per response (no database). Writes docs/benchmarks.md."
        ),
    )
    parser.add_argument(
        "--only",
        choices=["engine", "unit", "intake", "schedule", "recovery"],
        help="Run one part alone and rewrite only its tables in docs/benchmarks.md: "
        "'engine' times the scoring engine (a few seconds, no database); 'unit' times the "
        "detox unit's pages on each database (under a minute each); 'intake' times the "
        "admissions line's pages after a year of calls on each database; 'schedule' "
        "times the programs' schedule pages after twelve weeks of sessions on each database; "
        "'recovery' builds that schedule, then plans, drug screens, returns to use and a "
        "residence, and times their pages on each database.",
    )
    parser.add_argument(
        "--engine-sample",
        type=int,
        default=DEFAULT_ENGINE_SAMPLE,
        help="Responses per instrument for the engine time; 0 skips it (default: %(default)s).",
    )
    parser.add_argument(
        "--unit-beds",
        type=int,
        default=DEFAULT_UNIT_BEDS,
        help="Beds of the detox unit, every one occupied; 0 skips the unit part "
        "(default: %(default)s).",
    )
    parser.add_argument(
        "--unit-repeat",
        type=int,
        default=DEFAULT_UNIT_REPEAT,
        help="Timed requests per page of the detox unit (default: %(default)s).",
    )
    parser.add_argument(
        "--intake-calls",
        type=int,
        default=DEFAULT_INTAKE_CALLS,
        help="Calls to the admissions line over the last 365 days; 0 skips the admissions "
        "part (default: %(default)s).",
    )
    parser.add_argument(
        "--intake-repeat",
        type=int,
        default=DEFAULT_INTAKE_REPEAT,
        help="Timed requests per page of the admissions line (default: %(default)s).",
    )
    parser.add_argument(
        "--schedule-iop",
        type=int,
        default=DEFAULT_SCHEDULE_IOP,
        help="Patients in care now in each of the two evening IOPs (the measured session's "
        "members); 0 skips the schedule part (default: %(default)s).",
    )
    parser.add_argument(
        "--schedule-php",
        type=int,
        default=DEFAULT_SCHEDULE_PHP,
        help="Patients in care now in the day program (default: %(default)s).",
    )
    parser.add_argument(
        "--schedule-op",
        type=int,
        default=DEFAULT_SCHEDULE_OP,
        help="Patients in care now in outpatient (default: %(default)s).",
    )
    parser.add_argument(
        "--schedule-weeks",
        type=int,
        default=DEFAULT_SCHEDULE_WEEKS,
        help="Weeks of sessions held before this one, 2 to 26 (default: %(default)s).",
    )
    parser.add_argument(
        "--schedule-repeat",
        type=int,
        default=DEFAULT_SCHEDULE_REPEAT,
        help="Timed requests per page of the schedule (default: %(default)s).",
    )
    parser.add_argument(
        "--recovery-repeat",
        type=int,
        default=DEFAULT_RECOVERY_REPEAT,
        help="Timed requests per page of recovery, plans, aftercare and sober living, built "
        "on the schedule's sizes; 0 skips the part (default: %(default)s).",
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
    parser.add_argument(
        "--worker",
        choices=["pages", "session", "engine", "unit", "intake", "schedule", "recovery"],
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--size", type=int, default=1000, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def masked(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


# Which database of a kind: a number of patients, the detox unit's (`unit_<beds>`),
# the admissions line's (`intake_<calls>`) or the schedule's (`schedule_<iop>`).
Key = int | str


def unit_key(beds: int) -> str:
    return f"unit_{beds}"


def intake_key(calls: int) -> str:
    return f"intake_{calls}"


def schedule_key(iop: int) -> str:
    return f"schedule_{iop}"


def recovery_key(iop: int) -> str:
    return f"recovery_{iop}"


@dataclass
class Database:
    """Where one database of the benchmark lives, and how to make it fresh."""

    label: str
    url_for: Callable[[Key], str]
    fresh: Callable[[Key], None]
    drop: Callable[[Key], None]


def sqlite_database() -> Database:
    def path(key: Key) -> Path:
        return BENCH_DIR / f"bench-{key}.sqlite3"

    def drop(key: Key) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path(key)}{suffix}").unlink(missing_ok=True)

    return Database("SQLite", lambda key: f"sqlite:///{path(key)}", drop, drop)


def postgres_database(url: str) -> Database:
    """One throwaway database per size, one each for the detox unit, the admissions line
    and the schedule, beside the one DATABASE_URL names (`<name>_<key>`, or
    `<name>_bench_<key>`), created and dropped through it, so the named database itself
    is never changed. The role needs CREATEDB."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    base = parts.path.lstrip("/") or "stepwise"
    prefix = base if "bench" in base else f"{base}_bench"

    def name(key: Key) -> str:
        return f"{prefix}_{key}"

    def url_for(key: Key) -> str:
        return urlunsplit(parts._replace(path=f"/{name(key)}"))

    def execute(*statements: sql.Composed) -> None:
        with psycopg.connect(url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def drop(key: Key) -> None:
        execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name(key))))

    def fresh(key: Key) -> None:
        try:
            drop(key)
            execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name(key))))
        except psycopg.Error as exc:
            raise SystemExit(
                f"Could not create the benchmark database {name(key)!r} through "
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


def run_worker(
    job: str,
    database_url: str,
    args: argparse.Namespace,
    size: int,
    *,
    repeat: int | None = None,
    env: dict[str, str] | None = None,
    extra: list[str] | None = None,
) -> Any:
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
        str(args.repeat if repeat is None else repeat),
        "--out",
        str(out),
        *(extra or []),
    ]
    environment = worker_env(database_url, **(env or {}))
    subprocess.run(command, env=environment, cwd=PROJECT_DIR, check=True)  # nosec B603 # a fixed command, no shell
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


def _measure_part(
    database: Database,
    args: argparse.Namespace,
    *,
    part: str,
    title: str,
    key: Key,
    size: int,
    repeat: int,
    extra: list[str] | None = None,
) -> dict[str, Any]:
    """One part's pages on a fresh database of this kind, dropped afterwards unless
    --keep; the whole part is timed, database creation to drop."""
    print(
        f"== {database.label}, {title}: fresh database, migrate, build, measure",
        file=sys.stderr,
        flush=True,
    )
    started = time.monotonic()
    database.fresh(key)
    try:
        # The second factor is in force here, as in production: the worker's session
        # has passed it and its API token was made behind it.
        result: dict[str, Any] = run_worker(
            part,
            database.url_for(key),
            args,
            size,
            repeat=repeat,
            env={"STEPWISE_REQUIRE_MFA": "1"},
            extra=extra,
        )
    finally:
        if not args.keep:
            database.drop(key)
    result["seconds"] = round(time.monotonic() - started, 1)
    print(f"   {result['seconds']:.0f} s", file=sys.stderr, flush=True)
    return result


def measure_unit(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    """The detox unit's pages (the budget is well under a minute per database)."""
    return _measure_part(
        database,
        args,
        part="unit",
        title=f"detox unit of {args.unit_beds} beds",
        key=unit_key(args.unit_beds),
        size=args.unit_beds,
        repeat=args.unit_repeat,
    )


def measure_intake(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    """The admissions line's pages."""
    return _measure_part(
        database,
        args,
        part="intake",
        title=f"admissions line of {args.intake_calls:,} calls",
        key=intake_key(args.intake_calls),
        size=args.intake_calls,
        repeat=args.intake_repeat,
    )


def _schedule_sizes(args: argparse.Namespace) -> list[str]:
    """The schedule's sizes besides the IOPs' census (the worker's `--size`)."""
    return [
        f"--schedule-php={args.schedule_php}",
        f"--schedule-op={args.schedule_op}",
        f"--schedule-weeks={args.schedule_weeks}",
    ]


def measure_schedule(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    """The programs' schedule pages (`--size` is the IOPs' census; the other sizes go
    to the worker as they are)."""
    return _measure_part(
        database,
        args,
        part="schedule",
        title=(
            f"schedule of {args.schedule_weeks} weeks (IOPs {args.schedule_iop}, PHP "
            f"{args.schedule_php}, outpatient {args.schedule_op})"
        ),
        key=schedule_key(args.schedule_iop),
        size=args.schedule_iop,
        repeat=args.schedule_repeat,
        extra=_schedule_sizes(args),
    )


def measure_recovery(database: Database, args: argparse.Namespace) -> dict[str, Any]:
    """Recovery's pages, on the schedule's organization built afresh (its sizes)."""
    return _measure_part(
        database,
        args,
        part="recovery",
        title=(
            f"recovery on {args.schedule_weeks} weeks of the schedule (IOPs "
            f"{args.schedule_iop}, PHP {args.schedule_php}, outpatient {args.schedule_op})"
        ),
        key=recovery_key(args.schedule_iop),
        size=args.schedule_iop,
        repeat=args.recovery_repeat,
        extra=_schedule_sizes(args),
    )


def schedule_errors(args: argparse.Namespace) -> str:
    """Why the schedule's sizes cannot be built ('' when they can)."""
    sizes = (args.schedule_iop, args.schedule_php, args.schedule_op)
    if min(sizes) < 1 or args.schedule_repeat < 1:
        return "--schedule-iop, --schedule-php, --schedule-op and --schedule-repeat need at least 1"
    if not 2 <= args.schedule_weeks <= 26:
        return "--schedule-weeks needs 2 to 26"
    return ""


def databases_to_measure(args: argparse.Namespace) -> list[Database]:
    """SQLite always; PostgreSQL too when DATABASE_URL names one."""
    databases = [sqlite_database()]
    env_url = os.environ.get("DATABASE_URL", "")
    if env_url.startswith(("postgres://", "postgresql://")) and not args.sqlite_only:
        databases.append(postgres_database(env_url))
    return databases


# A part measured alone: how it is measured on one database, its tables, where they go.
Part = tuple[
    Callable[[Database, argparse.Namespace], dict[str, Any]],
    Callable[..., str],
    Callable[[Path, str], None],
    str,
]


def _only_part(args: argparse.Namespace, argv: list[str], part: Part) -> int:
    """Measure one part on each database and write only its tables over the last ones."""
    measure, section_of, write, what = part
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = [measure(database, args) for database in databases_to_measure(args)]
    section = section_of(results, command=command_line(argv), facts=machine_facts(results))
    print()
    print(section)
    print(f"(benchmark took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    if not args.no_docs:
        write(DOCS, section)
        print(f"Wrote {what} in {DOCS.relative_to(PROJECT_DIR)}", file=sys.stderr)
    return 0


def only_unit(args: argparse.Namespace, argv: list[str]) -> int:
    """`--only unit`: the detox unit's tables alone, written over the last ones."""
    if args.unit_beds < 1 or args.unit_repeat < 1:
        raise SystemExit("--only unit needs --unit-beds and --unit-repeat of at least 1.")
    part = (measure_unit, unit_section, write_unit_docs, "the detox unit tables")
    return _only_part(args, argv, part)


def only_intake(args: argparse.Namespace, argv: list[str]) -> int:
    """`--only intake`: the admissions line's tables alone, written over the last ones."""
    if args.intake_calls < 20 or args.intake_repeat < 1:
        raise SystemExit(
            "--only intake needs --intake-calls of at least 20 and --intake-repeat of at least 1."
        )
    part = (measure_intake, intake_section, write_intake_docs, "the admissions line tables")
    return _only_part(args, argv, part)


def only_schedule(args: argparse.Namespace, argv: list[str]) -> int:
    """`--only schedule`: the schedule's tables alone, written over the last ones."""
    error = schedule_errors(args)
    if error:
        raise SystemExit(f"--only schedule: {error}.")
    part = (measure_schedule, schedule_section, write_schedule_docs, "the schedule tables")
    return _only_part(args, argv, part)


def only_recovery(args: argparse.Namespace, argv: list[str]) -> int:
    """`--only recovery`: recovery's tables alone, written over the last ones."""
    error = schedule_errors(args) or (
        "--recovery-repeat needs at least 1" if args.recovery_repeat < 1 else ""
    )
    if error:
        raise SystemExit(f"--only recovery: {error}.")
    part = (measure_recovery, recovery_section, write_recovery_docs, "the recovery tables")
    return _only_part(args, argv, part)


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
    if args.only == "unit":
        return only_unit(args, argv)
    if args.only == "intake":
        return only_intake(args, argv)
    if args.only == "schedule":
        return only_schedule(args, argv)
    if args.only == "recovery":
        return only_recovery(args, argv)
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    if not sizes or min(sizes) < 10:
        raise SystemExit("--sizes needs numbers of patients of at least 10, e.g. 1000,100000")
    if args.unit_beds > 0 and args.unit_repeat < 1:
        raise SystemExit("--unit-repeat needs at least 1 (or --unit-beds 0 to skip the unit).")
    if args.intake_calls > 0 and (args.intake_calls < 20 or args.intake_repeat < 1):
        raise SystemExit(
            "--intake-calls needs at least 20 and --intake-repeat at least 1 (or "
            "--intake-calls 0 to skip the admissions line)."
        )
    if args.schedule_iop > 0 and schedule_errors(args):
        raise SystemExit(f"{schedule_errors(args)} (or --schedule-iop 0 to skip the schedule).")
    recovery = args.recovery_repeat > 0 and args.schedule_iop > 0
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    databases = databases_to_measure(args)
    http_database = databases[-1]
    http_size = 1000 if 1000 in sizes else sizes[0]
    started = time.monotonic()
    results: list[dict[str, Any]] = []
    http: dict[str, Any] | None = None
    engine: dict[str, Any] | None = None
    units: list[dict[str, Any]] = []
    intakes: list[dict[str, Any]] = []
    schedules: list[dict[str, Any]] = []
    recoveries: list[dict[str, Any]] = []
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
            if args.unit_beds > 0:
                units.append(measure_unit(database, args))
            if args.intake_calls > 0:
                intakes.append(measure_intake(database, args))
            if args.schedule_iop > 0:
                schedules.append(measure_schedule(database, args))
            if recovery:
                recoveries.append(measure_recovery(database, args))
        if args.http_seconds > 0:
            http = measure_http(http_database, http_size, args)
        engine = measure_engine(args) if args.engine_sample > 0 else None
    finally:
        if not args.keep:
            for database, size in made:
                database.drop(size)
    options = {"seed": args.seed, "repeat": args.repeat}
    section = render(
        results,
        http,
        machine_facts(results),
        command_line(argv),
        options,
        engine,
        units or None,
        intakes or None,
        schedules or None,
        recoveries or None,
    )
    print()
    print(section)
    print(f"(benchmark took {time.monotonic() - started:.0f} s)", file=sys.stderr)
    if not args.no_docs:
        write_docs(DOCS, section)
        print(f"Wrote {DOCS.relative_to(PROJECT_DIR)}", file=sys.stderr)
    return 0
