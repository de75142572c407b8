"""The world a job's steps run in: the runner image's PATH and Pythons, GitHub's variables, the env."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pipeline.actions import expressions, runner_images, steps
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


def job_world(session: RunSession, instance: Instance, contexts: Mapping[str, Any]) -> runner_images.JobWorld:
    """The runner image of the job's `runs-on`, with the Pythons its setup-python steps install."""
    data = {**contexts, "matrix": dict(instance.matrix), "strategy": {}}
    runs_on = instance.definition.get("runs-on", "ubuntu-24.04")
    label = expressions.interpolate(str(runs_on), data, allowed=expressions.AVAILABILITY["jobs.<job_id>.runs-on"])
    versions: list[str] = []
    for step in instance.definition.get("steps") or []:
        if str(step.get("uses", "")).split("@")[0] == "actions/setup-python":
            value = (step.get("with") or {}).get("python-version", "")
            text = expressions.interpolate(value, data) if isinstance(value, str) else value
            versions += runner_images.setup_python_versions(text)
    image = runner_images.image_for(label)
    return runner_images.build_world(image, versions, session.root / WORLDS, session.host)


def step_environ(session: RunSession, job: JobRun, env: Mapping[str, str], files: CommandFiles) -> dict[str, str]:
    """A step's process environment: the job's world, GitHub's variables, GITHUB_ENV, the workflow's env."""
    base = job.world.environ(session.host, session.system_path, session.empty)
    for name in (*GITHUB_ONLY_VARIABLES, *COMMAND_FILE_VARIABLES):
        base.pop(name, None)
    github = job.contexts["github"]
    base.update(
        {
            "CI": "true",
            "GITHUB_WORKSPACE": str(session.root),
            "GITHUB_JOB": job.instance.job_id,
            "GITHUB_EVENT_NAME": str(github["event_name"]),
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
    base.update(env)
    base.update(files.environ())
    if any(name in base for name in COLOR_FORCING):  # the workflow asks for colour; nox refuses both at once
        base.pop("NO_COLOR", None)
    base["PATH"] = steps.merged_path(base["PATH"], job.added_path)
    return base
