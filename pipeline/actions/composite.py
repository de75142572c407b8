"""Local actions (`uses: ./path`): a composite action runs here with GitHub's semantics; a JavaScript or
Docker action makes its job GitHub-only.

A composite action's steps run in the job, with a scope of their own: `inputs` (the step's `with`, else
each input's default; a required input left out is a warning, as on GitHub), a `steps` context only they
see, the calling step's `env` under each step's, `github.action_path` and `GITHUB_ACTION_PATH`. Its
`outputs` are read from that scope when its last step has run. Composite actions may nest, up to GitHub's
limit of ten levels. `defaults.run` of the workflow and job does not reach them; each `run` step names
its shell (GitHub requires it).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import yaml

from pipeline.actions import expressions
from pipeline.actions.model import Result, StepKind
from pipeline.errors import UserError

if TYPE_CHECKING:
    from pipeline.actions.jobs import JobRun, StepRun
    from pipeline.actions.steps import StepRecord

MAX_DEPTH = 10  # GitHub: "composite actions can be nested up to 10 levels"
METADATA_FILES = ("action.yml", "action.yaml")


@dataclass(frozen=True)
class LocalAction:
    uses: str
    folder: Path
    data: Mapping[str, Any]

    @property
    def using(self) -> str:
        return str((self.data.get("runs") or {}).get("using", ""))

    @property
    def steps(self) -> list[Mapping[str, Any]]:
        return list((self.data.get("runs") or {}).get("steps") or [])

    @property
    def inputs(self) -> Mapping[str, Mapping[str, Any]]:
        return {name: spec or {} for name, spec in (self.data.get("inputs") or {}).items()}

    @property
    def outputs(self) -> Mapping[str, Mapping[str, Any]]:
        return {name: spec or {} for name, spec in (self.data.get("outputs") or {}).items()}

    def github_only(self) -> str:
        """Why a job using this action runs only on GitHub, or ''."""
        if self.using == "composite":
            return ""
        kind = "Docker" if self.using == "docker" else f"JavaScript ({self.using})"
        return f"uses the {kind} action {self.uses} of this repository, not run here"


def is_local(uses: object) -> bool:
    return str(uses).startswith("./")


def load(root: Path, uses: str) -> LocalAction:
    """The action `uses: ./path` names, read from the workspace as the runner reads it."""
    folder = (root / uses).resolve()
    if not folder.is_relative_to(root.resolve()):
        raise UserError(f"uses: {uses} points outside the repository", "name a folder of this repository")
    for name in METADATA_FILES:
        if (folder / name).is_file():
            try:
                data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
            except yaml.YAMLError as error:
                raise UserError(f"{uses}/{name} is not valid YAML: {error}", "fix the action's metadata") from None
            if not isinstance(data, Mapping):
                raise UserError(f"{uses}/{name} is not a YAML mapping", "fix the action's metadata")
            return LocalAction(uses, folder, data)
    raise UserError(
        f"uses: {uses}: there is no action.yml or action.yaml in {folder} (GitHub fails the job too)",
        "check the path (relative to the repository root) or add the action's metadata file",
    )


def input_values(
    action: LocalAction, given: Mapping[str, Any], contexts: Mapping[str, Any]
) -> tuple[dict[str, str], list[str]]:
    """The `inputs` context: each `with` value, else the input's default (both evaluated in the caller's
    contexts); and the warnings GitHub's runner prints (a required input left out, an unexpected one)."""
    values: dict[str, str] = {}
    warnings: list[str] = []
    for name, spec in action.inputs.items():
        if name in given:
            values[name] = expressions.interpolate(str(given[name]), contexts)
        elif "default" in spec:
            values[name] = expressions.interpolate(str(spec["default"]), contexts)
        else:
            values[name] = ""
            if spec.get("required"):
                warnings.append(f"Input required and not supplied: {name}")
    unexpected = [name for name in given if name not in action.inputs]
    if unexpected:
        warnings.append(f"Unexpected input(s) '{', '.join(unexpected)}', valid inputs are {list(action.inputs)}")
        values.update({name: expressions.interpolate(str(given[name]), contexts) for name in unexpected})
    return values, warnings


