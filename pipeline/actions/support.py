"""Honoured or refused: every construct of a workflow is one `invoke ci` implements
with GitHub's semantics, one it reports as GitHub-only (another OS or runner, a
local JavaScript or Docker action, a remote reusable workflow: the plan and the final
table say so, with the reason), or a
`file:line` refusal: what invoke ci would run differently from GitHub without saying so.

`pipeline.workflow_checks` reports the refusals with the other checks of the
workflows (run by `nox -s workflows`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pipeline.actions import background
from pipeline.actions.workflow import Workflow
from pipeline.findings import Finding

# What invoke ci runs as GitHub does.
WORKFLOW_KEYS = {"name", "run-name", "on", "permissions", "concurrency", "env", "defaults", "jobs"}
JOB_KEYS = {
    "name", "needs", "if", "runs-on", "permissions", "concurrency", "outputs", "env", "defaults", "steps",
    "timeout-minutes", "strategy", "continue-on-error", "services", "environment", "container",
}  # fmt: skip
CALLER_KEYS = {"name", "needs", "if", "permissions", "uses", "with", "secrets", "concurrency", "strategy"}
STEP_KEYS = {
    "id", "name", "if", "uses", "run", "shell", "with", "env", "working-directory", "continue-on-error",
    "timeout-minutes", *background.STEP_KEYS,
}  # fmt: skip
STRATEGY_KEYS = {"matrix", "fail-fast", "max-parallel"}
SERVICE_KEYS = {"image", "env", "ports", "options"}
DEFAULTS_RUN_KEYS = {"shell", "working-directory"}
SHELLS = {"bash", "sh", "python"}
# `uses:` steps that only set up a hosted runner; here the job's world already has what they provide.
SETUP_ACTIONS = {
    "actions/checkout": "the job runs in this checkout",
    "actions/setup-python": "the job's PATH holds the Pythons it names",
    "actions/setup-node": "the job uses this machine's Node",
    "astral-sh/setup-uv": "uv comes from bootstrap.py's .tools/",
    "docker/setup-buildx-action": "the engine's own buildx",
    "docker/setup-docker-action": "this machine's Docker engine",
    "crazy-max/ghaction-github-runtime": "no Actions runtime, so the image cache is `local`",
}


FIX = (
    "invoke ci would run this differently from GitHub: write it with what invoke ci runs (README, `invoke ci`), "
    "or keep this workflow for GitHub alone"
)


def refusals(workflow: Workflow) -> Iterator[Finding]:
    data = workflow.data
    yield from _unknown(workflow, data, WORKFLOW_KEYS, ())
    yield from _defaults(workflow, data.get("defaults"), ("defaults",))
    for job_id, job in workflow.jobs.items():
        yield from _job(workflow, job_id, job)


def _refuse(workflow: Workflow, key: tuple[str | int, ...], message: str) -> Finding:
    return Finding(workflow.relative, workflow.line(*key), message, FIX)


def _unknown(workflow: Workflow, data: Any, known: set[str], key: tuple[str | int, ...]) -> Iterator[Finding]:
    if not isinstance(data, Mapping):
        return
    for name in data:
        if name not in known:
            where = ".".join(str(part) for part in (*key, name))
            yield _refuse(workflow, (*key, name), f"`{where}` is not something invoke ci runs as GitHub does")


def _defaults(workflow: Workflow, defaults: Any, key: tuple[str | int, ...]) -> Iterator[Finding]:
    if not isinstance(defaults, Mapping):
        return
    yield from _unknown(workflow, defaults, {"run"}, key)
    yield from _unknown(workflow, defaults.get("run"), DEFAULTS_RUN_KEYS, (*key, "run"))
    yield from _shell(workflow, (defaults.get("run") or {}).get("shell"), (*key, "run", "shell"))


def _shell(workflow: Workflow, shell: Any, key: tuple[str | int, ...]) -> Iterator[Finding]:
    if shell is not None and str(shell) not in SHELLS and "{0}" not in str(shell):
        yield _refuse(workflow, key, f"shell {shell} is not available here (use {', '.join(sorted(SHELLS))})")


def _job(workflow: Workflow, job_id: str, job: Mapping[str, Any]) -> Iterator[Finding]:
    key: tuple[str | int, ...] = ("jobs", job_id)
    if "uses" in job:
        yield from _unknown(workflow, job, CALLER_KEYS, key)
        return
    yield from _unknown(workflow, job, JOB_KEYS, key)
    yield from _unknown(workflow, job.get("strategy"), STRATEGY_KEYS, (*key, "strategy"))
    yield from _defaults(workflow, job.get("defaults"), (*key, "defaults"))
    for name, service in (job.get("services") or {}).items():
        yield from _unknown(workflow, service, SERVICE_KEYS, (*key, "services", name))
    for index, step in enumerate(job.get("steps") or []):
        yield from _step(workflow, step, (*key, "steps", index))


def _step(workflow: Workflow, step: Mapping[str, Any], key: tuple[str | int, ...]) -> Iterator[Finding]:
    yield from _unknown(workflow, step, STEP_KEYS, key)
    yield from _shell(workflow, step.get("shell"), (*key, "shell"))
    for index, inner in enumerate(step.get("parallel") or []):
        if isinstance(inner, Mapping):
            yield from _step(workflow, inner, (*key, "parallel", index))
