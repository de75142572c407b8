"""The project's layers: `config` depends on the apps, never the reverse; `catalog` may use `access`, nothing else."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BACKEND_DIR = Path(__file__).resolve().parents[1]
# app -> the first-party packages it must never import (its tests included).
FORBIDDEN = {
    "ops": {"config", "access", "catalog"},
    "access": {"config", "ops", "catalog"},
    "catalog": {"config", "ops"},
}


def imported_packages(path: Path) -> set[str]:
    """Top-level package of every import in a Python file."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def violations(app_dir: Path, forbidden: set[str]) -> list[str]:
    return sorted(
        f"{path.relative_to(app_dir.parent)} imports {package}"
        for path in app_dir.rglob("*.py")
        for package in imported_packages(path) & forbidden
    )


@pytest.mark.parametrize(("app", "forbidden"), sorted(FORBIDDEN.items()))
def test_app_imports_neither_the_project_nor_the_other_app(app: str, forbidden: set[str]) -> None:
    assert violations(BACKEND_DIR / app, forbidden) == []


def test_a_forbidden_import_is_found(tmp_path: Path) -> None:
    app = tmp_path / "catalog"
    (app / "sub").mkdir(parents=True)
    (app / "sub" / "views.py").write_text("from ops.views import readyz\nimport config.settings\nfrom . import x\n")
    assert violations(app, {"config", "ops"}) == [
        "catalog/sub/views.py imports config",
        "catalog/sub/views.py imports ops",
    ]
