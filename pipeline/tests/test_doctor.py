"""invoke doctor, through the real invoke."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipeline import doctor
from pipeline.conftest import invoke
from pipeline.errors import START_DOCKER_FIX
from pipeline.facts import ROOT, load


def run_doctor(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return invoke("doctor", cwd=cwd, env=env, timeout=120)


def test_doctor_passes_on_a_ready_machine(docker_engine: None, project_copy: Path) -> None:
    result = run_doctor(project_copy)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "doctor: this machine can run the whole pipeline" in result.stdout


def test_doctor_names_the_fix_when_docker_is_down(project_copy: Path) -> None:
    result = run_doctor(project_copy, DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert result.returncode == 1
    assert "missing  Docker daemon: " in result.stdout
    assert START_DOCKER_FIX in result.stderr
    assert "shared/" not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_doctor_names_a_missing_env_variable(project_copy: Path) -> None:
    example = (project_copy / ".env.example").read_text()
    (project_copy / ".env").write_text(example.replace("DATABASE_URL=\n", "") + "LEFTOVER=1\n")
    result = run_doctor(project_copy)
    assert result.returncode == 1
    assert "missing: DATABASE_URL" in result.stdout
    assert "add DATABASE_URL to .env" in result.stderr
    assert "not in .env.example: LEFTOVER" in result.stdout


def test_compare_env(tmp_path: Path) -> None:
    (tmp_path / "example").write_text("# comment\nA=\nB=2\n")
    (tmp_path / "actual").write_text("export A=1\nC=3\n")
    assert doctor.compare_env(tmp_path / "example", tmp_path / "actual") == (["B"], ["C"])


def test_the_real_checkout_settings_resolve() -> None:
    assert doctor.check_settings(load(ROOT)).ok
