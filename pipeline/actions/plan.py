"""Pure planning decisions: job order, whether a job runs, its instances, whether each step runs here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.actions import composite, expressions, matrix
from pipeline.actions.expressions import ExpressionError, Status
from pipeline.actions.model import Instance, Outcome, Result, needs_of, status_needs
from pipeline.errors import UserError

# What a construct nobody foresaw raises while it is read; it becomes `unexpected`'s paragraph.
UNEXPECTED = (TypeError, ValueError, KeyError, AttributeError, IndexError)
# A job that needs credentials or approvals only GitHub has is reported, not run.
GITHUB_ONLY_JOB_ACTIONS = {"docker/login-action": "it logs in to a registry with GitHub's token"}


def topological_order(jobs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(job_id: str) -> None:
        if job_id in order:
            return
        if job_id in visiting:
            raise UserError(f"the workflow has a `needs:` cycle through {job_id}", "fix the needs of that job")
        visiting.add(job_id)
        for need in needs_of(jobs[job_id]):
            if need not in jobs:
                raise UserError(f"job {job_id} needs {need}, which the workflow does not define", "fix its `needs:`")
            visit(need)
        order.append(job_id)

    for job_id in jobs:
        visit(job_id)
    return order


def ancestors(jobs: Mapping[str, Mapping[str, Any]], job_id: str) -> set[str]:
    """The jobs whose results `success()` and `failure()` of this job read: its needs, theirs, and so on
    (a call counts as one job: the called jobs are not the ancestors of what needs the call)."""
    found: set[str] = set()
    stack = list(status_needs(jobs[job_id]))
    while stack:
        need = stack.pop()
        if need not in found:
            found.add(need)
            stack.extend(status_needs(jobs[need]))
    return found


def job_status(results: Mapping[str, Result], ancestor_ids: set[str], cancelled: bool) -> Status:
    """What a job's `if` sees: success() needs every ancestor to have succeeded, failure() any to have failed."""
    ancestor_results = [results[job] for job in ancestor_ids]
    return Status(
        failed=Result.FAILURE in ancestor_results,
        cancelled=cancelled,
        succeeded=all(result is Result.SUCCESS for result in ancestor_results),
    )


def job_runs(job: Mapping[str, Any], contexts: Mapping[str, Any], status: Status) -> bool:
    condition = job.get("if")
    return expressions.condition(
        "" if condition is None else str(condition),
        contexts,
        status=status,
        allowed=expressions.AVAILABILITY["jobs.<job_id>.if"],
    )


def github_only_job(job: Mapping[str, Any], root: Path) -> str:
    """Why a job runs only on GitHub, or ''; a local action that is not there is a UserError (the job fails,
    as on GitHub)."""
    if "uses" in job:
        uses = str(job["uses"])
        if uses.startswith(("./", "$/")):  # a local call left unexpanded: pipeline.actions.reusable
            return f"calls {uses} once per entry of a matrix a job computes (its entries exist only at run time)"
        return f"calls the reusable workflow {uses} of another repository"
    if job.get("environment"):
        return "deploys to a GitHub environment (its approvals and secrets exist only there)"
    reasons = (github_only_step(step, root) for step in job.get("steps") or [] if isinstance(step, Mapping))
    return next((reason for reason in reasons if reason), "")


def github_only_step(step: Mapping[str, Any], root: Path) -> str:
    """Why a step makes its whole job GitHub-only, or ''."""
    uses = str(step.get("uses", ""))
    action = uses.split("@", maxsplit=1)[0]
    if action in GITHUB_ONLY_JOB_ACTIONS:
        return f"{action}: {GITHUB_ONLY_JOB_ACTIONS[action]}"
    if composite.is_local(uses):
        return composite.load(root, uses).github_only()
    if uses.startswith("docker://"):
        return f"uses the Docker action {uses} (not run here)"
    return ""


