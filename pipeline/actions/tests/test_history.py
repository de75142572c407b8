"""The record of a run and what `invoke ci --failed` keeps from it (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.actions import history
from pipeline.actions.history import Ended, RunRecord
from pipeline.actions.model import Result, needs_of
from pipeline.errors import UserError

JOBS: dict[str, Any] = {
    "sessions": {},
    "checks": {"needs": "sessions"},
    "tests": {"needs": ["sessions"]},
    "coverage": {"needs": ["tests", "checks"]},
    "gate": {"needs": ["coverage", "checks", "tests"]},
}


def record(*ended: Ended, files: dict[str, str] | None = None) -> RunRecord:
    return RunRecord(
        ".github/workflows/ci.yml",
        "pull_request",
        "abc123",
        0.0,
        1.0,
        {"CI_ALL_AREAS": "true"},
        {job: list(needs_of(definition)) for job, definition in JOBS.items()},
        list(ended),
        files if files is not None else {"a.py": "1"},
    )


OK, FAIL, SKIP, CANCELLED = Result.SUCCESS, Result.FAILURE, Result.SKIPPED, Result.CANCELLED


def run_of(**results: Result) -> list[Ended]:
    """`tests_3_12=FAILURE` -> an instance `tests (3.12)` of job tests."""
    ended = []
    for name, result in results.items():
        job, _, entry = name.partition("_")
        key = f"{job} ({entry.replace('_', '.')})" if entry else job
        ended.append(Ended(key, job, result, outputs={"out": key}))
    return ended


def test_a_failed_entry_and_everything_downstream_run_again_the_rest_is_kept() -> None:
    last = record(
        *run_of(sessions=OK, checks_lint=OK, checks_format=OK, tests_3_12=FAIL, tests_3_13=OK, coverage=SKIP, gate=FAIL)
    )
    kept = history.kept_outcomes(last, JOBS, Path("/p"))
    assert sorted(kept) == ["checks (format)", "checks (lint)", "sessions", "tests (3.13)"]
    assert kept["sessions"].outputs == {"out": "sessions"}
    assert {outcome.kept_from for outcome in kept.values()} == {"abc123"}


def test_a_failed_producer_runs_every_entry_of_what_needs_it_again() -> None:
    last = record(*run_of(sessions=FAIL, checks_lint=OK, tests_3_12=FAIL, tests_3_13=OK))
    assert history.kept_outcomes(last, JOBS, Path("/p")) == {}  # tests (3.13) needs sessions, which runs again


def test_jobs_an_interrupted_run_never_reached_run_again_with_their_dependants() -> None:
    last = record(*run_of(sessions=OK, checks_lint=OK, tests_3_12=CANCELLED))
    assert sorted(history.kept_outcomes(last, JOBS, Path("/p"))) == ["checks (lint)", "sessions"]


def test_a_kept_result_keeps_the_run_that_ran_it() -> None:
    first = Ended("sessions", "sessions", Result.SUCCESS, kept_from="older1")
    last = record(first, *run_of(tests_3_12=Result.FAILURE))
    assert history.kept_outcomes(last, JOBS, Path("/p"))["sessions"].kept_from == "older1"


def test_nothing_failed_is_refused() -> None:
    last = record(*run_of(sessions=OK, checks=OK, tests=OK, coverage=OK, gate=SKIP))
    with pytest.raises(UserError, match="nothing failed in the last run"):
        history.kept_outcomes(last, JOBS, Path("/p"))


def test_any_changed_added_or_removed_file_refuses_and_names_it() -> None:
    last = record(files={"a.py": "1", "b.py": "2"})
    history.refuse_a_changed_tree(last, {"a.py": "1", "b.py": "2"})
    for now, named in (({"a.py": "9", "b.py": "2"}, "a.py"), ({"a.py": "1"}, "b.py"), ({**last.files, "c": "3"}, "c")):
        with pytest.raises(UserError, match=rf"1 file\(s\) changed since the last run.*: {named}\."):
            history.refuse_a_changed_tree(last, now)
    with pytest.raises(UserError, match="recorded no files"):
        history.refuse_a_changed_tree(record(files={}), {})


def test_a_record_survives_its_file_and_a_missing_or_broken_one_is_a_paragraph(tmp_path: Path) -> None:
    last = record(*run_of(sessions=Result.SUCCESS, tests_3_12=Result.FAILURE))
    path = history.save(last, tmp_path)
    assert path == tmp_path / ".cache/ci-runs/.github_workflows_ci.yml.pull_request.json"
    assert history.load(tmp_path, last.workflow, "pull_request") == last
    with pytest.raises(UserError, match=r"no earlier run of \.github/workflows/ci\.yml on push"):
        history.load(tmp_path, last.workflow, "push")
    path.write_text("{not json")
    with pytest.raises(UserError, match="cannot be read"):
        history.load(tmp_path, last.workflow, "pull_request")


def test_durations_keep_what_ran_over_earlier_runs_and_ignore_skips_and_kept_results(tmp_path: Path) -> None:
    first = record(
        Ended("tests (a)", "tests", OK, 20.0, started=1.0), Ended("checks", "checks", FAIL, 4.0, started=1.0)
    )
    history.save(first, tmp_path)
    second = record(
        Ended("tests (a)", "tests", SKIP, 0.0),  # skipped by an area rule: its time stays
        Ended("checks", "checks", OK, 6.0, started=1.0),
        Ended("coverage", "coverage", OK, 9.0, started=1.0, kept_from="abc"),  # not run here
    )
    history.save(second, tmp_path)
    assert history.durations(tmp_path, ".github/workflows/ci.yml") == {
        "tests": {"tests (a)": 20.0},
        "checks": {"checks": 6.0},
    }
    history.durations_path(tmp_path, ".github/workflows/ci.yml").write_text("[not, a, table")
    assert history.durations(tmp_path, ".github/workflows/ci.yml") == {}
