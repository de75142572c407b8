"""Finding the Pythons the sessions need, where people keep them, without asking for exports.

Looked for in three places, and only there:
  1. PATH (`python3.X`), except shim folders (pyenv's shims fail for inactive versions)
     and virtual environments;
  2. pyenv's installed versions, `$PYENV_ROOT/versions/*/bin/python3.X` (PYENV_ROOT
     defaults to ~/.pyenv), whatever patch versions exist, active or not;
  3. uv's managed interpreters, `$UV_PYTHON_INSTALL_DIR/cpython-3.X.*/bin/python3.X`
     (by default uv's data folder).
No subprocess: a directory scan, cheap enough for every `nox -l`. The ones found
are linked into one folder that the noxfile puts first on PATH, so nox and uv
see them. A version found nowhere is downloaded by uv where downloads are allowed
(outside CI), else named at the end of the run with the command that installs
it on this machine.
"""

from __future__ import annotations

import atexit
import hashlib
import logging
import os
import re
import shutil
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from pipeline import console
from pipeline.errors import UserError

LINKS_DIR = Path(".cache/pythons")
MINOR_VERSION = re.compile(r"^\d+\.\d+$")
PATCH_DIR = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
UV_DIR = re.compile(r"^cpython-(\d+)\.(\d+)\.(\d+)-")
DOWNLOADS_OFF = {"never", "manual"}


@dataclass(frozen=True)
class Found:
    version: str
    executable: Path
    where: str  # PATH | pyenv | uv


def pyenv_root(environ: Mapping[str, str]) -> Path:
    return Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv").expanduser()


