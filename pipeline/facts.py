"""The pipeline's facts, read from the one table in pyproject.toml.

Every file that needs a Python version, a settings module, an image name or a
cache location gets it from here (or is checked against it by `nox -s drift`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import nox.project

from pipeline.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


@dataclass(frozen=True)
class SettingsModules:
    development: str
    testing: str
    production: str

    def as_dict(self) -> dict[str, str]:
        return {"development": self.development, "testing": self.testing, "production": self.production}


@dataclass(frozen=True)
class ImageFacts:
    name: str
    dockerfile: Path
    target: str
    python: str
    base_template: str
    node_image: str

    def base_for(self, python: str) -> str:
        return self.base_template.format(python=python)

    @property
    def base(self) -> str:
        return self.base_for(self.python)


@dataclass(frozen=True)
class CacheFacts:
    local_dir: Path
    gha_scope_prefix: str


@dataclass(frozen=True)
class ServiceImages:
    """Service images: pyproject's names, unless POSTGRES_IMAGE / REDIS_IMAGE override them."""

    postgres: str
    redis: str
    declared_postgres: str
    declared_redis: str

    def resolve(self, image: str) -> str:
        """The image to run for one named in a workflow or compose file (overrides applied)."""
        return {self.declared_postgres: self.postgres, self.declared_redis: self.redis}.get(image, image)


@dataclass(frozen=True)
class Facts:
    root: Path
    project_name: str
    requires_python: str
    python_versions: tuple[str, ...]
    backend_dir: Path
    settings: SettingsModules
    image: ImageFacts
    cache: CacheFacts
    services: ServiceImages
    production_dependencies: tuple[str, ...]
    dev_only_dependencies: tuple[str, ...]

    @property
    def newest_python(self) -> str:
        return self.python_versions[-1]


def supported_pythons(pyproject: dict[str, Any], max_version: str) -> tuple[str, ...]:
    """Minor versions from requires-python's lower bound up to max_version (nox's own rule)."""
    try:
        return tuple(nox.project.python_versions(pyproject, max_version=max_version))
    except ValueError as error:
        raise UserError(
            f"pyproject.toml cannot give the supported Pythons ({error})",
            "set requires-python = '>=3.X' in [project] and max-python in [tool.pipeline]",
        ) from None


def group_requirements(groups: dict[str, list[Any]], name: str) -> list[str]:
    """A dependency group's requirement strings, with `include-group` expanded."""
    requirements: list[str] = []
    for entry in groups.get(name, []):
        if isinstance(entry, dict):
            requirements += group_requirements(groups, entry["include-group"])
        else:
            requirements.append(str(entry))
    return requirements


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    node: Any = data
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            raise UserError(
                f"pyproject.toml has no [{'.'.join(keys)}] table",
                "restore it from the repository (it holds the pipeline's facts)",
            )
        node = node[key]
    return dict(node)


def parse(data: dict[str, Any], root: Path, environ: dict[str, str] | None = None) -> Facts:
    """Facts from a parsed pyproject.toml; service images may be overridden by environment."""
    env = os.environ if environ is None else environ
    project = _table(data, "project")
    table = _table(data, "tool", "pipeline")
    settings = _table(data, "tool", "pipeline", "settings")
    image = _table(data, "tool", "pipeline", "image")
    cache_table = _table(data, "tool", "pipeline", "cache")
    services = _table(data, "tool", "pipeline", "services")
    versions = supported_pythons(data, table["max-python"])
    if image["python"] not in versions:
        raise UserError(
            f"[tool.pipeline.image].python = {image['python']} is not a supported Python ({', '.join(versions)})",
            "pick one of the supported versions",
        )
    return Facts(
        root=root,
        project_name=project["name"],
        requires_python=project["requires-python"],
        python_versions=versions,
        backend_dir=root / table["backend-dir"],
        settings=SettingsModules(**settings),
        image=ImageFacts(
            name=image["name"],
            dockerfile=root / image["dockerfile"],
            target=image["target"],
            python=image["python"],
            base_template=image["base"],
            node_image=image["node-image"],
        ),
        cache=CacheFacts(local_dir=root / cache_table["local-dir"], gha_scope_prefix=cache_table["gha-scope-prefix"]),
        production_dependencies=tuple(project.get("dependencies", [])),
        dev_only_dependencies=tuple(group_requirements(data.get("dependency-groups", {}), "dev")),
        services=ServiceImages(
            postgres=env.get("POSTGRES_IMAGE") or services["postgres-image"],
            redis=env.get("REDIS_IMAGE") or services["redis-image"],
            declared_postgres=services["postgres-image"],
            declared_redis=services["redis-image"],
        ),
    )


@cache
def load(root: Path = ROOT) -> Facts:
    """The facts of the project at `root` (this checkout by default)."""
    with (root / "pyproject.toml").open("rb") as handle:
        return parse(tomllib.load(handle), root)
