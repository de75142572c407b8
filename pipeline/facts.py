"""The pipeline's facts, read from the one table in pyproject.toml, and the image
versions, read from the Dockerfile's literal `FROM image AS stage` lines.

Every file that needs a Python version, a settings module, an image name or a
cache location gets it from here (or is checked against it by `nox -s workflows`).
The image versions (the image's Python base, the Node of its assets stage, the
PostgreSQL and Redis service images) live in the Dockerfile because Dependabot
updates FROM lines and nothing in pyproject.toml: a bump arrives as one
changed line, which everything else follows.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

import nox.project

from pipeline.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"


# What a settings module is for: [tool.pipeline.settings] names one module per role.
SettingsRole = Literal["development", "testing", "production"]


@dataclass(frozen=True)
class SettingsModules:
    development: str
    testing: str
    production: str

    def as_dict(self) -> dict[SettingsRole, str]:
        return {"development": self.development, "testing": self.testing, "production": self.production}

    @property
    def packages(self) -> tuple[str, ...]:
        """The packages that hold the settings modules (`config.settings`), whatever the project calls them."""
        return tuple(sorted({module.rpartition(".")[0] for module in self.as_dict().values()}))


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
    """Service images: the Dockerfile's, unless POSTGRES_IMAGE / REDIS_IMAGE override them."""

    postgres: str
    redis: str
    declared_postgres: str
    declared_redis: str

    def resolve(self, image: str) -> str:
        """The image to run for one named in a workflow or compose file (overrides applied)."""
        return {self.declared_postgres: self.postgres, self.declared_redis: self.redis}.get(image, image)


@dataclass(frozen=True)
class Area:
    """A part of the project whose jobs of ci.yml run on a pull request only when one of its files changed."""

    name: str
    jobs: tuple[str, ...]
    paths: tuple[str, ...]  # GitHub's `paths` filter patterns: the last matching one decides, `!` leaves out


AREA_EXAMPLE = '{ jobs = ["tooling"], paths = ["**", "!docs/**"] }'
AREA_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def parse_areas(table: Any) -> tuple[tuple[Area, ...], list[str]]:
    """[tool.pipeline.areas] (optional: without it every job always runs), and every problem of its shape."""
    if table is None:
        return (), []
    if not isinstance(table, dict):
        return (), [f"[tool.pipeline.areas] must be a table of areas (e.g. pipeline = {AREA_EXAMPLE})"]
    areas, problems = [], []
    for name, area in table.items():
        jobs = area.get("jobs") if isinstance(area, dict) else None
        paths = area.get("paths") if isinstance(area, dict) else None
        if not AREA_NAME.match(name):
            problems.append(f"[tool.pipeline.areas] {name!r} is not a name of lowercase letters, digits and -")
        elif not (
            isinstance(jobs, list)
            and isinstance(paths, list)
            and jobs
            and paths
            and all(isinstance(value, str) and value for value in [*jobs, *paths])
        ):
            problems.append(f"[tool.pipeline.areas] {name} needs non-empty lists jobs and paths (e.g. {AREA_EXAMPLE})")
        else:
            areas.append(Area(name, tuple(jobs), tuple(paths)))
    return tuple(areas), problems


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
    areas: tuple[Area, ...] = ()

    @property
    def newest_python(self) -> str:
        return self.python_versions[-1]


def supported_pythons(pyproject: dict[str, Any], max_version: str) -> tuple[str, ...]:
    """Minor versions from requires-python's lower bound up to max_version (nox's own rule)."""
    try:
        return tuple(nox.project.python_versions(pyproject, max_version=max_version))
    except ValueError as error:
        raise UserError(
            f"[project] requires-python cannot give the supported Pythons ({error}; "
            'e.g. requires-python = ">=3.11" and max-python = "3.13")',
            "set requires-python = '>=3.X' in [project] and max-python in [tool.pipeline]",
        ) from None


