"""Point pytest-django at the testing settings module named in pyproject.toml.

nox already sets DJANGO_SETTINGS_MODULE from the same table; this makes a bare
`pytest` (in an IDE, say) use the same module instead of a second spelling.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from django.conf import settings

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def testing_settings_module() -> str:
    with PYPROJECT.open("rb") as handle:
        return str(tomllib.load(handle)["tool"]["pipeline"]["settings"]["testing"])


def pytest_configure() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", testing_settings_module())
    # pytest-django finishes setting Django up only once the settings are loaded.
    settings.INSTALLED_APPS  # noqa: B018 (the access itself is the point)
