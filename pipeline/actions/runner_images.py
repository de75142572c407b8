"""The hosted runner images `invoke ci` imitates, and the world a job sees.

One place for what a fresh GitHub-hosted runner has (from actions/runner-images:
the Ubuntu 24.04 and 22.04 readmes and toolsets): its system Python, its default Node,
and no pyenv. Other CPythons sit in the tool cache, off PATH until a
`setup-python` step adds them. A job here gets exactly that: the Pythons its
`setup-python` steps install plus the image's system Python, no others.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pipeline import interpreters


@dataclass(frozen=True)
class RunnerImage:
    label: str
    system_python: str  # `python3` on a fresh runner
    node: str  # the default `node`


UBUNTU_24_04 = RunnerImage("ubuntu-24.04", system_python="3.12", node="22")
UBUNTU_22_04 = RunnerImage("ubuntu-22.04", system_python="3.10", node="20")
RUNNER_IMAGES: Mapping[str, RunnerImage] = {
    "ubuntu-24.04": UBUNTU_24_04,
    "ubuntu-latest": UBUNTU_24_04,
    "ubuntu-22.04": UBUNTU_22_04,
}
PYTHON_NAME = re.compile(r"^python(\d+(\.\d+)?)?(-config|m)?$")
OTHER_SYSTEMS = (("windows", "Windows"), ("macos", "macOS"))


def runner_for(runs_on: object) -> RunnerImage | str:
    """The image a `runs-on` value (already evaluated) names, or why only GitHub can run the job."""
    if isinstance(runs_on, list) and len(runs_on) == 1:
        runs_on = runs_on[0]
    if isinstance(runs_on, (list, Mapping)):
        return f"runs-on {json.dumps(runs_on)} picks a runner by labels or group (self-hosted or larger runners)"
    label = str(runs_on).strip()
    if label in RUNNER_IMAGES:
        return RUNNER_IMAGES[label]
    lowered = label.lower()
    for prefix, system in OTHER_SYSTEMS:
        if lowered.startswith(prefix):
            return f"runs-on {label} is {system}; invoke ci imitates Linux runners"
    if "arm" in lowered.split("-"):
        return f"runs-on {label} is an arm runner; invoke ci imitates x64 runners"
    if lowered.startswith("ubuntu-"):
        return f"runs-on {label} is a runner image invoke ci does not imitate ({', '.join(RUNNER_IMAGES)})"
    return f"runs-on {label} is a self-hosted or larger runner's label; invoke ci imitates {', '.join(RUNNER_IMAGES)}"


def host_python(version: str, environ: Mapping[str, str]) -> Path | None:
    """Where this machine has CPython `version` (X.Y), found as the sessions find it."""
    found = interpreters.find(version, environ)
    return found.executable if found else None


@dataclass(frozen=True)
class JobWorld:
    """PATH and environment for one job: the runner image's tools, its Pythons, nothing of the host's."""

    bin_dir: Path
    pythons: tuple[str, ...]
    missing: tuple[str, ...]

    def environ(self, host: Mapping[str, str], system_path: str, empty_dir: Path) -> dict[str, str]:
        env = {key: value for key, value in host.items() if not key.startswith(("PYENV", "VIRTUAL_ENV", "UV_PYTHON"))}
        env["PATH"] = os.pathsep.join([str(self.bin_dir), system_path])
        env["PYENV_ROOT"] = str(empty_dir)  # a hosted runner has no pyenv
        env["UV_PYTHON_INSTALL_DIR"] = str(empty_dir)  # nor uv-managed Pythons
        return env


def system_path(host: Mapping[str, str], mirrors: Path) -> str:
    """The host's PATH as a runner image would have it: no pyenv, no other Python interpreters."""
    pyenv_root = Path(host.get("PYENV_ROOT", Path.home() / ".pyenv"))
    return os.pathsep.join(dict.fromkeys(_without_pythons(host.get("PATH", ""), pyenv_root, mirrors)))


def _without_pythons(path: str, pyenv_root: Path, mirrors: Path) -> Iterable[str]:
    """PATH entries with pyenv left out and other folders holding Pythons replaced by Python-free mirrors."""
    for entry in path.split(os.pathsep):
        folder = Path(entry)
        if not entry or folder.is_relative_to(pyenv_root) or not folder.is_dir():
            continue
        if any(PYTHON_NAME.match(child.name) for child in folder.iterdir()):
            yield str(_mirror_without_python(folder, mirrors))
        else:
            yield entry


def _mirror_without_python(folder: Path, mirrors: Path) -> Path:
    """A folder of links to everything in `folder` but its Python interpreters."""
    mirror = mirrors / str(folder.resolve()).strip("/").replace("/", "_")
    if not mirror.is_dir():
        mirror.mkdir(parents=True)
        for child in folder.iterdir():
            if not PYTHON_NAME.match(child.name):
                (mirror / child.name).symlink_to(child)
    return mirror


def build_world(image: RunnerImage, setup_versions: Iterable[str], home: Path, host: Mapping[str, str]) -> JobWorld:
    """The job's Python folder: `python3.X` for each Python it has; `python3` is setup-python's
    last version, else the image's system Python. It outlives the run (under .cache/), because the
    session environments nox builds in a job keep pointing at it."""
    wanted = list(dict.fromkeys([image.system_python, *setup_versions]))
    default = [image.system_python, *setup_versions][-1]
    bin_dir = home / f"python-{'-'.join(wanted)}-default-{default}"
    if bin_dir.is_dir() and all(link.exists() for link in bin_dir.iterdir()):
        return JobWorld(bin_dir, tuple(wanted), ())
    found = {version: host_python(version, host) for version in wanted}
    missing = tuple(version for version, interpreter in found.items() if interpreter is None)
    if missing:
        return JobWorld(bin_dir, tuple(wanted), missing)
    staging = home / f".{bin_dir.name}.{os.getpid()}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for version, interpreter in ((v, i) for v, i in found.items() if i is not None):
        real = interpreter.resolve()
        names = [f"python{version}", *(("python3", "python") if version == default else ())]
        for name in names:
            (staging / name).symlink_to(real)
    shutil.rmtree(bin_dir, ignore_errors=True)
    try:
        staging.rename(bin_dir)
    except OSError:  # another run made it first
        shutil.rmtree(staging, ignore_errors=True)
    return JobWorld(bin_dir, tuple(wanted), ())
