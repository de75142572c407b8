"""The world a job's steps run in: the runner image's PATH and Pythons, GitHub's variables, the env."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.actions import composite, expressions, runner_images, setup_python, steps
from pipeline.actions.files import CommandFiles
from pipeline.actions.model import Instance
from pipeline.console import COLOR_FORCING

if TYPE_CHECKING:
    from pipeline.actions.jobs import JobRun
    from pipeline.actions.session import RunSession

# Set by the runner on GitHub; here they would make tools reach for GitHub's own services
# (the Actions cache, the runtime token), so a local run leaves them out.
GITHUB_ONLY_VARIABLES = ("GITHUB_ACTIONS", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL")
WORLDS = ".cache/ci-runner/worlds"
COMMAND_FILE_VARIABLES = ("GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH")


@dataclass(frozen=True)
class Placement:
    """Where one instance runs here: the runner image and setup-python's CPythons."""

    image: runner_images.RunnerImage
    pythons: tuple[str, ...] = ()  # setup-python's versions (X.Y), the default last
    missing: tuple[str, ...] = ()  # asked for, with nothing on this machine that matches
    notes: tuple[str, ...] = ()  # how a spec was read here, where GitHub may differ


def placement(root: Path, instance: Instance, contexts: Mapping[str, Any], host: Mapping[str, str]) -> Placement | str:
    """The instance's `runs-on` (evaluated for its matrix entry) and its setup-python steps, read as the action
    reads them, or why only GitHub can run it; a directory scan of this machine's Pythons, no process."""
    data = {**contexts, "matrix": dict(instance.matrix), "strategy": {}}
    runs_on = instance.definition.get("runs-on", "ubuntu-24.04")
    runner = runner_images.runner_for(
        expressions.evaluate_template(runs_on, data, allowed=expressions.AVAILABILITY["jobs.<job_id>.runs-on"])
        if isinstance(runs_on, str)
        else runs_on
    )
    if isinstance(runner, str):
        return runner
    pythons: list[str] = []
    missing: list[str] = []
    notes: list[str] = []
    for step, step_contexts in composite.setup_steps(instance.definition.get("steps") or [], root, data):
        if not setup_python.is_setup_python(step):
            continue
        inputs = {
            name: expressions.interpolate(value, step_contexts) if isinstance(value, str) else value
            for name, value in (step.get("with") or {}).items()
        }
        specs, _ = setup_python.requested(inputs, root)
        for spec in specs:
            found = setup_python.resolve(spec, lambda minor: runner_images.host_python(minor, host) is not None)
            if found.github_only:
                return found.github_only
            pythons += [found.version] if found.version else []
            missing += [found.missing] if found.missing else []
            notes += [found.note] if found.note else []
    absent = [v for v in dict.fromkeys([runner.system_python, *pythons]) if runner_images.host_python(v, host) is None]
    return Placement(runner, tuple(pythons), tuple(dict.fromkeys([*absent, *missing])), tuple(notes))


def job_world(session: RunSession, where: Placement) -> runner_images.JobWorld:
    """The runner image of a placed instance, with the Pythons its setup-python steps install."""
    world = runner_images.build_world(where.image, where.pythons, session.root / WORLDS, session.host)
    return dataclasses.replace(world, missing=tuple(dict.fromkeys([*world.missing, *where.missing])))


def step_environ(session: RunSession, job: JobRun, env: Mapping[str, str], files: CommandFiles) -> dict[str, str]:
    """A step's process environment: the job's world, GitHub's variables, GITHUB_ENV, the workflow's env."""
    base = job.world.environ(session.host, session.system_path, session.empty)
    for name in (*GITHUB_ONLY_VARIABLES, *COMMAND_FILE_VARIABLES):
        base.pop(name, None)
    base.update(runner_variables(session, job, env, files))
    if any(name in base for name in COLOR_FORCING):  # the workflow asks for colour; nox refuses both at once
        base.pop("NO_COLOR", None)
    base["PATH"] = steps.merged_path(base["PATH"], job.added_path)
    return base


def container_environ(session: RunSession, job: JobRun, env: Mapping[str, str], files: CommandFiles) -> dict[str, str]:
    """A step's environment inside a container job's container: the runner's variables and the workflow's env,
    nothing of this machine's (the container has its own PATH and tools)."""
    return runner_variables(session, job, env, files)


def runner_variables(session: RunSession, job: JobRun, env: Mapping[str, str], files: CommandFiles) -> dict[str, str]:
    """What GitHub's runner sets for every step, then GITHUB_ENV's additions, the action's, the step's env."""
    github = job.contexts["github"]
    base: dict[str, str] = {}
    base.update(
        {
            "CI": "true",
            "GITHUB_WORKSPACE": str(session.root),
            "GITHUB_JOB": job.instance.job_id,
            "GITHUB_EVENT_NAME": str(github["event_name"]),
            "GITHUB_EVENT_PATH": str(session.event_path),
            "GITHUB_REF": str(github["ref"]),
            "GITHUB_REF_NAME": str(github["ref_name"]),
            "GITHUB_SHA": str(github["sha"]),
            "GITHUB_REPOSITORY": str(github["repository"]),
            "GITHUB_RUN_ID": session.run_id,
            "GITHUB_WORKFLOW": session.workflow.name,
            "RUNNER_OS": "Linux",
            # Each hosted job has a machine, so a /tmp, of its own: jobs side by side here must not
            # share one (pytest's temporary folders of two jobs would clean up each other's).
            "RUNNER_TEMP": str(job.temp),
            "TMPDIR": str(job.temp),
        }
    )
    base.update(job.added_env)
    base.update(job.action_env)
    base.update(env)
    base.update(files.environ())
    return base
