"""The development stack: the facts reach plain compose through compose/.env, and a real browser sees
Tailwind's styles on the landing page of the running dev stack (the watcher's CSS, rebuilt when a template
or frontend/ changes) and of the production image in stack mode."""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from pipeline import compose_settings, containers, drift, engine, facts
from pipeline.conftest import BuiltProject, docker
from pipeline.console import plain_env
from pipeline.tests import browser

FACTS = facts.load()
# Elements of the landing page (catalog/base.html, home.html) and properties their Tailwind classes set.
STYLED = {"main": ["max-width", "padding-top"], "body": ["background-color"], "h1": ["font-size"]}
MAX_W_4XL = "896px"  # `max-w-4xl` on <main>: 56rem; unstyled, max-width is `none`
STACK_TIMEOUT = 900  # a cold build of the development stage and a first npm ci


def assert_tailwind_applied(styles: Mapping[str, Any]) -> None:
    """The compiled CSS loaded with rules, and its classes change what the page's elements look like."""
    assert any(sheet["rules"] > 0 and "/static/app" in str(sheet["href"]) for sheet in styles["sheets"]), styles
    assert styles["styled"]["main"]["max-width"] == MAX_W_4XL, styles
    assert styles["unstyled"]["main"]["max-width"] == "none", styles
    for selector, properties in STYLED.items():
        for name in properties:
            assert styles["styled"][selector][name] != styles["unstyled"][selector][name], (selector, name, styles)


