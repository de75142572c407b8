"""The job graph of one run: jobs start when their needs are done, side by side up to the
worker count, matrices honour `fail-fast` and `max-parallel`, a stop cancels everything.
What the run knows so far (outcomes, results, outputs) is its `Ledger`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from pipeline import runner_programs
from pipeline.actions import environment, jobs, model, plan, reusable
from pipeline.actions.expressions import ExpressionError
from pipeline.actions.jobs import JobRun
from pipeline.actions.ledger import JobState, Ledger
from pipeline.actions.model import Instance, Outcome, Result, needs_of
from pipeline.actions.session import RunSession
from pipeline.errors import UserError


@dataclass(frozen=True)
class Selection:
    only: Sequence[str] = ()
    skip: Sequence[str] = ()
    pythons: Sequence[str] = ()
    fail_fast: bool = False  # local: start no new job after the first failure
    kept: Mapping[str, Outcome] = field(default_factory=dict)  # --failed: instances that end as they ended before


def startable(
    states: Mapping[str, JobState], jobs: Mapping[str, Any], workers: int, priority: Mapping[str, float] | None = None
) -> Iterator[Instance]:
    """Queued instances that may start now: a free worker, and under their job's `max-parallel`. With fewer
    workers than ready jobs, the one with the most expected work ahead of it goes first (`priorities`);
    without figures, the workflow's order."""
    running = sum(len(state.running) for state in states.values())
    started = {job_id: len(state.running) for job_id, state in states.items()}
    queued = [instance for state in states.values() for instance in state.queued]
    order = sorted(queued, key=lambda instance: -(priority or {}).get(instance.key, 0.0))
    for instance in order:
        if running >= workers:
            return
        state = states[instance.job_id]
        limit = (jobs[instance.job_id].get("strategy") or {}).get("max-parallel") or len(state.instances) or 1
        if started[instance.job_id] < int(limit):
            started[instance.job_id] += 1
            running += 1
            state.queued.remove(instance)
            yield instance


