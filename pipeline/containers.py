"""The container start-up check: does the production image start and serve?

validate: the image alone (SQLite, no Redis), the entrypoint's `config` checks,
    healthy per Docker's HEALTHCHECK, then inside it: every production
    dependency imports and no dev-only package is present.
stack: compose/ci.yaml (PostgreSQL, Redis, the image with `full` checks and
    migrations), then /readyz and a round trip through the API.

Everything a check starts carries its run id (a container label, or a
compose project name) and is removed at the end, also on failure and Ctrl-C;
nothing else is touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipeline import console, downloads, engine, fuzzing, images, load, processes
from pipeline.compose_settings import (
    COMPOSE_FILE,
    DEV_COMPOSE_FILE,
    compose_env_values,
    compose_environment,
)
from pipeline.errors import UserError
from pipeline.facts import Facts

RUN_LABEL = "pipeline.check-container"
CONTAINER_PORT = "8000/tcp"
LOG_TAIL = 40

# Run inside the image: import every production distribution's top-level
# modules; report dev-only distributions that are installed.
IMPORT_PROBE = """
import importlib, importlib.metadata as md, json, sys
wanted, forbidden = json.loads(sys.argv[1]), json.loads(sys.argv[2])
tops = {}
for module, dists in md.packages_distributions().items():
    for dist in dists:
        tops.setdefault(dist.lower().replace('_', '-'), []).append(module)
failed, missing = [], []
for dist in wanted:
    modules = [m for m in tops.get(dist, []) if not m.startswith('_')]
    if not modules:
        missing.append(dist)
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as error:
            failed.append(f'{module} ({dist}): {type(error).__name__}: {error}')