def page_styles(binary: str, url: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    with browser.chromium(binary, timeout=60) as page:
        page.open(url, headers)
        return page.styles(STYLED)


def http_text(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  # nosec B310
            return int(response.status), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


# --- the facts, for plain compose -------------------------------------------------------------


def test_compose_env_is_written_from_the_facts() -> None:
    text = (FACTS.root / compose_settings.COMPOSE_ENV_FILE).read_text(encoding="utf-8")
    assert text == compose_settings.compose_env_text(FACTS)
    assert f"\nDJANGO_SETTINGS_MODULE={FACTS.settings.development}\n" in text
    assert "IMAGE" not in text  # the images are the Dockerfile's stages: a Dependabot bump changes nothing here


def test_lock_writes_compose_env_and_drift_names_it_when_stale(tmp_path: Path) -> None:
    copy = dataclasses.replace(FACTS, root=tmp_path)
    (tmp_path / "compose").mkdir()
    assert [str(f) for f in drift.compose_env_findings(copy, tmp_path)] == [
        "compose/.env:1: missing (plain `docker compose -f compose/dev.yaml` reads it); "
        "run `nox -s lock`, which writes it from the facts"
    ]
    assert compose_settings.write_compose_env(copy)
    assert not compose_settings.write_compose_env(copy)  # unchanged: not rewritten
    assert list(drift.compose_env_findings(copy, tmp_path)) == []
    path = tmp_path / compose_settings.COMPOSE_ENV_FILE
    # What a renamed settings module in [tool.pipeline.settings] leaves behind until `nox -s lock` runs.
    renamed = dataclasses.replace(
        copy, settings=dataclasses.replace(FACTS.settings, development="orders_service.settings.development")
    )
    [finding] = drift.compose_env_findings(renamed, tmp_path)
    assert finding.message == (
        f"DJANGO_SETTINGS_MODULE={FACTS.settings.development} is not the facts' "
        "DJANGO_SETTINGS_MODULE=orders_service.settings.development; run `nox -s lock`, which writes it from the facts"
    )
    assert (
        finding.line == path.read_text().splitlines().index(f"DJANGO_SETTINGS_MODULE={FACTS.settings.development}") + 1
    )
    path.write_text(path.read_text() + "EXTRA=1\n")
    assert [f.message for f in drift.compose_env_findings(copy, tmp_path)] == [
        "differs from what `nox -s lock` writes; run `nox -s lock`, which writes it from the facts"
    ]


def compose_config(environment: Mapping[str, str]) -> dict[str, Any]:
    result = engine.compose(
        FACTS.root / compose_settings.DEV_COMPOSE_FILE,
        "config",
        "--format",
        "json",
        env={"PATH": os.environ["PATH"], **environment},
    )
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = json.loads(result.stdout)
    return config


@pytest.mark.tools
def test_plain_compose_resolves_the_dev_stack_as_invoke_does() -> None:
    """`docker compose -f compose/dev.yaml` with none of invoke's variables: the same stack as `invoke dev-stack`."""
    plain = compose_config({})
    assert plain == compose_config(containers.dev_stack_environment(FACTS, {}))
    services = plain["services"]
    assert set(services) == {"backend", "postgres", "redis", "assets"}
    assert services["backend"]["environment"]["DJANGO_SETTINGS_MODULE"] == FACTS.settings.development
    dockerfile = str(FACTS.image.dockerfile.relative_to(FACTS.root))
    for service, target in {"assets": "node-dev", "postgres": "postgres-dev", "redis": "redis-dev"}.items():
        # Built from the Dockerfile's stage: its FROM ... AS *-image line is the version; no argument, no copy.
        assert services[service]["build"] == {"context": str(FACTS.root), "dockerfile": dockerfile, "target": target}
        assert "image" not in services[service]
    assert services["backend"]["build"]["target"] == "development"
    assert services["backend"]["depends_on"]["assets"]["condition"] == "service_healthy"
    served = [volume for volume in services["backend"]["volumes"] if volume.get("source") == "assets"]
    assert served == [
        {"type": "volume", "source": "assets", "target": "/app/frontend/dist", "read_only": True, "volume": {}}
    ]


@pytest.mark.tools
def test_dev_stack_images_are_the_dockerfiles_stages_or_the_named_stand_ins() -> None:
    """The stages build FROM the image versions; NODE_IMAGE, POSTGRES_IMAGE, REDIS_IMAGE replace them."""
    dockerfile = FACTS.image.dockerfile.read_text(encoding="utf-8")
    for name in ("NODE", "POSTGRES", "REDIS"):
        stage = name.lower()
        assert f"\nARG {name}_IMAGE={stage}-image\n" in dockerfile
        assert f"\nFROM ${{{name}_IMAGE}} AS {stage}-dev\n" in dockerfile
    overrides = {"NODE_IMAGE": "mirror/node:20", "POSTGRES_IMAGE": "postgres:15-bookworm", "REDIS_IMAGE": "mirror/r:7"}
    services = compose_config(overrides)["services"]
    assert services["assets"]["build"]["args"] == {"NODE_IMAGE": "mirror/node:20"}
    assert services["postgres"]["build"]["args"] == {"POSTGRES_IMAGE": "postgres:15-bookworm"}
    assert services["redis"]["build"]["args"] == {"REDIS_IMAGE": "mirror/r:7"}


def test_dev_stack_passes_the_ca_bundle_as_an_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "proxy-ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.chdir(tmp_path)
    environment = containers.dev_stack_environment(FACTS, {"BUILD_CA_BUNDLE": "proxy-ca.pem"})
    assert environment["BUILD_CA_BUNDLE"] == str(tmp_path / "proxy-ca.pem")
    assert "BUILD_CA_BUNDLE" not in containers.dev_stack_environment(FACTS, {})


@pytest.mark.parametrize(
    ("assets_log", "expected"),
    [
        (
            "assets-1 | npm error code SELF_SIGNED_CERT_IN_CHAIN\n",
            "npm ci in the dev stack's assets service failed on certificate verification (SELF_SIGNED_CERT_IN_CHAIN)",
        ),
        ("assets-1 | npm error code E404\n", "docker compose exited with 1 (its output is above)"),
    ],
)
def test_a_failed_dev_stack_names_the_ca_bundle_when_npm_met_a_proxy(
    monkeypatch: pytest.MonkeyPatch, assets_log: str, expected: str
) -> None:
    asked: list[list[str]] = []

    def fake_run(command: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        asked.append(command)
        return subprocess.CompletedProcess(command, 0, stdout=assets_log, stderr="")

    monkeypatch.setattr(subprocess, "run", fake_run)
    error = containers.dev_stack_failure(FACTS, 1, {})
    assert error.problem.startswith(expected)
    assert asked == [containers.dev_stack_command(FACTS, ["logs", "--no-color", "--tail", "40", "assets"])]
    if "certificate" in expected:
        assert "BUILD_CA_BUNDLE" in error.fix


# --- the running stacks, in a real browser ---------------------------------------------------------


@pytest.mark.tools
def test_the_style_check_fails_on_an_unstyled_page(chromium_binary: str) -> None:
    """What the dev stack served before it had a watcher: the same elements, no CSS (app.css answered 404)."""
    page = "data:text/html,<html><body><main><h1>Service status</h1></main></body></html>"
    with pytest.raises(AssertionError):
        assert_tailwind_applied(page_styles(chromium_binary, page))


def project_containers(project: str) -> list[str]:
    listing = docker("ps", "--all", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Names}}")
    return listing.stdout.split()


def project_volumes(project: str) -> list[str]:
    listing = docker("volume", "ls", "--filter", f"label=com.docker.compose.project={project}", "--format", "{{.Name}}")
    return listing.stdout.split()


def figure(what: str, seconds: float) -> None:
    """A measured time, in the test's output (`pytest -rP` shows it)."""
    print(f"figure: {what}: {seconds:.2f}s")


def wait_for_css(base: str, needle: str, timeout: float) -> float:
    """Seconds until the CSS the backend serves contains `needle`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        status, css = http_text(f"{base}/static/app.css")
        if status == 200 and needle in css:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"{needle} not in the served CSS after {timeout:g}s")


@dataclasses.dataclass
class DevStack:
    root: Path
    project: str
    process: subprocess.Popen[bytes]
    log: Path
    base: str = ""

    def compose(self, *args: str) -> subprocess.CompletedProcess[str]:
        compose_file = self.root / compose_settings.DEV_COMPOSE_FILE
        return engine.compose(compose_file, *args, project=self.project, cwd=self.root, timeout=300)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def wait_until_serving(self, timeout: float) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            assert self.process.poll() is None, (
                f"invoke dev-stack ended with {self.process.returncode}:\n{self.output()}"
            )
            if not self.base:
                port = self.compose("port", "backend", "8000").stdout.strip()
                self.base = f"http://{port}" if port else ""
            if self.base and http_text(f"{self.base}/")[0] == 200:
                return time.monotonic() - started
            time.sleep(1)
        raise AssertionError(f"the dev stack did not serve / within {timeout:g}s:\n{self.output()}")


@pytest.fixture
def dev_stack(project_copy: Path, docker_engine: None, tmp_path: Path) -> Iterator[DevStack]:
    """`invoke dev-stack`, as a person starts it, on a copy (its templates are edited), on free ports."""
    project = f"backend-devtest-{containers.run_id()}"
    log = tmp_path / "dev-stack.log"
    environment = {**plain_env(), "COMPOSE_PROJECT_NAME": project, "DEV_BACKEND_PORT": "0", "DEV_POSTGRES_PORT": "0"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "invoke", "dev-stack"],
            cwd=project_copy,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, which the test's Ctrl-C goes to as a terminal's would
        )
    stack = DevStack(project_copy, project, process, log)
    try:
        yield stack
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        stack.compose("down", "--volumes", "--rmi", "local", "--remove-orphans", "--timeout", "5")
        assert project_containers(project) == []
        assert project_volumes(project) == []


@pytest.mark.cost(46)
def test_dev_stack_serves_tailwind_styles_rebuilds_on_edits_and_ctrl_c_removes_it(
    dev_stack: DevStack, chromium_binary: str
) -> None:
    figure("invoke dev-stack to a served landing page", dev_stack.wait_until_serving(STACK_TIMEOUT))
    assert_tailwind_applied(page_styles(chromium_binary, f"{dev_stack.base}/"))

    # A class no template used yet, in a new template: the watcher rebuilds, the backend serves it.
    status, css = http_text(f"{dev_stack.base}/static/app.css")
    assert status == 200
    assert ".rotate-45" not in css
    template = dev_stack.root / "backend/catalog/templates/catalog/probe.html"
    template.write_text('<p class="rotate-45">probe</p>\n')
    seconds = wait_for_css(dev_stack.base, ".rotate-45", timeout=30)
    figure("template edit to the new class in the served CSS", seconds)
    # frontend/ itself: a rule added to Tailwind's input.
    source = dev_stack.root / "frontend/app.css"
    source.write_text(source.read_text() + "\n.probe-frontend { outline-style: dashed; }\n")
    seconds = wait_for_css(dev_stack.base, ".probe-frontend", timeout=30)
    figure("frontend/app.css edit to the new rule in the served CSS", seconds)

    # Ctrl-C, as from a terminal: invoke ends with 130 and the containers are gone; the volumes stay.
    os.killpg(dev_stack.process.pid, signal.SIGINT)
    assert dev_stack.process.wait(timeout=180) == 130, dev_stack.output()
    assert "interrupted" in dev_stack.output()
    assert "Traceback" not in dev_stack.output()
    assert project_containers(dev_stack.project) == []
    assert project_volumes(dev_stack.project)  # the database and node_modules outlive the containers


@pytest.mark.cost(13)
def test_production_stack_serves_tailwind_styles(built_project: BuiltProject, chromium_binary: str) -> None:
    """compose/ci.yaml (as `invoke check-container --mode stack` starts it) with the built image."""
    project = f"backend-check-{containers.run_id()}"
    image = built_project.cold.tags[0]
    environment = compose_settings.compose_environment(FACTS, image, containers.throwaway_secret_key(), {})

    def compose(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return containers.compose(project, environment, *args, root=FACTS.root, timeout=timeout)

    try:
        up = compose("up", "--detach", "--wait", "--wait-timeout", "180", timeout=300)
        assert up.returncode == 0, up.stderr + compose("logs", "--no-color", "--tail", "40", "backend").stdout
        base = f"http://{compose('port', 'backend', '8000').stdout.strip()}"
        # As behind the TLS proxy in front of production (HTTPS as Django sees it), for every request of the page.
        styles = page_styles(chromium_binary, f"{base}/", {"X-Forwarded-Proto": "https"})
        assert_tailwind_applied(styles)
        assert any("/static/app." in str(sheet["href"]) and ".css" in str(sheet["href"]) for sheet in styles["sheets"])
    finally:
        compose("down", "--volumes", "--remove-orphans", "--timeout", "5", timeout=180)
    assert project_containers(project) == []
