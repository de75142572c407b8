"""Fixtures: a throw-away copy of this project, and running real nox in it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline import facts, images
from pipeline.console import plain_env
from pipeline.facts import ROOT

RunNox = Callable[..., subprocess.CompletedProcess[str]]


def tracked_files(root: Path) -> list[str]:
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in listing.stdout.splitlines() if (root / line).is_file()]


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """This checkout's files (tracked and new, not ignored) in a temporary folder."""
    target = tmp_path / "project"
    for relative in tracked_files(ROOT):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, destination)
    return target


@pytest.fixture
def run_nox(project_copy: Path) -> RunNox:
    """Run the real nox of this environment on the copy; returns the finished process."""

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        environment = {**plain_env(), **(env or {})}
        environment.pop("GITHUB_STEP_SUMMARY", None)
        return subprocess.run(
            [sys.executable, "-m", "nox", *args],
            cwd=project_copy,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def docker_engine_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False).returncode == 0
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Skip where no Docker engine exists; on CI a missing engine is a failure, never a skip."""
    if docker_engine_available():
        return
    reason = "no Docker engine is reachable (on these machines: ../shared/container-engine/setup)"
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the container tests, but {reason}")
    pytest.skip(reason)


HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


@dataclass
class BuiltProject:
    """A copy of the project, its own local cache folder, and its uniquely named image."""

    root: Path
    cache_root: Path
    name: str
    cold: images.BuildResult

    def build(self) -> images.BuildResult:
        return build_copy(self.root, self.cache_root, self.name)


def build_copy(root: Path, cache_root: Path, name: str) -> images.BuildResult:
    return images.build(
        facts.load(root),
        cache="local",
        image_name=name,
        context=root,
        cache_root=cache_root,
        ca_bundle=str(HOST_CA) if HOST_CA.exists() else None,
        say=lambda _: None,
        env={key: value for key, value in os.environ.items() if not key.startswith(("GITHUB_", "ACTIONS_"))},
    )


@pytest.fixture(scope="session")
def built_project(docker_engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltProject]:
    """One cold build per test run; its images are removed at the end, nothing else."""
    root = tmp_path_factory.mktemp("image") / "project"
    for relative in tracked_files(ROOT):
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / relative, root / relative)
    cache_root = root.parent / "cache"
    name = f"pipeline-test-{uuid.uuid4().hex[:8]}"
    cold = build_copy(root, cache_root, name)
    yield BuiltProject(root, cache_root, name, cold)
    images.remove_local_images(name)