present = sorted(d for d in forbidden if d in tops)
print(json.dumps({'failed': failed, 'missing': missing, 'dev_present': present}))
"""


# `invoke check-container --mode`: the image alone (no database), or compose with PostgreSQL and Redis.
CheckMode = Literal["validate", "stack"]
CHECK_MODES: tuple[CheckMode, ...] = get_args(CheckMode)


def check(facts: Facts, image: str, mode: str, timeout: float) -> CheckReport:
    """`invoke check-container`: the check `mode` names, then its report."""
    if mode == "validate":
        report = check_validate(facts, image, timeout)
    elif mode == "stack":
        report = check_stack(facts, image, timeout)
    else:
        raise UserError(f"Unknown mode {mode!r}", f"use --mode {' or --mode '.join(CHECK_MODES)}")
    print_report(report)
    return report


@dataclass
class CheckReport:
    mode: CheckMode
    image: str
    seconds_to_healthy: float = 0.0
    passed: list[str] = field(default_factory=list)

    def rows(self) -> list[list[str]]:
        return [
            ["mode", self.mode],
            ["image", self.image],
            ["time to healthy", f"{self.seconds_to_healthy:.1f}s"],
            *[["passed", check] for check in self.passed],
        ]


def throwaway_secret_key() -> str:
    return secrets.token_urlsafe(50)


def validate_environment(secret_key: str) -> dict[str, str]:
    """Production settings with throw-away values; SQLite; only the `config` checks."""
    return {
        "STARTUP_CHECKS": "config",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": "sqlite:////tmp/validate.sqlite3",
    }


def dependency_names(requirements: Sequence[str]) -> list[str]:
    """Normalised distribution names of PEP 508 requirement strings."""
    return [canonicalize_name(Requirement(requirement).name) for requirement in requirements]


def run_id() -> str:
    return uuid.uuid4().hex[:10]


# --- effects -------------------------------------------------------------------


def require_image(image: str) -> None:
    if not engine.image_exists(image):
        raise UserError(f"The image {image} does not exist here", "build it first: invoke build-image")


# The check stands in for the TLS proxy in front of production: HTTPS as seen by Django.
PROXY_HEADERS = {"Host": "localhost", "X-Forwarded-Proto": "https"}


def http_get(url: str, timeout: float = 5) -> tuple[int, str]:
    status, body, _ = http_get_with_headers(url, timeout)
    return status, body


def http_get_with_headers(url: str, timeout: float = 5) -> tuple[int, str, dict[str, str]]:
    request = urllib.request.Request(url, headers=PROXY_HEADERS)  # noqa: S310 (a URL we built)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return int(response.status), response.read().decode(), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers.items())


def http_post_json(
    url: str, payload: Mapping[str, Any], timeout: float = 5, token: str | None = None
) -> tuple[int, str, dict[str, str]]:
    """POST a JSON object, as an API client with `token` (Authorization: Bearer) or with no credentials."""
    data = json.dumps(payload).encode()
    headers = {**PROXY_HEADERS, "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, method="POST", headers=headers)  # noqa: S310 (a URL we built)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310  # nosec B310
            return int(response.status), response.read().decode(), dict(response.headers.items())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers.items())


def wait_until_healthy(container: str, timeout: float) -> float:
    """Seconds until Docker reports the container healthy; UserError with its logs otherwise."""
    health = engine.wait_for_health(container, timeout, log_tail=LOG_TAIL)
    if health.healthy:
        return health.seconds
    if not health.timed_out:
        what = f"exited with code {health.exit_code}" if health.state != "running" else "is unhealthy"
        raise UserError(
            f"The container {what}. Its last log lines:\n{health.logs}\nLast health probes:\n{health.probes}\n",
            "fix what the container's own error above says, then rebuild (invoke build-image) and rerun",
        )
    raise UserError(
        f"The container did not become healthy within {timeout:g}s. Its last log lines:\n"
        f"{health.logs}\nLast health probes:\n{health.probes}\n",
        "raise --timeout if the machine is slow, or fix what the logs show",
    )


def check_validate(facts: Facts, image: str, timeout: float, say: Callable[[str], None] = console.say) -> CheckReport:
    engine.require_engine()
    require_image(image)
    report = CheckReport("validate", image)
    identifier = run_id()
    name = f"backend-check-{identifier}"
    with processes.interrupt_on_termination():
        try:
            container = engine.run_detached(
                image,
                name=name,
                labels={RUN_LABEL: identifier},
                env=validate_environment(throwaway_secret_key()),
                ports=[CONTAINER_PORT],
            )
            say(f"validate: started {name} from {image}; waiting for it to be healthy")
            report.seconds_to_healthy = wait_until_healthy(container, timeout)
            report.passed.append("healthy per the image's HEALTHCHECK (/healthz)")
            port = engine.published_ports(container)[CONTAINER_PORT.partition("/")[0]]
            status, body = http_get(f"http://127.0.0.1:{port}/healthz")
            if status != 200:
                raise UserError(f"/healthz answered {status} on 127.0.0.1:{port}: {body[:200]}", "see the logs")
            report.passed.append(f"/healthz answers 200 through 127.0.0.1:{port}")
            probe_imports(container, facts, report)
        finally:
            engine.remove_labelled(f"{RUN_LABEL}={identifier}")  # also one a Ctrl-C kept us from knowing
    return report


def probe_imports(container: str, facts: Facts, report: CheckReport) -> None:
    production = dependency_names(facts.production_dependencies)
    dev_only = sorted(set(dependency_names(facts.dev_only_dependencies)) - set(production))
    result = engine.exec_in(container, ["python", "-c", IMPORT_PROBE, json.dumps(production), json.dumps(dev_only)])
    output = result.stdout.strip()
    if result.returncode != 0:
        raise UserError(f"The import probe failed inside the container:\n{output}", "see the error above")
    found = json.loads(output.splitlines()[-1])
    if found["failed"] or found["missing"]:
        raise UserError(
            "Production dependencies do not import in the image: "
            + "; ".join(found["failed"] + [f"{name} is not installed" for name in found["missing"]]),
            "fix the builder stage of backend/Dockerfile or uv.lock",
        )
    report.passed.append(f"all {len(production)} production dependencies import")
    if found["dev_present"]:
        raise UserError(
            f"Dev-only packages are installed in the image: {', '.join(found['dev_present'])}",
            "install only the production dependencies in backend/Dockerfile",
        )
    report.passed.append(f"none of {len(dev_only)} dev-only packages is installed")


# --- stack mode ------------------------------------------------------------------


def compose(
    project: str, environment: Mapping[str, str], *args: str, root: Path, timeout: float, detached: bool = False
) -> processes.Completed:
    return engine.compose(
        root / COMPOSE_FILE,
        *args,
        project=project,
        cwd=root,
        env={**os.environ, **environment},
        timeout=timeout,
        detached=detached,
    )


@dataclass(frozen=True)
class RunningStack:
    """A started compose project of compose/ci.yaml: its address on this machine and a throw-away token."""

    project: str
    environment: Mapping[str, str]
    base: str
    token: str
    seconds_to_healthy: float


@contextlib.contextmanager
def running_stack(
    facts: Facts,
    image: str,
    timeout: float,
    overrides: Mapping[str, str] | None = None,
    say: Callable[[str], None] = console.say,
) -> Iterator[RunningStack]:
    """The production image with PostgreSQL and Redis, healthy, for the block's time; removed afterwards
    (volumes too), also on Ctrl-C and SIGTERM."""
    engine.require_engine()
    require_image(image)
    project = f"backend-check-{run_id()}"
    environment = compose_environment(facts, image, throwaway_secret_key(), overrides or {})
    with processes.interrupt_on_termination():
        try:
            say(f"stack: starting compose project {project} (PostgreSQL, Redis, {image})")
            started = time.monotonic()
            up = compose(
                project,
                environment,
                "up",
                "--detach",
                "--wait",
                "--wait-timeout",
                str(int(timeout)),
                root=facts.root,
                timeout=timeout + 60,
            )
            if up.returncode != 0:
                logs = backend_logs(project, environment, facts.root)
                raise UserError(
                    f"The stack did not become healthy within {timeout:g}s ({up.stderr.strip().splitlines()[-1:]}). "
                    f"The backend's last log lines:\n{logs}\n",
                    "read the backend's own error above (a missing database shows as wait_for_db timing out)",
                )
            healthy = time.monotonic() - started
            port = compose(project, environment, "port", "backend", "8000", root=facts.root, timeout=60)
            token = create_api_token(project, environment, root=facts.root)
            yield RunningStack(project, environment, f"http://{port.stdout.strip()}", token, healthy)
        finally:
            with processes.cleaning_up():  # a second signal, or SIGKILL to a cancelled step, must not leave it up
                down = compose(
                    project,
                    environment,
                    "down",
                    "--volumes",
                    "--remove-orphans",
                    "--timeout",
                    "5",
                    root=facts.root,
                    timeout=120,
                    detached=True,
                )
            if down.returncode != 0:
                console.failure(f"stack: cleaning up {project} failed: {down.stderr.strip()}")


def backend_logs(project: str, environment: Mapping[str, str], root: Path, tail: int | None = LOG_TAIL) -> str:
    """The backend container's log: its last `tail` lines, or all of it."""
    lines = ["--tail", str(tail)] if tail else []
    logs = compose(project, environment, "logs", "--no-color", *lines, "backend", root=root, timeout=60)
    return logs.stdout.strip()


