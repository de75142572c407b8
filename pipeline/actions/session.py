"""What every job of one local run shares: the workflow, the trigger, the folders, the stop switch."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pipeline import console
from pipeline.actions import concurrency, contexts, expressions, model, reusable, runner_images
from pipeline.actions.model import Instance
from pipeline.actions.workflow import Workflow

LOG_DIR = Path(".cache/ci-logs")


def safe_name(key: str) -> str:
    return re.sub(r"[^\w.-]+", "_", key).strip("_")


# A terminal's colour or cursor sequence (CSI ... final byte, or OSC ... BEL/ST).
ANSI_CODE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")


class RunSession:
    """One `invoke ci` run."""

    def __init__(
        self,
        root: Path,
        workflow: Workflow,
        trigger: contexts.Trigger,
        resolve_image: Callable[[str], str],
        *,
        environ: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        variables: Mapping[str, str] | None = None,
    ) -> None:
        self.root = root
        self.variables = dict(variables or {})
        self.plain_logs = not console.console().is_terminal
        self.workflow = workflow
        self.trigger = trigger
        self.resolve_image = resolve_image
        self.host = dict(os.environ if environ is None else environ)
        self.run_id = uuid.uuid4().hex[:8]
        self.secrets = {"GITHUB_TOKEN": "", **(secrets or {})}  # nosec B105 -- no token exists in a local run
        self.temp = Path(tempfile.mkdtemp(prefix=f"invoke-ci-{self.run_id}-"))
        self.empty = self.temp / "empty"
        self.empty.mkdir()
        self.logs = root / LOG_DIR
        self.logs.mkdir(parents=True, exist_ok=True)
        self.github = contexts.github_context(root, trigger, workflow.name, self.run_id)
        self.event_path = self.temp / "event.json"  # GITHUB_EVENT_PATH: the payload, as the runner writes it
        self.event_path.write_text(json.dumps(self.github["event"], indent=2), encoding="utf-8")
        self.inputs = (
            contexts.dispatch_inputs(workflow.data.get("on"), self.github["event"])
            if trigger.event == "workflow_dispatch"
            else {}
        )
        self.system_path = runner_images.system_path(self.host, self.temp / "mirrors")
        group = concurrency.group_of(
            workflow.data.get("concurrency"), self.base_contexts({}), expressions.AVAILABILITY["concurrency"]
        )
        self.concurrency_group = group.name if group else None

    def mask(self, text: str) -> str:
        """`text` with every secret's value replaced by ***, as GitHub masks them in logs."""
        for value in sorted((v for v in self.secrets.values() if v.strip()), key=len, reverse=True):
            text = text.replace(value, "***")
        return text

    def keep_file(self, path: Path) -> None:
        """What is kept of a job's log or summary: no secret's value; no colour codes unless a person watches
        this run in a terminal (the workflow's FORCE_COLOR is for GitHub's log viewer)."""
        secrets = any(v.strip() for v in self.secrets.values())
        if not path.is_file() or not (secrets or self.plain_logs):
            return
        text = self.mask(path.read_text(encoding="utf-8", errors="replace"))
        path.write_text(ANSI_CODE.sub("", text) if self.plain_logs else text, encoding="utf-8")

    def close(self) -> None:
        shutil.rmtree(self.temp, ignore_errors=True)

    def job_folder(self, key: str) -> Path:
        folder = self.temp / "jobs" / safe_name(key)
        folder.mkdir(parents=True, exist_ok=True)
        for level in (self.temp, self.temp / "jobs", folder):
            level.chmod(0o755)  # the job's TMPDIR inside must be reachable, as /tmp is
        return folder

    def log_path(self, key: str, suffix: str = ".log") -> Path:
        return self.logs / (safe_name(key) + suffix)

    def base_contexts(self, needs: Mapping[str, Any], call: reusable.CallView | None = None) -> dict[str, Any]:
        """What a job's `if`, `name`, `strategy` and `env` may read; a called job reads its call's inputs."""
        return {
            "github": dict(self.github),
            "needs": dict(needs),
            "vars": dict(self.variables),
            "secrets": dict(call.secrets if call is not None else self.secrets),
            "inputs": dict(call.inputs if call is not None else self.inputs),
            "env": {},
        }

    def job_contexts(
        self, instance: Instance, needs: Mapping[str, Any], call: reusable.CallView | None = None
    ) -> dict[str, Any]:
        data = self.base_contexts(needs, call)
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
        env = call.env if call is not None else self.workflow_env()
        data["env"] = {key: str(value) for key, value in env.items()}
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
        call = job.get(model.CALL_KEY)
        workflow = call["defaults"] if call else self.workflow.data.get("defaults")
        workflow_defaults = ((workflow or {}).get("run")) or {}
        job_defaults = ((job.get("defaults") or {}).get("run")) or {}
        return {**workflow_defaults, **job_defaults}
