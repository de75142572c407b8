"""The pipeline tests' shared fixtures and helpers, and their tiers.

Every test is in one tier (markers registered in pyproject.toml; `nox -s tooling(TIER)` runs one):

  pure    in-process decisions: no program is started (a pure test that starts one fails, naming
          the tier to move it to), so the tier runs in seconds
  tools   real nox, uv, npm, node, git, invoke or PostgreSQL, mostly on copies of the project
  engine  a real Docker engine: image builds, containers, compose stacks

A test's tier follows from its fixtures: `docker_engine` or `built_project` make it `engine`,
`project_copy` or `run_nox` make it `tools`; a test that starts programs otherwise says so with
`pytest.mark.tools` (or `engine`). Everything else is `pure`.

The nox and invoke processes the tests start on copies are measured too (`pipeline.coverage_data`).
"""

from __future__ import annotations

import base64
import json
import os
import sys
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pipeline import copies, engine, facts, images, processes, sessions
from pipeline.console import plain_env
from pipeline.facts import ROOT
from pipeline.tests import browser

TIERS = tuple(sessions.TOOLING_TIERS)
ENGINE_FIXTURES = {"docker_engine", "built_project"}
TOOLS_FIXTURES = {"project_copy", "run_nox", "nox_envdir"}

RunNox = Callable[..., processes.Completed]


# --- tiers --------------------------------------------------------------------------------------


def tier_of(item: pytest.Item) -> str:
    """The test's own tier marker, else what its fixtures need, else pure."""
    marked = [tier for tier in TIERS if item.get_closest_marker(tier) is not None]
    fixtures = set(getattr(item, "fixturenames", ()))
    if "engine" in marked or fixtures & ENGINE_FIXTURES:
        return "engine"
    if "tools" in marked or fixtures & TOOLS_FIXTURES:
        return "tools"
    return "pure"


@pytest.hookimpl(tryfirst=True)  # before `-m TIER` selects by these markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = tier_of(item)
        if item.get_closest_marker(tier) is None:
            item.add_marker(getattr(pytest.mark, tier))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--shard",
        metavar="K/N",
        help="run the K-th of N shares of the selected tests (every N-th, in collection order), "
        "so one tier runs as N CI jobs side by side",
    )


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        index, _, count = text.partition("/")
        if not (index.isdigit() and count.isdigit() and 1 <= int(index) <= int(count)):
            raise pytest.UsageError(f"--shard {text}: write K/N with 1 <= K <= N, e.g. 2/3")
        return cls(int(index), int(count))

    @pytest.hookimpl(trylast=True)  # after `-m` and `-k` have selected
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        """The longest first, each to the share with the least so far (ties: the lower share), by the
        `cost` markers: the same shares in every job, from the source alone."""
        totals = [0.0] * self.count
        chosen: set[str] = set()
        for item in sorted(items, key=lambda item: -cost_of(item)):  # stable: collection order among equals
            share = totals.index(min(totals))
            totals[share] += cost_of(item)
            if share == self.index - 1:
                chosen.add(item.nodeid)
        deselected = [item for item in items if item.nodeid not in chosen]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item.nodeid in chosen]


DEFAULT_COST = 3.0  # seconds: what most tests of the tools tier take


def cost_of(item: pytest.Item) -> float:
    """`pytest.mark.cost(SECONDS)`: about how long a long test takes, so shares come out even."""
    marker = item.get_closest_marker("cost")
    return float(marker.args[0]) if marker is not None else DEFAULT_COST


def pytest_configure(config: pytest.Config) -> None:
    shard = config.getoption("--shard")
    if shard:
        config.pluginmanager.register(Shard.parse(shard), "pipeline-shard")


class StartedAProgramError(Exception):
    """A pure test started a program."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A pure test may start no program: it would make the tier slow and its result the machine's."""
    if tier_of(item) != "pure":
        return (yield)

    def refusal(argv: object) -> StartedAProgramError:
        return StartedAProgramError(
            f"the pure test {item.nodeid} started {argv!r}; mark it `pytest.mark.tools` (real programs) "
            "or `pytest.mark.engine` (Docker), or keep it in-process"
        )

    with processes.refused(refusal):
        return (yield)


# --- programs the tests run ---------------------------------------------------------------------


def copy_env(copy: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for a program run in a copy of the project: colour off, no job summary, and,
    when these tests are measured, the same measurement with the copy as its source."""
    env = plain_env(environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    config = env.get("COVERAGE_PROCESS_CONFIG")
    if config:
        data = json.loads(base64.b64decode(config))
        here, there = str(ROOT), str(copy.resolve())
        data["source"] = [there + value[len(here) :] if value.startswith(here) else value for value in data["source"]]
        env["COVERAGE_PROCESS_CONFIG"] = base64.b64encode(json.dumps(data).encode()).decode()
    return env


def invoke(
    *args: str, cwd: Path = ROOT, env: Mapping[str, str] | None = None, timeout: float = 600
) -> processes.Completed:
    """The real invoke of this environment (tasks.py of `cwd`); returns the finished process."""
    return processes.run(
        [sys.executable, "-m", "invoke", *args], cwd=cwd, env={**copy_env(cwd), **(env or {})}, timeout=timeout
    )


def docker(*args: str, stdin: str | None = None, timeout: float = 300) -> processes.Completed:
    """The docker CLI (through `pipeline.engine`, the one door to Docker); returns the finished process."""
    return engine.docker(*args, input=stdin, timeout=timeout)


def share_tools(root: Path) -> None:
    """A copy uses this checkout's .tools/ (bootstrap.py's pinned nox, uv, invoke), not a new install."""
    tools = ROOT / ".tools"
    if tools.is_dir() and not (root / ".tools").exists():
        (root / ".tools").symlink_to(tools)


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """This checkout's files (tracked and new, not ignored) in a temporary folder."""
    return copies.copy_project(ROOT, tmp_path / "project")


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    """Skip where no Chromium exists; on CI a missing browser is a failure, never a skip."""
    found = browser.find_chromium()
    if found:
        return found
    reason = f"no Chromium or Chrome on PATH ({browser.INSTALL_HINT})"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests, but {reason}")
    pytest.skip(reason)


