"""The users Locust simulates against a running backend (`pipeline/load.py` starts Locust with this file):
one class per scenario, each sending its requests back to back (no think time), as the TLS proxy in front
of the container would pass them on (LOAD_HEADERS, JSON). Writes carry LOAD_API_TOKEN.

When Locust quits, its own figures of the whole run (every request: count, failures, rate, percentiles)
and its error table are written as JSON to LOAD_SUMMARY_FILE, which `pipeline/load.py` reads.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task
from locust.env import Environment

HEADERS: dict[str, str] = json.loads(os.environ.get("LOAD_HEADERS", "{}"))
TOKEN = os.environ.get("LOAD_API_TOKEN", "")


class Healthz(FastHttpUser):
    wait_time = constant(0)

    @task
    def healthz(self) -> None:
        self.client.get("/healthz", headers=HEADERS)


class Reads(FastHttpUser):
    wait_time = constant(0)

    @task
    def list_items(self) -> None:
        self.client.get("/api/items/?limit=20", headers=HEADERS, name="/api/items/ (read)")


class Writes(FastHttpUser):
    wait_time = constant(0)

    @task
    def create_item(self) -> None:
        item = {"name": f"load-{uuid.uuid4().hex}", "price_cents": 100, "quantity": 1}
        headers = {**HEADERS, "Authorization": f"Bearer {TOKEN}"}
        with self.client.post("/api/items/", json=item, headers=headers, catch_response=True) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")


def write_summary(environment: Environment, **_: Any) -> None:
    target = os.environ.get("LOAD_SUMMARY_FILE")
    if not target:
        return
    total = environment.stats.total
    summary = {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "per_second": total.total_rps,
        **{f"p{round(share * 100)}_ms": total.get_response_time_percentile(share) for share in (0.5, 0.95, 0.99)},
        "errors": [
            {"request": f"{error.method} {error.name}", "error": str(error.error), "occurrences": error.occurrences}
            for error in environment.stats.errors.values()
        ],
    }
    Path(target).write_text(json.dumps(summary), encoding="utf-8")


events.quitting.add_listener(write_summary)  # type: ignore[no-untyped-call]  # locust types no hook
