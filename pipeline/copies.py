"""A copy of the project: what the tests inject defects into and `invoke bench` builds from.

One rule for what a copy holds, used everywhere: the files git would ship from
this checkout, tracked and new, but not ignored (no `.nox/`, `.tools/`,
`node_modules/`, caches or reports).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline import processes


def project_files(root: Path) -> list[str]:
    """Paths (relative to `root`) of its tracked and new, not ignored, files."""
    listing = processes.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root)
    listing.check_returncode()  # not a git checkout: CalledProcessError, as before
    return [line for line in listing.stdout.splitlines() if (root / line).is_file()]


def copy_project(root: Path, target: Path) -> Path:
    """Copy the project's files (`project_files`) into `target`, keeping their times; returns `target`."""
    for relative in project_files(root):
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / relative, destination)
    return target
