"""The part of the benchmark that runs inside Django, one process per database.

The database comes from DATABASE_URL, as everywhere in Stepwise; the parent sets
it. Results are written as JSON to the file named by `--out`.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stepwise.bench.measure import PageResult, database_version, log, measure_page


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "stepwise.settings")
    import django

    django.setup()


@dataclass
class PagesResult:
    database: str
    vendor: str
    version: str
    size: int
    seed: int
    migrate_s: float
    synth_s: float
    patients: int
    episodes: int
    open_episodes: int
    stays: int
    pages: list[PageResult] = field(default_factory=list)


def chart_paths(count: int, seed: int) -> tuple[list[str], list[int]]:
    """Charts of different patients whose open episode has moved at least once,
    with each one's number of stays over all its episodes."""
    from django.db.models import Count

    from stepwise.bench import CLINICIAN, SYNTH_SLUG
    from stepwise.care.models import Episode, Stay

    # The benchmark's counselor opens charts of patients on their own care team, the
    # everyday case (others are refused at the care-team wall).
    candidates = list(
        Episode.objects.filter(
            organization__slug=SYNTH_SLUG,
            status="open",
            patient__care_team__user__username=CLINICIAN,
        )
        .annotate(moves=Count("stays"))
        .filter(moves__gte=2)
        .order_by("id")
        .values_list("patient_id", "patient__public_id")[:5000]
    )
    if not candidates:
        raise SystemExit("No patient has an open episode with two stays; is the data there?")
    chosen = random.Random(seed).sample(candidates, min(count, len(candidates)))  # nosec B311 # a seeded sample, not a secret
    stays = dict(
        Stay.objects.filter(episode__patient_id__in=[pk for pk, _ in chosen])
        .values("episode__patient_id")
        .annotate(n=Count("id"))
        .values_list("episode__patient_id", "n")
    )
    return [f"/patients/{public_id}/" for _, public_id in chosen], [stays[pk] for pk, _ in chosen]


def signed_in_client() -> Any:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from stepwise.bench import CLINICIAN

    user = get_user_model().objects.get(username=CLINICIAN)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    return client


def run_pages(size: int, seed: int, repeat: int) -> PagesResult:
    """Migrate, synthesize `size` patients, then time the three pages."""
    from django.core.management import call_command
    from django.db import connection

    from stepwise.bench import SYNTH_SLUG
    from stepwise.care.models import Episode, Stay
    from stepwise.patients.models import Patient

    vendor, version = database_version()
    log(f"{vendor} {version}: migrate")
    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    migrate_s = time.monotonic() - started
    log(f"synth --patients {size} --seed {seed}")
    started = time.monotonic()
    call_command("synth", patients=size, seed=seed, org_slug=SYNTH_SLUG, stdout=io.StringIO())
    synth_s = time.monotonic() - started
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a bulk load: planner statistics, visibility map.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    result = PagesResult(
        database=vendor,
        vendor=connection.vendor,
        version=version,
        size=size,
        seed=seed,
        migrate_s=round(migrate_s, 1),
        synth_s=round(synth_s, 1),
        patients=Patient.objects.filter(organization__slug=SYNTH_SLUG).count(),
        episodes=Episode.objects.filter(organization__slug=SYNTH_SLUG).count(),
        open_episodes=Episode.objects.filter(organization__slug=SYNTH_SLUG, status="open").count(),
        stays=Stay.objects.filter(organization__slug=SYNTH_SLUG).count(),
    )
    client = signed_in_client()
    charts, stays = chart_paths(max(repeat, 10), seed)
    chart_note = f"{len(charts)} patients, {min(stays)} to {max(stays)} stays each"
    pages: list[tuple[str, list[str], str]] = [
        ("Patient list", ["/patients/"], "first page, 25 patients"),
        ("Chart", charts, chart_note),
        ("Census", ["/"], "6 programs"),
    ]
    for name, paths, note in pages:
        log(f"measure {name} ({repeat} requests)")
        result.pages.append(measure_page(client, name, paths, repeat, note))
    return result


def run_session(seed: int, count: int) -> dict[str, Any]:
    """A signed-in session (stored in the database) and chart paths, for the HTTP load."""
    from django.conf import settings

    client = signed_in_client()
    paths, _ = chart_paths(count, seed)
    return {
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "cookie": client.cookies[settings.SESSION_COOKIE_NAME].value,
        "paths": paths,
    }


def run_engine(sample: int, seed: int) -> dict[str, Any]:
    """Engine time per instrument (no database; Django only for the API schemas)."""
    from stepwise.bench.engine import run_in_worker

    return run_in_worker(sample, seed)


def run_unit(beds: int, seed: int, repeat: int) -> dict[str, Any]:
    """The detox unit's pages on a fresh database: migrate, build the unit, measure."""
    from stepwise.bench.unit import run_in_worker

    return run_in_worker(beds, seed, repeat)


def run_intake(calls: int, seed: int, repeat: int) -> dict[str, Any]:
    """The admissions line's pages on a fresh database: migrate, build a year, measure."""
    from stepwise.bench.intake import run_in_worker

    return run_in_worker(calls, seed, repeat)


def run_schedule(iop: int, php: int, op: int, weeks: int, seed: int, repeat: int) -> dict[str, Any]:
    """The schedule's pages on a fresh database: migrate, build the weeks, measure."""
    from stepwise.bench.schedule import run_in_worker

    return run_in_worker(iop, php, op, weeks, seed, repeat)


def run_recovery(iop: int, php: int, op: int, weeks: int, seed: int, repeat: int) -> dict[str, Any]:
    """Recovery's pages on a fresh database: migrate, build the schedule and recovery,
    measure."""
    from stepwise.bench.recovery import run_in_worker

    return run_in_worker(iop, php, op, weeks, seed, repeat)


JOBS: dict[str, Callable[[Any], Any]] = {
    "pages": lambda args: asdict(run_pages(args.size, args.seed, args.repeat)),
    "session": lambda args: run_session(args.seed, 200),
    # `--size` is the number of responses per instrument here.
    "engine": lambda args: run_engine(args.size, args.seed),
    # And the number of beds here.
    "unit": lambda args: run_unit(args.size, args.seed, args.repeat),
    # And the number of calls here.
    "intake": lambda args: run_intake(args.size, args.seed, args.repeat),
    # And the patients in care in each IOP here (the other sizes are their own options).
    "schedule": lambda args: run_schedule(
        args.size, args.schedule_php, args.schedule_op, args.schedule_weeks, args.seed, args.repeat
    ),
    # The same sizes as the schedule's, which it builds first.
    "recovery": lambda args: run_recovery(
        args.size, args.schedule_php, args.schedule_op, args.schedule_weeks, args.seed, args.repeat
    ),
}


def main(args: Any) -> int:
    setup_django()
    result = JOBS[args.worker](args)
    Path(args.out).write_text(json.dumps(result, indent=2))
    return 0