def serving_line(stack: RunningStack, root: Path) -> str:
    """How gunicorn serves in the stack (workers, threads, CPUs, timeouts), as it logged it at start."""
    logs = backend_logs(stack.project, stack.environment, root, tail=None)
    lines = [line.partition("serving: ")[2] for line in logs.splitlines() if "serving: " in line]
    return lines[-1] if lines else "not logged (an image built before gunicorn.conf.py logged it: rebuild it)"


def check_stack(
    facts: Facts,
    image: str,
    timeout: float,
    overrides: Mapping[str, str] | None = None,
    say: Callable[[str], None] = console.say,
) -> CheckReport:
    report = CheckReport("stack", image)
    with running_stack(facts, image, timeout, overrides, say) as stack:
        report.seconds_to_healthy = stack.seconds_to_healthy
        report.passed.append("PostgreSQL, Redis and the backend healthy; migrations applied at start")
        exercise_api(stack.base, report, stack.token)
        chosen = fuzzing.seed()
        say(f"stack: Schemathesis from {fuzzing.SCHEMA_PATH}, seed {chosen} (SCHEMATHESIS_SEED={chosen} replays it)")
        report.passed += [
            run.line + f" (seed {chosen})" for run in fuzzing.fuzz(stack.base, stack.token, chosen, PROXY_HEADERS)
        ]
        say(f"stack: a burst of load ({load.BURST_USERS} users for {load.BURST_SECONDS} s, Locust)")
        report.passed.append(load.burst(stack.base, stack.token, PROXY_HEADERS).line)
    return report


