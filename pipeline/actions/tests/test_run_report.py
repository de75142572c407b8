"""The run report's decisions: the critical path, the graph's columns, what the page holds (escaped)."""

from __future__ import annotations

import re
from pathlib import Path

from pipeline.actions import run_report
from pipeline.actions.history import Ended, RunRecord
from pipeline.actions.model import Result

T = 1_000.0


def ran(key: str, job: str, queued: float, started: float, ended: float) -> Ended:
    """A successful instance; times in seconds after the run began."""
    return Ended(key, job, Result.SUCCESS, ended - started, queued=T + queued, started=T + started, ended=T + ended)


def record(needs: dict[str, list[str]], instances: list[Ended], wall: float = 30.0) -> RunRecord:
    return RunRecord(".github/workflows/ci.yml", "pull_request", "run1", T, wall, {}, needs, instances, {})


DIAMOND = {"build": [], "lint": [], "unit": ["build"], "docs": ["build"], "ship": ["unit", "docs"]}


def test_the_critical_path_follows_the_need_that_ended_last_before_each_job_started() -> None:
    run = record(
        DIAMOND,
        [
            ran("build", "build", 0, 0, 5),
            ran("lint", "lint", 0, 0, 29),  # ends late but nothing waits for it: not the path to ship
            ran("unit (a)", "unit", 5, 5, 9),
            ran("unit (b)", "unit", 5, 6, 20),
            ran("docs", "docs", 5, 5, 12),
            ran("ship", "ship", 20, 20.5, 30),
        ],
    )
    assert run_report.critical_path(run) == ["build", "unit (b)", "ship"]


def test_a_skipped_job_passes_the_wait_on_and_a_lone_job_is_its_own_path() -> None:
    skipped = Ended("docs", "docs", Result.SKIPPED, queued=T + 5, ended=T + 5.1)
    run = record(DIAMOND, [ran("build", "build", 0, 0, 5), skipped, ran("ship", "ship", 5.1, 5.2, 9)])
    assert run_report.critical_path(run) == ["build", "docs", "ship"]
    assert run_report.critical_path(record({"one": []}, [ran("one", "one", 0, 1, 3)])) == ["one"]
    assert run_report.critical_path(record({"one": []}, [])) == []
    trailing = Ended("after", "after", Result.SKIPPED, queued=T + 9, ended=T + 9.5)
    run = record(
        {"build": [], "ship": ["build"], "after": ["ship"]},
        [ran("build", "build", 0, 0, 5), ran("ship", "ship", 5, 5, 9), trailing],
    )
    assert run_report.critical_path(run) == ["build", "ship"]  # a skip at the end decided nothing


def test_columns_follow_the_longest_chain_of_needs_and_keep_a_job_near_what_it_needs() -> None:
    needs = {"a": [], "b": [], "late": ["b"], "early": ["a"], "end": ["late", "a"]}
    assert run_report.columns(needs) == [["a", "b"], ["early", "late"], ["end"]]


def test_the_page_escapes_what_jobs_and_logs_hold_and_embeds_no_script(tmp_path: Path) -> None:
    log = tmp_path / ".cache/ci-logs/evil.log"
    log.parent.mkdir(parents=True)
    log.write_text("<script>alert(1)</script>\x1b[31mred\x1b[0m done\n")
    evil = Ended("<img src=x onerror=alert(1)>", "evil", Result.FAILURE, 1, log=".cache/ci-logs/evil.log", ended=T + 1)
    page = run_report.render(record({"evil": []}, [evil]), tmp_path, tmp_path / ".cache/ci-logs/r.html")
    assert "<script" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;red done" in page
    assert re.search(r'<a href="evil.log">', page), page  # beside the report
    assert '<span class="verdict failed">failed</span>' in page


def test_a_tolerated_failure_passes_and_a_job_never_reached_is_named(tmp_path: Path) -> None:
    tolerated = Ended("flaky", "flaky", Result.FAILURE, 1, started=T, ended=T + 1, tolerated=True)
    page = run_report.render(record({"flaky": [], "later": ["flaky"]}, [tolerated]), tmp_path, tmp_path / "r.html")
    assert '<span class="verdict passed">passed</span>' in page
    assert "continue-on-error: the run passes" in page
    assert "<b>later</b> not reached" in page


def test_only_the_end_of_a_long_log_is_embedded(tmp_path: Path) -> None:
    (tmp_path / "long.log").write_text("first line\n" + "x" * run_report.LOG_BYTES + "\nlast line\n")
    text = run_report.log_text(tmp_path, "long.log")
    assert "last line" in text
    assert "first line" not in text
    assert text.startswith("[the first 22 bytes are left out")
