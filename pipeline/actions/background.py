"""GitHub's parallel steps (generally available since June 2026), run here as the runner runs them.

`background: true` starts a step and moves on; `wait: ID` (or a list) blocks until those background
steps end, `wait-all` until every one started so far has; `cancel: ID` stops one (its process group gets
SIGINT, then SIGTERM, then SIGKILL, as a cancelled step does) and it ends as cancelled, which does not
fail the job; `parallel:` runs its steps as background steps and waits for them. At most ten background
steps run at once; a job waits for those still running before it ends. A background step's log is kept
apart (beside the job's, `<job>.step-<id>.log`) and copied whole into the job's log when it is waited
for; its outputs and conclusion reach the `steps` context and the job's status when it ends.
"""

from __future__ import annotations

import copy
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pipeline.actions.model import Result
from pipeline.errors import UserError
from pipeline.processes import ProcessGroups

if TYPE_CHECKING:
    from pipeline.actions.jobs import JobRun
    from pipeline.actions.steps import StepRecord

MAX_RUNNING = 10  # the runner's limit of background steps at once
CONTROL_KEYS = ("parallel", "wait", "wait-all", "cancel")
STEP_KEYS = ("background", *CONTROL_KEYS)


@dataclass
class BackgroundStep:
    key: str
    label: str
    scope: JobRun
    log_path: Path
    thread: threading.Thread
    record: StepRecord | None = None
    reported: bool = False


def targets(value: Any) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


class Background:
    """The background steps of one job run."""

    def __init__(self, job: JobRun) -> None:
        self.job = job
        self.deadline = math.inf  # the job's, once it runs
        self.steps: dict[str, BackgroundStep] = {}
        self.slots = threading.Semaphore(MAX_RUNNING)
        self.lock = threading.Lock()

    def handles(self, step: Mapping[str, Any]) -> bool:
        return bool(step.get("background")) or any(key in step for key in CONTROL_KEYS)

    def run(self, step: Mapping[str, Any], index: int, log: IO[str]) -> None:
        """One step that starts, waits for or cancels background steps."""
        if "parallel" in step:
            started = [self.start(inner, f"{index}.{number}", log) for number, inner in enumerate(step["parallel"])]
            self.wait(started, log)
        elif "wait" in step:
            self.wait(targets(step["wait"]), log)
        elif "wait-all" in step:
            self.wait(list(self.steps), log)
        elif "cancel" in step:
            self.cancel(str(step["cancel"]), log)
        else:
            self.start(step, str(index), log)

    def start(self, step: Mapping[str, Any], index: str, log: IO[str]) -> str:
        from pipeline.actions.jobs import StepRun  # noqa: PLC0415 -- jobs imports this module
        from pipeline.actions.steps import step_label  # noqa: PLC0415

        job = self.job
        key = str(step.get("id") or index)
        scope = copy.copy(job)  # its own contexts dict and process groups; the job's files, PATH and env additions
        scope.contexts = dict(job.contexts)
        scope.groups = ProcessGroups()
        scope.step_prefix = f"{job.step_prefix}{index}."
        if job.groups.stopping.is_set():
            scope.groups.stopping.set()
        log_path = job.session.log_path(job.instance.key, f".step-{key}.log")
        label = step_label(step, 0)

        def run() -> None:
            with self.slots, log_path.open("w", encoding="utf-8") as step_log:
                remaining = self.deadline - time.monotonic()
                record, _ = StepRun(scope, step, 0).run(step_log, max(remaining, 0.0))
            entry.record = record
            if step.get("id"):
                job.contexts["steps"][str(step["id"])] = record.context()
            if record.conclusion is Result.FAILURE:
                job.failed = True
                job.contexts["job"]["status"] = Result.FAILURE.value

        entry = BackgroundStep(key, label, scope, log_path, threading.Thread(target=run, daemon=True))
        with self.lock:
            self.steps[key] = entry
        log.write(f"[invoke ci] background: {label} (its log: {log_path.name})\n")
        entry.thread.start()
        return key

    def wait(self, keys: list[str], log: IO[str]) -> None:
        for key in keys:
            if key not in self.steps:
                raise UserError(f"wait: {key} is not a background step started before", "fix the step's `wait:`")
        for key in keys:
            entry = self.steps[key]
            entry.thread.join()
            self.report(entry, log)

    def cancel(self, key: str, log: IO[str]) -> None:
        if key not in self.steps:
            raise UserError(f"cancel: {key} is not a background step started before", "fix the step's `cancel:`")
        entry = self.steps[key]
        log.write(f"[invoke ci] cancel: {entry.label}\n")
        entry.scope.groups.stop_all()
        entry.thread.join()
        self.report(entry, log)

    def report(self, entry: BackgroundStep, log: IO[str]) -> None:
        """The step's log into the job's, once, and its record among the job's."""
        if entry.reported:
            return
        entry.reported = True
        text = entry.log_path.read_text(encoding="utf-8", errors="replace") if entry.log_path.exists() else ""
        log.write(
            f"[invoke ci] --- background step {entry.label} ---\n{text}[invoke ci] --- end of {entry.label} ---\n"
        )
        if entry.record is not None:
            self.job.records.append(entry.record)

    def finish(self, log: IO[str]) -> None:
        """The implicit wait-all before the job ends."""
        self.wait(list(self.steps), log)

    def stop_all(self) -> None:
        with self.lock:
            scopes = [entry.scope for entry in self.steps.values()]
        for scope in scopes:
            scope.groups.stop_all()
