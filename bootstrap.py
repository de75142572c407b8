#!/usr/bin/env python3
"""Run a pipeline command on a machine that has only Python.

    python3 bootstrap.py nox -s tests
    python3 bootstrap.py invoke --list

Creates `.tools/` (a virtual environment holding nox, uv, invoke and the
libraries the noxfile and tasks.py import: the `tooling` group of uv.lock),
refreshes it when the lock changes, then runs the command from it. pip first
installs uv alone from requirements/image-build.txt (hashed; `nox -s lock`
exports it, the image's builder stage installs it too); that uv then exports
the tooling group from uv.lock, hashed, and pip installs exactly that. So a
change of uv.lock alone (a Dependabot update) needs no other file re-exported.

Before installing anything it checks, with the standard library only (uv may
not exist yet), that uv.lock still matches pyproject.toml: the requirement
names, extras and version ranges of [project].dependencies and of every
dependency group, and requires-python, against what uv recorded in the lock;
and that the uv pin of requirements/image-build.txt is a version in the lock. A
stale lock stops every command except the one that re-locks (`nox -s lock`).
Environment markers are not compared here; uv compares everything when a
session installs (`uv sync --locked`).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
# uv alone, pinned and hashed: the one export that must exist before uv does.
REQUIREMENTS = ROOT / "requirements" / "image-build.txt"
UV_STAMP = TOOLS / ".uv-requirements-sha256"
# sha256 of the tooling group as uv exports it from uv.lock (what pip installed last).
STAMP = TOOLS / ".requirements-sha256"
EXPORT_TOOLING = (
    "export",
    "--frozen",
    "--quiet",
    "--no-emit-project",
    "--no-header",
    "--only-group",
    "tooling",
    "--format",
    "requirements-txt",
)
LOCK_STAMP = TOOLS / ".lock-checked-sha256"
MINIMUM_PYTHON = (3, 11)
RELOCK = "python3 bootstrap.py nox -s lock"
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?\s*([^;]*)")
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")

Requirement = tuple[str, tuple[str, ...], str]


def fail(message: str) -> NoReturn:
    print(f"bootstrap: {message}", file=sys.stderr)
    raise SystemExit(1)


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def specifier(text: str) -> str:
    return ",".join(sorted(part.replace(" ", "") for part in text.split(",") if part.strip()))


def parse_requirement(text: str) -> Requirement:
    match = REQUIREMENT.match(text)
    if match is None:
        return (text.strip(), (), "")
    name, extras, spec = match.groups()
    return (
        normalise(name),
        tuple(sorted(normalise(e) for e in (extras or "").split(",") if e.strip())),
        specifier(spec),
    )


def declared_requirements(pyproject: dict[str, Any]) -> dict[str, set[Requirement]]:
    """pyproject.toml's requirements: "" for [project].dependencies, then each group, include-group expanded."""
    groups: dict[str, list[Any]] = pyproject.get("dependency-groups", {})

    def expand(name: str) -> set[Requirement]:
        found: set[Requirement] = set()
        for entry in groups.get(name, []):
            found |= expand(entry["include-group"]) if isinstance(entry, dict) else {parse_requirement(str(entry))}
        return found

    declared = {"": {parse_requirement(r) for r in pyproject.get("project", {}).get("dependencies", [])}}
    declared.update({normalise(group): expand(group) for group in groups})
    return declared


def locked_requirements(lock: dict[str, Any], project: str) -> dict[str, set[Requirement]]:
    """What uv recorded for the project itself when it wrote the lock."""
    root: dict[str, Any] = next((p for p in lock.get("package", []) if p.get("name") == normalise(project)), {})
    metadata = root.get("metadata", {})

    def key(entry: dict[str, Any]) -> Requirement:
        extras = tuple(sorted(normalise(e) for e in entry.get("extras", [])))
        return (normalise(entry["name"]), extras, specifier(entry.get("specifier", "")))

    locked = {"": {key(entry) for entry in metadata.get("requires-dist", [])}}
    for group, entries in metadata.get("requires-dev", {}).items():
        locked[normalise(group)] = {key(entry) for entry in entries}
    return locked


def lock_problems(pyproject: dict[str, Any], lock: dict[str, Any], uv_requirements: str) -> list[str]:
    """Why uv.lock (or the uv export) no longer matches pyproject.toml; empty when it does."""
    problems = []
    wanted_python = specifier(pyproject.get("project", {}).get("requires-python", ""))
    if wanted_python != specifier(lock.get("requires-python", "")):
        problems.append(
            f"requires-python is {wanted_python!r} in pyproject.toml but {lock.get('requires-python')!r} in uv.lock"
        )
    declared = declared_requirements(pyproject)
    locked = locked_requirements(lock, pyproject.get("project", {}).get("name", ""))
    for group in sorted(set(declared) | set(locked)):
        where = "[project].dependencies" if not group else f"dependency group {group!r}"
        added = sorted(declared.get(group, set()) - locked.get(group, set()))
        removed = sorted(locked.get(group, set()) - declared.get(group, set()))
        for name, _, spec in added:
            problems.append(f"{where} has {name}{spec}, which uv.lock does not")
        for name, _, spec in removed:
            problems.append(f"uv.lock has {name}{spec} in {where}, which pyproject.toml no longer does")
    versions = {(normalise(p["name"]), str(p.get("version"))) for p in lock.get("package", [])}
    pins = [(normalise(m.group(1)), m.group(2)) for m in map(PIN.match, uv_requirements.splitlines()) if m]
    stale_pins = [f"{name}=={version}" for name, version in pins if (name, version) not in versions]
    if stale_pins:
        problems.append(f"requirements/image-build.txt pins {', '.join(stale_pins)}, which uv.lock does not")
    return problems


