"""A workflow file read as data, remembering the line of every key.

GitHub's own parser validates the file (`pipeline.actions.validate`); here we
only need the data and, for refusals, the `file:line` of a construct.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.errors import UserError

Key = tuple[str | int, ...]


def _walk(node: yaml.Node, key: Key, lines: dict[Key, int]) -> None:
    lines.setdefault(key, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            name = "on" if key_node.value in {"on", True} else str(key_node.value)
            lines[(*key, name)] = key_node.start_mark.line + 1
            _walk(value_node, (*key, name), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*key, index), lines)


@dataclass(frozen=True)
class Workflow:
    """The parsed workflow and where each key sits in its file."""

    path: Path
    relative: str
    data: Mapping[str, Any]
    lines: Mapping[Key, int]

    @property
    def name(self) -> str:
        return str(self.data.get("name") or self.relative)

    @property
    def jobs(self) -> Mapping[str, Mapping[str, Any]]:
        jobs = self.data.get("jobs") or {}
        return jobs if isinstance(jobs, Mapping) else {}

    def line(self, *key: str | int) -> int:
        """The line of `key`, or of its nearest ancestor that has one."""
        while key and key not in self.lines:
            key = key[:-1]
        return self.lines.get(key, 1)

    def where(self, *key: str | int) -> str:
        return f"{self.relative}:{self.line(*key)}"


def load(path: Path, root: Path | None = None) -> Workflow:
    """Read a workflow file; `on` stays `on` (YAML 1.1 would make it True)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise UserError(
            f"cannot read the workflow {path}: {error.strerror}", "pass an existing workflow file"
        ) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise UserError(f"{path} is not valid YAML: {error}", "fix the file (nox -s workflows checks it)") from None
    if not isinstance(data, dict) or node is None:
        raise UserError(f"{path} is not a YAML mapping", "fix the workflow file")
    if True in data:
        data["on"] = data.pop(True)
    lines: dict[Key, int] = {}
    _walk(node, (), lines)
    try:
        relative = str(path.resolve().relative_to((root or Path.cwd()).resolve()))
    except ValueError:
        relative = str(path)
    return Workflow(path, relative, data, lines)
