"""tasks.py's error paths, through the real invoke: one paragraph, exit 1, no traceback."""

from __future__ import annotations

import pytest

from pipeline.conftest import invoke
from pipeline.errors import START_DOCKER_FIX

pytestmark = pytest.mark.tools


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["build-image", "--cache", "s3"], {}, "Unknown cache backend 's3'"),
        (["build-image"], {"DOCKER_HOST": "unix:///nonexistent/docker.sock"}, "No Docker daemon is reachable"),
        (["build-image", "--ca-bundle", "/nonexistent.pem"], {}, "The CA bundle /nonexistent.pem does not exist"),
    ],
)
def test_user_errors_are_one_paragraph(args: list[str], env: dict[str, str], message: str) -> None:
    result = invoke(*args, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert "Fix:" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize(
    "args", [["build-image"], ["check-container"], ["check-container", "--mode", "stack"], ["dev-stack"]]
)
def test_no_docker_daemon_says_how_a_user_starts_one(args: list[str]) -> None:
    result = invoke(*args, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert result.returncode == 1
    assert result.stderr.strip() == f"✘ No Docker daemon is reachable. Fix: {START_DOCKER_FIX}."
    for advice in ("sudo systemctl start docker", "Docker Desktop", "DOCKER_HOST"):
        assert advice in result.stderr
    assert "shared/" not in result.stdout + result.stderr


def test_tasks_are_listed() -> None:
    listing = invoke("--list").stdout
    for name in ("build-image", "check-container"):
        assert name in listing


def test_an_unknown_check_mode_is_one_paragraph() -> None:
    result = invoke("check-container", "--mode", "sometimes")
    assert result.returncode == 1
    assert "Unknown mode 'sometimes'" in result.stderr
    assert "Traceback" not in result.stderr
