#!/usr/bin/env python3
"""Run a pipeline command on a machine that has only Python.

    python3 bootstrap.py nox -s tests
    python3 bootstrap.py invoke --list

Creates `.tools/` (a virtual environment holding nox, uv, invoke and the
libraries the noxfile and tasks.py import, pinned and hashed in
requirements/tooling.txt, which `nox -s lock` exports from uv.lock), refreshes
it when that file changes, then runs the command from it.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
REQUIREMENTS = ROOT / "requirements" / "tooling.txt"
STAMP = TOOLS / ".requirements-sha256"
MINIMUM_PYTHON = (3, 11)


def fail(message: str) -> None:
    print(f"bootstrap: {message}", file=sys.stderr)
    raise SystemExit(1)


def ensure_tools() -> Path:
    bin_dir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return bin_dir
    print(f"bootstrap: installing the pipeline tools into {TOOLS.name}/ ...", file=sys.stderr)
    if not (bin_dir / "python").exists():
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
    install = subprocess.run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(REQUIREMENTS),
        ],
        check=False,
    )
    if install.returncode:
        fail(
            "installing requirements/tooling.txt failed (see pip's message above). Fix: check network "
            "access to PyPI, or delete .tools/ and run again."
        )
    STAMP.write_text(wanted + "\n")
    return bin_dir


def main(argv: list[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        fail(f"Python {'.'.join(map(str, MINIMUM_PYTHON))}+ is needed, this is {sys.version.split()[0]}.")
    if not argv:
        fail("say what to run, e.g. `python3 bootstrap.py nox -s tests` (see README.md).")
    bin_dir = ensure_tools()
    executable = bin_dir / argv[0]
    if not executable.exists():
        fail(f"{argv[0]!r} is not one of the pipeline tools in {TOOLS.name}/ (nox, invoke, uv, ...).")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    os.chdir(ROOT)
    return subprocess.call([str(executable), *argv[1:]], env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
