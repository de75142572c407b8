"""The job graph of one run: jobs start when their needs are done, side by side up to the
worker count, matrices honour `fail-fast` and `max-parallel`, a stop cancels everything."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from pipeline.actions import contexts, environment, expressions, plan
from pipeline.actions.expressions import ExpressionError
from pipeline.actions.jobs import JobRun
from pipeline.actions.model import Instance, Outcome, Result, job_result, needs_of
from pipeline.actions.session import RunSession
from pipeline.errors import UserError


@dataclass(frozen=True)
class Selection:
    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    pythons: Sequence[str] = ()
    fail_fast: bool = False  # local: start no new job after the first failure


@dataclass
class JobState:
    """A job's instances and how far they are."""

    instances: list[Instance] = field(default_factory=list)
    queued: list[Instance] = field(default_factory=list)
    running: dict[str, JobRun] = field(default_factory=dict)


class Scheduler:
    """Runs a workflow's jobs in `needs:` order; `outcomes` holds every instance's end."""

    def __init__(self, session: RunSession, selection: Selection, workers: int, say: Callable[[str], None]) -> None:
        self.session = session
        self.selection = selection
        self.workers = max(1, workers)
        self.say = say
        self.jobs = session.workflow.jobs
        self.order = plan.topological_order(self.jobs)
        self.results: dict[str, Result] = {}
        self.job_outputs: dict[str, dict[str, str]] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.states: dict[str, JobState] = {}
        self.live: dict[str, tuple[str, float]] = {}
        self.lock = threading.Lock()
        self.cancelled = threading.Event()

    def mark(self, key: str, state: str) -> None:
        with self.lock:
            self.live[key] = (state, time.monotonic())
        self.say(f"{key}: {state}")

    def finish(self, instance: Instance, outcome: Outcome) -> None:
        self.outcomes[instance.key] = outcome
        self.mark(instance.key, outcome.result.value + (f" ({outcome.note})" if outcome.note else ""))

    def needs_context(self, job_id: str) -> dict[str, Any]:
        results = {job: {"result": self.results[job].value, "outputs": self.job_outputs[job]} for job in self.results}
        return contexts.needs_context(results, needs_of(self.jobs[job_id]))

    def start_job(self, job_id: str) -> None:
        """Decide a ready job: GitHub-only, skipped by its `if`, or its instances queued."""
        job = self.jobs[job_id]
        state = self.states.setdefault(job_id, JobState())
        data = self.session.base_contexts(self.needs_context(job_id))
        status = plan.job_status(self.results, plan.ancestors(self.jobs, job_id), self.cancelled.is_set())
        placeholder = Instance(
            job_id, str(job.get("name", job_id)) if "${{" not in str(job.get("name", "")) else job_id, job
        )
        try:
            reason = plan.github_only_job(job)
            if reason:
                state.instances = [placeholder]
                self.finish(placeholder, Outcome(Result.SKIPPED, note=f"GitHub only: {reason}"))
                return
            if not plan.job_runs(job, data, status):
                state.instances = [placeholder]
                self.finish(placeholder, Outcome(Result.SKIPPED, note=f"if: {job.get('if', 'success()')}"))
                return
            state.instances = plan.instances(job_id, job, data)
        except (ExpressionError, UserError) as error:
            state.instances = [placeholder]
            self.finish(placeholder, Outcome(Result.FAILURE, note=str(error)))
            return
        if not state.instances:
            state.instances = [placeholder]
            self.finish(placeholder, Outcome(Result.SKIPPED, note="its matrix has no entries"))
        for instance in state.instances:
            if instance.key in self.outcomes:
                continue
            if not plan.selected(instance, self.selection.only, self.selection.skip, self.selection.pythons):
                self.finish(instance, Outcome(Result.SKIPPED, note="not selected"))
            elif self.cancelled.is_set():
                self.finish(instance, Outcome(Result.CANCELLED, note="cancelled"))
            else:
                state.queued.append(instance)
                self.mark(instance.key, "queued")

    def settle(self, job_id: str) -> None:
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

    def fail_fast(self, instance: Instance) -> None:
        """A failed matrix entry cancels its siblings (strategy.fail-fast, GitHub's default)."""
        strategy = instance.definition.get("strategy") or {}
        if not strategy.get("fail-fast", True) or self.continues_on_error(instance):
            return
        state = self.states[instance.job_id]
        for sibling in state.queued:
            self.finish(sibling, Outcome(Result.CANCELLED, note=f"fail-fast: {instance.name} failed"))
        state.queued.clear()
        for run in state.running.values():
            threading.Thread(target=run.cancel, daemon=True).start()

    def startable(self) -> Iterator[Instance]:
        running = sum(len(state.running) for state in self.states.values())
        for job_id, state in self.states.items():
            limit = (self.jobs[job_id].get("strategy") or {}).get("max-parallel") or len(state.instances) or 1
            while state.queued and running < self.workers and len(state.running) < int(limit):
                running += 1
                yield state.queued.pop(0)

    def start_ready(self, pending: list[str]) -> None:
        for job_id in list(pending):
            if all(need in self.results for need in needs_of(self.jobs[job_id])):
                pending.remove(job_id)
                self.start_job(job_id)
                self.settle(job_id)

    def launch(self, pool: ThreadPoolExecutor, futures: dict[Future[Outcome], Instance]) -> None:
        for instance in list(self.startable()):
            if self.cancelled.is_set() or (self.selection.fail_fast and self.any_failed()):
                self.finish(instance, Outcome(Result.CANCELLED, note="an earlier job failed (--fail-fast)"))
                self.settle(instance.job_id)
                continue
            try:
                needs = self.needs_context(instance.job_id)
                run = JobRun(
                    self.session,
                    instance,
                    needs,
                    environment.job_world(self.session, instance, self.session.base_contexts(needs)),
                )
            except (ExpressionError, UserError) as error:
                self.finish(instance, Outcome(Result.FAILURE, note=str(error)))
                self.settle(instance.job_id)
                continue
            with self.lock:
                self.states[instance.job_id].running[instance.key] = run
            futures[pool.submit(self.execute, run)] = instance

    def execute(self, run: JobRun) -> Outcome:
        """One instance in a worker thread: its log, its time. (Image builds take turns on the engine
        themselves: `engine.exclusive_builds`.)"""
        key = run.instance.key
        log_path = self.session.log_path(key)
        with log_path.open("w", encoding="utf-8") as log:
            started = time.monotonic()
            self.mark(key, "running")
            try:
                if run.world.missing:
                    raise UserError(
                        f"the job needs Python {', '.join(run.world.missing)} (its runner image or setup-python "
                        "provides it on GitHub), which this machine does not have",
                        f"install Python {', '.join(run.world.missing)} (e.g. with pyenv or `uv python install`)",
                    )
                outcome = run.run(log)
            except (ExpressionError, UserError) as error:
                log.write(f"\n[invoke ci] {error}\n")
                outcome = Outcome(Result.FAILURE, note=str(error))
        outcome.seconds = time.monotonic() - started
        outcome.log = log_path
        if run.summaries:
            outcome.summary = self.session.log_path(key, ".summary.md")
            outcome.summary.write_text("\n".join(run.summaries), encoding="utf-8")
        return outcome

    def run(self) -> dict[str, Outcome]:
        """Drive the graph until every job has a result."""
        pending = list(self.order)
        futures: dict[Future[Outcome], Instance] = {}
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="invoke-ci")
        try:
            while True:
                before = (len(pending), len(self.outcomes))
                self.start_ready(pending)
                self.launch(pool, futures)
                if not futures:
                    if not pending:
                        break
                    if (len(pending), len(self.outcomes)) == before:
                        raise UserError(f"jobs {', '.join(pending)} can never start", "fix their `needs:`")
                    continue
                done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    instance = futures.pop(future)
                    with self.lock:
                        self.states[instance.job_id].running.pop(instance.key, None)
                    outcome = future.result()
                    self.finish(instance, outcome)
                    if outcome.result is Result.FAILURE:
                        self.fail_fast(instance)
                    self.settle(instance.job_id)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return self.outcomes

    def any_failed(self) -> bool:
        return any(outcome.fails_the_run for outcome in self.outcomes.values())

    def cancel(self) -> None:
        """Ctrl-C: cancel every running job (their processes and services stop) and start none."""
        self.cancelled.set()
        with self.lock:
            runs = [run for state in self.states.values() for run in state.running.values()]
        threads = [threading.Thread(target=run.cancel) for run in runs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
