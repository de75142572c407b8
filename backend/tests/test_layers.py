"""The project's layers: the project package depends on the apps, never the reverse.

A domain app may use `access`, nothing else; `ops` and `access` use no other app. The names come from the
settings, so a renamed project package or app keeps the check.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

BACKEND_DIR = Path(__file__).resolve().parents[1]
# The project package (it holds the settings the tests run with) and the project's own apps (those with a folder here).
PROJECT = settings.SETTINGS_MODULE.partition(".")[0]
APPS = sorted(app for app in settings.INSTALLED_APPS if (BACKEND_DIR / app).is_dir())
# The apps under the domain apps; a domain app may use `access`.
INFRASTRUCTURE = {"ops", "access"}
# app -> the first-party packages it must never import (its tests included).
FORBIDDEN = {app: {PROJECT, *APPS} - {app} - (set() if app in INFRASTRUCTURE else {"access"}) for app in APPS}


def test_the_layers_know_the_project_and_its_apps() -> None:
    assert (BACKEND_DIR / PROJECT / "urls.py").is_file()
    assert set(APPS) > INFRASTRUCTURE


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
    app = tmp_path / "shop"
    (app / "sub").mkdir(parents=True)
    (app / "sub" / "views.py").write_text("from ops.views import readyz\nimport project.settings\nfrom . import x\n")
    assert violations(app, {"project", "ops"}) == [
        "shop/sub/views.py imports ops",
        "shop/sub/views.py imports project",
    ]
