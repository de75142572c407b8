"""`actions/setup-python`'s inputs, read as the action reads them, and what a job here gets for them.

The action (v5) takes `python-version` (one spec per line, the last is the default `python`),
else `python-version-file` (`.python-version`, `.tool-versions` or `pyproject.toml`), else
`.python-version` in the workspace, else the runner's own Python. A spec is an npm semver
version or range (`3.12`, `3.12.10`, `3.x`, `>=3.9 <3.13`, `~3.12`, `^3.11`, `3.13-dev`), a
free-threaded build (`3.14t`), or another implementation (`pypy3.10`, `pypy-3.10-v7.3.x`,
`graalpy-24.1`).

Here a job gets CPythons by minor version, from this machine: an exact patch version or a range
is said in the plan, never a silent substitute; a build this machine cannot imitate (PyPy,
GraalPy, free-threaded) makes the job GitHub-only.
"""

from __future__ import annotations

import itertools
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

ACTION = "actions/setup-python"
# Minor versions of CPython 3 a range is matched against on this machine (newest first).
PROBED_MINORS = tuple(f"3.{minor}" for minor in range(30, 5, -1))
EXACT = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?(?P<pre>-[0-9A-Za-z.-]+)?$")
FREE_THREADED = re.compile(r"^(?P<version>\d+\.\d+(?:\.\d+)?)t$")
OTHER_IMPLEMENTATIONS = (("pypy", "PyPy"), ("graalpy", "GraalPy"))
SEMVER_PART = re.compile(r"^(?P<op>[<>]=?|=|~|\^)?\s*v?(?P<version>[0-9xX*]+(?:\.[0-9xX*]+){0,2})(?:-[0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class Resolution:
    """What one spec means here: a CPython minor version to put on PATH, or why it cannot be imitated."""

    spec: str
    version: str = ""  # X.Y this job gets (empty: nothing here)
    note: str = ""  # a difference from GitHub that the plan says
    github_only: str = ""  # why only GitHub can run the job
    missing: str = ""  # what this machine lacks, as the missing-interpreter paragraph names it


def is_setup_python(step: Mapping[str, Any]) -> bool:
    return str(step.get("uses", "")).split("@")[0] == ACTION


def split_versions(value: object) -> list[str]:
    """`python-version`: one spec, several on separate lines, or (from an expression) a list."""
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    if isinstance(value, float):  # an unquoted YAML 3.10 is 3.1; GitHub reads the same text, so do we
        value = repr(value)
    return [line.strip() for line in str(value if value is not None else "").splitlines() if line.strip()]


def _pyproject_range(text: str) -> list[str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return []
    project = data.get("project") or {}
    poetry = ((data.get("tool") or {}).get("poetry") or {}).get("dependencies") or {}
    spec = project.get("requires-python") or poetry.get("python")
    return [str(spec)] if spec else []


def versions_from_file(path: Path) -> list[str]:
    """The specs a version file holds, read as setup-python reads each kind."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    if path.name == "pyproject.toml":
        return _pyproject_range(text)
    if path.name == ".tool-versions":
        for line in text.splitlines():
            words = line.split("#", 1)[0].split()
            if words and words[0] == "python":
                return words[1:]
        return []
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def requested(inputs: Mapping[str, Any], workspace: Path) -> tuple[list[str], str]:
    """The specs one setup-python step asks for, and where they came from ('' for none: the runner's Python)."""
    specs = split_versions(inputs.get("python-version"))
    if specs:
        return specs, "python-version"
    file_name = str(inputs.get("python-version-file") or "")
    if file_name:
        return versions_from_file(workspace / file_name), file_name
    default = workspace / ".python-version"
    return (versions_from_file(default), ".python-version") if default.is_file() else ([], "")


def _bump(numbers: list[str]) -> str:
    return ".".join([*numbers[:-1], str(int(numbers[-1]) + 1)])


def _semver_to_pep440(comparator: str) -> str:
    """One npm semver comparator as a PEP 440 specifier (`3.x` -> `==3.*`, `~3.12` -> `>=3.12,<3.13`)."""
    match = SEMVER_PART.match(comparator)
    if not match:
        raise ValueError(comparator)
    op = match["op"] or "="
    numbers = list(itertools.takewhile(str.isdigit, match["version"].split("."))) or ["0"]
    version = ".".join(numbers)
    partial = len(numbers) < 3  # an x-range: `3.12` is any 3.12.*
    first_nonzero = next((index for index, number in enumerate(numbers) if number != "0"), len(numbers) - 1)
    specifiers = {
        "~": f">={version},<{_bump(numbers[:2])}",
        "^": f">={version},<{_bump(numbers[: first_nonzero + 1])}",
        "=": f"=={version}.*" if partial else f"=={version}",
        ">": f">={_bump(numbers)}" if partial else f">{version}",
        "<=": f"<{_bump(numbers)}" if partial else f"<={version}",
    }
    return specifiers.get(op, op + version)


def range_specifiers(spec: str) -> list[SpecifierSet] | None:
    """An npm semver range (`||` alternatives, space-separated comparators, `A - B`) or a PEP 440 set."""
    if "," in spec:  # PEP 440, as pyproject.toml's requires-python writes it
        try:
            return [SpecifierSet(spec)]
        except InvalidSpecifier:
            return None
    alternatives: list[SpecifierSet] = []
    try:
        for alternative in spec.split("||"):
            hyphen = re.match(r"^\s*(\S+)\s+-\s+(\S+)\s*$", alternative)
            comparators = [f">={hyphen[1]}", f"<={hyphen[2]}"] if hyphen else alternative.split()
            joined = re.sub(r"([<>]=?|=|~|\^)\s+", r"\1", " ".join(comparators)).split()
            alternatives.append(SpecifierSet(",".join(_semver_to_pep440(part) for part in joined)))
    except (ValueError, InvalidSpecifier):
        return None
    return alternatives


def _minor_matches(minor: str, alternatives: list[SpecifierSet]) -> bool:
    """Whether some release of CPython `minor` (X.Y.0 to X.Y.50) falls in the range."""
    return any(
        alternative.contains(Version(f"{minor}.{patch}"), prereleases=False)
        for alternative in alternatives
        for patch in range(51)
    )


def not_imitated(spec: str) -> str:
    """Why a job asking for this build runs only on GitHub (PyPy, GraalPy, free-threaded), or ''."""
    for prefix, implementation in OTHER_IMPLEMENTATIONS:
        if spec.lower().startswith(prefix):
            return f"setup-python installs {implementation} ({spec}), not imitated here"
    if FREE_THREADED.match(spec):
        return f"setup-python installs a free-threaded CPython ({spec}), not imitated here"
    return ""


def resolve(spec: str, available: Callable[[str], bool]) -> Resolution:
    """One spec as a job here gets it; `available(X.Y)` says whether this machine has that CPython."""
    text = spec.strip()
    if reason := not_imitated(text):
        return Resolution(text, github_only=reason)
    if match := EXACT.match(text):
        minor = f"{match['major']}.{match['minor']}"
        exact = match["patch"] is None and match["pre"] is None
        return Resolution(text, minor, note="" if exact else f"{text} asked; this machine's {minor} stands in")
    alternatives = range_specifiers(text)
    if alternatives is None:
        return Resolution(text, missing=text, note=f"{text!r} is not a version or range (setup-python fails on it too)")
    matching = [minor for minor in PROBED_MINORS if _minor_matches(minor, alternatives)]
    here = next((minor for minor in matching if available(minor)), "")
    if not here:
        return Resolution(text, missing=f"a Python matching {text}", note=f"{text}: no matching Python on this machine")
    return Resolution(
        text, here, note=f"{text}: GitHub takes the newest matching release; here {here}, the newest this machine has"
    )
