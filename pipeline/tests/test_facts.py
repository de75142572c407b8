from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pipeline import facts, processes
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
    assert loaded.services.redis == facts.dockerfile_images(loaded.image.dockerfile)["redis-image"]


def dockerfile_root(tmp_path: Path, old: str = "", new: str = "") -> Path:
    """A project root holding only backend/ and this checkout's Dockerfile, with `old` replaced by `new`."""
    (tmp_path / "backend").mkdir()
    text = (facts.ROOT / "backend" / "Dockerfile").read_text()
    assert old in text
    (tmp_path / "backend" / "Dockerfile").write_text(text.replace(old, new, 1))
    return tmp_path


def test_the_image_versions_are_the_dockerfiles_from_lines() -> None:
    """What Dependabot updates is what the pipeline uses: no second copy in pyproject.toml."""
    loaded = facts.load()
    images = facts.dockerfile_images(loaded.image.dockerfile)
    assert images["python-image"] == loaded.image.base == f"python:{loaded.image.python}-slim-bookworm"
    assert images["node-image"] == loaded.image.node_image
    assert images["postgres-image"] == loaded.services.declared_postgres
    assert images["redis-image"] == loaded.services.declared_redis
    table = pyproject()["tool"]["pipeline"]
    assert "services" not in table
    assert not {"python", "node-image"} & set(table["image"])


def test_a_bumped_from_line_moves_the_facts(tmp_path: Path) -> None:
    root = dockerfile_root(
        tmp_path, "FROM python:3.12-slim-bookworm AS python-image", "FROM python:3.13-slim-bookworm AS python-image"
    )
    loaded = facts.parse(pyproject(), root)
    assert loaded.image.python == "3.13"
    assert loaded.image.base == "python:3.13-slim-bookworm"


def test_a_missing_table_is_a_user_error() -> None:
    data = pyproject()
    del data["tool"]["pipeline"]["settings"]
    with pytest.raises(UserError, match=r"no \[tool.pipeline.settings\] table"):
        facts.parse(data, facts.ROOT)


def test_an_image_python_outside_the_supported_range_is_refused(tmp_path: Path) -> None:
    root = dockerfile_root(tmp_path, "FROM python:3.12-slim-bookworm", "FROM python:3.9-slim-bookworm")
    with pytest.raises(UserError, match=r"the image's Python 3\.9 .* is not a supported Python"):
        facts.parse(pyproject(), root)


def test_requires_python_without_lower_bound_is_refused() -> None:
    data = pyproject()
    data["project"]["requires-python"] = "<4"
    with pytest.raises(UserError, match="cannot give the supported Pythons"):
        facts.parse(data, Path())


def test_every_problem_of_the_table_is_listed_with_an_example(tmp_path: Path) -> None:
    root = dockerfile_root(tmp_path, "FROM redis:7-bookworm AS redis-image\n", "")
    data = pyproject()
    del data["tool"]["pipeline"]["max-python"]
    data["tool"]["pipeline"]["image"]["name"] = ""
    del data["tool"]["pipeline"]["cache"]
    with pytest.raises(UserError) as caught:
        facts.parse(data, root)
    message = str(caught.value)
    assert "(4 problem(s))" in message
    assert '[tool.pipeline] max-python is missing (e.g. max-python = "3.13")' in message
    assert "[tool.pipeline.image] name = '' must be a non-empty string (e.g. name = \"backend\")" in message
    assert 'no [tool.pipeline.cache] table (e.g. local-dir = ".cache/buildx"' in message
    assert (
        "backend/Dockerfile has no `FROM <image> AS redis-image` line (e.g. FROM redis:7-bookworm AS redis-image)"
        in message
    )


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
    result = processes.run([sys.executable, "-m", *command], cwd=project_copy, env=plain_env(), timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    assert "KeyError" not in output
    assert "(2 problem(s))" in result.stderr
    assert 'max-python is missing (e.g. max-python = "3.13")' in result.stderr
    assert "testing = 'config/settings/testing.py' is not a dotted module name" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
