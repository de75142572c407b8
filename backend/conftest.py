"""The backend's tests run with the settings module nox passes in the environment.

`nox -s tests-3.X` sets DJANGO_SETTINGS_MODULE (the `testing` module) and
PIPELINE_SETTINGS_<ROLE> (every module of [tool.pipeline.settings] in
pyproject.toml) through `pipeline.sessions.django_env`; the tests read those
and never spell or look up a module name themselves.
"""

from __future__ import annotations

import os

import pytest
from django.conf import settings

FIX = (
    "run the tests through nox (python3 bootstrap.py nox -s tests-3.12 -- ARGS), which sets it from "
    "[tool.pipeline.settings] in pyproject.toml; or export it yourself, from that table"
)


def settings_module(role: str) -> str:
    """The settings module of `role` (development, testing, production), as nox passes it."""
    variable = f"PIPELINE_SETTINGS_{role.upper()}"
    module = os.environ.get(variable, "").strip()
    if not module:
        pytest.fail(f"{variable} is not set. Fix: {FIX}.", pytrace=False)
    return module


def pytest_configure() -> None:
    if not os.environ.get("DJANGO_SETTINGS_MODULE", "").strip():
        raise pytest.UsageError(f"DJANGO_SETTINGS_MODULE is not set. Fix: {FIX}.")
    # pytest-django finishes setting Django up only once the settings are loaded.
    settings.INSTALLED_APPS  # noqa: B018 (the access itself is the point)


def pytest_report_header() -> str:
    from tests.fuzzing import SEED  # noqa: PLC0415 -- after Django is set up

    return f"API fuzzing seed: {SEED} (replay with SCHEMATHESIS_SEED={SEED})"