def create_api_token(project: str, environment: Mapping[str, str], *, root: Path) -> str:
    """A throw-away API token, made inside the running backend (it goes with the stack's database)."""
    command = ["python", "manage.py", "create_api_token", "--name", f"stack-check-{run_id()}"]
    made = compose(project, environment, "exec", "-T", "backend", *command, root=root, timeout=120)
    lines = made.stdout.strip().splitlines()
    if made.returncode != 0 or not lines:
        raise UserError(
            f"`manage.py create_api_token` failed inside the backend (exit {made.returncode}): "
            f"{made.stderr.strip()[-500:]}",
            "read the backend's error above; the image must hold the access app and its migrations",
        )
    return lines[-1].strip()


def exercise_api(base: str, report: CheckReport, token: str) -> None:
    status, body = http_get(f"{base}/readyz")
    ready = json.loads(body) if body.startswith("{") else {}
    if status != 200 or ready.get("checks") != {"database": "ok", "cache": "ok"}:
        raise UserError(
            f"/readyz answered {status}: {body[:300]}", "the named dependency is not reachable from the backend"
        )
    report.passed.append("/readyz: database ok, cache ok")
    name = f"check-{run_id()}"
    item = {"name": name, "price_cents": 100, "quantity": 1}
    status, body, headers = http_post_json(f"{base}/api/items/", item)
    if status != 401 or not headers.get("WWW-Authenticate", "").startswith("Bearer"):
        raise UserError(
            f"POST /api/items/ without credentials answered {status}, not 401 with a Bearer challenge: {body[:300]}",
            "writes must need a caller we know; see backend/access",
        )
    report.passed.append("POST /api/items/ without credentials: 401 with a Bearer challenge")
    status, body, _ = http_post_json(f"{base}/api/items/", item, token=token)
    if status != 201:
        raise UserError(f"POST /api/items/ with a token answered {status}: {body[:300]}", "see the backend's logs")
    item_id = json.loads(body)["id"]
    status, body = http_get(f"{base}/api/items/{item_id}/")
    if status != 200 or json.loads(body).get("name") != name:
        raise UserError(f"GET /api/items/{item_id}/ answered {status}: {body[:300]}", "see the backend's logs")
    report.passed.append("API round trip: created an item with a throw-away token and read it back")
    check_stylesheet(base, report)


HASHED_STYLESHEET = re.compile(r'href="(/static/app\.[0-9a-f]{12}\.css)"')
ONE_YEAR = 365 * 24 * 3600


def check_stylesheet(base: str, report: CheckReport) -> None:
    """The landing page links the compiled CSS by a hashed name, served with a long cache lifetime."""
    status, page = http_get(f"{base}/")
    match = HASHED_STYLESHEET.search(page)
    if status != 200 or not match:
        raise UserError(f"GET / answered {status} without a hashed app.css link", "build the assets into the image")
    status, css, headers = http_get_with_headers(f"{base}{match.group(1)}")
    max_age = re.search(r"max-age=(\d+)", headers.get("Cache-Control", ""))
    if status != 200 or not css or not max_age or int(max_age.group(1)) < ONE_YEAR:
        raise UserError(
            f"{match.group(1)} answered {status} with Cache-Control {headers.get('Cache-Control')!r}",
            "serve static files with WhiteNoise and CompressedManifestStaticFilesStorage",
        )
    report.passed.append(f"{match.group(1)} served, Cache-Control max-age={max_age.group(1)}")


