"""Local reusable workflows (`uses: ./.github/workflows/X.yml`, or GitHub's `$/` form) run here.

A caller job is replaced by the called workflow's jobs, prefixed with the caller's name (GitHub shows
`Caller / inner`), and by one job under the caller's own id that ends when they all have: its result is
GitHub's rule over theirs, its outputs the called workflow's `on.workflow_call.outputs`, read from the
`jobs` context. So `needs.<caller>` means what it means on GitHub.

Each called job keeps what it needs of its caller (`CALL_KEY`): the caller's `if` and needs (the whole
call is skipped when that `if` is false), its `with` (the `inputs` context: each value, else the input's
default, typed as declared), its matrix entry, and the called workflow's `env` (which replaces the
caller's, as on GitHub). A caller with a matrix calls once per entry. Calls nest up to GitHub's limit;
a call whose matrix a job computes stays GitHub-only (its entries exist only at run time).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.actions import contexts, expressions, matrix, plan, triggers
from pipeline.actions.model import CALL_KEY, CALLED_KEY, Result, job_result, needs_of
from pipeline.actions.workflow import Workflow, load
from pipeline.errors import UserError

MAX_NESTING = 4  # GitHub: a caller and up to three levels of called workflows (docs: "Nesting reusable workflows")
LOCAL_PREFIXES = ("./", "$/")


def is_local_call(job: Mapping[str, Any]) -> bool:
    return str(job.get("uses", "")).startswith(LOCAL_PREFIXES)


def called_path(root: Path, uses: str) -> Path:
    return root / uses.removeprefix("$/").removeprefix("./")


def expand(workflow: Workflow, root: Path, depth: int = 0) -> Workflow:
    """The workflow with every local call replaced by the called jobs and the call's end job."""
    jobs: dict[str, Any] = {}
    for job_id, job in workflow.jobs.items():
        if not isinstance(job, Mapping) or not is_local_call(job):
            jobs[job_id] = job
            continue
        if depth + 1 >= MAX_NESTING:
            raise UserError(
                f"{workflow.where('jobs', job_id, 'uses')}: reusable workflows nest deeper than GitHub allows "
                f"({MAX_NESTING} levels)",
                "call fewer levels deep",
            )
        entries = static_entries(job)
        if entries is None:
            jobs[job_id] = job  # its matrix is computed by a job: GitHub-only, said by the plan
            continue
        path = called_path(root, str(job["uses"]))
        if not path.is_file():
            raise UserError(
                f"{workflow.where('jobs', job_id, 'uses')}: {job['uses']} does not exist (GitHub fails the run too)",
                "call a workflow file of .github/workflows/ (the path is relative to the repository root)",
            )
        called = load(path, root)
        if "workflow_call" not in triggers.events(called.data.get("on")):
            raise UserError(
                f"{workflow.where('jobs', job_id, 'uses')}: {job['uses']} is not a reusable workflow "
                "(its `on:` has no workflow_call)",
                "add `on: workflow_call` to the called workflow, or call another one",
            )
        inner = expand(called, root, depth + 1).jobs
        jobs.update(call_jobs(job_id, job, called, inner, entries))
    return dataclasses.replace(workflow, data={**workflow.data, "jobs": jobs})


