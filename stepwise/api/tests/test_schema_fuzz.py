"""Schemathesis over /api/v1/openapi.json: no generated request gets a 5xx.

Requests go through Django's WSGI application inside the test's transaction, as
the cast's counselor with a personal access token, so every operation is reached
past authentication and nothing is left in the database. Path ids are either
generated or the cast's real patient and episode, so the writes behind them run
too. Each operation gets a few dozen examples, valid and invalid: the whole test
stays well under a minute on SQLite and PostgreSQL.

(Schemathesis's own pytest integration is not used: its lazy fixture loader does
not run under pytest 9.2, which renamed a node attribute it sets.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.schemas import APIOperation

from stepwise.accounts.services import token_create
from stepwise.care.services import episode_admit

SCHEMA_URL = "/api/v1/openapi.json"
EXAMPLES_PER_OPERATION = 40


@pytest.fixture
def wsgi_app() -> Iterator[WSGIHandler]:
    # A real server closes the database connection around each request; here that
    # would end the test's transaction, so (as Django's test client does) it stays.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def cases(
    operation: APIOperation[Any, Any, Any, Any], real_ids: dict[str, str]
) -> st.SearchStrategy[Any]:
    """Valid and invalid requests; where the path names a patient or an episode,
    also valid requests on the real one."""
    found = [operation.as_strategy(mode) for mode in GenerationMode]
    names = {parameter.name for parameter in operation.path_parameters}
    fixed = {name: value for name, value in real_ids.items() if name in names}
    if fixed:
        found.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=fixed))
    return st.one_of(found)


def test_api_never_answers_with_a_server_error(cast: Any, wsgi_app: WSGIHandler) -> None:
    owner = cast.actors["owner"]
    _, token = token_create(owner, name="schema fuzz", days=1)
    episode = episode_admit(owner, cast.patient, cast.residential, at=timezone.now())
    real_ids = {"patient_id": str(cast.patient.public_id), "episode_id": str(episode.public_id)}
    schema = schemathesis.openapi.from_wsgi(SCHEMA_URL, wsgi_app)
    results = list(schema.get_all_operations())
    operations = [result.ok() for result in results if isinstance(result, Ok)]
    assert len(operations) == len(results), "the schema has operations Schemathesis cannot read"
    assert len(operations) >= 8, "the schema lost operations"

    for operation in operations:

        @given(case=cases(operation, real_ids))
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def no_server_error(case: Any) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=[not_a_server_error]
            )

        no_server_error()
