from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from pipeline import facts
from pipeline.errors import UserError


def pyproject() -> dict[str, Any]:
    with facts.PYPROJECT.open("rb") as handle:
        return tomllib.load(handle)


def test_python_versions_come_from_requires_python() -> None:
    loaded = facts.load()
    assert loaded.python_versions == ("3.11", "3.12", "3.13")
    assert loaded.newest_python == "3.13"


def test_a_raised_lower_bound_drops_a_version() -> None:
    data = pyproject()
    data["project"]["requires-python"] = ">=3.12"
    assert facts.parse(data, facts.ROOT).python_versions == ("3.12", "3.13")


def test_settings_modules_name_real_files() -> None:
    loaded = facts.load()
    for module in loaded.settings.as_dict().values():
        assert (loaded.backend_dir / (module.replace(".", "/") + ".py")).is_file(), module


def test_paths_named_in_the_table_exist() -> None:
    loaded = facts.load()
    assert loaded.backend_dir.is_dir()
    assert loaded.image.base == f"python:{loaded.image.python}-slim-bookworm"


def test_service_images_can_be_overridden_by_environment() -> None:
    loaded = facts.parse(pyproject(), facts.ROOT, environ={"POSTGRES_IMAGE": "postgres:15-bookworm"})
    assert loaded.services.postgres == "postgres:15-bookworm"
    assert loaded.services.redis == pyproject()["tool"]["pipeline"]["services"]["redis-image"]


def test_a_missing_table_is_a_user_error() -> None:
    data = pyproject()
    del data["tool"]["pipeline"]["settings"]
    with pytest.raises(UserError, match=r"no \[tool.pipeline.settings\] table"):
        facts.parse(data, facts.ROOT)


def test_an_image_python_outside_the_supported_range_is_refused() -> None:
    data = pyproject()
    data["tool"]["pipeline"]["image"]["python"] = "3.9"
    with pytest.raises(UserError, match="not a supported Python"):
        facts.parse(data, facts.ROOT)


def test_requires_python_without_lower_bound_is_refused() -> None:
    data = pyproject()
    data["project"]["requires-python"] = "<4"
    with pytest.raises(UserError, match="cannot give the supported Pythons"):
        facts.parse(data, Path())
