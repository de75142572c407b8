"""What every job of one local run shares: the workflow, the trigger, the folders, the stop switch."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.actions import contexts, expressions, runner_images, steps
from pipeline.actions.files import CommandFiles
from pipeline.actions.model import Instance
from pipeline.actions.processes import ProcessGroups
from pipeline.actions.workflow import Workflow
from pipeline.console import COLOR_FORCING

if TYPE_CHECKING:
    from pipeline.actions.jobs import JobRun

LOG_DIR = Path(".cache/ci-logs")
# Set by the workflow's steps on GitHub; here they would make tools reach for GitHub's own
# services (the Actions cache, the runtime token), so a local run leaves them out.
GITHUB_ONLY_VARIABLES = ("GITHUB_ACTIONS", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL")


def safe_name(key: str) -> str:
    return re.sub(r"[^\w.-]+", "_", key).strip("_")


class RunSession:
    """One `invoke ci` run."""

    def __init__(
        self,
        root: Path,
        workflow: Workflow,
        trigger: contexts.Trigger,
        resolve_image: Callable[[str], str],
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.workflow = workflow
        self.trigger = trigger
        self.resolve_image = resolve_image
        self.host = dict(os.environ if environ is None else environ)
        self.run_id = uuid.uuid4().hex[:8]
        self.groups = ProcessGroups()
        self.temp = Path(tempfile.mkdtemp(prefix=f"invoke-ci-{self.run_id}-"))
        self.empty = self.temp / "empty"
        self.empty.mkdir()
        self.logs = root / LOG_DIR
        self.logs.mkdir(parents=True, exist_ok=True)
        self.github = contexts.github_context(root, trigger, workflow.name, self.run_id)
        self.system_path = runner_images.system_path(self.host, self.temp / "mirrors")

    def close(self) -> None:
        shutil.rmtree(self.temp, ignore_errors=True)

    def job_folder(self, key: str) -> Path:
        folder = self.temp / "jobs" / safe_name(key)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def log_path(self, key: str, suffix: str = ".log") -> Path:
        return self.logs / (safe_name(key) + suffix)

    def base_contexts(self, needs: Mapping[str, Any]) -> dict[str, Any]:
        """What a job's `if`, `name`, `strategy` and `env` may read."""
        return {
            "github": dict(self.github),
            "needs": dict(needs),
            "vars": {},
            "secrets": {"GITHUB_TOKEN": ""},  # nosec B105 -- no token exists in a local run
            "inputs": {},
            "env": {},
        }

    def job_contexts(self, instance: Instance, needs: Mapping[str, Any]) -> dict[str, Any]:
        data = self.base_contexts(needs)
        data["github"]["job"] = instance.job_id
        strategy = instance.definition.get("strategy") or {}
        data["strategy"] = {
            "fail-fast": bool(strategy.get("fail-fast", True)),
            "job-index": instance.index,
            "job-total": instance.total,
            "max-parallel": strategy.get("max-parallel", instance.total),
        }
        data["matrix"] = dict(instance.matrix)
        data["runner"] = contexts.runner_context(self.temp)
        data["steps"] = {}
        data["job"] = {"status": "success", "services": {}, "container": {}}
        data["env"] = {key: str(value) for key, value in self.workflow_env().items()}
        return data

    def workflow_env(self) -> dict[str, str]:
        env = self.workflow.data.get("env") or {}
        allowed = expressions.AVAILABILITY["env"]
        return {
            key: expressions.interpolate(str(value), self.base_contexts({}), allowed=allowed)
            for key, value in env.items()
        }

    def default_run(self, job: Mapping[str, Any]) -> dict[str, Any]:
        """`defaults.run` of the job over the workflow's."""
        workflow_defaults = ((self.workflow.data.get("defaults") or {}).get("run")) or {}
        job_defaults = ((job.get("defaults") or {}).get("run")) or {}
        return {**workflow_defaults, **job_defaults}

    def world(self, instance: Instance, contexts: Mapping[str, Any]) -> runner_images.JobWorld:
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
        return runner_images.build_world(runner_images.image_for(label), versions, self.temp / "worlds", self.host)

    def step_environ(self, job: JobRun, env: Mapping[str, str], command_files: CommandFiles) -> dict[str, str]:
        """The process environment of a step: the job's world, GitHub's variables, the workflow's env."""
        base = job.world.environ(self.host, self.system_path, self.empty)
        for name in (*GITHUB_ONLY_VARIABLES, "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH"):
            base.pop(name, None)
        github = job.contexts["github"]
        base.update(
            {
                "CI": "true",
                "GITHUB_WORKSPACE": str(self.root),
                "GITHUB_JOB": job.instance.job_id,
                "GITHUB_EVENT_NAME": str(github["event_name"]),
                "GITHUB_REF": str(github["ref"]),
                "GITHUB_REF_NAME": str(github["ref_name"]),
                "GITHUB_SHA": str(github["sha"]),
                "GITHUB_REPOSITORY": str(github["repository"]),
                "GITHUB_RUN_ID": self.run_id,
                "GITHUB_WORKFLOW": self.workflow.name,
                "RUNNER_OS": "Linux",
                "RUNNER_TEMP": str(self.temp),
            }
        )
        base.update(job.added_env)
        base.update(env)
        base.update(command_files.environ())
        if any(name in base for name in COLOR_FORCING):  # the workflow asks for colour; nox refuses both at once
            base.pop("NO_COLOR", None)
        base["PATH"] = steps.merged_path(base["PATH"], job.added_path)
        return base
