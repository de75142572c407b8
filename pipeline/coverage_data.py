"""Coverage data that belongs to one run, so a figure measures only that run.

Two measures, each with its own data files and threshold:

  backend   the Django service, measured by the tests sessions (`[tool.coverage]` in pyproject.toml)
  pipeline  this package and the entry files (noxfile.py, tasks.py, bootstrap.py), measured by the
            tooling sessions; the nox and invoke processes their tests start on copies of the project
            are measured too (`patch = ["subprocess"]`; `[tool.coverage.paths]` maps a copy back here)

A measured session first erases its own data of every earlier run, then writes
`.coverage.<measure>.<run>.<session>` (coverage appends `.<host>.pid<pid>.<random>` per process).
The run is `GITHUB_RUN_ID` on GitHub and under `invoke ci` (whose jobs share one checkout), otherwise
the nox process: the sessions of one `nox` command are one run. A combine takes the files of this
run only; a `nox -s coverage` of its own takes the latest run's, and says so. On CI (`CI=true`) a
run without data is an error, never an older run's figure.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pipeline import console
from pipeline.errors import UserError

Measure = Literal["backend", "pipeline"]
MEASURES: tuple[Measure, ...] = get_args(Measure)
MEASURED_BY: dict[Measure, str] = {"backend": "nox -s tests", "pipeline": "nox -s tooling"}
# The pipeline's threshold, a little under what its tests measure (`nox -s tooling coverage`).
PIPELINE_FAIL_UNDER = 80
# `coverage run` options of the pipeline measure (the backend's are [tool.coverage.run]): this checkout's
# Python outside the backend, its tests and the environments in it (only packages are walked for files
# never imported, so the backend's folders, which are not packages, and .nox/ stay out anyway).
PIPELINE_RUN_OPTIONS = (
    "--source=.",
    "--omit=backend/*,*/tests/*,*/conftest.py,.nox/*,.tools/*,.cache/*",
)
# Where a combine writes each measure's data: away from the data files, because coverage's reporting commands
# combine every `<data file>.*` beside the data file they read (and delete them) before they report.
COMBINED = {measure: Path(f"reports/coverage/{measure}.coverage") for measure in MEASURES}
# Set by a combining job to the measures whose jobs did not run in this run (ci.yml: the tooling jobs skipped
# by their area rule), so that their absence is expected and not an error.
NOT_MEASURED_VARIABLE = "COVERAGE_NOT_MEASURED"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def token(session: str) -> str:
    """A session name without dots or brackets: `tests-3.12` -> `tests-3-12`, `tooling(pure)` -> `tooling-pure`."""
    return _UNSAFE.sub("-", session).strip("-")


def run_id(environ: Mapping[str, str], pid: int | None = None) -> str:
    """GitHub's run (also `invoke ci`'s), else this process: one `nox` command is one run."""
    run = _UNSAFE.sub("-", environ.get("GITHUB_RUN_ID", "")).strip("-")
    return run or f"local{os.getpid() if pid is None else pid}"


def data_file(measure: Measure, run: str, session: str) -> str:
    """COVERAGE_FILE of a session in a run."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}")
    return f".coverage.{measure}.{run}.{token(session)}"


@dataclass(frozen=True)
class DataFile:
    path: Path
    measure: Measure
    run: str
    session: str  # its token


def data_files(root: Path, measure: Measure) -> list[DataFile]:
    """Every data file of a measure in `root`, of any run."""
    found = []
    for path in sorted(root.glob(f".coverage.{measure}.*")):
        parts = path.name.split(".", 5)  # '', 'coverage', measure, run, session[, host.pid.random]
        if len(parts) >= 5 and path.is_file():
            found.append(DataFile(path, measure, parts[3], parts[4]))
    return found


def erase_session(root: Path, measure: Measure, session: str) -> list[Path]:
    """Remove a session's data of every earlier run (before it measures again); returns what went."""
    gone = [found.path for found in data_files(root, measure) if found.session == token(session)]
    for path in gone:
        path.unlink(missing_ok=True)
    return gone


@dataclass(frozen=True)
class Selection:
    files: list[Path]
    run: str
    sessions: list[str]
    note: str  # which run, in words


def not_measured(environ: Mapping[str, str]) -> set[str]:
    """The measures this run skipped on purpose (their jobs skipped by an area rule): NOT_MEASURED_VARIABLE."""
    return set(environ.get(NOT_MEASURED_VARIABLE, "").split()) & set(MEASURES)


def for_run(root: Path, measure: Measure, run: str, environ: Mapping[str, str]) -> Selection:
    """The data files a combine of `measure` takes: this run's; outside CI, without any, the latest run's.

    On CI a run without data raises UserError, unless the run skipped the measure on purpose (`not_measured`);
    an empty Selection means nothing was measured.
    """
    if measure in not_measured(environ):
        return Selection([], "", [], f"skipped in this run ({NOT_MEASURED_VARIABLE} names it)")
    files = data_files(root, measure)
    chosen = [found for found in files if found.run == run]
    note = f"this run ({run})"
    if not chosen and not console.on_ci(environ) and files:
        latest = max(files, key=lambda found: found.path.stat().st_mtime).run
        chosen = [found for found in files if found.run == latest]
        note = f"the latest run ({latest}), since this nox command measured nothing itself"
    if not chosen and console.on_ci(environ):
        older = sorted({found.run for found in files})
        raise UserError(
            f"No {measure} coverage data of this run ({run}) is here"
            + (f"; only of other runs ({', '.join(older)}), which never count" if older else ""),
            "run the sessions that measure it in the same run (on GitHub: the jobs this one needs, "
            "whose coverage-data-* artifacts it downloads)",
        )
    return Selection(
        [found.path for found in chosen], run if chosen else "", sorted({found.session for found in chosen}), note
    )


def unmeasured_line(measure: Measure, environ: Mapping[str, str]) -> str:
    """The summary line of a measure without data in this run: skipped on purpose, or never run here."""
    if measure in not_measured(environ):
        return f"{measure}: skipped in this run (its sessions' jobs did not run: the change is outside their area)"
    return f"{measure}: not measured in this run ({MEASURED_BY[measure]} measures it)"


def backend_fail_under(root: Path) -> float:
    """The backend's threshold: `fail_under` of [tool.coverage.report], which `coverage report` enforces."""
    with (root / "pyproject.toml").open("rb") as handle:
        return float(tomllib.load(handle)["tool"]["coverage"]["report"].get("fail_under", 0))


def summary_line(measure: Measure, total: str, fail_under: float, selection: Selection) -> str:
    """One line: the figure, the threshold, where it came from."""
    return (
        f"{measure} coverage {total}% (fail under {fail_under:g}%), "
        f"from {', '.join(selection.sessions)} in {selection.note}"
    )