def instances(job_id: str, job: Mapping[str, Any], contexts: Mapping[str, Any]) -> list[Instance]:
    """The job's instances: one, or one per matrix combination (GitHub's expansion)."""
    strategy_key = expressions.AVAILABILITY["jobs.<job_id>.strategy"]
    raw = (job.get("strategy") or {}).get("matrix")
    if raw is None:
        return [Instance(job_id, _name(job_id, job, contexts, {}), job)]
    evaluated = evaluate_tree(raw, contexts, strategy_key)
    if not isinstance(evaluated, Mapping):
        raise UserError(f"the matrix of job {job_id} is not a mapping", "give strategy.matrix axes or include")
    combinations = matrix.expand(evaluated)
    total = len(combinations)
    return [
        Instance(job_id, _name(job_id, job, contexts, combination), job, combination, index, total)
        for index, combination in enumerate(combinations)
    ]


def evaluate_tree(value: Any, contexts: Mapping[str, Any], allowed: expressions.Availability) -> Any:
    """Every string of a YAML value evaluated (`${{ }}` alone gives the value itself), keeping its shape."""
    if isinstance(value, str):
        return expressions.evaluate_template(value, contexts, allowed=allowed)
    if isinstance(value, Mapping):
        return {key: evaluate_tree(item, contexts, allowed) for key, item in value.items()}
    if isinstance(value, list):
        return [evaluate_tree(item, contexts, allowed) for item in value]
    return value


def _name(job_id: str, job: Mapping[str, Any], contexts: Mapping[str, Any], combination: Mapping[str, Any]) -> str:
    """GitHub's display name: `name:` (evaluated), with the entry's non-empty matrix values in parentheses
    unless the name holds an expression (then the author chose what tells entries apart)."""
    values = ", ".join(expressions.to_string(value) for value in combination.values() if value not in (None, ""))
    if "name" in job:
        data = {**contexts, "matrix": dict(combination)}
        raw = str(job["name"])
        name = expressions.interpolate(raw, data, allowed=expressions.AVAILABILITY["jobs.<job_id>.name"])
        return name if "${{" in raw or not values else f"{name} ({values})"
    return f"{job_id} ({values})" if values else job_id


def selected(instance: Instance, only: Sequence[str], skip: Sequence[str], pythons: Sequence[str]) -> bool:
    """--only/--skip by job id or instance name, --python by matrix entry. Jobs whose outputs
    feed other jobs always run: the plan depends on them."""
    if instance.definition.get("outputs"):
        return True
    names = {instance.job_id, instance.name, instance.key}
    if only and not names & set(only):
        return False
    if names & set(skip):
        return False
    python = str(instance.matrix.get("python") or "")
    return not (pythons and python and python not in pythons)


def decide_job(
    job_id: str, job: Mapping[str, Any], contexts: Mapping[str, Any], status: Status, root: Path
) -> tuple[list[Instance], Outcome | None]:
    """A job whose needs are done: its instances to run, or one placeholder instance and the outcome that
    ends it now (skipped by its `if`, GitHub-only, an empty matrix, an expression error)."""
    plain_name = str(job.get("name", job_id)) if "${{" not in str(job.get("name", "")) else job_id
    placeholder = [Instance(job_id, plain_name, job)]
    try:
        if not job_runs(job, contexts, status):
            return placeholder, Outcome(Result.SKIPPED, note=f"if: {job.get('if', 'success()')}")
        reason = github_only_job(job, root)
        if reason:
            return placeholder, Outcome(Result.SKIPPED, note=f"GitHub only: {reason}")
        found = instances(job_id, job, contexts)
    except (ExpressionError, UserError) as error:
        return placeholder, Outcome(Result.FAILURE, note=str(error))
    if not found:
        return placeholder, Outcome(Result.SKIPPED, note="its matrix has no entries")
    return found, None


def unexpected(where: str, job_id: str, error: Exception) -> UserError:
    """A construct the planner did not expect: one paragraph naming its file:line, never a traceback."""
    return UserError(
        f"{where}: invoke ci cannot read job {job_id} ({type(error).__name__}: {error})",
        "check the job with `nox -s workflows` (GitHub's parser); if GitHub accepts it, invoke ci has a bug: "
        "please report it with the job's YAML",
    )
