"""Which ready job a local run starts first when it has fewer workers than ready jobs."""

from __future__ import annotations

from typing import Any

from pipeline.actions.ledger import JobState
from pipeline.actions.model import Instance
from pipeline.actions.scheduler import startable, work_after

# The shape of ci.yml: quick checks and a long engine tier are ready together; coverage needs both.
JOBS: dict[str, Any] = {
    "lint": {},
    "tests": {"strategy": {"max-parallel": 1}},
    "engine": {},
    "coverage": {"needs": ["lint", "tests", "engine"]},
    "all-green": {"needs": ["coverage"]},
}
DURATIONS = {"lint": {"lint": 3.0}, "tests": {"tests (a)": 20.0, "tests (b)": 25.0}, "engine": {"engine": 270.0}}


def queued(*instances: Instance) -> dict[str, JobState]:
    states: dict[str, JobState] = {}
    for instance in instances:
        state = states.setdefault(instance.job_id, JobState())
        state.instances.append(instance)
        state.queued.append(instance)
    return states


LINT = Instance("lint", "lint", JOBS["lint"])
TESTS_A = Instance("tests", "a", JOBS["tests"], {"python": "a"})
TESTS_B = Instance("tests", "b", JOBS["tests"], {"python": "b"})
ENGINE = Instance("engine", "engine", JOBS["engine"])


def test_without_earlier_times_jobs_start_in_the_workflows_order() -> None:
    states = queued(LINT, TESTS_A, TESTS_B, ENGINE)
    assert [instance.key for instance in startable(states, JOBS, workers=2)] == ["lint", "tests (a)"]


def test_the_longest_chain_starts_first_and_max_parallel_still_holds() -> None:
    after = work_after(JOBS, DURATIONS)
    assert after == {"lint": 0.0, "tests": 0.0, "engine": 0.0, "coverage": 0.0, "all-green": 0.0}
    timed = {**DURATIONS, "coverage": {"coverage": 5.0}}
    assert work_after(JOBS, timed)["engine"] == 5.0
    priority = {"lint": 3.0, "tests (a)": 20.0, "tests (b)": 25.0, "engine": 270.0}
    states = queued(LINT, TESTS_A, TESTS_B, ENGINE)
    started = [instance.key for instance in startable(states, JOBS, workers=3, priority=priority)]
    assert started == ["engine", "tests (b)", "lint"]  # tests (a) waits: max-parallel 1
    assert [instance.key for instance in states["tests"].queued] == ["tests (a)"]