def is_relock(argv: list[str]) -> bool:
    """`nox -s lock [-- ARGS]`: the command that repairs a stale lock, so it must run."""
    own = argv[1 : argv.index("--")] if "--" in argv else argv[1:]
    return argv[:1] == ["nox"] and "lock" in own


def check_lock(argv: list[str]) -> bool:
    """Refuse to run from a stale lock, except the re-lock itself (True then); remembered per file contents."""
    sources = [ROOT / "pyproject.toml", ROOT / "uv.lock", REQUIREMENTS]
    wanted = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()
    if LOCK_STAMP.exists() and LOCK_STAMP.read_text().strip() == wanted:
        return False
    with sources[0].open("rb") as pyproject, sources[1].open("rb") as lock:
        problems = lock_problems(tomllib.load(pyproject), tomllib.load(lock), REQUIREMENTS.read_text())
    if not problems:
        if TOOLS.is_dir():
            LOCK_STAMP.write_text(wanted + "\n")
        return False
    summary = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
    if is_relock(argv):
        print(f"bootstrap: uv.lock is out of date ({summary}); re-locking.", file=sys.stderr)
        return True
    fail(
        f"uv.lock is out of date with pyproject.toml ({summary}), so nothing is installed from it. "
        f"Fix: re-lock with `{RELOCK}` (it also re-exports requirements/), then commit uv.lock and requirements/."
    )


def pip_install(bin_dir: Path, requirements: Path, what: str) -> None:
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
            str(requirements),
        ],
        check=False,
    )
    if install.returncode:
        fail(
            f"installing {what} failed (see pip's message above). Fix: check network "
            "access to PyPI, or delete .tools/ and run again."
        )


def ensure_tools(relock: bool = False) -> Path:
    bin_dir = TOOLS / ("Scripts" if os.name == "nt" else "bin")
    uv = bin_dir / ("uv.exe" if os.name == "nt" else "uv")
    uv_wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not (uv.exists() and UV_STAMP.exists() and UV_STAMP.read_text().strip() == uv_wanted):
        print(f"bootstrap: installing uv into {TOOLS.name}/ ...", file=sys.stderr)
        if not (bin_dir / "python").exists():
            venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        pip_install(bin_dir, REQUIREMENTS, "uv (requirements/image-build.txt)")
        UV_STAMP.write_text(uv_wanted + "\n")
    # Workflows set FORCE_COLOR for readable logs; uv would then colour the requirements it prints.
    plain = {key: value for key, value in os.environ.items() if key not in {"FORCE_COLOR", "CLICOLOR_FORCE"}}
    plain["NO_COLOR"] = "1"
    # Re-locking a stale lock: uv updates it before it exports (a lock that lacks the project, renamed in
    # pyproject.toml, cannot be exported as it is); `nox -s lock` then finds it current.
    command = [str(uv), *(part for part in EXPORT_TOOLING if not (relock and part == "--frozen"))]
    export = subprocess.run(command, cwd=ROOT, env=plain, capture_output=True, text=True, check=False)
    if export.returncode:
        fail(
            f"uv could not export the tooling group from uv.lock ({export.stderr.strip()}). "
            f"Fix: re-lock with `{RELOCK}`, or delete .tools/ and run again."
        )
    wanted = hashlib.sha256(export.stdout.encode()).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return bin_dir
    print(f"bootstrap: installing the pipeline tools into {TOOLS.name}/ ...", file=sys.stderr)
    requirements = TOOLS / "tooling-requirements.txt"
    requirements.write_text(export.stdout)
    pip_install(bin_dir, requirements, "the tooling group of uv.lock")
    STAMP.write_text(wanted + "\n")
    return bin_dir


def main(argv: list[str]) -> int:
    if sys.version_info < MINIMUM_PYTHON:
        fail(f"Python {'.'.join(map(str, MINIMUM_PYTHON))}+ is needed, this is {sys.version.split()[0]}.")
    if not argv:
        fail("say what to run, e.g. `python3 bootstrap.py nox -s tests` (see README.md).")
    bin_dir = ensure_tools(relock=check_lock(argv))
    executable = bin_dir / argv[0]
    if not executable.exists():
        fail(f"{argv[0]!r} is not one of the pipeline tools in {TOOLS.name}/ (nox, invoke, uv, ...).")
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    os.chdir(ROOT)
    if os.name == "posix":
        # The tool takes this process's place, so a signal sent to it (a SIGTERM from a CI runner or a process
        # manager, not only a terminal's Ctrl-C to the whole group) reaches the tool, which stops what it started.
        os.execve(executable, [str(executable), *argv[1:]], env)  # noqa: S606  # nosec B606 -- a pipeline tool of .tools/
    return subprocess.call([str(executable), *argv[1:]], env=env)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
