"""`invoke ci --dry-run`: every job and matrix entry, and for each step whether it runs here,
is GitHub-only, or is skipped by its condition, and why. Nothing of the workflow runs.

Values only a run produces (job outputs) are unknown: a condition, matrix, runner or name that
reads them is "decided at run time" and names what it depends on, with every branch that can
still happen. `--resolve-outputs` runs exactly the jobs whose outputs the plan needs (and their
needs), names them first, then plans with their real outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pipeline.actions import composite, environment, expressions, model, plan, reusable, steps
from pipeline.actions.expressions import ExpressionError, Status
from pipeline.actions.model import Instance, Result, StepKind, needs_of
from pipeline.actions.scheduler import Scheduler, Selection
from pipeline.actions.session import RunSession
from pipeline.errors import UserError

# Contexts a step's `if` may read that only exist while the job runs.
RUN_TIME_CONTEXTS = ("steps.", "job.", "env.", "runner.", "hashFiles(")
# What of a job the plan evaluates before it runs.
PLANNED_KEYS = ("if", "strategy", "runs-on", "name")

State = Literal["runs here", "GitHub only", "skipped", "not selected", "decided at run time", "fails"]


@dataclass
class PlannedStep:
    label: str
    kind: StepKind
    why: str


@dataclass
class PlannedJob:
    key: str
    job_id: str
    state: State
    why: str
    steps: list[PlannedStep] = field(default_factory=list)
    matrix: dict[str, Any] = field(default_factory=dict)

    @property
    def runs(self) -> bool:
        return self.state == "runs here"


def step_plan(step: Mapping[str, Any], index: int, contexts: Mapping[str, Any], root: Path) -> PlannedStep:
    label = steps.step_label(step, index)
    condition = step.get("if")
    if condition is not None:
        text = str(condition)
        if any(marker in text for marker in RUN_TIME_CONTEXTS):
            when = f"if: {text} (decided when it runs)"
        else:
            allowed = expressions.AVAILABILITY["jobs.<job_id>.steps.if"]
            data = {**contexts, "steps": {}, "job": {}, "runner": {}, "env": {}}
            if not expressions.condition(text, data, status=Status(), allowed=allowed):
                return PlannedStep(label, StepKind.SKIPPED_BY_CONDITION, f"if: {text} is false")
            when = f"if: {text} holds"
    else:
        when = ""
    if composite.is_local(step.get("uses")):
        action = composite.load(root, str(step["uses"]))
        return PlannedStep(label, StepKind.RUNS_HERE, f"composite action, {len(action.steps)} step(s)")
    if "uses" in step:
        return PlannedStep(label, StepKind.GITHUB_ONLY, steps.github_only_reason(step))
    return PlannedStep(label, StepKind.RUNS_HERE, when)


def unknown_outputs(job: Mapping[str, Any], known: Mapping[str, Mapping[str, str]]) -> dict[str, list[str]]:
    """For each planned key of the job (`if`, `strategy`, ...), the `needs.X.outputs...` it reads that no run
    has produced yet."""
    found: dict[str, list[str]] = {}
    for key in PLANNED_KEYS:
        if key not in job:
            continue
        texts = _strings(job[key])
        paths = [path for text in texts for path in expressions.read_paths(text, is_condition=key == "if")]
        unknown = [
            ".".join(path)
            for path in paths
            if len(path) >= 3 and path[0] == "needs" and path[2] == "outputs" and path[1] not in known
        ]
        if unknown:
            found[key] = list(dict.fromkeys(unknown))
    return found


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _depends(paths: list[str]) -> str:
    return "depends on " + ", ".join(f"`{path}`" for path in paths)


class Planner:
    """The plan of one workflow for one event: what happens to each job if every job that runs succeeds.

    `github_view` plans what GitHub runs: a GitHub-only job or entry counts as run (it is, there), so what
    needs it is planned too. The differential test compares that view with act's plan."""

    def __init__(
        self,
        session: RunSession,
        selection: Selection,
        outputs: Mapping[str, Mapping[str, str]],
        *,
        github_view: bool = False,
    ) -> None:
        self.session = session
        self.selection = selection
        self.outputs = outputs
        self.github_view = github_view
        self.jobs = session.workflow.jobs
        self.results: dict[str, Result] = {}
        self.planned: list[PlannedJob] = []

    def plan(self) -> list[PlannedJob]:
        for job_id in plan.topological_order(self.jobs):
            try:
                self.results[job_id] = self.plan_job(job_id, self.jobs[job_id])
            except (ExpressionError, UserError) as error:
                self.results[job_id] = Result.FAILURE
                self.planned.append(PlannedJob(job_id, job_id, "fails", str(error)))
            except plan.UNEXPECTED as error:
                raise plan.unexpected(self.session.workflow.where("jobs", job_id), job_id, error) from error
        return self.planned

    def add(self, planned: PlannedJob) -> Result:
        self.planned.append(planned)
        counted: tuple[State, ...] = ("runs here", "decided at run time", "not selected")
        if self.github_view:
            counted += ("GitHub only",)
        return Result.SUCCESS if planned.state in counted else Result.SKIPPED

    def plan_job(self, job_id: str, job: Mapping[str, Any]) -> Result:
        if model.CALLED_KEY in job:
            return self.plan_end_of_call(job_id, job)
        call = reusable.call_view(
            job.get(model.CALL_KEY), self.jobs, self.results, self.outputs, self.session.base_contexts
        )
        if call is not None and not call.runs:
            return self.add(PlannedJob(str(job.get("name", job_id)), job_id, "skipped", call.why))
        return self.plan_own_job(job_id, job, call)

    def plan_own_job(self, job_id: str, job: Mapping[str, Any], call: reusable.CallView | None) -> Result:
        label = str(job.get("name", job_id)) if call is not None else job_id  # a called job's id is long
        needs = {
            need: {"result": self.results[need].value, "outputs": dict(self.outputs.get(need, {}))}
            for need in needs_of(job)
        }
        data = self.session.base_contexts(needs, call)
        status = plan.job_status(self.results, plan.ancestors(self.jobs, job_id), cancelled=False)
        unknown = unknown_outputs(job, self.outputs)
        condition_note = ""
        if "if" in unknown:
            condition_note = f"if: {job.get('if')} {_depends(unknown['if'])}; when it holds: "
            if not status.succeeded and not expressions.calls_status_function_in(str(job.get("if"))):
                return self.add(PlannedJob(label, job_id, "skipped", _skipped_needs(job, self.results)))
        elif not plan.job_runs(job, data, status):
            skipped_needs = [need for need in needs_of(job) if self.results[need] is not Result.SUCCESS]
            why = (
                _skipped_needs(job, self.results)
                if skipped_needs and "if" not in job
                else f"if: {job.get('if')} is false"
            )
            return self.add(PlannedJob(label, job_id, "skipped", why))
        if "strategy" in unknown:
            why = f"{condition_note}its matrix {_depends(unknown['strategy'])} (--resolve-outputs lists its entries)"
            return self.add(PlannedJob(label, job_id, "decided at run time", why))
        found = plan.instances(job_id, job, data)
        if not found:
            return self.add(PlannedJob(label, job_id, "skipped", "its matrix has no entries"))
        results = [self.plan_instance(instance, data, unknown, condition_note) for instance in found]
        return Result.SUCCESS if Result.SUCCESS in results else Result.SKIPPED

    def plan_end_of_call(self, job_id: str, job: Mapping[str, Any]) -> Result:
        result, _ = reusable.end_of_call(job, self.results, self.outputs)
        uses = job[model.CALLED_KEY]["uses"]
        state: State = "skipped" if result is Result.SKIPPED else "runs here"
        self.planned.append(PlannedJob(str(job.get("name", job_id)), job_id, state, f"calls {uses}: the jobs above"))
        return result

    def plan_instance(
        self, instance: Instance, data: Mapping[str, Any], unknown: Mapping[str, list[str]], condition_note: str
    ) -> Result:
        key = instance.job_id if "name" in unknown else instance.key

        def entry(state: State, why: str) -> PlannedJob:
            return PlannedJob(key, instance.job_id, state, why, matrix=dict(instance.matrix))

        if "runs-on" in unknown:
            return self.add(entry("decided at run time", f"its runner {_depends(unknown['runs-on'])}"))
        where = plan.github_only_job(instance.definition, self.session.root) or environment.placement(
            self.session.root, instance, data, self.session.host
        )
        if isinstance(where, str):
            return self.add(entry("GitHub only", where))
        if not plan.selected(instance, self.selection.only, self.selection.skip, self.selection.pythons):
            return self.add(entry("not selected", ""))
        pythons = sorted({where.image.system_python, *where.pythons}, key=lambda v: tuple(map(int, v.split("."))))
        why = condition_note + f"{where.image.label}, Python " + ", ".join(pythons)
        if where.notes:
            why += f" ({'; '.join(where.notes)})"
        if where.missing:
            why += f"; missing here: {', '.join(where.missing)}"
        planned = entry("decided at run time" if condition_note else "runs here", why)
        contexts = {**data, "matrix": dict(instance.matrix), "strategy": {}}
        for index, step in enumerate(instance.definition.get("steps") or []):
            planned.steps.append(step_plan(step, index, contexts, self.session.root))
        return self.add(planned)


