"""What the nox sessions share: installing from the lock, environments, reports.

Kept here, not in noxfile.py, so the noxfile reads like a table of contents
and this logic has tests of its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from pipeline.errors import UserError
from pipeline.facts import Facts

# Our own Python code: what mypy and bandit check.
PYTHON_SOURCES = ["backend", "pipeline", "noxfile.py", "tasks.py", "bootstrap.py"]


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


def django_env(facts: Facts, settings: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
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


def coverage_data_file(session_name: str) -> str:
    """One coverage data file per session (per Python version), combined later."""
    return ".coverage." + session_name.replace("/", "-")


def on_ci(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return env.get("CI", "").lower() in {"1", "true", "yes"}


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
