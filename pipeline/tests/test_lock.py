"""A dependency added to pyproject.toml without re-locking: every install path refuses, naming `nox -s lock`."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

import bootstrap
from pipeline import drift, images, lockfiles, processes
from pipeline.conftest import RunNox
from pipeline.console import plain_env
from pipeline.facts import ROOT

FIX = "nox -s lock"


def add_dependency_without_relocking(root: Path) -> None:
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    assert '    "whitenoise>=6.8",\n' in text
    pyproject.write_text(text.replace('    "whitenoise>=6.8",\n', '    "whitenoise>=6.8",\n    "six>=1.16",\n', 1))


def run(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> processes.Completed:
    return processes.run(command, cwd=cwd, env={**plain_env(), **(env or {})}, timeout=900)


@pytest.mark.tools
def test_this_checkouts_lock_is_fresh() -> None:
    assert not lockfiles.lock_is_stale(ROOT)
    with (ROOT / "pyproject.toml").open("rb") as pyproject, (ROOT / "uv.lock").open("rb") as lock:
        assert (
            bootstrap.lock_problems(tomllib.load(pyproject), tomllib.load(lock), bootstrap.REQUIREMENTS.read_text())
            == []
        )


def test_uv_calls_refuse_a_stale_lock() -> None:
    assert "--locked" in lockfiles.export_command("tooling")
    assert "--frozen" not in lockfiles.export_command("tooling")
    dockerfile = (ROOT / "backend" / "Dockerfile").read_text()
    assert "--frozen" not in dockerfile
    assert dockerfile.count("    uv sync --locked ") == 3  # the builder, development and sbom-generator stages


def test_bootstrap_refuses_a_stale_lock_before_installing_anything(project_copy: Path) -> None:
    add_dependency_without_relocking(project_copy)
    result = run([sys.executable, "bootstrap.py", "invoke", "--list"], project_copy)
    assert result.returncode == 1
    assert result.stderr.startswith("bootstrap: uv.lock is out of date with pyproject.toml")
    assert "[project].dependencies has six>=1.16, which uv.lock does not" in result.stderr
    assert f"python3 bootstrap.py {FIX}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project_copy / ".tools").exists()


def test_bootstrap_lets_the_relock_through() -> None:
    assert bootstrap.is_relock(["nox", "-s", "lock", "--", "-P", "django"])
    assert not bootstrap.is_relock(["nox", "-s", "tests", "--", "lock"])
    assert not bootstrap.is_relock(["invoke", "lock"])


def test_bootstrap_notices_an_export_behind_the_lock(tmp_path: Path) -> None:
    with (ROOT / "pyproject.toml").open("rb") as pyproject, (ROOT / "uv.lock").open("rb") as lock:
        problems = bootstrap.lock_problems(tomllib.load(pyproject), tomllib.load(lock), "uv==0.0.1 \\\n")
    assert problems == ["requirements/image-build.txt pins uv==0.0.1, which uv.lock does not"]


@pytest.mark.parametrize("session", ["lint", "workflows"])
def test_a_session_refuses_a_stale_lock(project_copy: Path, run_nox: RunNox, session: str) -> None:
    add_dependency_without_relocking(project_copy)
    result = run_nox("-s", session)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "`--locked` was provided" in output  # uv refused, before installing anything
    assert "uv.lock is out of date with pyproject.toml" in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"nox > Session {session} aborted: uv.lock is out of date"), output[-3000:]
    assert FIX in last
    assert "Traceback" not in output


def test_drift_reports_a_stale_lock(project_copy: Path) -> None:
    add_dependency_without_relocking(project_copy)
    findings = [str(finding) for finding in drift.stale_lock_findings(project_copy)]
    assert len(findings) == 1
    assert findings[0].startswith("uv.lock:1: out of date with pyproject.toml")
    assert FIX in findings[0]
    assert not list(drift.stale_lock_findings(ROOT))


@pytest.mark.cost(7)
def test_the_image_build_refuses_a_stale_lock(docker_engine: None, project_copy: Path) -> None:
    add_dependency_without_relocking(project_copy)
    # BUILD_CA_BUNDLE, where this machine needs one, reaches the build through the environment.
    result = run([sys.executable, "-m", "invoke", "build-image", "--cache", "none", "--no-load"], project_copy)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "`--locked` was provided" in result.stdout  # uv in the builder stage
    last = result.stderr.strip().splitlines()
    assert len(last) == 1, result.stderr
    assert last[0].startswith("✘ The image build failed: uv.lock is out of date with pyproject.toml")
    assert FIX in last[0]
    assert "Traceback" not in result.stderr


def test_build_failure_recognises_uv_refusing_the_lock() -> None:
    output = "#12 3.1 error: The lockfile at `uv.lock` needs to be updated, but `--locked` was provided.\n"
    assert FIX in str(images.build_failure(1, output))
    assert "first ERROR line" in str(images.build_failure(1, "#12 ERROR: something else\n"))


@pytest.mark.cost(6)
def test_doctor_reports_a_stale_lock(project_copy: Path) -> None:
    add_dependency_without_relocking(project_copy)
    result = run([sys.executable, "-m", "invoke", "doctor"], project_copy)
    assert result.returncode == 1
    assert "missing  uv.lock matches pyproject.toml: " in result.stdout
    assert FIX in result.stderr
    assert "Traceback" not in result.stderr
