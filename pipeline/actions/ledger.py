"""What one local run knows so far: every instance's outcome, every job's result and outputs, and what
each job is doing now (for the live display). The scheduler writes it; `needs` contexts are read from it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipeline.actions import contexts, expressions
from pipeline.actions.expressions import ExpressionError
from pipeline.actions.jobs import JobRun
from pipeline.actions.model import Instance, Outcome, Result, job_result, needs_of
from pipeline.actions.session import RunSession


@dataclass
class JobState:
    """A job's instances and how far they are."""

    instances: list[Instance] = field(default_factory=list)
    queued: list[Instance] = field(default_factory=list)
    running: dict[str, JobRun] = field(default_factory=dict)


class Ledger:
    """Outcomes per instance, results and outputs per job, and the live state of each instance."""

    def __init__(self, session: RunSession, say: Callable[[str], None]) -> None:
        self.session = session
        self.jobs = session.workflow.jobs
        self.say = say
        self.results: dict[str, Result] = {}
        self.job_outputs: dict[str, dict[str, str]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.states: dict[str, JobState] = {}
        self.live: dict[str, tuple[str, float]] = {}
        self.times: dict[str, dict[str, float]] = {}  # instance key -> state -> when (seconds since the epoch)
        self.lock = threading.Lock()

    def mark(self, key: str, state: str) -> None:
        with self.lock:
            self.live[key] = (state, time.monotonic())
            self.times.setdefault(key, {}).setdefault(state if state in ("queued", "running") else "ended", time.time())
        self.say(f"{key}: {state}")

    def finish(self, instance: Instance, outcome: Outcome) -> None:
        self.outcomes[instance.key] = outcome
        kept = f" [kept from run {outcome.kept_from}]" if outcome.kept_from else ""
        self.mark(instance.key, outcome.result.value + (f" ({outcome.note})" if outcome.note else "") + kept)

    def needs_context(self, job_id: str) -> dict[str, Any]:
        results = {job: {"result": self.results[job].value, "outputs": self.job_outputs[job]} for job in self.results}
        return contexts.needs_context(results, needs_of(self.jobs[job_id]))

    def settle(self, job_id: str) -> None:
        """Once every instance of the job has ended: the job's result (GitHub's rule over its instances,
        a tolerated failure counting as success) and its outputs."""
        state = self.states[job_id]
        if state.queued or state.running or any(i.key not in self.outcomes for i in state.instances):
            return
        for instance in state.instances:
            outcome = self.outcomes[instance.key]
            outcome.tolerated = outcome.result is Result.FAILURE and self.continues_on_error(instance)
        results = [
            Result.SUCCESS if self.outcomes[i.key].tolerated else self.outcomes[i.key].result for i in state.instances
        ]
        self.results[job_id] = job_result(results)
        self.job_outputs[job_id] = {k: v for i in state.instances for k, v in self.outcomes[i.key].outputs.items()}

    def continues_on_error(self, instance: Instance) -> bool:
        """`continue-on-error` of a job (per matrix entry): its failure does not fail the run, and
        `needs` reports it as success (GitHub's behaviour, actions/runner#1161)."""
        value = instance.definition.get("continue-on-error", False)
        if isinstance(value, str):
            data = {**self.session.base_contexts(self.needs_context(instance.job_id)), "matrix": dict(instance.matrix)}
            data["strategy"] = {}
            allowed = expressions.AVAILABILITY["jobs.<job_id>.continue-on-error"]
            try:
                value = expressions.evaluate_template(value, data, allowed=allowed)
            except ExpressionError:
                return False
        return expressions.truthy(value)

    def any_failed(self) -> bool:
        return any(outcome.fails_the_run for outcome in self.outcomes.values())

    def running(self) -> list[JobRun]:
        with self.lock:
            return [run for state in self.states.values() for run in state.running.values()]
