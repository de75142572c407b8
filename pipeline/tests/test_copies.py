"""A copy of the project holds what git would ship from this checkout: tracked and new files, nothing ignored."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import copies, processes

pytestmark = pytest.mark.tools  # git


def test_a_copy_holds_tracked_and_new_files_but_nothing_ignored(tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "pkg").mkdir(parents=True)
    (source / ".gitignore").write_text(".nox/\n*.log\n")
    (source / "pkg" / "tracked.py").write_text("x = 1\n")
    processes.run(["git", "init", "--quiet"], cwd=source).check_returncode()
    processes.run(["git", "add", "."], cwd=source).check_returncode()
    (source / "pkg" / "new.py").write_text("y = 2\n")  # not yet added: a copy still has it
    (source / "run.log").write_text("ignored\n")
    (source / ".nox" / "lint").mkdir(parents=True)
    (source / ".nox" / "lint" / "pyvenv.cfg").write_text("ignored\n")
    (source / "pkg" / "gone.py").write_text("z = 3\n")
    processes.run(["git", "add", "pkg/gone.py"], cwd=source).check_returncode()
    (source / "pkg" / "gone.py").unlink()  # tracked, but deleted in the checkout: not copied

    target = copies.copy_project(source, tmp_path / "copy")

    copied = sorted(str(path.relative_to(target)) for path in target.rglob("*") if path.is_file())
    assert copied == [".gitignore", "pkg/new.py", "pkg/tracked.py"]
    assert (target / "pkg" / "tracked.py").stat().st_mtime == (source / "pkg" / "tracked.py").stat().st_mtime
