"""Schemathesis against the API in-process: requests generated from /api/openapi.json, with and without
a token, must never be a server error and must answer within the schema (status, content type, body).

The seed is fixed on CI and fresh on every other run; it is printed in pytest's header, and
`SCHEMATHESIS_SEED=N nox -s tests-3.12 -- <this file>` replays a run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from access.models import ApiToken
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, seed, settings
from tests.fuzzing import EXAMPLES_PER_OPERATION, SEED

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def token(db: None) -> str:
    return ApiToken.issue("fuzzing")[1]


@pytest.fixture(autouse=True)
def one_connection_for_the_test() -> Iterator[None]:
    """Keep the test's database connection across the generated requests, as Django's test client does: a
    WSGI request otherwise closes it when it ends (close_old_connections), and the next query of the test's
    transaction fails on a server database ("the connection is closed"), which SQLite never shows."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in (request_started, request_finished):
            signal.connect(close_old_connections)


@pytest.mark.django_db
@pytest.mark.parametrize("credentials", ["token", "none"])
@schema.parametrize()
@seed(SEED)
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_generated_request_is_answered_within_the_schema(case: Any, credentials: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if credentials == "token" else {}
    case.call_and_validate(headers=headers)