def work_after(jobs: Mapping[str, Any], durations: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """For each job, the expected work on the longest chain of jobs that need it, from the times of earlier
    runs (`durations`: job id -> instance key -> seconds; an untimed job counts 0). Started longest chain
    first (a list schedule), a run with fewer workers than ready jobs ends sooner: GitHub gives every ready
    job a runner at once, so the order here is free and changes no result."""
    own = {job_id: max(durations.get(job_id, {}).values(), default=0.0) for job_id in jobs}
    children: dict[str, list[str]] = {job_id: [] for job_id in jobs}
    for job_id, job in jobs.items():
        for need in needs_of(job):
            children.setdefault(need, []).append(job_id)
    chain: dict[str, float] = {}

    def from_start(job_id: str) -> float:
        if job_id not in chain:
            after = max((from_start(child) for child in children.get(job_id, ())), default=0.0)
            chain[job_id] = own.get(job_id, 0.0) + after
        return chain[job_id]

    return {job_id: from_start(job_id) - own[job_id] for job_id in jobs}


class Scheduler:
    """Runs a workflow's jobs in `needs:` order; `ledger.outcomes` holds every instance's end."""

    def __init__(
        self,
        session: RunSession,
        selection: Selection,
        workers: int,
        say: Callable[[str], None],
        durations: Mapping[str, Mapping[str, float]] | None = None,
    ) -> None:
        self.session = session
        self.durations = durations or {}  # job id -> instance key -> seconds it took before (history.durations)
        self.selection = selection
        self.workers = max(1, workers)
        self.jobs = session.workflow.jobs
        self.order = plan.topological_order(self.jobs)
        self.ledger = Ledger(session, say)
        self.cancelled = threading.Event()
        self.after = work_after(self.jobs, self.durations)

    def priority(self) -> dict[str, float] | None:
        """Each queued instance's expected work to the end of the run: its own time, then `work_after`."""
        if not self.durations:
            return None
        return {
            instance.key: self.durations.get(job_id, {}).get(instance.key, 0.0) + self.after.get(job_id, 0.0)
            for job_id, state in self.ledger.states.items()
            for instance in state.queued
        }

    def start_job(self, job_id: str) -> None:
        """Decide a ready job: its instances queued, or ended at once (see `plan.decide_job`)."""
        ledger = self.ledger
        state = ledger.states.setdefault(job_id, JobState())
        job = self.jobs[job_id]
        status = plan.job_status(ledger.results, plan.ancestors(self.jobs, job_id), self.cancelled.is_set())
        try:
            if model.CALLED_KEY in job:  # the end of a call: GitHub's result over the called jobs
                result, outputs = reusable.end_of_call(job, ledger.results, ledger.job_outputs)
                uses = job[model.CALLED_KEY]["uses"]
                self.end_job(job_id, Outcome(result, outputs=outputs, note=f"calls {uses}"))
                return
            call = self.call_view(job)
            if call is not None and not call.runs:
                self.end_job(job_id, Outcome(Result.SKIPPED, note=call.why))
                return
            data = self.session.base_contexts(ledger.needs_context(job_id), call)
            state.instances, ended = plan.decide_job(job_id, job, data, status, self.session.root)
        except (ExpressionError, UserError) as error:
            self.end_job(job_id, Outcome(Result.FAILURE, note=str(error)))
            return
        except plan.UNEXPECTED as error:
            raise plan.unexpected(self.session.workflow.where("jobs", job_id), job_id, error) from error
        for instance in state.instances:
            if ended is not None:
                ledger.finish(instance, ended)
            elif instance.key in self.selection.kept:
                ledger.finish(instance, self.selection.kept[instance.key])
            elif not plan.selected(instance, self.selection.only, self.selection.skip, self.selection.pythons):
                ledger.finish(instance, Outcome(Result.SKIPPED, note="not selected"))
            elif self.cancelled.is_set():
                ledger.finish(instance, Outcome(Result.CANCELLED, note="cancelled"))
            else:
                state.queued.append(instance)
                ledger.mark(instance.key, "queued")

    def end_job(self, job_id: str, outcome: Outcome) -> None:
        """A job that ends as it is decided (the end of a call, a call skipped, an error): one instance."""
        job = self.jobs[job_id]
        state = self.ledger.states[job_id]
        state.instances = [Instance(job_id, str(job.get("name", job_id)), job)]
        self.ledger.finish(state.instances[0], outcome)

    def call_view(self, job: Mapping[str, Any]) -> reusable.CallView | None:
        """The call a job of a called workflow belongs to (None for the rehearsed workflow's own jobs)."""
        ledger = self.ledger
        return reusable.call_view(
            job.get(model.CALL_KEY),
            self.jobs,
            ledger.results,
            ledger.job_outputs,
            self.session.base_contexts,
            cancelled=self.cancelled.is_set(),
        )

    def fail_fast(self, instance: Instance) -> None:
        """A failed matrix entry cancels its siblings (strategy.fail-fast, GitHub's default)."""
        strategy = instance.definition.get("strategy") or {}
        if not strategy.get("fail-fast", True) or self.ledger.continues_on_error(instance):
            return
        state = self.ledger.states[instance.job_id]
        for sibling in state.queued:
            self.ledger.finish(sibling, Outcome(Result.CANCELLED, note=f"fail-fast: {instance.name} failed"))
        state.queued.clear()
        for run in state.running.values():
            threading.Thread(target=run.cancel, daemon=True).start()

    def start_ready(self, pending: list[str]) -> None:
        for job_id in list(pending):
            if all(need in self.ledger.results for need in needs_of(self.jobs[job_id])):
                pending.remove(job_id)
                self.start_job(job_id)
                self.ledger.settle(job_id)

    def end_now(self, instance: Instance, outcome: Outcome) -> None:
        """An instance that ends without running: GitHub-only here, cancelled, or failed before its first step."""
        self.ledger.finish(instance, outcome)
        self.ledger.settle(instance.job_id)

    def launch(self, pool: ThreadPoolExecutor, futures: dict[Future[Outcome], Instance]) -> None:
        ledger = self.ledger
        for instance in list(startable(ledger.states, self.jobs, self.workers, self.priority())):
            if self.cancelled.is_set() or (self.selection.fail_fast and ledger.any_failed()):
                self.end_now(instance, Outcome(Result.CANCELLED, note="an earlier job failed (--fail-fast)"))
                continue
            try:
                needs = ledger.needs_context(instance.job_id)
                call = self.call_view(instance.definition)
                data = self.session.base_contexts(needs, call)
                where = environment.placement(self.session.root, instance, data, self.session.host)
                if isinstance(where, str):
                    self.end_now(instance, Outcome(Result.SKIPPED, note=f"GitHub only: {where}"))
                    continue
                run = JobRun(self.session, instance, needs, environment.job_world(self.session, where), call)
            except (ExpressionError, UserError) as error:
                self.end_now(instance, Outcome(Result.FAILURE, note=str(error)))
                continue
            except plan.UNEXPECTED as error:
                line = self.session.workflow.where("jobs", instance.job_id)
                self.end_now(instance, Outcome(Result.FAILURE, note=str(plan.unexpected(line, instance.job_id, error))))
                continue
            with ledger.lock:
                ledger.states[instance.job_id].running[instance.key] = run
            # A program the job's nox session takes from the runner image (Chromium, Node) and this machine
            # lacks: said before the job starts, with the install command (`pipeline.runner_programs`).
            for warning in runner_programs.warnings_for([str(instance.matrix.get("session", ""))]):
                ledger.say(f"{instance.key}: {warning}")
            ledger.mark(instance.key, "running")
            log, summary = self.session.log_path(instance.key), self.session.log_path(instance.key, ".summary.md")
            futures[pool.submit(jobs.execute, run, log, summary)] = instance

    def run(self) -> dict[str, Outcome]:
        """Drive the graph until every job has a result."""
        ledger = self.ledger
        pending = list(self.order)
        futures: dict[Future[Outcome], Instance] = {}
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="invoke-ci")
        try:
            while True:
                before = (len(pending), len(ledger.outcomes))
                self.start_ready(pending)
                self.launch(pool, futures)
                if not futures:
                    if not pending:
                        break
                    if (len(pending), len(ledger.outcomes)) == before:
                        raise UserError(f"jobs {', '.join(pending)} can never start", "fix their `needs:`")
                    continue
                done, _ = wait(futures, timeout=0.2, return_when=FIRST_COMPLETED)
                for future in done:
                    instance = futures.pop(future)
                    with ledger.lock:
                        ledger.states[instance.job_id].running.pop(instance.key, None)
                    outcome = future.result()
                    ledger.finish(instance, outcome)
                    if outcome.result is Result.FAILURE:
                        self.fail_fast(instance)
                    ledger.settle(instance.job_id)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        return ledger.outcomes

    def cancel(self) -> None:
        """Ctrl-C: cancel every running job (their processes and services stop) and start none."""
        self.cancelled.set()
        threads = [threading.Thread(target=run.cancel) for run in self.ledger.running()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
