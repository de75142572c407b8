"""uv.lock and the requirement files exported from it.

One file is exported: requirements/image-build.txt, uv alone, pinned and
hashed, for the installs that run before uv exists (the image's builder stage,
and bootstrap.py, whose uv then exports the `tooling` group itself). `nox -s
lock` writes it and drift proves it matches the lock. Nothing else is
committed twice, so an update of uv.lock alone (Dependabot's) needs no re-export;
uv itself is left out of Dependabot's updates.

Every install path refuses a lock that is stale against pyproject.toml
(`uv sync --locked`, `uv export --locked`, the image's builder stage,
bootstrap.py's own check) with the one fix below: `nox -s lock`.
"""

from __future__ import annotations

from pathlib import Path

from pipeline import processes
from pipeline.console import plain_env
from pipeline.errors import UserError

EXPORTS = {
    Path("requirements/image-build.txt"): "image-build",
}
RELOCK_FIX = (
    "re-lock with `nox -s lock` (or `python3 bootstrap.py nox -s lock`; it also re-exports requirements/), "
    "then commit uv.lock and requirements/"
)
# What uv prints when --locked / --check meet a lock that pyproject.toml no longer matches.
UV_STALE_LOCK = "needs to be updated, but `--"


def stale_lock_error() -> UserError:
    return UserError(
        "uv.lock is out of date with pyproject.toml (its dependencies changed without re-locking), "
        "so nothing is installed from it",
        RELOCK_FIX,
    )


def export_command(group: str, output: Path | None = None) -> list[str]:
    command = [
        "uv",
        "export",
        "--locked",
        "--quiet",
        "--no-emit-project",
        "--no-header",
        "--only-group",
        group,
        "--format",
        "requirements-txt",
    ]
    if output is not None:
        command += ["--output-file", str(output)]
    return command


def _check(root: Path, *extra: str, uv: str = "uv") -> processes.Completed:
    return processes.run([uv, "lock", "--check", *extra], cwd=root, env=plain_env(), timeout=300)


def lock_is_stale(root: Path, uv: str = "uv") -> bool:
    """Does uv.lock no longer match pyproject.toml? uv decides (`uv lock --check`).

    Offline first: a lock that matches needs no index. Only when that fails is
    the index asked, so a network problem is not reported as a stale lock.
    """
    if _check(root, "--offline", uv=uv).returncode == 0:
        return False
    online = _check(root, uv=uv)
    return online.returncode != 0 and UV_STALE_LOCK in online.stderr


def require_fresh_lock(root: Path, uv: str = "uv") -> None:
    if lock_is_stale(root, uv):
        raise stale_lock_error()
