"""Load on a running backend, with Locust in headless mode: requests per second, latency percentiles and
errors of one scenario at a time, as Locust computes them over the whole run (the users file writes them
when Locust quits; Locust's CSV files are written on an interval and can miss the last second).

`invoke bench --only load` runs each scenario for a bounded time against the production stack, `/healthz`
(no database) first as the baseline of the others; `invoke check-container --mode stack` ends with a short
burst of every scenario at once, which must produce no error.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pipeline import processes
from pipeline.errors import UserError

Scenario = Literal["healthz", "reads", "writes"]
SCENARIOS: dict[Scenario, tuple[str, str]] = {  # scenario: (Locust user class, what it requests)
    "healthz": ("Healthz", "GET /healthz (no database)"),
    "reads": ("Reads", "GET /api/items/?limit=20 (PostgreSQL read)"),
    "writes": ("Writes", "POST /api/items/ with a token (PostgreSQL write)"),
}
USERS_FILE = Path(__file__).with_name("load_users.py")
BURST_USERS = 12
BURST_SECONDS = 6
BURST_MINIMUM_REQUESTS = 200  # a burst that sent fewer proves little: fail closed
OUTPUT_TAIL = 3000


@dataclass(frozen=True)
class LoadResult:
    """Locust's aggregate figures of one run."""

    label: str
    users: int
    seconds: float
    requests: int
    failures: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: str = ""  # Locust's error table: occurrences, request, error

    @property
    def line(self) -> str:
        return (
            f"load ({self.label}): {self.requests} requests, {self.failures} errors, {self.users} users, "
            f"{self.per_second:.0f}/s, p50 {self.p50_ms:g} ms, p95 {self.p95_ms:g} ms, p99 {self.p99_ms:g} ms"
        )


def command(base: str, classes: Sequence[str], users: int, seconds: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(USERS_FILE),
        "--headless",
        "--host",
        base,
        "--users",
        str(users),
        "--spawn-rate",
        str(users),
        "--run-time",
        f"{seconds}s",
        "--stop-timeout",
        "5",
        "--only-summary",
        *classes,
    ]


def read_summary(path: Path) -> dict[str, Any] | None:
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return summary if isinstance(summary, dict) else None


def error_table(errors: Sequence[Mapping[str, Any]]) -> str:
    return "\n".join(f"  {error['occurrences']} x {error['request']}: {error['error']}" for error in errors)


def drive(
    base: str,
    classes: Sequence[str],
    label: str,
    *,
    users: int,
    seconds: int,
    token: str,
    headers: Mapping[str, str],
) -> LoadResult:
    """One headless Locust run of the given user classes; a run Locust could not make is a UserError (its
    failed requests are figures of the result)."""
    with tempfile.TemporaryDirectory(prefix="locust-") as folder:
        summary_file = Path(folder) / "summary.json"
        environment = {
            **os.environ,
            "LOAD_HEADERS": json.dumps(dict(headers)),
            "LOAD_API_TOKEN": token,
            "LOAD_SUMMARY_FILE": str(summary_file),
        }
        done = processes.run(command(base, classes, users, seconds), env=environment, timeout=seconds + 120)
        summary = read_summary(summary_file)
    if summary is None:
        output = (done.stdout + done.stderr).strip()[-OUTPUT_TAIL:]
        raise UserError(
            f"Locust ({label}) ended with exit code {done.returncode} and wrote no statistics:\n{output}\n",
            "read Locust's error above",
        )
    return LoadResult(
        label=label,
        users=users,
        seconds=seconds,
        requests=int(summary["requests"]),
        failures=int(summary["failures"]),
        per_second=float(summary["per_second"]),
        p50_ms=float(summary["p50_ms"]),
        p95_ms=float(summary["p95_ms"]),
        p99_ms=float(summary["p99_ms"]),
        errors=error_table(summary.get("errors", [])),
    )


def scenario(
    base: str, chosen: Scenario, *, users: int, seconds: int, token: str, headers: Mapping[str, str]
) -> LoadResult:
    user_class, _ = SCENARIOS[chosen]
    return drive(base, [user_class], chosen, users=users, seconds=seconds, token=token, headers=headers)


def burst(base: str, token: str, headers: Mapping[str, str]) -> LoadResult:
    """Every scenario at once, briefly: no request may fail, and enough of them must have been sent."""
    classes = [user_class for user_class, _ in SCENARIOS.values()]
    result = drive(base, classes, "burst", users=BURST_USERS, seconds=BURST_SECONDS, token=token, headers=headers)
    if result.failures:
        raise UserError(
            f"{result.line}. Locust's errors:\n{result.errors}\n",
            "read the backend's log for these requests and fix what fails under concurrency",
        )
    if result.requests < BURST_MINIMUM_REQUESTS:
        raise UserError(
            f"{result.line}: fewer than {BURST_MINIMUM_REQUESTS} requests in {BURST_SECONDS} s",
            "the backend answers too slowly under load; read its log (timeouts, database connections)",
        )
    return result
