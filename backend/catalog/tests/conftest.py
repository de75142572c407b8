"""What the API's tests share: a client that may write."""

from __future__ import annotations

import pytest
from access.models import ApiToken
from django.test import Client


@pytest.fixture
def writer() -> Client:
    """A client of the API that may write: it sends a token (test_api_access.py covers who may not)."""
    _, token = ApiToken.issue("api-tests")
    return Client(headers={"Authorization": f"Bearer {token}"})