def uv_python_dir(environ: Mapping[str, str]) -> Path:
    if environ.get("UV_PYTHON_INSTALL_DIR"):
        return Path(environ["UV_PYTHON_INSTALL_DIR"]).expanduser()
    data = Path(environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share").expanduser()
    return data / "uv" / "python"


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _newest(candidates: Iterable[tuple[tuple[int, ...], Path]]) -> Path | None:
    ranked = sorted(candidates, key=lambda item: item[0])
    return ranked[-1][1] if ranked else None


def on_path(version: str, environ: Mapping[str, str], skip: Iterable[Path] = ()) -> Path | None:
    for folder in environ.get("PATH", "").split(os.pathsep):
        # Shim folders (pyenv's fail for inactive versions) and virtual environments (bootstrap's .tools/) are
        # not interpreters to build session environments from.
        if not folder or Path(folder).name == "shims" or (Path(folder).parent / "pyvenv.cfg").is_file():
            continue
        candidate = Path(folder) / f"python{version}"
        if _runnable(candidate) and not any(_under(Path(folder), parent) for parent in skip):
            return candidate
    return None


def in_pyenv(version: str, environ: Mapping[str, str]) -> Path | None:
    versions = pyenv_root(environ) / "versions"
    if not versions.is_dir():
        return None
    major, minor = version.split(".")
    candidates = []
    for folder in versions.iterdir():
        match = PATCH_DIR.match(folder.name)
        executable = folder / "bin" / f"python{version}"
        if match and match.group(1, 2) == (major, minor) and _runnable(executable):
            candidates.append((tuple(int(part) for part in match.groups()), executable))
    return _newest(candidates)


def in_uv(version: str, environ: Mapping[str, str]) -> Path | None:
    folder = uv_python_dir(environ)
    if not folder.is_dir():
        return None
    major, minor = version.split(".")
    candidates = []
    for install in folder.iterdir():
        match = UV_DIR.match(install.name)
        executable = install / "bin" / f"python{version}"
        if match and match.group(1, 2) == (major, minor) and _runnable(executable):
            candidates.append((tuple(int(part) for part in match.groups()), executable))
    return _newest(candidates)


def find(version: str, environ: Mapping[str, str], skip: Iterable[Path] = ()) -> Found | None:
    """Where `python{version}` (X.Y) is on this machine: PATH first, then pyenv, then uv."""
    if not MINOR_VERSION.match(version):
        return None
    if (path := on_path(version, environ, skip)) is not None:
        return Found(version, path, "PATH")
    if (path := in_pyenv(version, environ)) is not None:
        return Found(version, path, "pyenv")
    if (path := in_uv(version, environ)) is not None:
        return Found(version, path, "uv")
    return None


def downloads_allowed(environ: Mapping[str, str]) -> bool:
    """uv may download a missing Python: outside CI, unless UV_PYTHON_DOWNLOADS forbids it."""
    return not console.on_ci(environ) and environ.get("UV_PYTHON_DOWNLOADS", "").lower() not in DOWNLOADS_OFF


def has_pyenv(environ: Mapping[str, str]) -> bool:
    return (pyenv_root(environ) / "bin" / "pyenv").is_file() or shutil.which(
        "pyenv", path=environ.get("PATH")
    ) is not None


def pyenv_versions(environ: Mapping[str, str]) -> list[str]:
    versions = pyenv_root(environ) / "versions"
    if not versions.is_dir():
        return []
    names = [folder.name for folder in versions.iterdir() if PATCH_DIR.match(folder.name)]
    return sorted(names, key=lambda name: tuple(int(part) for part in name.split(".")))


def install_command(missing: Iterable[str], environ: Mapping[str, str]) -> str:
    """The command that installs the missing versions on this machine (pyenv where it exists, else uv)."""
    versions = " ".join(missing)
    return f"pyenv install {versions}" if has_pyenv(environ) else f"uv python install {versions}"


def missing_error(missing: list[str], environ: Mapping[str, str], *, tried_download: bool) -> UserError:
    """One paragraph: which versions, where they were looked for, the command for this machine."""
    names = ", ".join(f"Python {version}" for version in missing)
    places = f"PATH, pyenv's versions in {pyenv_root(environ)}, uv's in {uv_python_dir(environ)}"
    seen = pyenv_versions(environ)
    if seen:
        places += f" (pyenv has {', '.join(seen)})"
    if tried_download:
        why = "and uv could not download it"
    elif console.on_ci(environ):
        why = "and on CI nothing is downloaded"
    else:
        why = f"and UV_PYTHON_DOWNLOADS={environ.get('UV_PYTHON_DOWNLOADS')} forbids uv to download it"
    return UserError(
        f"{names} was not found on this machine ({places}) {why}, so its sessions failed",
        f"`{install_command(missing, environ)}`, then run again (the noxfile finds pyenv's and uv's Pythons itself)",
    )


def expose(versions: Iterable[str], root: Path, environ: MutableMapping[str, str]) -> tuple[list[Found], list[str]]:
    """Find each version, link the found ones into a folder under root/.cache/pythons/ and put it first on PATH.

    One folder per set of interpreters found (named by a hash of it), so runs with different
    environments side by side (a developer's, `invoke ci` imitating a runner) never rewrite
    each other's links. Returns (found, missing); `environ` (os.environ in the noxfile) gets the PATH.
    """
    links_root = root / LINKS_DIR
    found: list[Found] = []
    missing: list[str] = []
    for version in versions:
        hit = find(version, environ, skip=[links_root])
        if hit is None:
            missing.append(version)
        else:
            found.append(hit)
    listing = "\n".join(f"{hit.version}={hit.executable}" for hit in found)
    links = links_root / hashlib.sha256(listing.encode()).hexdigest()[:12]
    links.mkdir(parents=True, exist_ok=True)
    for hit in found:
        link = links / f"python{hit.version}"
        if link.is_symlink() and link.readlink() == hit.executable:
            continue
        staging = links / f".{link.name}.{os.getpid()}"
        staging.unlink(missing_ok=True)
        staging.symlink_to(hit.executable)
        staging.replace(link)
    parts = [part for part in environ.get("PATH", "").split(os.pathsep) if part and not _under(Path(part), links_root)]
    environ["PATH"] = os.pathsep.join([str(links), *parts])
    return found, missing


def _under(folder: Path, parent: Path) -> bool:
    return folder.resolve().is_relative_to(parent.resolve())


NOT_FOUND = re.compile(r"Python interpreter (?:python)?(\d+\.\d+)\S* not found")


class MissingRecorder(logging.Handler):
    """Notes the versions nox reports as not found, for one paragraph at the end of the run."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.versions: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        match = NOT_FOUND.search(record.getMessage())
        if match and match.group(1) not in self.versions:
            self.versions.append(match.group(1))


def report_missing_at_exit(environ: Mapping[str, str], logger: str = "nox") -> MissingRecorder:
    """After nox's own summary, the last thing printed: which Pythons were missing and the command."""
    recorder = MissingRecorder()
    logging.getLogger(logger).addHandler(recorder)
    tried = downloads_allowed(environ)

    def report() -> None:
        if recorder.versions:
            console.report_user_error(missing_error(sorted(recorder.versions), environ, tried_download=tried))

    atexit.register(report)
    return recorder
