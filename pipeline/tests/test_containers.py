"""The start-up check against real containers and a real compose stack."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from pipeline import compose_settings, containers, engine, facts, load
from pipeline.conftest import BuiltProject, docker
from pipeline.errors import UserError

pytestmark = pytest.mark.usefixtures("docker_engine")
FACTS = facts.load()
OTHER_RUNS_GRACE = 120  # seconds: longer than a whole stack check of another run


def leftovers() -> list[str]:
    """Containers, networks and volumes a check may have started (its name prefix and label)."""
    found = []
    for kind in ("container", "network", "volume"):
        listing = ["ps", "-a"] if kind == "container" else [kind, "ls"]
        for selector in ("name=backend-check-", f"label={containers.RUN_LABEL}"):
            names = docker(
                *listing, "--filter", selector, "--format", "{{.Names}}" if kind == "container" else "{{.Name}}"
            )
            found += [f"{kind} {name}" for name in names.stdout.split()]
        if kind == "volume":
            volumes = docker("volume", "ls", "--format", "{{.Name}} {{.Labels}}").stdout.splitlines()
            found += [f"volume {line}" for line in volumes if "backend-check-" in line]
    return found


@pytest.fixture(autouse=True)
def nothing_left_behind() -> Iterator[None]:
    """Nothing the test started is left. On a shared engine another run's check (e.g. the image job beside
    this one under `invoke ci`) may hold containers of the same kind for a while: a leak is what stays."""
    before = set(leftovers())
    yield
    deadline = time.monotonic() + OTHER_RUNS_GRACE
    while (left := sorted(set(leftovers()) - before)) and time.monotonic() < deadline:
        time.sleep(2)
    assert left == []


@pytest.fixture(scope="module")
def image(built_project: BuiltProject) -> str:
    return built_project.cold.tags[0]


def derived_image(base: str, dockerfile_tail: str) -> Iterator[str]:
    tag = f"{base.split(':', maxsplit=1)[0]}-derived:{uuid.uuid4().hex[:8]}"
    built = docker("build", "--quiet", "--tag", tag, "-", stdin=f"FROM {base}\n{dockerfile_tail}\n")
    assert built.returncode == 0, built.stderr
    yield tag
    docker("image", "rm", "--force", tag)


@pytest.fixture
def broken_settings_image(image: str) -> Iterator[str]:
    yield from derived_image(image, "ENV DJANGO_SETTINGS_MODULE=config.settings.staging")


@pytest.fixture
def never_healthy_image(image: str) -> Iterator[str]:
    yield from derived_image(image, 'CMD ["sleep", "600"]')


def test_validate_mode_passes_on_the_built_image(image: str) -> None:
    report = containers.check_validate(FACTS, image, timeout=120, say=lambda _: None)
    assert report.seconds_to_healthy > 0
    assert any("production dependencies import" in check for check in report.passed)
    assert any("dev-only packages is installed" in check for check in report.passed)


def test_validate_mode_shows_the_containers_own_error(broken_settings_image: str) -> None:
    with pytest.raises(UserError) as raised:
        containers.check_validate(FACTS, broken_settings_image, timeout=120, say=lambda _: None)
    assert "exited with code" in str(raised.value)
    assert "No module named 'config.settings.staging'" in str(raised.value)


MALFORMED = {
    "DATABASE_URL": "postgres://app:hunter2@db:not-a-port/app",
    "DATABASE_CONN_MAX_AGE": "forever",
    "REDIS_URL": "redis://cache:port/0",
    "DJANGO_ALLOWED_HOSTS": " , ",
    "DJANGO_SECURE_SSL_REDIRECT": "maybe",
    "DJANGO_SECURE_HSTS_SECONDS": "a year",
    "DJANGO_LOG_LEVEL": "LOUD",
    "DJANGO_SECRET_KEY": "short-secret",
    "WEB_CONCURRENCY": "lots",
}


@pytest.mark.parametrize("variables", [["DATABASE_URL"], list(MALFORMED)], ids=["database-url-port", "every-kind"])
def test_the_image_lists_every_malformed_setting_without_a_traceback(image: str, variables: list[str]) -> None:
    """The real image started with malformed settings (no database needed: STARTUP_CHECKS=config): the
    entrypoint's check lists each variable, what it holds (password and key hidden) and the form it needs."""
    good = {"DJANGO_SECRET_KEY": containers.throwaway_secret_key(), "DJANGO_ALLOWED_HOSTS": "localhost"}
    environment = {**good, "DATABASE_URL": "sqlite:////tmp/x.sqlite3", **{name: MALFORMED[name] for name in variables}}
    flags = [item for name, value in environment.items() for item in ("--env", f"{name}={value}")]
    started = docker("run", "--rm", "--env", "STARTUP_CHECKS=config", *flags, image, timeout=120)
    output = started.stdout + started.stderr
    assert started.returncode == 1, output[-3000:]
    assert "Traceback" not in output
    assert f"The production configuration has {len(variables)} problem(s)" in output, output[-3000:]
    for name in variables:
        assert f"  - {name}" in output, (name, output[-3000:])
    assert "hunter2" not in output
    assert "short-secret" not in output


