"""Pythons found where people keep them (PATH, pyenv, uv); missing ones named with this machine's command."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from pipeline import interpreters, processes
from pipeline.console import plain_env
from pipeline.facts import ROOT


def fake_python(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_path_comes_first_and_shims_and_virtualenvs_are_skipped(tmp_path: Path) -> None:
    shims = fake_python(tmp_path / "pyenv" / "shims" / "python3.12").parent
    venv = fake_python(tmp_path / "venv" / "bin" / "python3.12").parent
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    real = fake_python(tmp_path / "usr" / "bin" / "python3.12")
    env = {
        "PATH": os.pathsep.join(map(str, [shims, venv, real.parent])),
        "PYENV_ROOT": str(tmp_path / "no-pyenv"),
        "UV_PYTHON_INSTALL_DIR": str(tmp_path / "no-uv"),
    }
    assert interpreters.find("3.12", env) == interpreters.Found("3.12", real, "PATH")
    assert interpreters.find("3.13", env) is None


def test_pyenv_versions_are_found_without_being_active(tmp_path: Path) -> None:
    root = tmp_path / "pyenv"
    fake_python(root / "versions" / "3.12.1" / "bin" / "python3.12")
    newest = fake_python(root / "versions" / "3.12.10" / "bin" / "python3.12")
    fake_python(root / "versions" / "myenv" / "bin" / "python3.12")  # a pyenv-virtualenv, not a version
    env = {"PATH": "", "PYENV_ROOT": str(root), "UV_PYTHON_INSTALL_DIR": str(tmp_path / "no-uv")}
    assert interpreters.find("3.12", env) == interpreters.Found("3.12", newest, "pyenv")
    assert interpreters.pyenv_versions(env) == ["3.12.1", "3.12.10"]


def test_uv_managed_pythons_are_found_in_its_install_dir(tmp_path: Path) -> None:
    uv_dir = tmp_path / "uv-python"
    managed = fake_python(uv_dir / "cpython-3.13.2-linux-x86_64-gnu" / "bin" / "python3.13")
    env = {"PATH": "", "PYENV_ROOT": str(tmp_path / "no-pyenv"), "UV_PYTHON_INSTALL_DIR": str(uv_dir)}
    assert interpreters.find("3.13", env) == interpreters.Found("3.13", managed, "uv")


def test_empty_pyenv_root_and_uv_dir_are_honoured_exactly(tmp_path: Path) -> None:
    """What invoke ci does to imitate a GitHub runner: nothing else is searched."""
    (tmp_path / "empty-pyenv").mkdir()
    (tmp_path / "empty-uv").mkdir()
    env = {"PATH": "", "PYENV_ROOT": str(tmp_path / "empty-pyenv"), "UV_PYTHON_INSTALL_DIR": str(tmp_path / "empty-uv")}
    assert all(interpreters.find(version, env) is None for version in ("3.11", "3.12", "3.13"))


def test_the_command_is_computed_for_this_machine(tmp_path: Path) -> None:
    without = {"PATH": "", "PYENV_ROOT": str(tmp_path / "none")}
    assert interpreters.install_command(["3.13"], without) == "uv python install 3.13"
    fake_python(tmp_path / "pyenv" / "bin" / "pyenv")
    with_pyenv = {"PATH": "", "PYENV_ROOT": str(tmp_path / "pyenv")}
    assert interpreters.install_command(["3.12", "3.13"], with_pyenv) == "pyenv install 3.12 3.13"


def test_downloads_are_allowed_outside_ci_only() -> None:
    assert interpreters.downloads_allowed({})
    assert not interpreters.downloads_allowed({"CI": "true"})
    assert not interpreters.downloads_allowed({"UV_PYTHON_DOWNLOADS": "never"})
    assert not interpreters.downloads_allowed({"UV_PYTHON_DOWNLOADS": "manual"})


def test_expose_links_the_found_ones_first_on_path(tmp_path: Path) -> None:
    real = fake_python(tmp_path / "pyenv" / "versions" / "3.12.1" / "bin" / "python3.12")
    env = {"PATH": "/usr/bin", "PYENV_ROOT": str(tmp_path / "pyenv"), "UV_PYTHON_INSTALL_DIR": str(tmp_path / "uv")}
    found, missing = interpreters.expose(["3.12", "3.99"], tmp_path / "project", env)
    assert [hit.executable for hit in found] == [real]
    assert missing == ["3.99"]
    first = Path(env["PATH"].split(os.pathsep)[0])
    assert (first / "python3.12").resolve() == real
    assert env["PATH"].endswith(os.pathsep + "/usr/bin")
    again = dict(env)
    interpreters.expose(["3.12"], tmp_path / "project", again)
    assert again["PATH"].split(os.pathsep).count(str(first)) == 1  # not prepended twice


# --- real runs: a fresh pyenv laptop, and a version that is truly absent -----------------------

REAL_PYENV_ROOT = interpreters.pyenv_root(os.environ)
SYSTEM_PATH = os.pathsep.join(["/usr/local/bin", "/usr/bin", "/bin"])


@pytest.fixture
def pyenv_root(tmp_path: Path) -> Path:
    """This machine's pyenv, or, where there is none (a hosted runner, or `invoke ci`'s imitation of
    one), a pyenv-shaped folder whose versions/X.Y.Z/bin hold the interpreters this machine has."""
    if interpreters.pyenv_versions({"PYENV_ROOT": str(REAL_PYENV_ROOT)}):
        return REAL_PYENV_ROOT
    root = tmp_path / "pyenv"
    (root / "shims").mkdir(parents=True)
    for version in ("3.11", "3.12", "3.13"):
        found = interpreters.find(version, os.environ)
        if found is None:
            continue
        asked = processes.run([str(found.executable), "-c", "import platform; print(platform.python_version())"])
        asked.check_returncode()
        patch = asked.stdout.strip()
        (root / "versions" / patch / "bin").mkdir(parents=True)
        (root / "versions" / patch / "bin" / f"python{version}").symlink_to(found.executable)
    return root


def laptop_env(pyenv: Path, tmp_path: Path, **extra: str) -> dict[str, str]:
    """A pyenv laptop: the shims and the system's folders on PATH, no PYENV_VERSION, no uv-managed Pythons."""
    env = {
        key: value
        for key, value in plain_env().items()
        if key not in {"PYENV_VERSION", "CI", "UV_PYTHON_DOWNLOADS", "VIRTUAL_ENV", "GITHUB_STEP_SUMMARY"}
    }
    env["PATH"] = os.pathsep.join([str(pyenv / "shims"), str(pyenv / "bin"), SYSTEM_PATH])
    env["PYENV_ROOT"] = str(pyenv)
    env["UV_PYTHON_INSTALL_DIR"] = str(tmp_path / "uv-pythons")
    env.update(extra)
    return env


