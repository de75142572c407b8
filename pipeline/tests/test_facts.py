from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pipeline import facts
from pipeline.console import plain_env
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


def test_every_problem_of_the_table_is_listed_with_an_example() -> None:
    data = pyproject()
    del data["tool"]["pipeline"]["max-python"]
    data["tool"]["pipeline"]["image"]["node-image"] = ""
    del data["tool"]["pipeline"]["services"]
    with pytest.raises(UserError) as caught:
        facts.parse(data, facts.ROOT)
    message = str(caught.value)
    assert "(3 problem(s))" in message
    assert '[tool.pipeline] max-python is missing (e.g. max-python = "3.13")' in message
    assert "[tool.pipeline.image] node-image = '' must be a non-empty string (e.g. node-image = \"node:20" in message
    assert 'no [tool.pipeline.services] table (e.g. postgres-image = "postgres:16-bookworm"' in message


def test_a_complete_table_has_no_problems() -> None:
    assert facts.problems_of(pyproject(), facts.ROOT) == []


def break_facts(root: Path) -> None:
    """pyproject.toml without max-python and with a settings module that is no module name."""
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    broken = text.replace('max-python = "3.13"\n', "").replace(
        'testing = "config.settings.testing"', 'testing = "config/settings/testing.py"'
    )
    assert broken.count("\n") == text.count("\n") - 1
    pyproject.write_text(broken)


@pytest.mark.parametrize("command", [["invoke", "doctor"], ["invoke", "build-image"], ["nox", "-l"]])
def test_an_incomplete_table_is_one_message_from_every_entry_point(project_copy: Path, command: list[str]) -> None:
    break_facts(project_copy)
    result = subprocess.run(
        [sys.executable, "-m", *command],
        cwd=project_copy,
        env=plain_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "KeyError" not in output
    assert "(2 problem(s))" in result.stderr
    assert 'max-python is missing (e.g. max-python = "3.13")' in result.stderr
    assert "testing = 'config/settings/testing.py' is not a dotted module name" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
