"""The world a job sees: the runner image's Pythons and setup-python's, nothing of the host's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline import processes
from pipeline.actions import files, runner_images, setup_python


def test_setup_python_versions_single_and_multi_line() -> None:
    assert setup_python.split_versions("3.13") == ["3.13"]
    assert setup_python.split_versions("3.11\n3.12\n3.13\n") == ["3.11", "3.12", "3.13"]
    assert setup_python.split_versions(["3.12", 3.13]) == ["3.12", "3.13"]
    assert setup_python.split_versions("") == []
    assert setup_python.split_versions(3.1) == ["3.1"]  # YAML's 3.10 unquoted: GitHub reads 3.1 as well


@pytest.mark.parametrize(
    ("spec", "version"),
    [
        ("3.x", "3.13"),
        ("3", "3.13"),
        ("~3.12", "3.12"),
        ("^3.11", "3.13"),
        (">=3.9 <3.13", "3.12"),
        (">3.11 <=3.12", "3.12"),
        ("3.11 || 3.12", "3.12"),
        ("3.9 - 3.11", "3.11"),
        (">=3.10,<3.12", "3.11"),
        ("3.12.x", "3.12"),
        ("3.13.0-rc.2", "3.13"),
        ("3.14-dev", "3.14"),
    ],
)
def test_setup_python_ranges_take_the_newest_matching_python_here(spec: str, version: str) -> None:
    here = {"3.11", "3.12", "3.13"}
    assert setup_python.resolve(spec, here.__contains__).version == version


def test_runs_on_labels_are_imitated_or_github_only_with_the_reason() -> None:
    assert runner_images.runner_for("ubuntu-latest") == runner_images.UBUNTU_24_04
    assert runner_images.runner_for(["ubuntu-22.04"]) == runner_images.UBUNTU_22_04
    assert runner_images.runner_for("macos-14") == "runs-on macos-14 is macOS; invoke ci imitates Linux runners"
    assert "arm runner" in str(runner_images.runner_for("ubuntu-22.04-arm"))
    assert "labels or group" in str(runner_images.runner_for({"group": "large", "labels": ["x"]}))
    assert "does not imitate" in str(runner_images.runner_for("ubuntu-20.04"))


def test_command_files_are_read_as_the_runner_reads_them(tmp_path: Path) -> None:
    command_files = files.CommandFiles(tmp_path, 0)
    command_files.paths["GITHUB_OUTPUT"].write_text('checks=[{"a":1}]\nnotes<<EOF\nline one\nline two\nEOF\nempty=\n')
    command_files.paths["GITHUB_PATH"].write_text("/opt/one\n\n/opt/two\n")
    assert command_files.outputs() == {"checks": '[{"a":1}]', "notes": "line one\nline two", "empty": ""}
    assert command_files.path_entries() == ["/opt/one", "/opt/two"]


def host_has(*versions: str) -> bool:
    return all(runner_images.host_python(version, os.environ) for version in versions)


@pytest.mark.tools
@pytest.mark.skipif(not host_has("3.12", "3.13"), reason="needs Python 3.12 and 3.13 on this machine")
def test_a_job_sees_only_the_image_python_and_what_setup_python_installs(tmp_path: Path) -> None:
    world = runner_images.build_world(runner_images.UBUNTU_24_04, ["3.13"], tmp_path / "worlds", os.environ)
    assert world.missing == ()
    env = world.environ(os.environ, runner_images.system_path(os.environ, tmp_path / "mirrors"), tmp_path / "empty")
    path = env["PATH"]
    assert shutil.which("python3.13", path=path)
    assert shutil.which("python3.12", path=path)
    assert shutil.which("python3.11", path=path) is None  # the host has it; a fresh runner does not
    asked = processes.run(["python3", "--version"], env=env)
    asked.check_returncode()
    version = asked.stdout
    assert version.startswith("Python 3.13")  # setup-python's last version is the default
    assert shutil.which("git", path=path)  # the rest of the system stays
    assert env["PYENV_ROOT"] == str(tmp_path / "empty")