def setup_steps(
    steps: list[Mapping[str, Any]], root: Path, contexts: Mapping[str, Any], depth: int = 0
) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """Every step of a job with the contexts it is read in, local composite actions' steps included (their
    setup-python steps decide the job's Pythons as much as the job's own)."""
    for step in steps:
        yield step, contexts
        if is_local(step.get("uses")) and depth < MAX_DEPTH:
            try:
                action = load(root, str(step["uses"]))
            except UserError:
                continue  # the run reports it
            with_values = {k: expressions.interpolate(str(v), contexts) for k, v in (step.get("with") or {}).items()}
            inputs, _ = input_values(action, with_values, contexts)
            yield from setup_steps(action.steps, root, {**contexts, "inputs": inputs}, depth + 1)


def run(step_run: StepRun, log: IO[str], remaining: float) -> tuple[StepRecord, bool]:
    """Run a local composite action's steps as one step of the job."""
    from pipeline.actions.jobs import StepRun  # noqa: PLC0415 -- jobs imports this module

    job, step, record = step_run.job, step_run.step, step_run.record
    uses = str(step["uses"])
    if job.depth >= MAX_DEPTH:
        raise UserError(f"{uses}: composite actions nest deeper than {MAX_DEPTH} levels", "flatten the actions")
    action = load(job.session.root, uses)
    if reason := action.github_only():
        record.kind = StepKind.GITHUB_ONLY
        record.outcome = record.conclusion = Result.SUCCESS
        log.write(f"[invoke ci] GitHub only, not run here: {record.label} ({reason})\n")
        return record, False
    scope = action_scope(job, step, action, step_run.index, log)
    started = time.monotonic()
    timed_out = False
    for index, inner in enumerate(action.steps):
        left = remaining - (time.monotonic() - started)
        if left <= 0:
            timed_out = True
            break
        inner_record, timed_out = StepRun(scope, inner, index).run(log, left)
        if inner.get("id"):
            scope.contexts["steps"][str(inner["id"])] = inner_record.context()
        if inner_record.conclusion is Result.FAILURE:
            scope.failed = True
            record.note = record.note or f"{record.label}: {inner_record.note}"
        if timed_out:
            break
    record.outputs = {
        name: expressions.interpolate(str(spec.get("value", "")), scope.contexts, workspace=job.session.root)
        for name, spec in action.outputs.items()
    }
    record.outcome = Result.FAILURE if scope.failed else Result.SUCCESS
    continue_on_error = expressions.truthy(
        job.typed(step.get("continue-on-error", False), "jobs.<job_id>.steps.continue-on-error")
    )
    record.conclusion = Result.SUCCESS if continue_on_error else record.outcome
    return record, timed_out


def action_scope(job: JobRun, step: Mapping[str, Any], action: LocalAction, index: int, log: IO[str]) -> JobRun:
    """The job as the action's steps see it: shared environment files, PATH and process groups; their own
    `inputs`, `steps`, `env` and `github.action_path`."""
    contexts = job.contexts
    step_env = {key: job.value(value, "jobs.<job_id>.steps.env") for key, value in (step.get("env") or {}).items()}
    given = dict(step.get("with") or {})
    inputs, warnings = input_values(action, given, contexts)
    for warning in warnings:
        log.write(f"[invoke ci] warning: {action.uses}: {warning}\n")
    scope = copy.copy(job)  # shares added_env, added_path, summaries, groups with the job
    scope.contexts = {
        **contexts,
        "inputs": inputs,
        "steps": {},
        "env": {**contexts["env"], **step_env},
        "github": {**contexts["github"], "action_path": str(action.folder)},
    }
    scope.records = []
    scope.failed = job.failed
    scope.depth = job.depth + 1
    scope.step_prefix = f"{job.step_prefix}{index}."
    scope.defaults_apply = False
    scope.action_env = {"GITHUB_ACTION_PATH": str(action.folder)}
    return scope