def print_report(report: CheckReport) -> None:
    console.table(f"check-container ({report.mode})", ["what", "value"], report.rows())
    console.step_summary(
        f"### Container check: {report.mode}\n\n" + console.markdown_table(["what", "value"], report.rows())
    )
    console.success(f"check-container: {report.mode} mode passed; healthy after {report.seconds_to_healthy:.1f}s")


# --- development stack -------------------------------------------------------------

# The host folder the assets service mounts its node_modules volume in (see run_dev_stack).
FRONTEND_NODE_MODULES = Path("frontend/node_modules")
ASSETS_SERVICE = "assets"


def dev_stack_environment(facts: Facts, environ: Mapping[str, str]) -> dict[str, str]:
    """What invoke adds for compose/dev.yaml: compose/.env's values from the facts, and the CA bundle (optional)
    as an absolute path (compose resolves a relative one against compose/). The images are the Dockerfile's
    stages; NODE_IMAGE, POSTGRES_IMAGE and REDIS_IMAGE in the environment replace them, as with plain compose."""
    environment = compose_env_values(facts)
    bundle = images.ca_bundle_path(None, environ)
    if bundle is not None:
        environment[downloads.CA_VARIABLE] = str(bundle.resolve())
    return environment


def dev_stack_command(facts: Facts, action: Sequence[str]) -> list[str]:
    """The docker CLI's argv of a `docker compose` action on compose/dev.yaml (what `dev_stack` runs)."""
    return engine.command(*engine.compose_args(facts.root / DEV_COMPOSE_FILE, *action))


def dev_stack(
    facts: Facts, action: Sequence[str], environment: Mapping[str, str], timeout: float | None, capture: bool = True
) -> processes.Completed:
    return engine.compose(
        facts.root / DEV_COMPOSE_FILE, *action, cwd=facts.root, env=environment, timeout=timeout, capture=capture
    )


def dev_stack_failure(facts: Facts, code: int, environment: Mapping[str, str]) -> UserError:
    """Why `up` failed: npm behind a TLS-intercepting proxy (the assets service's log says so), or see above."""
    logs = dev_stack(facts, ["logs", "--no-color", "--tail", str(LOG_TAIL), ASSETS_SERVICE], environment, 60)
    explained = downloads.explain(logs.stdout + logs.stderr, "npm ci in the dev stack's assets service", environment)
    return explained or UserError(f"docker compose exited with {code} (its output is above)", "fix what it reported")


def run_dev_stack(facts: Facts, down: bool) -> int:
    """`up --build` in the foreground until it ends or Ctrl-C, then `down` (volumes kept: the database, node_modules).

    `--down` removes a stack left running (e.g. by `docker compose -f compose/dev.yaml up --detach`).
    """
    engine.require_engine()
    environment = {**os.environ, **dev_stack_environment(facts, os.environ)}
    if down:
        return dev_stack(facts, ["down", "--remove-orphans"], environment, None, capture=False).returncode
    # The node_modules volume is mounted inside the checkout's frontend/: made here, the folder is the user's,
    # not one the Docker daemon creates as root (where `npm ci` on this machine could no longer install).
    (facts.root / FRONTEND_NODE_MODULES).mkdir(exist_ok=True)
    try:
        with processes.interrupt_on_termination():
            # Its own session: Ctrl-C reaches this process alone, which passes it on once.
            # No stdin: compose never reads the terminal.
            code, interrupted = engine.compose_foreground(
                facts.root / DEV_COMPOSE_FILE, "up", "--build", cwd=facts.root, env=environment
            )
        if interrupted:
            raise KeyboardInterrupt
        if code:
            raise dev_stack_failure(facts, code, environment)
        return code
    finally:
        dev_stack(facts, ["down", "--remove-orphans"], environment, 180)
