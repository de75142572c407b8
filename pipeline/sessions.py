"""What the nox sessions share: installing from the lock, environments, reports.

Kept here, not in noxfile.py, so the noxfile reads like a table of contents
and this logic has tests of its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal

from pipeline.errors import UserError
from pipeline.facts import Facts, SettingsRole

# Our own Python code: what mypy and bandit check.
PYTHON_SOURCES = ["backend", "pipeline", "noxfile.py", "tasks.py", "bootstrap.py"]
# The pipeline's tests and their tiers (markers: pipeline/conftest.py). Each tier is one `tooling(...)` session,
# or several that share it out (`--shard K/N`) so that no CI job takes much over a minute; with its nox tags.
# `docker`: the session needs a Docker engine (`nox -t docker` selects such sessions).
TOOLING_TESTS = ("pipeline/tests", "pipeline/actions/tests")
DOCKER_TAG = "docker"
# `tooling`: the tooling job of ci.yml runs them (when the pipeline's area changed: [tool.pipeline.areas]).
TOOLING_TAG = "tooling"
Tier = Literal["pure", "tools", "engine"]
TOOLING_TIERS: dict[Tier, tuple[int, list[str]]] = {
    "pure": (1, [TOOLING_TAG]),
    "tools": (4, [TOOLING_TAG]),
    "engine": (1, [TOOLING_TAG, DOCKER_TAG]),
}


def tooling_sessions() -> dict[str, tuple[Tier, str, list[str]]]:
    """{session id: (tier, shard `K/N` or "", nox tags)}: `pure`, `tools-1` ... `tools-4`, `engine`."""
    result = {}
    for tier, (count, tags) in TOOLING_TIERS.items():
        for index in range(1, count + 1):
            result[tier if count == 1 else f"{tier}-{index}"] = (tier, f"{index}/{count}" if count > 1 else "", tags)
    return result


def uv_sync_args(groups: Iterable[str], *, install_project: bool = False) -> list[str]:
    """`uv sync` arguments: the production dependencies plus `groups`, exactly as locked.

    `--locked` installs what uv.lock says and refuses a lock that no longer
    matches pyproject.toml (uv's guidance for CI); no default groups, so a
    session holds only what it asked for.
    """
    args = ["uv", "sync", "--locked", "--no-default-groups"]
    for group in groups:
        args += ["--group", group]
    if not install_project:
        args.append("--no-install-project")
    return args


def uv_sync_only_groups_args(groups: Iterable[str]) -> list[str]:
    """`uv sync` arguments for tool-only sessions (ruff, bandit): no project dependencies."""
    args = ["uv", "sync", "--locked", "--no-install-project"]
    for group in groups:
        args += ["--only-group", group]
    return args


def uv_export_args(groups: Iterable[str], *, production: bool, output: Path) -> list[str]:
    """`uv export` of the same pins `uv sync` would install, as hashed requirements for pip."""
    args = ["uv", "export", "--locked", "--quiet", "--no-emit-project", "--format", "requirements-txt"]
    args += ["--no-default-groups"] if production else []
    for group in groups:
        args += ["--group", group] if production else ["--only-group", group]
    return [*args, "--output-file", str(output)]


SETTINGS_ENV_PREFIX = "PIPELINE_SETTINGS_"


def django_env(facts: Facts, settings: SettingsRole, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Environment for running Django with one of the single-source settings modules.

    The environment is the one road of the settings module's name: DJANGO_SETTINGS_MODULE
    is the module `settings` names in [tool.pipeline.settings], and PIPELINE_SETTINGS_<ROLE>
    carries every role's module, for the backend's tests that start Django with another one
    (production, say) and must not read pyproject.toml themselves.
    """
    modules = facts.settings.as_dict()
    env = {"DJANGO_SETTINGS_MODULE": modules[settings], "PYTHONPATH": str(facts.backend_dir)}
    env.update({f"{SETTINGS_ENV_PREFIX}{role.upper()}": module for role, module in modules.items()})
    env.update(extra or {})
    return env


def throwaway_production_env(static_root: str, database_url: str) -> dict[str, str]:
    """Valid but throw-away production values: enough to import settings and run checks."""
    return {
        "DJANGO_SECRET_KEY": "throwaway-" + "k3y-" * 15,
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "DATABASE_URL": database_url,
        "DJANGO_STATIC_ROOT": static_root,
    }


# --- the tool each gate's session runs: the session runs it, `invoke bench` times it against the session ---

# The sessions that are one tool run: `invoke bench` times each against that tool alone. (`workflows` and
# `build` run several tools after the one in the table, so a ratio to it would not be nox's overhead.)
# A session whose work is one tool command (the table below).
Gate = Literal["lint", "format", "templates", "mypy", "bandit", "workflows", "build", "tests"]
GATES: tuple[Gate, ...] = ("lint", "format", "templates", "mypy", "bandit", "tests")
BANDIT_OPTIONS = ["-c", "pyproject.toml", "-r", *PYTHON_SOURCES]
BANDIT_SARIF = Path("reports/bandit.sarif")


def production_check_env(facts: Facts, workdir: Path | None = None) -> dict[str, str]:
    """Production settings with throw-away values: what mypy's plugin imports and the build checks."""
    if workdir is None:
        values = throwaway_production_env(static_root="unused", database_url="sqlite://:memory:")
    else:
        values = throwaway_production_env(
            static_root=str(workdir / "static"), database_url=f"sqlite:///{workdir / 'db.sqlite3'}"
        )
    return django_env(facts, "production", values)


# The last line of a failing gate: what to do, in commands a developer has (ruff is not on their PATH).
GATE_FIXES: dict[Gate, str] = {
    "lint": "ruff found the problems above; `nox -s fix` applies its safe fixes (and formats), the rest are yours",
    "format": "these files are not formatted; `nox -s fix` formats every file",
    "templates": "djLint found the problems above in the templates; edit them as it says",
    "mypy": "mypy found the type errors above; fix each file:line it names",
    "workflows": "fix each file:line above as its fix says, then run `nox -s workflows` again",
}
# What `nox -s fix` reports as left over: one line per problem, never a failure of the listing itself.
RUFF_LEFT_OVER = ("--exit-zero", "--quiet", "--output-format", "concise")


def tool_command(
    gate: Gate, facts: Facts, python: str, posargs: Iterable[str] = (), workdir: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """The tool command a gate's session runs (with the session's arguments after `--`) and its environment.
    `workflows` runs more tools around this one (drift, GitHub's parser and refusals in one process); `build`
    (the deploy check) runs more commands in it."""
    extra = list(posargs)
    production = production_check_env(facts, workdir)
    table: dict[Gate, tuple[list[str], dict[str, str]]] = {
        "lint": (["ruff", "check", *extra, "."], {}),
        "format": (["ruff", "format", "--check", "--diff", *extra, "."], {}),
        "templates": (["djlint", "backend", "--lint", *extra], {}),
        "mypy": (["mypy", "--cache-dir", f".mypy_cache/{python}", *extra, *PYTHON_SOURCES], production),
        "bandit": (
            ["bandit", *BANDIT_OPTIONS, "--quiet", "--format", "sarif", "--output", str(BANDIT_SARIF), *extra],
            {},
        ),
        "workflows": (["python", "-m", "pipeline.workflow_checks"], {"PYTHONPATH": "."}),
        "build": (["python", "backend/manage.py", "check", "--deploy", "--fail-level", "WARNING"], production),
        "tests": (["coverage", "run", "-m", "pytest", *extra], django_env(facts, "testing")),
    }
    if gate in table:
        return table[gate]
    raise ValueError(f"no gate is called {gate!r}")


def bandit_findings(sarif: Path) -> list[str]:
    """Each finding of bandit's SARIF report as `file:line: RULE (severity) message`; a missing or failed
    report is a UserError (bandit stopped before it scanned)."""
    try:
        run = json.loads(sarif.read_text(encoding="utf-8"))["runs"][0]
    except (OSError, ValueError, KeyError, IndexError) as error:
        raise UserError(f"bandit wrote no usable report at {sarif} ({error})", "read bandit's output above") from None
    if not all(invocation.get("executionSuccessful") for invocation in run.get("invocations", [])):
        raise UserError("bandit could not scan every file", "read bandit's output above")
    findings = []
    for result in run.get("results", []):
        location = result["locations"][0]["physicalLocation"]
        severity = result.get("properties", {}).get("issue_severity", "")
        findings.append(
            f"{location['artifactLocation']['uri']}:{location['region']['startLine']}: "
            f"{result['ruleId']} ({severity.lower()}) {result['message']['text']}"
        )
    return findings


def check_built_css(path: Path) -> int:
    """Size of a built stylesheet; UserError when the build produced nothing usable."""
    if not path.is_file() or path.stat().st_size == 0:
        raise UserError(f"The assets build produced no {path}", "read the Tailwind output above")
    text = path.read_text(encoding="utf-8")
    if len(text.strip().splitlines()) > 2:  # minified: a licence comment, then one line
        raise UserError(f"{path} is not minified", "build with `npm run build` (tailwindcss --minify)")
    return len(text.encode())


def check_manifest_has(manifest: Path, name: str) -> None:
    """collectstatic's manifest must hash every asset the templates reference."""
    if name not in json.loads(manifest.read_text(encoding="utf-8")).get("paths", {}):
        raise UserError(
            f"collectstatic did not collect {name}, which the templates use", "build the assets first: nox -s assets"
        )


@contextlib.contextmanager
def exclusive(name: str, root: Path = Path()) -> Iterator[None]:
    """One holder at a time across processes: sessions that share a folder of this checkout
    (jobs side by side under `invoke ci`, `nox -j auto`) take turns instead of racing."""
    lock = root / ".cache" / "locks" / f"{name}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
