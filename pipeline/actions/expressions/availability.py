"""Where each context and special function may be used: GitHub's "Context availability" table.

Source: https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#context-availability
(one entry per row, keyed by the workflow key as GitHub writes it). Functions not listed as special
(contains, format, ...) are available everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Availability:
    contexts: frozenset[str]
    functions: frozenset[str]  # special functions like always, failure, hashFiles


STATUS = "always, cancelled, success, failure"
_ROWS = {
    "run-name": ("github, inputs, vars", ""),
    "concurrency": ("github, inputs, vars", ""),
    "env": ("github, secrets, inputs, vars", ""),
    "jobs.<job_id>.concurrency": ("github, needs, strategy, matrix, inputs, vars", ""),
    "jobs.<job_id>.container": ("github, needs, strategy, matrix, vars, inputs", ""),
    "jobs.<job_id>.container.credentials": ("github, needs, strategy, matrix, env, vars, secrets, inputs", ""),
    "jobs.<job_id>.container.env.<env_id>": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, inputs",
        "",
    ),
    "jobs.<job_id>.container.image": ("github, needs, strategy, matrix, vars, inputs", ""),
    "jobs.<job_id>.continue-on-error": ("github, needs, strategy, vars, matrix, inputs", ""),
    "jobs.<job_id>.defaults.run": ("github, needs, strategy, matrix, env, vars, inputs", ""),
    "jobs.<job_id>.env": ("github, needs, strategy, matrix, vars, secrets, inputs", ""),
    "jobs.<job_id>.environment": ("github, needs, strategy, matrix, vars, inputs", ""),
    "jobs.<job_id>.environment.url": ("github, needs, strategy, matrix, job, runner, env, vars, steps, inputs", ""),
    "jobs.<job_id>.if": ("github, needs, vars, inputs", STATUS),
    "jobs.<job_id>.name": ("github, needs, strategy, matrix, vars, inputs", ""),
    "jobs.<job_id>.outputs.<output_id>": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "",
    ),
    "jobs.<job_id>.runs-on": ("github, needs, strategy, matrix, vars, inputs", ""),
    "jobs.<job_id>.secrets.<secrets_id>": ("github, needs, strategy, matrix, secrets, inputs, vars", ""),
    "jobs.<job_id>.services": ("github, needs, strategy, matrix, vars, inputs", ""),
    "jobs.<job_id>.services.<service_id>.credentials": (
        "github, needs, strategy, matrix, env, vars, secrets, inputs",
        "",
    ),
    "jobs.<job_id>.services.<service_id>.env.<env_id>": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, inputs",
        "",
    ),
    "jobs.<job_id>.steps.continue-on-error": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "hashFiles",
    ),
    "jobs.<job_id>.steps.env": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "hashFiles",
    ),
    "jobs.<job_id>.steps.if": (
        "github, needs, strategy, matrix, job, runner, env, vars, steps, inputs",
        f"{STATUS}, hashFiles",
    ),
    "jobs.<job_id>.steps.name": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "hashFiles",
    ),
    "jobs.<job_id>.steps.run": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "hashFiles",
    ),
    "jobs.<job_id>.steps.timeout-minutes": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "hashFiles",
    ),
    "jobs.<job_id>.steps.with": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "hashFiles",
    ),
    "jobs.<job_id>.steps.working-directory": (
        "github, needs, strategy, matrix, job, runner, env, vars, secrets, steps, inputs",
        "hashFiles",
    ),
    "jobs.<job_id>.strategy": ("github, needs, vars, inputs", ""),
    "jobs.<job_id>.timeout-minutes": ("github, needs, strategy, matrix, vars, inputs", ""),
    "jobs.<job_id>.with.<with_id>": ("github, needs, strategy, matrix, inputs, vars", ""),
    "on.workflow_call.inputs.<inputs_id>.default": ("github, inputs, vars", ""),
    "on.workflow_call.outputs.<output_id>.value": ("github, jobs, vars, inputs", ""),
}


def _names(listing: str) -> frozenset[str]:
    return frozenset(name.strip() for name in listing.split(",") if name.strip())


AVAILABILITY: Mapping[str, Availability] = MappingProxyType(
    {key: Availability(_names(contexts), _names(functions)) for key, (contexts, functions) in _ROWS.items()}
)
