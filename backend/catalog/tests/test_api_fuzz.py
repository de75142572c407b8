"""Schemathesis against the API in-process: requests generated from /api/openapi.json, with and without
a token, must never be a server error and must answer within the schema (status, content type, body).

The seed is fixed on CI and fresh on every other run; it is printed in pytest's header, and
`SCHEMATHESIS_SEED=N nox -s tests-3.12 -- <this file>` replays a run.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from access.models import ApiToken
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, seed, settings
from tests.fuzzing import EXAMPLES_PER_OPERATION, SEED

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application())


@pytest.fixture
def token(db: None) -> str:
    return ApiToken.issue("fuzzing")[1]


@pytest.mark.django_db
@pytest.mark.parametrize("credentials", ["token", "none"])
@schema.parametrize()
@seed(SEED)
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_generated_request_is_answered_within_the_schema(case: Any, credentials: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if credentials == "token" else {}
    case.call_and_validate(headers=headers)