def _skipped_needs(job: Mapping[str, Any], results: Mapping[str, Result]) -> str:
    skipped = [need for need in needs_of(job) if results[need] is not Result.SUCCESS]
    return f"needs {', '.join(skipped)}, which {'does' if len(skipped) == 1 else 'do'} not run here"


def needed_producers(session: RunSession) -> list[str]:
    """The jobs whose outputs some job's `if`, matrix, runner or name reads, with the jobs they need, in order."""
    jobs = session.workflow.jobs
    wanted: set[str] = set()
    for job in jobs.values():
        for paths in unknown_outputs(job, {}).values():
            wanted.update(path.split(".")[1] for path in paths)
    wanted &= set(jobs)
    closure = wanted | {ancestor for job_id in wanted for ancestor in plan.ancestors(jobs, job_id)}
    return [job_id for job_id in plan.topological_order(jobs) if job_id in closure]


def run_producers(session: RunSession, producers: list[str], say: Callable[[str], None]) -> dict[str, dict[str, str]]:
    """Run exactly `producers` (nothing else) and return their outputs."""
    if not producers:
        return {}
    say(f"--resolve-outputs: running {', '.join(producers)} (their outputs shape the plan), nothing else")
    scheduler = Scheduler(session, Selection(only=producers), workers=1, say=lambda _: None)
    scheduler.order = [job_id for job_id in scheduler.order if job_id in producers]
    scheduler.run()
    failed = [job_id for job_id in producers if scheduler.ledger.results.get(job_id) is not Result.SUCCESS]
    if failed:
        raise UserError(
            f"--resolve-outputs: {', '.join(failed)} did not succeed here, so the plan cannot use their outputs "
            f"(logs in {session.logs})",
            "fix those jobs, or plan without --resolve-outputs",
        )
    return {job_id: scheduler.ledger.job_outputs.get(job_id, {}) for job_id in producers}


def plan_workflow(
    session: RunSession, selection: Selection, *, resolve_outputs: bool = False, say: Callable[[str], None] = print
) -> list[PlannedJob]:
    """The plan, assuming every job that runs succeeds. Runs nothing unless `resolve_outputs`."""
    outputs = run_producers(session, needed_producers(session), say) if resolve_outputs else {}
    return Planner(session, selection, outputs).plan()


def names(planned: list[PlannedJob]) -> set[str]:
    """Every name --only/--skip may use: job ids and instance names."""
    found: set[str] = set()
    for job in planned:
        found.update({job.job_id, job.key})
        if job.key.endswith(")") and " (" in job.key:
            found.add(job.key.split(" (", 1)[1][:-1])
    return found


def decided_at_run_time(planned: list[PlannedJob]) -> bool:
    return any(job.state == "decided at run time" for job in planned)
