"""Settings modules: production never imports dev-only packages; development may."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BACKEND_DIR = Path(__file__).resolve().parents[1]

# Runs manage.py with every dev-only package made unimportable, whether or not
# the venv has it: proves the code never imports them, not just that they are absent.
BLOCK_DEV_PACKAGES = textwrap.dedent(
    """
    import sys
    BLOCKED = ("debug_toolbar", "dotenv")

    class BlockDevPackages:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r} (dev-only, blocked by the test)")
            return None

    sys.meta_path.insert(0, BlockDevPackages())
    from django.core.management import execute_from_command_line
    execute_from_command_line(["manage.py", *sys.argv[1:]])
    """
)


def run_production(tmp_path: Path, *args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    production_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "throwaway-" + "k3y-" * 15,
        "DJANGO_ALLOWED_HOSTS": "localhost",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
        "PYTHONPATH": str(BACKEND_DIR),
        **(extra or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", BLOCK_DEV_PACKAGES, *args],
        cwd=BACKEND_DIR,
        env=production_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def production_settings_module() -> str:
    import tomllib

    from conftest import PYPROJECT  # the single source, as nox reads it

    with PYPROJECT.open("rb") as handle:
        return str(tomllib.load(handle)["tool"]["pipeline"]["settings"]["production"])


def test_production_collectstatic_never_imports_dev_packages(tmp_path: Path) -> None:
    result = run_production(tmp_path, "collectstatic", "--noinput")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "static" / "staticfiles.json").exists()  # the hashed manifest


def test_production_url_conf_and_deploy_check_without_dev_packages(tmp_path: Path) -> None:
    result = run_production(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr
    assert "debug" not in result.stdout.lower()


PRINT_CACHE_AND_LOGGING = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'cache': settings.CACHES['default'], 'logging': settings.LOGGING}))"
)


@pytest.mark.parametrize(("level", "expected"), [("warning", "WARNING"), ("loud", "INFO")])
def test_production_takes_cache_and_logging_from_base(tmp_path: Path, level: str, expected: str) -> None:
    """One CACHES and one LOGGING, in base; production adjusts only the log level, to its validated value."""
    from config.settings import base

    extra = {"REDIS_URL": "redis://cache.internal:6379/1", "DJANGO_LOG_LEVEL": level}
    result = run_production(tmp_path, "shell", "-c", PRINT_CACHE_AND_LOGGING, extra=extra)
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["cache"] == {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://cache.internal:6379/1",
    }
    assert printed["logging"]["root"]["level"] == expected
    assert {**printed["logging"], "root": None} == {**json.loads(json.dumps(base.LOGGING)), "root": None}


def test_the_blocker_really_blocks(tmp_path: Path) -> None:
    result = run_production(tmp_path, "shell", "-c", "import debug_toolbar")
    assert result.returncode != 0
    assert "dev-only, blocked by the test" in result.stderr


def test_development_settings_enable_the_toolbar_only_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_DEBUG_TOOLBAR", "true")
    development = importlib.import_module("config.settings.development")
    importable = importlib.util.find_spec("debug_toolbar") is not None
    assert development.DEBUG_TOOLBAR_ENABLED is importable
    assert ("debug_toolbar" in development.INSTALLED_APPS) is importable
    monkeypatch.setenv("DJANGO_DEBUG_TOOLBAR", "false")
    assert importlib.reload(development).DEBUG_TOOLBAR_ENABLED is False


def test_settings_module_names_match_the_files(production_settings_module: str) -> None:
    assert importlib.util.find_spec(production_settings_module) is not None


def test_wsgi_and_asgi_entry_points_build_an_application() -> None:
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    assert isinstance(importlib.import_module("config.wsgi").application, WSGIHandler)
    assert isinstance(importlib.import_module("config.asgi").application, ASGIHandler)
