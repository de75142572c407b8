"""Locust as the pipeline drives it (pipeline/load.py): the real tool, headless, against a small HTTP server
in this process that answers like the backend (or not), so what Locust counts is known."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline import load
from pipeline.errors import UserError
from pipeline.tests.local_server import JsonHandler, serving

pytestmark = pytest.mark.tools
TOKEN = "load-test-token"
PROXY = {"X-Forwarded-Proto": "https"}


class Backend(JsonHandler):
    """/healthz, GET and POST /api/items/ (201 with the token, else 401); what it was sent is kept."""

    protocol_version = "HTTP/1.1"
    seen: list[tuple[str, str, str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 -- http.server's handler names
        self.seen.append(("GET", self.path, self.headers.get("X-Forwarded-Proto", ""), ""))
        self.answer_json(200 if self.path in {"/healthz", "/api/items/?limit=20"} else 404, b"{}")

    def do_POST(self) -> None:  # noqa: N802 -- http.server's handler names
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        authorization = self.headers.get("Authorization", "")
        self.seen.append(("POST", self.path, self.headers.get("X-Forwarded-Proto", ""), authorization))
        self.answer_json(201 if authorization == f"Bearer {TOKEN}" else 401, b"{}")


@pytest.fixture
def backend() -> Iterator[str]:
    Backend.seen = []
    with serving(Backend) as base:
        yield base


def test_a_scenario_gives_locusts_figures_and_sends_the_proxy_headers(backend: str) -> None:
    result = load.scenario(backend, "reads", users=3, seconds=2, token=TOKEN, headers=PROXY)
    assert result.failures == 0, result.errors
    assert result.requests >= 10
    assert result.requests == len(Backend.seen)  # what Locust counted is what the server answered
    assert {(method, path, proto) for method, path, proto, _ in Backend.seen} == {
        ("GET", "/api/items/?limit=20", "https")
    }
    assert result.per_second > 0
    assert 0 <= result.p50_ms <= result.p95_ms <= result.p99_ms
    assert result.line.startswith(f"load (reads): {result.requests} requests, 0 errors, 3 users")


def test_writes_carry_the_token_and_a_refused_write_is_an_error(backend: str) -> None:
    written = load.scenario(backend, "writes", users=2, seconds=2, token=TOKEN, headers=PROXY)
    assert written.failures == 0
    assert written.requests > 0
    assert {authorization for *_, authorization in Backend.seen} == {f"Bearer {TOKEN}"}
    refused = load.scenario(backend, "writes", users=2, seconds=2, token="wrong", headers=PROXY)
    assert refused.failures == refused.requests > 0
    assert "401" in refused.errors


def test_a_burst_with_errors_fails_naming_them(backend: str) -> None:
    with pytest.raises(UserError) as raised:
        load.burst(backend, "wrong", PROXY)
    assert ", 0 errors" not in str(raised.value)
    assert "401" in str(raised.value)


def test_a_burst_without_errors_passes(backend: str) -> None:
    result = load.burst(backend, TOKEN, PROXY)
    assert result.failures == 0
    assert result.requests >= load.BURST_MINIMUM_REQUESTS
    assert {path for _, path, _, _ in Backend.seen} == {"/healthz", "/api/items/?limit=20", "/api/items/"}


def test_a_run_locust_cannot_make_is_one_paragraph(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="wrote no statistics"):
        load.drive("not a url", ["NoSuchUser"], "broken", users=1, seconds=1, token="", headers={})
