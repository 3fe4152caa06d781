"""The Stepwise benchmark: `make bench`, or `python -m stepwise.bench --help`.

The top-level process never imports the Django settings. For each database
(SQLite always, PostgreSQL when DATABASE_URL points at one) and each size it
makes a fresh database, then starts `python -m stepwise.bench --worker pages`
with that DATABASE_URL: the worker migrates, runs `synth` with a fixed seed and
times three pages through Django's test client. Afterwards the throughput of
audited chart reads is measured over real HTTP against gunicorn, with the audit
log on and off. Last, a worker times the scoring engine on fixed-seed responses
for every instrument, without a database (`--only engine` runs just that).
The detox unit part builds a full 30-bed withdrawal-management unit through the
services in a fresh database per database kind and times its board, the board's
wall-screen fragment, the JSON board, an eMAR and a flowsheet (`--only unit` runs
just that). The admissions line part builds a year of one organization's calls
(3,000 by default: screenings, admissions and discharges, waitlists, held places)
through the services in a fresh database per database kind and times the desk, the
bed board and its htmx fragment, the waitlist, the metrics for 30 and 365 days, a
call, and the JSON bed board and waitlist (`--only intake` runs just that). The
schedule part builds twelve weeks of an organization's ambulatory groups (a day
program, two evening IOPs, outpatient) through the services, with admissions,
discharges and the attendance of every session held, in a fresh database per database
kind, and times a program's week (page and JSON), a counselor's day, a program's weekly
hours, a patient's schedule, the worklist, and a 40-member session's attendance screen
and its POST (`--only schedule` runs just that). The recovery part builds the same
schedule, then treatment plans, weekly drug screens, returns to use with their responses
and a sober-living residence through the services, and times a chart with every panel,
the recovery page, a treatment plan, an aftercare plan, a house's curfew list, the
worklist, the recovery JSON and a drug screen's POST (`--only recovery` runs just that).
Results go to the console and to docs/benchmarks.md.

Modules: `run` (the top level), `worker` (inside Django), `load` (gunicorn and
the HTTP load generator), `engine` (engine time per response), `unit` (the detox
unit's pages), `intake` (the admissions line's pages), `schedule` (the programs'
sessions' pages), `recovery` (recovery, plans, aftercare and sober living), `report` (Markdown).
"""

from __future__ import annotations

# Fixed so that every run measures the same synthetic patients.
DEFAULT_SEED = 2026
DEFAULT_SIZES = (1_000, 100_000)
DEFAULT_REPEAT = 50
# Responses per instrument for the engine time.
DEFAULT_ENGINE_SAMPLE = 1_000
# The detox unit: beds (all full), and timed requests per page (fewer than the
# pages' 50: building the unit through the services takes most of the part's time,
# which stays under a minute per database).
DEFAULT_UNIT_BEDS = 30
DEFAULT_UNIT_REPEAT = 20
# The admissions line: calls over the last 365 days (a mid-sized organization's year),
# and timed requests per page (as the detox unit's: the build takes most of the time).
DEFAULT_INTAKE_CALLS = 3_000
DEFAULT_INTAKE_REPEAT = 20
# The programs' schedule: patients in care now in each of the two evening IOPs, the day
# program (PHP) and outpatient, weeks of sessions held (series start that many weeks
# before this week's Monday), and timed requests per page (as the unit's).
DEFAULT_SCHEDULE_IOP = 40
DEFAULT_SCHEDULE_PHP = 25
DEFAULT_SCHEDULE_OP = 40
DEFAULT_SCHEDULE_WEEKS = 12
DEFAULT_SCHEDULE_REPEAT = 20
# Recovery, plans, aftercare and sober living, built on the schedule's organization (its
# sizes): timed requests per page; 0 skips the part.
DEFAULT_RECOVERY_REPEAT = 20
SYNTH_SLUG = "synth"
# The signed-in clinician of every measurement: a counselor of the synthetic organization.
CLINICIAN = f"{SYNTH_SLUG}-counselor"