def test_gunicorn_refuses_a_malformed_setting_even_without_start_up_checks(image: str) -> None:
    """STARTUP_CHECKS=none skips check_config: gunicorn's own configuration still names the variable."""
    started = docker(
        "run", "--rm", "--env", "STARTUP_CHECKS=none", "--env", "GUNICORN_THREADS=several", image, timeout=120
    )
    output = started.stdout + started.stderr
    assert started.returncode != 0, output[-3000:]
    assert "Traceback" not in output
    assert "gunicorn: GUNICORN_THREADS='several' cannot be used: it needs a whole number of at least 1" in output


def test_a_missing_image_names_the_fix() -> None:
    with pytest.raises(UserError, match="invoke build-image"):
        containers.check_validate(FACTS, "backend-does-not-exist:nope", timeout=5, say=lambda _: None)


@pytest.mark.cost(12)
def test_stack_mode_passes(image: str) -> None:
    report = containers.check_stack(FACTS, image, timeout=180, say=lambda _: None)
    assert "/readyz: database ok, cache ok" in report.passed
    assert any("API round trip" in check for check in report.passed)
    fuzzed = [check for check in report.passed if check.startswith("Schemathesis")]
    assert [line.split(":")[0] for line in fuzzed] == ["Schemathesis token", "Schemathesis none"], report.passed
    assert all(int(line.split(": ")[1].split()[0]) >= 250 for line in fuzzed), fuzzed  # 500+ a run
    assert "POST /api/items/ without credentials: 401 with a Bearer challenge" in report.passed
    burst = [check for check in report.passed if check.startswith("load (burst)")]
    assert len(burst) == 1, report.passed
    assert ", 0 errors, " in burst[0]
    assert int(burst[0].split(": ")[1].split()[0]) >= load.BURST_MINIMUM_REQUESTS


@pytest.mark.cost(9)
def test_stack_mode_without_a_database_fails_in_time_with_a_clear_message(image: str) -> None:
    started = time.monotonic()
    with pytest.raises(UserError) as raised:
        containers.check_stack(
            FACTS,
            image,
            timeout=60,
            overrides={"DATABASE_URL": "postgres://backend:x@no-such-host:5432/backend", "WAIT_FOR_DB_TIMEOUT": "3"},
            say=lambda _: None,
        )
    assert time.monotonic() - started < 120
    assert "was not reachable within 3s" in str(raised.value)


def test_sigint_mid_wait_leaves_nothing_behind(never_healthy_image: str) -> None:
    process = subprocess.Popen(  # the real task, as a user runs it
        [sys.executable, "-m", "invoke", "check-container", "--image", never_healthy_image, "--timeout", "300"],
        cwd=FACTS.root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    deadline = time.monotonic() + 60
    while not docker("ps", "--quiet", "--filter", f"ancestor={never_healthy_image}").stdout.strip():
        assert time.monotonic() < deadline, "the check never started its container"
        assert process.poll() is None, process.communicate()
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("compose_file", "environment", "settings"),
    [
        (
            compose_settings.COMPOSE_FILE,
            compose_settings.compose_environment(FACTS, "backend:local", "k" * 50, {}),
            FACTS.settings.production,
        ),
    ],
)
def test_compose_files_resolve_with_facts_from_the_single_source(compose_file, environment, settings) -> None:  # type: ignore[no-untyped-def]
    result = engine.compose(
        FACTS.root / compose_file, "config", "--format", "json", env={"PATH": os.environ["PATH"], **environment}
    )
    assert result.returncode == 0, result.stderr
    config = json.loads(result.stdout)
    assert config["services"]["backend"]["environment"]["DJANGO_SETTINGS_MODULE"] == settings
    assert config["services"]["postgres"]["image"] == FACTS.services.postgres
    assert set(config["services"]) == {"backend", "postgres", "redis"}


def test_compose_refuses_to_run_without_the_facts() -> None:
    result = engine.compose(FACTS.root / compose_settings.COMPOSE_FILE, "config", env={"PATH": os.environ["PATH"]})
    assert result.returncode != 0
    assert "is set by invoke" in result.stderr


def test_a_cancelled_stack_check_is_removed_even_when_sigterm_and_sigkill_follow(never_healthy_image: str) -> None:
    """A cancelled CI step's process group gets SIGINT, SIGTERM, then SIGKILL (here within a second, faster than
    GitHub's 7.5 s and 2.5 s): the stack's `compose down` survives all three and removes every container."""
    process = subprocess.Popen(
        [sys.executable, "-m", "invoke", "check-container", "--mode", "stack", "--image", never_healthy_image],
        cwd=FACTS.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ},
        start_new_session=True,  # a group of its own, as a step's
    )
    deadline = time.monotonic() + 120
    project = ""
    while not project:
        assert time.monotonic() < deadline, "the check never started its stack"
        assert process.poll() is None, "the check ended before its stack started"
        found = docker(
            "ps", "--filter", f"ancestor={never_healthy_image}", "--format", '{{.Label "com.docker.compose.project"}}'
        )
        project = found.stdout.strip().splitlines()[0] if found.stdout.strip() else ""
        time.sleep(0.2)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        time.sleep(0.5)
    process.wait(timeout=30)
    deadline = time.monotonic() + 60
    left = "?"
    while left and time.monotonic() < deadline:
        left = docker(
            "ps", "--all", "--quiet", "--filter", f"label=com.docker.compose.project={project}"
        ).stdout.strip()
        time.sleep(0.5)
    assert not left, f"containers of {project} were left behind"
