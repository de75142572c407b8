"""Which coverage data a combine takes: this run's only (the sessions' real runs: test_nox_sessions.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline import coverage_data
from pipeline.errors import UserError

LOCAL: dict[str, str] = {}
ON_CI = {"CI": "true", "GITHUB_RUN_ID": "7001"}


def write(root: Path, measure: coverage_data.Measure, run: str, session: str, *, age: float = 0) -> Path:
    path = root / f"{coverage_data.data_file(measure, run, session)}.host.pid1.Xa"
    path.write_text("data")
    if age:
        os.utime(path, (path.stat().st_mtime - age, path.stat().st_mtime - age))
    return path


def test_names_carry_the_measure_the_run_and_a_dotless_session() -> None:
    assert coverage_data.data_file("backend", "7001", "tests-3.12") == ".coverage.backend.7001.tests-3-12"
    assert coverage_data.data_file("pipeline", "local42", "tooling(pure)") == ".coverage.pipeline.local42.tooling-pure"
    with pytest.raises(ValueError, match="unknown measure"):
        coverage_data.data_file("frontend", "1", "x")  # type: ignore[arg-type]  # the guard for untyped callers


def test_the_run_is_githubs_else_this_process() -> None:
    assert coverage_data.run_id({"GITHUB_RUN_ID": "123456"}, pid=9) == "123456"
    assert coverage_data.run_id({}, pid=9) == "local9"
    assert coverage_data.run_id({"GITHUB_RUN_ID": "a.b/c"}, pid=9) == "a-b-c"  # never a dot in the name


def test_a_session_erases_its_own_data_of_every_run_and_nothing_else(tmp_path: Path) -> None:
    own = [write(tmp_path, "backend", "local1", "tests-3.12"), write(tmp_path, "backend", "7001", "tests-3.12")]
    others = [
        write(tmp_path, "backend", "local1", "tests-3.13"),
        write(tmp_path, "backend", "local1", "tests-3.1"),  # a prefix of the session's name
        write(tmp_path, "pipeline", "local1", "tests-3.12"),  # the other measure
    ]
    assert sorted(coverage_data.erase_session(tmp_path, "backend", "tests-3.12")) == sorted(own)
    assert not any(path.exists() for path in own)
    assert all(path.exists() for path in others)


def test_a_combine_takes_this_runs_files_only(tmp_path: Path) -> None:
    this = [write(tmp_path, "backend", "7001", "tests-3.12"), write(tmp_path, "backend", "7001", "tests-3.13")]
    write(tmp_path, "backend", "6999", "tests-3.11")  # an earlier run's, newer on disk
    write(tmp_path, "pipeline", "7001", "tooling(pure)")
    selection = coverage_data.for_run(tmp_path, "backend", "7001", ON_CI)
    assert sorted(selection.files) == sorted(this)
    assert selection.sessions == ["tests-3-12", "tests-3-13"]
    assert selection.note == "this run (7001)"


def test_on_ci_a_run_without_data_fails_and_never_takes_an_older_one(tmp_path: Path) -> None:
    write(tmp_path, "backend", "6999", "tests-3.12")
    with pytest.raises(UserError, match=r"No backend coverage data of this run \(7001\).*6999.*never count"):
        coverage_data.for_run(tmp_path, "backend", "7001", ON_CI)


def test_a_measure_the_run_skipped_on_purpose_is_empty_on_ci_even_beside_older_data(tmp_path: Path) -> None:
    write(tmp_path, "pipeline", "6999", "tooling-pure")
    skipping = {**ON_CI, coverage_data.NOT_MEASURED_VARIABLE: "pipeline"}
    selection = coverage_data.for_run(tmp_path, "pipeline", "7001", skipping)
    assert selection.files == []
    assert coverage_data.unmeasured_line("pipeline", skipping).startswith("pipeline: skipped in this run")
    assert "nox -s tooling measures it" in coverage_data.unmeasured_line("pipeline", ON_CI)
    with pytest.raises(UserError, match="No backend coverage data"):  # only the named measure is excused
        coverage_data.for_run(tmp_path, "backend", "7001", skipping)


def test_a_coverage_session_of_its_own_takes_the_latest_run_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, "backend", "local1", "tests-3.11", age=600)
    latest = write(tmp_path, "backend", "local2", "tests-3.12", age=60)
    selection = coverage_data.for_run(tmp_path, "backend", "local3", LOCAL)
    assert selection.files == [latest]
    assert "the latest run (local2)" in selection.note
    assert coverage_data.for_run(tmp_path, "pipeline", "local3", LOCAL).files == []  # nothing measured


def test_the_backend_threshold_is_coverages_own() -> None:
    assert coverage_data.backend_fail_under(Path(__file__).resolve().parents[2]) == 90


def test_the_summary_line_names_figure_threshold_and_origin() -> None:
    selection = coverage_data.Selection([], "7001", ["tooling-pure", "tooling-tools"], "this run (7001)")
    assert coverage_data.summary_line("pipeline", "84", 80, selection) == (
        "pipeline coverage 84% (fail under 80%), from tooling-pure, tooling-tools in this run (7001)"
    )
