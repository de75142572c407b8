"""Real nox runs on a copy of the project: the sessions enforce what they promise."""

from __future__ import annotations

import re
import socket
import sys
from pathlib import Path

import pytest

from pipeline import coverage_data, processes
from pipeline.conftest import RunNox, copy_env

# A developer's run: no CI, no GitHub run, so the sessions of one nox command are one run.
LOCAL = {"CI": None, "GITHUB_RUN_ID": None, "GITHUB_ACTIONS": None}


def combined_total(root: Path, files: list[Path], scratch: Path) -> float:
    """The figure of some data files, read without touching them (as `nox -s coverage` would combine them)."""
    data = ["--data-file", str(scratch / ".coverage")]
    combine = [sys.executable, "-m", "coverage", "combine", "--keep", "--quiet", *data, *map(str, files)]
    processes.run(combine, cwd=root, env=copy_env(root)).check_returncode()
    report = [sys.executable, "-m", "coverage", "report", *data, "--format=total", "--fail-under=0"]
    total = processes.run(report, cwd=root, env=copy_env(root))
    total.check_returncode()
    return float(total.stdout.strip())


@pytest.mark.cost(35)
def test_a_coverage_drop_fails_after_an_earlier_green_run(project_copy: Path, run_nox: RunNox, tmp_path: Path) -> None:
    """Only this run's data counts. After a green run of the tests (whose data stays behind), deleting
    the backend's tests fails `nox -s tests-3.12 coverage` below the threshold, as on a fresh clone (CI)."""
    green = run_nox("-s", "tests-3.12", env=LOCAL)
    assert green.returncode == 0, green.stdout[-2000:] + green.stderr[-2000:]
    assert re.search(r"API fuzzing seed: \d+ \(replay with SCHEMATHESIS_SEED=\d+\)", green.stdout)  # the session's
    earlier = [found.path for found in coverage_data.data_files(project_copy, "backend")]
    assert earlier
    assert combined_total(project_copy, earlier, tmp_path) >= coverage_data.backend_fail_under(project_copy)
    kept = project_copy / "backend" / "tests" / "test_layers.py"
    for test in (project_copy / "backend").rglob("test_*.py"):
        if test != kept:
            test.unlink()
    dropped = run_nox("-s", "tests-3.12", "coverage", env=LOCAL)
    output = dropped.stdout + dropped.stderr
    assert dropped.returncode != 0, output[-3000:]
    assert "less than fail-under=90" in output
    assert "backend coverage is under its threshold: the files above have lines no test runs" in output
    assert not any(path.exists() for path in earlier)  # erased before the tests session measured again


def test_a_missing_interpreter_is_an_error_naming_the_fix(project_copy: Path, run_nox: RunNox) -> None:
    """Outside CI nox skips a session whose Python is missing; the noxfile's option makes it an error.
    Without CI (under which nox errors anyway) and without downloads, that option alone decides."""
    pyproject = project_copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('max-python = "3.13"', 'max-python = "3.14"'))
    without_downloads = {**LOCAL, "UV_PYTHON_DOWNLOADS": "never"}
    result = run_nox("-s", "tests-3.14", env=without_downloads)
    assert result.returncode != 0
    assert "Python interpreter 3.14 not found" in result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("✘ Python 3.14 was not found on this machine")
    assert "UV_PYTHON_DOWNLOADS=never forbids uv to download it" in last
    assert "install 3.14`" in last  # pyenv install 3.14, or uv python install 3.14 where pyenv is absent
    assert "PYENV_VERSION" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    # The control: without the option the same run skips the session and passes.
    noxfile = project_copy / "noxfile.py"
    option = "nox.options.error_on_missing_interpreters = True\n"
    assert option in noxfile.read_text()
    noxfile.write_text(noxfile.read_text().replace(option, ""))
    skipped = run_nox("-s", "tests-3.14", env=without_downloads)
    assert skipped.returncode == 0, skipped.stderr[-2000:]
    assert "Session tests-3.14 skipped" in skipped.stderr


def test_nox_lists_one_tests_session_per_supported_python(run_nox: RunNox) -> None:
    listing = run_nox("-l")
    for version in ("3.11", "3.12", "3.13"):
        assert f"tests-{version}" in listing.stdout


def test_a_database_that_is_not_there_is_one_paragraph_before_any_test(run_nox: RunNox) -> None:
    """`nox -s tests-3.12` with DATABASE_URL at a closed port: one paragraph naming the variable (its password
    hidden) and the fix, before pytest starts, instead of a connection error per test."""
    with socket.socket() as probe:  # bound, never listening: nothing answers there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        url = f"postgres://backend:hunter2@127.0.0.1:{port}/backend"
        result = run_nox("-s", "tests-3.12", env={**LOCAL, "DATABASE_URL": url})
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-3000:]
    assert f"DATABASE_URL=postgres://backend:***@127.0.0.1:{port}/backend: nothing answers" in output, output[-3000:]
    assert "unset DATABASE_URL to test on SQLite" in output
    assert "hunter2" not in output
    assert "nox > coverage run -m pytest" not in output  # stopped before the tests
    assert "nox > python backend/manage.py makemigrations" not in output
    assert "Traceback" not in output
