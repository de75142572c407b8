"""Real nox runs on a copy of the project: the sessions enforce what they promise."""

from __future__ import annotations

from pathlib import Path

from pipeline.tests.conftest import RunNox

UNTESTED_MODULE = "\n".join(f"def never_called_{n}(x: int) -> int:\n    return x + {n}\n" for n in range(200))


def test_coverage_threshold_fails_the_pipeline(project_copy: Path, run_nox: RunNox) -> None:
    (project_copy / "backend" / "catalog" / "untested.py").write_text(UNTESTED_MODULE)
    tests = run_nox("-s", "tests-3.12", "--", "-q", "-x", "backend/catalog/tests/test_api.py")
    assert tests.returncode == 0, tests.stderr[-2000:]
    result = run_nox("-s", "coverage")
    assert result.returncode != 0
    assert "less than fail-under=90" in result.stdout + result.stderr


def test_a_missing_interpreter_is_an_error_naming_the_fix(project_copy: Path, run_nox: RunNox) -> None:
    pyproject = project_copy / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('max-python = "3.13"', 'max-python = "3.14"'))
    result = run_nox("-s", "tests-3.14", env={"CI": "true"})
    assert result.returncode != 0
    assert "Python interpreter 3.14 not found" in result.stdout + result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("✘ Python 3.14 was not found on this machine")
    assert "install 3.14`" in last  # pyenv install 3.14, or uv python install 3.14 where pyenv is absent
    assert "PYENV_VERSION" not in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_nox_lists_one_tests_session_per_supported_python(run_nox: RunNox) -> None:
    listing = run_nox("-l")
    for version in ("3.11", "3.12", "3.13"):
        assert f"tests-{version}" in listing.stdout
