"""Real HTTP: start gunicorn on loopback and drive it with a small load generator.

The generator is threads and `http.client`: each thread keeps its connection
open between requests when the server allows (gunicorn's default sync workers
close it after every response, and the thread reconnects), runs until a
deadline or a request budget, and records each request's latency.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import statistics
import subprocess  # nosec B404 # starts the benchmark's own server processes
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import count
from pathlib import Path

from stepwise.bench.measure import percentile

HOST = "127.0.0.1"


@dataclass
class LoadResult:
    audit: bool
    requests: int
    errors: int
    seconds: float
    per_second: float
    median_ms: float
    p95_ms: float
    concurrency: int
    first_error: str = ""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def gunicorn_executable() -> str:
    beside = Path(sys.executable).with_name("gunicorn")
    if beside.exists():
        return str(beside)
    found = shutil.which("gunicorn")
    if found is None:
        raise SystemExit("gunicorn is not installed (it is a dependency: pip install -e .)")
    return found


def _wait_until_up(port: int, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with code {process.returncode}")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/health")
            status = connection.getresponse().status
            connection.close()
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer /health within {timeout:.0f} s")


@contextmanager
def gunicorn(env: Mapping[str, str], log_path: Path, workers: int = 2) -> Iterator[int]:
    """A gunicorn serving Stepwise on a free loopback port; stopped on the way out."""
    port = free_port()
    command = [
        gunicorn_executable(),
        "stepwise.wsgi",
        "-w",
        str(workers),
        "-b",
        f"{HOST}:{port}",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # nosec B603 # a fixed command: this interpreter, no shell
            command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            _wait_until_up(port, process, timeout=60)
            yield port
        finally:
            if process.poll() is None:
                process.terminate()  # gunicorn stops its workers on SIGTERM
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def drive(
    port: int,
    paths: list[str],
    headers: Mapping[str, str],
    *,
    seconds: float,
    concurrency: int,
    max_requests: int,
    audit: bool,
) -> LoadResult:
    """GET the paths round-robin from `concurrency` threads for `seconds` (or until
    `max_requests`), and count the 200s."""
    tickets = count()
    deadline = time.monotonic() + seconds
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors: list[str] = []
    lock = threading.Lock()

    def worker(slot: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        mine = latencies[slot]
        try:
            while time.monotonic() < deadline:
                ticket = next(tickets)
                if ticket >= max_requests:
                    return
                path = paths[ticket % len(paths)]
                started = time.perf_counter()
                try:
                    connection.request("GET", path, headers=dict(headers))
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException) as exc:
                    connection.close()
                    with lock:
                        errors.append(f"GET {path}: {exc!r}")
                    continue
                if response.status != 200:
                    with lock:
                        errors.append(f"GET {path}: HTTP {response.status}")
                    continue
                mine.append((time.perf_counter() - started) * 1000)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=worker, args=(slot,), daemon=True) for slot in range(concurrency)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 60)
    elapsed = time.monotonic() - started
    done = sorted(ms for mine in latencies for ms in mine)
    return LoadResult(
        audit=audit,
        requests=len(done),
        errors=len(errors),
        seconds=round(elapsed, 2),
        per_second=round(len(done) / elapsed, 1) if elapsed else 0.0,
        median_ms=round(statistics.median(done), 1) if done else 0.0,
        p95_ms=round(percentile(done, 0.95), 1) if done else 0.0,
        concurrency=concurrency,
        first_error=errors[0] if errors else "",
    )