# Every key of the table: (table, key) -> an example value, shown when it is missing or invalid.
REQUIRED: dict[tuple[str, str], str] = {
    ("project", "name"): '"backend"',
    ("project", "requires-python"): '">=3.11"',
    ("tool.pipeline", "backend-dir"): '"backend"',
    ("tool.pipeline", "max-python"): '"3.13"',
    ("tool.pipeline.settings", "development"): '"config.settings.development"',
    ("tool.pipeline.settings", "testing"): '"config.settings.testing"',
    ("tool.pipeline.settings", "production"): '"config.settings.production"',
    ("tool.pipeline.image", "name"): '"backend"',
    ("tool.pipeline.image", "dockerfile"): '"backend/Dockerfile"',
    ("tool.pipeline.image", "target"): '"runtime"',
    ("tool.pipeline.image", "base"): '"python:{python}-slim-bookworm"',
    ("tool.pipeline.cache", "local-dir"): '".cache/buildx"',
    ("tool.pipeline.cache", "gha-scope-prefix"): '"backend"',
}
# The Dockerfile's stages that name an image version: stage -> an example image.
IMAGE_STAGES: dict[str, str] = {
    "python-image": "python:3.12-slim-bookworm",
    "node-image": "node:20-bookworm-slim",
    "postgres-image": "postgres:16-bookworm",
    "redis-image": "redis:7-bookworm",
}
FROM_STAGE = re.compile(
    r"^FROM\s+(?P<image>[^\s$-][^\s$]*)\s+AS\s+(?P<stage>[\w.-]+)\s*$", re.IGNORECASE | re.MULTILINE
)
MINOR_VERSION = re.compile(r"^3\.\d+$")
DOTTED_MODULE = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)+$")
FACTS_FIX = "set each key named above in pyproject.toml (each FROM line in the Dockerfile), in the form of its example"


