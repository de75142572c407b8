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
from conftest import settings_module

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
        "DJANGO_SETTINGS_MODULE": settings_module("production"),
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
    from django.conf import settings

    base = importlib.import_module(f"{settings.SETTINGS_MODULE.rpartition('.')[0]}.base")

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
    development = importlib.import_module(settings_module("development"))
    importable = importlib.util.find_spec("debug_toolbar") is not None
    assert development.DEBUG_TOOLBAR_ENABLED is importable
    assert ("debug_toolbar" in development.INSTALLED_APPS) is importable
    monkeypatch.setenv("DJANGO_DEBUG_TOOLBAR", "false")
    assert importlib.reload(development).DEBUG_TOOLBAR_ENABLED is False


@pytest.mark.parametrize("role", ["development", "testing", "production"])
def test_settings_module_names_match_the_files(role: str) -> None:
    assert importlib.util.find_spec(settings_module(role)) is not None


def test_the_tests_run_with_the_testing_module_nox_passes() -> None:
    from django.conf import settings

    assert settings.SETTINGS_MODULE == os.environ["DJANGO_SETTINGS_MODULE"] == settings_module("testing")


def test_wsgi_and_asgi_entry_points_build_an_application() -> None:
    from django.conf import settings
    from django.core.handlers.asgi import ASGIHandler
    from django.core.handlers.wsgi import WSGIHandler

    project = settings.SETTINGS_MODULE.partition(".")[0]
    assert isinstance(importlib.import_module(f"{project}.wsgi").application, WSGIHandler)
    assert isinstance(importlib.import_module(f"{project}.asgi").application, ASGIHandler)


def without_settings_module() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name != "DJANGO_SETTINGS_MODULE"}


def test_manage_py_without_a_settings_module_says_how_to_set_it() -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=BACKEND_DIR,
        env=without_settings_module(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "DJANGO_SETTINGS_MODULE is not set" in result.stderr
    assert "[tool.pipeline.settings]" in result.stderr


def test_pytest_without_a_settings_module_says_how_to_set_it() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(BACKEND_DIR / "tests" / "test_layers.py")],
        cwd=BACKEND_DIR.parent,
        env=without_settings_module(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert "DJANGO_SETTINGS_MODULE is not set. Fix: run the tests through nox" in result.stderr
