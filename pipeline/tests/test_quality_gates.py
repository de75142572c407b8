"""Each quality gate fails on its kind of defect, injected into a copy of the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.conftest import RunNox
from pipeline.facts import load

NEWEST = load().newest_python


def append(path: Path, text: str) -> None:
    path.write_text(path.read_text() + text)


@pytest.mark.parametrize(
    ("session", "inject", "expected"),
    [
        pytest.param(
            "lint",
            lambda root: append(root / "backend/catalog/views.py", "\nimport os\n"),
            "lint: ruff found the problems above; `nox -s fix` applies its safe fixes",
            id="lint-error",
        ),
        pytest.param(
            "format",
            lambda root: append(root / "backend/catalog/views.py", "\nBADLY   =   [1,2,\n 3]\n"),
            "format: these files are not formatted; `nox -s fix` formats every file",
            id="format-error",
        ),
        pytest.param(
            f"mypy-{NEWEST}",
            lambda root: append(root / "backend/catalog/views.py", '\n\ndef answer() -> int:\n    return "42"\n'),
            "Incompatible return value type",
            id="type-error",
            marks=pytest.mark.cost(16),
        ),
        pytest.param(
            "bandit",
            lambda root: (root / "backend/catalog/shell.py").write_text(
                "import subprocess\n\n\ndef run(command: str) -> int:\n"
                "    return subprocess.call(command, shell=True)\n"
            ),
            "B602",
            id="shell-true",
            marks=pytest.mark.cost(8),
        ),
        pytest.param(
            "build",
            lambda root: append(root / "backend/config/urls.py", "\nimport debug_toolbar  # noqa: F401\n"),
            "No module named 'debug_toolbar'",
            id="dev-import-in-production",
            marks=pytest.mark.cost(12),
        ),
    ],
)
def test_gate_fails_on_its_defect(project_copy: Path, run_nox: RunNox, session: str, inject, expected: str) -> None:  # type: ignore[no-untyped-def]
    clean = run_nox("-s", session)
    assert clean.returncode == 0, f"{session} must pass before the defect: {clean.stdout[-1500:]}{clean.stderr[-1500:]}"
    inject(project_copy)
    broken = run_nox("-s", session)
    assert broken.returncode != 0, f"{session} passed despite the defect"
    assert expected in broken.stdout + broken.stderr


def test_fix_formats_even_when_a_lint_error_remains_then_names_it(project_copy: Path, run_nox: RunNox) -> None:
    views = project_copy / "backend/catalog/views.py"
    append(views, "\nBADLY   =   [1,2,\n 3]\nimport os\nl = 1\n")  # a format fault, a safe fix (F401), none (E741)
    result = run_nox("-s", "fix")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-2000:]
    text = views.read_text()
    assert "BADLY = [1, 2, 3]" in text  # formatted although a problem remains
    assert "import os" not in text  # the safe fix applied
    assert "left for you to edit:" in output
    assert "backend/catalog/views.py:" in output
    assert "E741" in output
    assert "F401" not in output.split("left for you to edit:")[1]
    views.write_text(text.replace("l = 1", "level = 1"))
    clean = run_nox("-s", "fix")
    assert clean.returncode == 0, clean.stdout[-2000:] + clean.stderr[-2000:]
    assert "fix: safe fixes applied, every file formatted, nothing left" in clean.stdout + clean.stderr