def bootstrap(project: Path, env: dict[str, str], *args: str) -> processes.Completed:
    # The copy shares this checkout's .tools/ (same requirements/tooling.txt): the test is about interpreters.
    tools = project / ".tools"
    if not tools.exists():
        tools.symlink_to(ROOT / ".tools")
    return processes.run(["python3", "bootstrap.py", *args], cwd=project, env=env, timeout=900)


def needs_pythons(pyenv: Path, *versions: str) -> None:
    installed = interpreters.pyenv_versions({"PYENV_ROOT": str(pyenv)})
    absent = [v for v in versions if not any(name.startswith(v + ".") for name in installed)]
    if absent or not (ROOT / ".tools" / "bin" / "nox").exists():
        reason = f"needs Python {', '.join(versions)} and bootstrap's .tools/ (absent: {', '.join(absent)})"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the interpreter tests, but it {reason}")
        pytest.skip(reason)


@pytest.mark.cost(13)
def test_a_fresh_pyenv_laptop_runs_the_tests_on_inactive_versions(
    project_copy: Path, tmp_path: Path, pyenv_root: Path
) -> None:
    needs_pythons(pyenv_root, "3.12", "3.13")
    env = laptop_env(pyenv_root, tmp_path)
    assert shutil.which("python3.13", path=env["PATH"]) in {None, str(pyenv_root / "shims" / "python3.13")}
    if shutil.which("python3.13", path=env["PATH"]):  # pyenv's shim: 3.13 is installed, but not active
        shim = processes.run(["python3.13", "--version"], env=env)
        assert shim.returncode != 0
    listing = bootstrap(project_copy, env, "nox", "-l")
    assert listing.returncode == 0, listing.stderr
    assert "not on this machine" not in listing.stderr
    result = bootstrap(
        project_copy, env, "nox", "-s", "tests-3.12", "tests-3.13", "--", "-q", "backend/catalog/tests/test_api.py"
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    for version in ("3.12", "3.13"):
        assert f"Session tests-{version} was successful" in output
        venv = project_copy / ".nox" / f"tests-{version.replace('.', '-')}"
        config = (venv / "pyvenv.cfg").read_text()
        assert re.search(rf"^version_info = {re.escape(version)}\.", config, re.MULTILINE), config
        # Built from the system's Python of that version if it has one, else from pyenv's (inactive) one.
        system = shutil.which(f"python{version}", path=SYSTEM_PATH)
        expected = Path(system) if system else interpreters.in_pyenv(version, {"PYENV_ROOT": str(pyenv_root)})
        assert expected is not None
        assert (venv / "bin" / "python").resolve() == expected.resolve()
    assert "PYENV_VERSION" not in output
    assert "Traceback" not in output


def absent_python(project: Path) -> str:
    """A max-python one above what any machine here has, so its sessions exist and cannot find it."""
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('max-python = "3.13"', 'max-python = "3.14"'))
    return "3.14"


def test_on_ci_a_truly_absent_version_fails_naming_the_command_last(
    project_copy: Path, tmp_path: Path, pyenv_root: Path
) -> None:
    needs_pythons(pyenv_root, "3.11")
    version = absent_python(project_copy)
    env = laptop_env(pyenv_root, tmp_path, CI="true")
    result = bootstrap(project_copy, env, "nox", "-s", f"tests-{version}")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"✘ Python {version} was not found on this machine"), output[-2000:]
    assert "on CI nothing is downloaded" in last
    assert f"Fix: `{interpreters.install_command([version], env)}`" in last  # pyenv install where pyenv is
    assert "PYENV_VERSION" not in output
    assert "Traceback" not in output


def test_outside_ci_uv_is_asked_and_a_failed_download_is_named_last(
    project_copy: Path, tmp_path: Path, pyenv_root: Path
) -> None:
    needs_pythons(pyenv_root, "3.11")
    version = absent_python(project_copy)
    # uv's downloads go to a closed local port: the download fails without leaving this machine.
    env = laptop_env(pyenv_root, tmp_path, UV_PYTHON_INSTALL_MIRROR="http://127.0.0.1:9/", UV_HTTP_RETRIES="0")
    result = bootstrap(project_copy, env, "nox", "-s", f"tests-{version}")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"nox: Python {version} is not on this machine; uv will download it" in result.stderr
    assert f"Failed to install cpython-{version}" in output  # uv tried, and said why it could not
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(f"✘ Python {version} was not found on this machine"), output[-2000:]
    assert "uv could not download it" in last
    assert "Traceback" not in output
