"""The states a local run moves through, typed as GitHub names them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any


class Result(StrEnum):
    """A job's or step's conclusion, with GitHub's names (what `needs.<job>.result` reads)."""

    SUCCESS = "success"
    FAILURE = "failure"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


class StepKind(Enum):
    """What happens to a step here."""

    RUNS_HERE = "runs here"
    GITHUB_ONLY = "GitHub only"
    SKIPPED_BY_CONDITION = "skipped by its condition"


@dataclass(frozen=True)
class Instance:
    """One job run: a job, or one entry of its matrix."""

    job_id: str
    name: str
    definition: Mapping[str, Any]
    matrix: Mapping[str, Any] = field(default_factory=dict)
    index: int = 0
    total: int = 1

    @property
    def key(self) -> str:
        """Unique in a run: the name, with the job id for a named matrix entry (`tests (tests-3.12)`)."""
        if not self.matrix or self.name.startswith(f"{self.job_id} ("):
            return self.name
        return f"{self.job_id} ({self.name})"

    @property
    def needs(self) -> tuple[str, ...]:
        return needs_of(self.definition)


# A job of a called workflow keeps its caller under CALL_KEY; the end of a call (under the caller's id) keeps
# its called jobs and the caller's own needs under CALLED_KEY (pipeline.actions.reusable).
CALL_KEY = "x-invoke-ci-call"
CALLED_KEY = "x-invoke-ci-called"


def status_needs(job: Mapping[str, Any]) -> tuple[str, ...]:
    """The jobs whose results a job's status functions read: its needs, but for the end of a call, its
    caller's (GitHub reports a call as one job; the called jobs are not the dependants' ancestors)."""
    return tuple(job[CALLED_KEY]["needs"]) if CALLED_KEY in job else needs_of(job)


def needs_of(job: Mapping[str, Any]) -> tuple[str, ...]:
    needs = job.get("needs") or []
    return (needs,) if isinstance(needs, str) else tuple(str(need) for need in needs)


@dataclass
class Outcome:
    """How an instance ended here."""

    result: Result
    seconds: float = 0.0
    log: Path | None = None
    summary: Path | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    note: str = ""
    tolerated: bool = False  # a failure the job's continue-on-error lets the run pass
    kept_from: str = ""  # invoke ci --failed: the earlier run whose result this is (the job did not run again)

    @property
    def fails_the_run(self) -> bool:
        return self.result is Result.CANCELLED or (self.result is Result.FAILURE and not self.tolerated)


def job_result(results: Sequence[Result]) -> Result:
    """A matrix job's result as `needs` reports it."""
    if Result.FAILURE in results:
        return Result.FAILURE
    if Result.CANCELLED in results:
        return Result.CANCELLED
    if results and all(result is Result.SKIPPED for result in results):
        return Result.SKIPPED
    return Result.SUCCESS