def static_entries(job: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The caller's matrix entries ([{}] without a matrix), or None when a job's outputs decide them."""
    raw = (job.get("strategy") or {}).get("matrix")
    if raw is None:
        return [{}]
    if "needs." in str(raw):
        return None
    allowed = expressions.AVAILABILITY["jobs.<job_id>.strategy"]
    evaluated = plan.evaluate_tree(raw, {"github": {}, "inputs": {}, "vars": {}, "needs": {}}, allowed)
    return matrix.expand(evaluated) if isinstance(evaluated, Mapping) else None


def call_jobs(
    caller_id: str,
    caller: Mapping[str, Any],
    called: Workflow,
    inner: Mapping[str, Mapping[str, Any]],
    entries: list[dict[str, Any]],
) -> dict[str, Any]:
    """The called jobs, once per matrix entry of the caller, then the call's end job under the caller's id."""
    jobs: dict[str, Any] = {}
    ends: list[tuple[str, str]] = []  # (id here, id in the called workflow)
    caller_name = str(caller.get("name") or caller_id)
    workflow_call = triggers.events(called.data.get("on"))["workflow_call"]
    for entry in entries:
        values = ", ".join(expressions.to_string(v) for v in entry.values() if v not in (None, ""))
        named = "${{" in caller_name
        label = expressions.interpolate(caller_name, {"matrix": entry}) if named else caller_name
        label = f"{label} ({values})" if values and not named else label
        id_prefix = f"{caller_id} ({values})" if values else caller_id
        call = {
            "caller": caller_id,
            "if": caller.get("if"),
            "needs": list(needs_of(caller)),
            "with": dict(caller.get("with") or {}),
            "secrets": caller.get("secrets"),
            "matrix": entry,
            "inputs": dict(workflow_call.get("inputs") or {}),
            "env": dict(called.data.get("env") or {}),
            "defaults": dict(called.data.get("defaults") or {}),
            "file": called.relative,
        }
        for inner_id, job in inner.items():
            definition = dict(job)
            definition["name"] = f"{label} / {job.get('name') or inner_id}"
            definition["needs"] = [f"{id_prefix} / {need}" for need in needs_of(job)] + list(needs_of(caller))
            definition[CALL_KEY] = _reached_through(job[CALL_KEY], id_prefix, call) if CALL_KEY in job else call
            if CALLED_KEY in job:  # the end of a nested call: its jobs got our prefix too
                end = job[CALLED_KEY]
                definition[CALLED_KEY] = {
                    **end,
                    "inner": [(f"{id_prefix} / {full}", short) for full, short in end["inner"]],
                    "needs": [f"{id_prefix} / {need}" for need in end["needs"]] + list(needs_of(caller)),
                }
            jobs[f"{id_prefix} / {inner_id}"] = definition
            ends.append((f"{id_prefix} / {inner_id}", inner_id))
    jobs[caller_id] = {
        "name": caller_name,
        "needs": [full for full, _ in ends],
        "if": "always()",
        CALLED_KEY: {
            "inner": ends,
            "outputs": dict(workflow_call.get("outputs") or {}),
            "uses": str(caller["uses"]),
            "needs": list(needs_of(caller)),
        },
    }
    return jobs


def _reached_through(call: Mapping[str, Any], id_prefix: str, outer: Mapping[str, Any]) -> dict[str, Any]:
    """A nested call as seen from one level up: the ids it needs get that level's prefix, and the outermost
    call it belongs to is `outer`."""
    wrapped = {**call, "needs": [f"{id_prefix} / {need}" for need in call["needs"]]}
    wrapped["outer"] = _reached_through(call["outer"], id_prefix, outer) if "outer" in call else outer
    return wrapped


@dataclass(frozen=True)
class CallView:
    """What a called job sees of its call: whether the call runs, and its `inputs` and `env`."""

    runs: bool
    why: str = ""
    inputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    env: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    secrets: Mapping[str, str] = dataclasses.field(default_factory=dict)


def call_view(
    call: Mapping[str, Any] | None,
    jobs: Mapping[str, Mapping[str, Any]],
    results: Mapping[str, Result],
    outputs: Mapping[str, Mapping[str, str]],
    base: Callable[[Mapping[str, Any]], dict[str, Any]],
    *,
    cancelled: bool = False,
) -> CallView | None:
    """The call a job belongs to, as the job sees it (None for a job of the rehearsed workflow itself).
    `base(needs)` gives the rehearsed workflow's contexts for a `needs` context."""
    if not call:
        return None
    outer = call_view(call.get("outer"), jobs, results, outputs, base, cancelled=cancelled)
    if outer is not None and not outer.runs:
        return outer
    needs = {need: {"result": results[need].value, "outputs": dict(outputs.get(need, {}))} for need in call["needs"]}
    data = base(needs)
    data["matrix"] = dict(call["matrix"])
    if outer is not None:
        data["inputs"] = dict(outer.inputs)
    ancestors = set(call["needs"]) | {a for need in call["needs"] for a in plan.ancestors(jobs, need)}
    status = plan.job_status(results, ancestors, cancelled)
    if not plan.job_runs({"if": call["if"]} if call.get("if") is not None else {}, data, status):
        return CallView(False, why=f"the call's if: {call.get('if') or 'success()'} is false")
    allowed = expressions.AVAILABILITY["jobs.<job_id>.with.<with_id>"]
    inputs: dict[str, Any] = {}
    for name, declared in call["inputs"].items():
        spec = declared or {}
        if name in call["with"]:
            value = plan.evaluate_tree(call["with"][name], data, allowed)
        elif "default" in spec:
            value = plan.evaluate_tree(spec["default"], data, allowed)
        elif spec.get("required"):
            raise UserError(
                f"{call['file']}: the required input {name} is not given by the job {call['caller']}",
                f"add `with: {name}: ...` to the job that calls {call['file']} (GitHub refuses the run too)",
            )
        else:
            value = ""
        inputs[name] = contexts.typed_input(value, spec)
    env_contexts = {**base({}), "inputs": inputs}
    env = {key: expressions.interpolate(str(value), env_contexts) for key, value in call["env"].items()}
    return CallView(True, inputs=inputs, env=env, secrets=passed_secrets(call.get("secrets"), data))


def passed_secrets(given: Any, caller: Mapping[str, Any]) -> dict[str, str]:
    """The secrets a called workflow sees: `inherit` all of the caller's, a mapping its values, else none but
    GITHUB_TOKEN (GitHub's rule)."""
    secrets = dict(caller.get("secrets") or {})
    token = {"GITHUB_TOKEN": secrets.get("GITHUB_TOKEN", "")}
    if given == "inherit":
        return secrets
    if isinstance(given, Mapping):
        allowed = expressions.AVAILABILITY["jobs.<job_id>.secrets.<secrets_id>"]
        return {
            **token,
            **{name: expressions.interpolate(str(v), caller, allowed=allowed) for name, v in given.items()},
        }
    return token


def end_of_call(
    job: Mapping[str, Any], results: Mapping[str, Result], outputs: Mapping[str, Mapping[str, str]]
) -> tuple[Result, dict[str, str]]:
    """The caller job's result (GitHub's rule over the called jobs) and outputs (`on.workflow_call.outputs`,
    read from the `jobs` context)."""
    end = job[CALLED_KEY]
    result = job_result([results[full] for full, _ in end["inner"]])
    jobs_context = {
        short: {"result": results[full].value, "outputs": dict(outputs.get(full, {}))} for full, short in end["inner"]
    }
    values = {
        name: expressions.interpolate(str((spec or {}).get("value", "")), {"jobs": jobs_context})
        for name, spec in end["outputs"].items()
    }
    return result, values
