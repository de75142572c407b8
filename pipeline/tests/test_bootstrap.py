"""bootstrap.py installs the tooling group as uv exports it from uv.lock, so a change of uv.lock alone
(what Dependabot's uv updater writes) needs no other file re-exported."""

from __future__ import annotations

import os
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

import bootstrap
from pipeline import drift, lockfiles, processes
from pipeline.console import plain_env
from pipeline.facts import ROOT

PACKAGE = "rich"  # in the tooling group only


def locked_version(root: Path, name: str) -> str:
    with (root / "uv.lock").open("rb") as handle:
        return next(str(p["version"]) for p in tomllib.load(handle)["package"] if p["name"] == name)


def run(command: list[str], cwd: Path) -> processes.Completed:
    return processes.run(command, cwd=cwd, env=plain_env(), timeout=300)


def test_only_uv_itself_is_exported() -> None:
    assert list(lockfiles.EXPORTS) == [Path("requirements/image-build.txt")]
    assert sorted(path.name for path in (ROOT / "requirements").iterdir()) == ["image-build.txt"]
    assert bootstrap.REQUIREMENTS == ROOT / "requirements" / "image-build.txt"
    pins = (ROOT / "requirements" / "image-build.txt").read_text().split()
    assert pins[0] == f"uv=={locked_version(ROOT, 'uv')}"


def test_bootstrap_exports_the_tooling_group_as_nox_s_lock_would() -> None:
    """The same uv export, except that bootstrap reads the lock as it is (`--frozen`): it checked the lock first."""
    locked = lockfiles.export_command("tooling")
    assert ["uv", *bootstrap.EXPORT_TOOLING] == [("--frozen" if part == "--locked" else part) for part in locked]


def test_a_lock_only_update_passes_drift_and_reaches_bootstrap(
    project_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("uv") is None:  # pytest run directly from a venv that has uv (nox puts it on PATH)
        monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    uv = shutil.which("uv")
    assert uv is not None
    current = locked_version(project_copy, PACKAGE)
    wanted = "14.2.0" if current != "14.2.0" else "14.1.0"
    relocked = run([uv, "lock", "--quiet", "--upgrade-package", f"{PACKAGE}=={wanted}"], project_copy)
    if relocked.returncode != 0:
        reason = f"uv could not re-lock (no package index?): {relocked.stderr.strip()[-300:]}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    assert locked_version(project_copy, PACKAGE) == wanted
    assert (project_copy / "pyproject.toml").read_text() == (ROOT / "pyproject.toml").read_text()
    assert list(drift.lockfile_findings(project_copy)) == []
    assert not lockfiles.lock_is_stale(project_copy)
    with (project_copy / "pyproject.toml").open("rb") as pyproject, (project_copy / "uv.lock").open("rb") as lock:
        problems = bootstrap.lock_problems(
            tomllib.load(pyproject), tomllib.load(lock), (project_copy / "requirements/image-build.txt").read_text()
        )
    assert problems == []
    exported = run([uv, *bootstrap.EXPORT_TOOLING], project_copy)
    assert exported.returncode == 0, exported.stderr
    assert f"{PACKAGE}=={wanted} \\" in exported.stdout.splitlines()


@pytest.mark.tools
@pytest.mark.skipif(os.name != "posix", reason="exec replaces the process on POSIX only")
def test_a_sigterm_to_bootstrap_reaches_the_tool() -> None:
    """`kill -TERM` of `python3 bootstrap.py TOOL` (a CI runner's cancel) stops the tool itself: bootstrap
    becomes the tool, so no orphan goes on running (and keeping its containers up) after bootstrap ended."""
    import signal
    import subprocess

    program = "import os, time; print(os.getpid(), flush=True); time.sleep(120)"
    with subprocess.Popen(
        [sys.executable, "bootstrap.py", "python", "-c", program], cwd=ROOT, stdout=subprocess.PIPE, text=True
    ) as started:
        try:
            assert started.stdout is not None
            assert int(started.stdout.readline()) == started.pid  # the tool runs in bootstrap's process
            started.send_signal(signal.SIGTERM)
            assert started.wait(timeout=20) == -signal.SIGTERM
        finally:
            started.kill()