ENVDIR_VARIABLE = "PIPELINE_TEST_ENVDIR"


@pytest.fixture(scope="session")
def nox_envdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder of session environments for every copy a test run makes: each environment is made once,
    then reused (`reuse_venv`), as on a developer's machine; the sessions install from the lock only, never
    the project. `nox -s tooling(...)` keeps one such folder per session under .cache/ (PIPELINE_TEST_ENVDIR),
    so a warm run makes none; else a temporary one."""
    given = os.environ.get(ENVDIR_VARIABLE)
    if given:
        Path(given).mkdir(parents=True, exist_ok=True)
        return Path(given)
    return tmp_path_factory.mktemp("nox-envs")


@pytest.fixture
def run_nox(project_copy: Path, nox_envdir: Path) -> RunNox:
    """Run the real nox of this environment on the copy (its session environments shared with the other
    copies of the run: `nox_envdir`); returns the finished process."""

    def run(*args: str, env: Mapping[str, str | None] | None = None, timeout: float = 600) -> processes.Completed:
        """`env` is added to this process's environment; a variable given as None is removed."""
        environment = copy_env(project_copy)
        for key, value in (env or {}).items():
            if value is None:
                environment.pop(key, None)
            else:
                environment[key] = value
        return processes.run(
            [sys.executable, "-m", "nox", "--envdir", str(nox_envdir), *args],
            cwd=project_copy,
            env=environment,
            timeout=timeout,
        )

    return run


def docker_engine_available() -> bool:
    return engine.engine_answers(timeout=20)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip where no Docker engine exists; on CI a missing engine is a failure, never a skip."""
    if docker_engine_available():
        return
    reason = "no Docker engine is reachable (start one: `docker info` must answer)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the container tests, but {reason}")
    pytest.skip(reason)


# What a careless developer leaves in the folders the Dockerfile copies whole: the image must hold none of it.
PLANTED = {
    "backend/config/.env": "DJANGO_SECRET_KEY=planted-in-the-build-context\n",
    "backend/ops/deploy-key.pem": "-----BEGIN PRIVATE KEY-----\nplanted-in-the-context\n-----END PRIVATE KEY-----\n",
}


@dataclass
class BuiltProject:
    """A copy of the project, its own local cache folder, and its uniquely named image; what was planted
    in its build context and the secrets its builds were given (none may reach the image)."""

    root: Path
    cache_root: Path
    name: str
    cold: images.BuildResult
    planted: dict[str, str] = field(default_factory=dict)
    secrets: list[Path] = field(default_factory=list)

    def build(self) -> images.BuildResult:
        return build_copy(self.root, self.cache_root, self.name, self.secrets)


def build_copy(
    root: Path, cache_root: Path, name: str, secrets: Sequence[Path] = (), *, attest: bool = True
) -> images.BuildResult:
    """`invoke build-image` of a copy (local cache), with the CA bundle secret given (else BUILD_CA_BUNDLE's)."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "ACTIONS_"))}
    if secrets:
        env["BUILD_CA_BUNDLE"] = str(secrets[0])
    return images.build(
        facts.load(root),
        cache="local",
        image_name=name,
        context=root,
        cache_root=cache_root,
        attest=attest,
        say=lambda _: None,
        env=env,
    )


def unique_ca_secret(folder: Path) -> list[Path]:
    """This machine's CA bundle (BUILD_CA_BUNDLE, where it needs one) made unique by a comment line, so that
    a copy of the build secret in an image is found by its hash and never mistaken for a system bundle."""
    bundle = os.environ.get("BUILD_CA_BUNDLE")
    if not bundle:
        return []
    secret = folder / "build-secret-ca.pem"
    secret.write_text(Path(bundle).read_text() + f"\n# the pipeline tests' build secret {uuid.uuid4().hex}\n")
    return [secret]


@pytest.fixture(scope="session")
def built_project(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltProject]:
    """One cold build per test run, from a copy with a `.env` and a private key planted where the
    Dockerfile copies whole folders; its images are removed at the end, nothing else."""
    root = copies.copy_project(ROOT, tmp_path_factory.mktemp("image") / "project")
    for relative, text in PLANTED.items():
        (root / relative).write_text(text)
    cache_root = root.parent / "cache"
    secrets = unique_ca_secret(root.parent)
    name = f"pipeline-test-{uuid.uuid4().hex[:8]}"
    cold = build_copy(root, cache_root, name, secrets)
    yield BuiltProject(root, cache_root, name, cold, dict(PLANTED), secrets)
    images.remove_local_images(name)