def _lookup(data: dict[str, Any], dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _shape_problem(table: str, key: str, value: str, root: Path) -> str | None:
    """Why one present string value is unusable (None when it is fine)."""
    if key == "max-python" and not MINOR_VERSION.match(value):
        return "is not a minor version"
    if table == "tool.pipeline.settings" and not DOTTED_MODULE.match(value):
        return "is not a dotted module name"
    if key == "base":
        try:
            value.format(python="3.X")
        except (KeyError, IndexError, ValueError):
            return "may contain only the placeholder {python}"
    if key == "backend-dir" and not (root / value).is_dir():
        return f"names no folder of {root.name}/"
    if key == "dockerfile" and not (root / value).is_file():
        return f"names no file of {root.name}/"
    return None


def dockerfile_images(path: Path) -> dict[str, str]:
    """{stage: image} of a Dockerfile's literal `FROM image AS stage` lines (those without an ARG)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return {}
    return {match["stage"]: match["image"] for match in FROM_STAGE.finditer(text)}


def python_of(base_template: str, image: str) -> str | None:
    """The Python minor version of `image` when it is `base_template` for one (python:3.12-slim-bookworm)."""
    pattern = re.escape(base_template).replace(re.escape("{python}"), r"(3\.\d+)")
    match = re.fullmatch(pattern, image)
    return match.group(1) if match else None


def image_problems(template: str, dockerfile: str, images: dict[str, str]) -> list[str]:
    """Every image stage the Dockerfile lacks, and a Python base that is not `base` for some Python."""
    problems = [
        f"{dockerfile} has no `FROM <image> AS {stage}` line (e.g. FROM {example} AS {stage})"
        for stage, example in IMAGE_STAGES.items()
        if stage not in images
    ]
    if "python-image" in images and python_of(template, images["python-image"]) is None:
        problems.append(
            f"{dockerfile}: FROM {images['python-image']} AS python-image is not [tool.pipeline.image] base "
            f"{template!r} for a Python 3.X (e.g. FROM {IMAGE_STAGES['python-image']} AS python-image)"
        )
    return problems


def problems_of(data: dict[str, Any], root: Path) -> list[str]:
    """Every missing or invalid fact, each with its example value; empty when the table is complete."""
    problems: list[str] = []
    missing_tables: list[str] = []
    for (table, key), example in REQUIRED.items():
        node = _lookup(data, table)
        if not isinstance(node, dict):
            if table not in missing_tables:
                missing_tables.append(table)
                keys = ", ".join(f"{name} = {value}" for (owner, name), value in REQUIRED.items() if owner == table)
                problems.append(f"no [{table}] table (e.g. {keys})")
            continue
        value = node.get(key)
        if value is None:
            problems.append(f"[{table}] {key} is missing (e.g. {key} = {example})")
        elif not isinstance(value, str) or not value.strip():
            problems.append(f"[{table}] {key} = {value!r} must be a non-empty string (e.g. {key} = {example})")
        elif (why := _shape_problem(table, key, value, root)) is not None:
            problems.append(f"[{table}] {key} = {value!r} {why} (e.g. {key} = {example})")
    return problems


def parse(data: dict[str, Any], root: Path, environ: dict[str, str] | None = None) -> Facts:
    """Facts from a parsed pyproject.toml; service images may be overridden by environment.

    The whole table is checked first: one UserError lists every missing or
    invalid key, each with an example, like `manage.py check_config` does for
    the environment.
    """
    env = os.environ if environ is None else environ
    problems = problems_of(data, root)
    table = _lookup(data, "tool.pipeline") or {}
    image = _lookup(data, "tool.pipeline.image") or {}
    versions: tuple[str, ...] = ()
    if not any("requires-python" in problem or "max-python" in problem for problem in problems):
        try:
            versions = supported_pythons(data, table["max-python"])
        except UserError as error:
            problems.append(error.problem)
    images: dict[str, str] = {}
    python = ""
    dockerfile, template = image.get("dockerfile"), image.get("base")
    if isinstance(dockerfile, str) and isinstance(template, str) and (root / dockerfile).is_file():
        images = dockerfile_images(root / dockerfile)
        problems += image_problems(template, dockerfile, images)
        python = python_of(template, images.get("python-image", "")) or ""
    if versions and python and python not in versions:
        problems.append(
            f"{image['dockerfile']}: the image's Python {python} (FROM {images['python-image']} AS python-image) "
            f"is not a supported Python ({', '.join(versions)}); pick one of them or raise max-python"
        )
    areas, area_problems = parse_areas(_lookup(data, "tool.pipeline.areas"))
    problems += area_problems
    if problems:
        raise UserError(
            f"pyproject.toml cannot give the pipeline's facts ({len(problems)} problem(s)): " + "; ".join(problems),
            FACTS_FIX,
        )
    project = data["project"]
    settings = data["tool"]["pipeline"]["settings"]
    cache_table = data["tool"]["pipeline"]["cache"]
    return Facts(
        root=root,
        project_name=project["name"],
        requires_python=project["requires-python"],
        python_versions=versions,
        backend_dir=root / table["backend-dir"],
        settings=SettingsModules(
            development=settings["development"], testing=settings["testing"], production=settings["production"]
        ),
        image=ImageFacts(
            name=image["name"],
            dockerfile=root / image["dockerfile"],
            target=image["target"],
            python=python,
            base_template=image["base"],
            node_image=images["node-image"],
        ),
        cache=CacheFacts(local_dir=root / cache_table["local-dir"], gha_scope_prefix=cache_table["gha-scope-prefix"]),
        production_dependencies=tuple(project.get("dependencies", [])),
        dev_only_dependencies=nox.project.dependency_groups(data, "dev"),
        services=ServiceImages(
            postgres=env.get("POSTGRES_IMAGE") or images["postgres-image"],
            redis=env.get("REDIS_IMAGE") or images["redis-image"],
            declared_postgres=images["postgres-image"],
            declared_redis=images["redis-image"],
        ),
        areas=areas,
    )


@cache
def load(root: Path = ROOT) -> Facts:
    """The facts of the project at `root` (this checkout by default)."""
    path = root / "pyproject.toml"
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise UserError(f"Cannot read {path} ({error.strerror})", "run from a checkout of the project") from None
    except tomllib.TOMLDecodeError as error:
        raise UserError(f"{path} is not valid TOML ({error})", "correct the syntax at that line") from None
    return parse(data, root)
