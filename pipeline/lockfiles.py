"""Requirement files exported from uv.lock, for installs that run before uv exists.

bootstrap.py installs requirements/tooling.txt with pip; the image's builder
stage installs requirements/image-build.txt (uv itself). Both are generated
from the lock by `nox -s lock`, and a test proves they match it.
"""

from __future__ import annotations

from pathlib import Path

EXPORTS = {
    Path("requirements/tooling.txt"): "tooling",
    Path("requirements/image-build.txt"): "image-build",
}


def export_command(group: str, output: Path | None = None) -> list[str]:
    command = [
        "uv",
        "export",
        "--frozen",
        "--quiet",
        "--no-emit-project",
        "--no-header",
        "--only-group",
        group,
        "--format",
        "requirements-txt",
    ]
    if output is not None:
        command += ["--output-file", str(output)]
    return command
