"""Schemathesis against a running backend: requests generated from its OpenAPI schema, with and without an
API token; any server error, or an answer outside the schema, fails the check with Schemathesis's own
report of it (and the curl command that reproduces it).

The seed is fixed on CI (a red run replays exactly) and fresh elsewhere (new cases every run); either way
it is printed, and SCHEMATHESIS_SEED replays it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline import processes
from pipeline.errors import UserError

CI_SEED = 20_261_205
EXAMPLES_PER_OPERATION = 100
SCHEMA_PATH = "/api/openapi.json"
CONFIG = Path(__file__).with_name("schemathesis.toml")
OUTPUT_TAIL = 4000


def seed(environ: Mapping[str, str] | None = None) -> int:
    source = os.environ if environ is None else environ
    given = source.get("SCHEMATHESIS_SEED", "").strip()
    if given.isdigit():
        return int(given)
    return CI_SEED if source.get("CI") else secrets.randbelow(2**32)


@dataclass(frozen=True)
class FuzzRun:
    credentials: str  # "token" or "none"
    cases: int
    seed: int

    @property
    def line(self) -> str:
        return f"Schemathesis {self.credentials}: {self.cases} generated requests, 0 server errors, 0 schema violations"


def command(base: str, seed_value: int, report: Path, token: str | None, proxy_headers: Mapping[str, str]) -> list[str]:
    """The Schemathesis CLI of this environment, against `base` (as the TLS proxy in front of it would send
    it: `proxy_headers`), its JSON report in `report`."""
    given = {**proxy_headers, **({"Authorization": f"Bearer {token}"} if token else {})}
    headers = [item for name, value in given.items() for item in ("--header", f"{name}: {value}")]
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        f"{base}{SCHEMA_PATH}",
        "--url",
        base,
        "--checks",
        "all",
        "--max-examples",
        str(EXAMPLES_PER_OPERATION),
        "--seed",
        str(seed_value),
        "--request-timeout",
        "10",
        "--report",
        "json",
        "--report-json-path",
        str(report),
        *headers,
    ]


def cases_in(report: Path) -> int:
    """How many requests the run generated (its JSON report's `test_cases.generated`; 0 without one)."""
    try:
        data = json.loads(report.read_text(encoding="utf-8"))
        generated = data["test_cases"]["generated"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0
    return generated if isinstance(generated, int) else 0


def fuzz(
    base: str, token: str, seed_value: int, proxy_headers: Mapping[str, str], timeout: float = 600
) -> list[FuzzRun]:
    """Both runs, with the token and without; a failure is one paragraph with Schemathesis's report."""
    runs = []
    for credentials, given in (("token", token), ("none", None)):
        with tempfile.TemporaryDirectory(prefix="schemathesis-") as folder:
            report = Path(folder) / "report.json"
            result = processes.run(command(base, seed_value, report, given, proxy_headers), timeout=timeout)
            if result.returncode != 0:
                output = (result.stdout + result.stderr).strip()[-OUTPUT_TAIL:]
                raise UserError(
                    f"Schemathesis ({credentials} credentials, seed {seed_value}) found requests the API answers "
                    f"with a server error or outside its schema:\n{output}\n",
                    f"fix what it names; SCHEMATHESIS_SEED={seed_value} replays the same requests",
                )
            cases = cases_in(report)
            if cases == 0:  # fail closed: a run that tested nothing proves nothing
                raise UserError(
                    f"Schemathesis ({credentials} credentials) generated no request from {base}{SCHEMA_PATH}",
                    "check that the schema lists the API's operations (GET it in a browser)",
                )
            runs.append(FuzzRun(credentials, cases, seed_value))
    return runs
