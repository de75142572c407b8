"""One job instance, run here: services, then its steps in order, with GitHub's semantics
for `if`, `continue-on-error`, `timeout-minutes`, `env`, `defaults.run` and the command files."""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from pipeline import engine
from pipeline.actions import composite, concurrency, environment, expressions, files, services, steps
from pipeline.actions.background import Background
from pipeline.actions.expressions import ExpressionError, Status
from pipeline.actions.model import Instance, Outcome, Result, StepKind
from pipeline.actions.reusable import CallView
from pipeline.actions.runner_images import JobWorld
from pipeline.actions.session import RunSession
from pipeline.errors import UserError
from pipeline.processes import ProcessGroups

DEFAULT_TIMEOUT_MINUTES = 360
Key = str


def allowed(key: Key) -> expressions.Availability:
    return expressions.AVAILABILITY[key]


class JobRun:
    """The state of one running instance: its contexts, environment, step records."""

    def __init__(
        self,
        session: RunSession,
        instance: Instance,
        needs: Mapping[str, Any],
        world: JobWorld,
        call: CallView | None = None,
    ) -> None:
        self.session = session
        self.instance = instance
        self.job = instance.definition
        self.world = world
        self.folder = session.job_folder(instance.key)
        self.temp = self.folder / "tmp"
        self.temp.mkdir(exist_ok=True)
        self.temp.chmod(0o1777)  # nosec B103 -- like /tmp (sticky): initdb, run as postgres, uses it too
        self.contexts: dict[str, Any] = session.job_contexts(instance, needs, call)
        self.records: list[steps.StepRecord] = []
        self.added_env: dict[str, str] = {}
        self.added_path: list[str] = []
        self.failed = False
        self.summaries: list[str] = []
        self.groups = ProcessGroups()
        # What a composite action's scope (pipeline.actions.composite) changes; the job's own values here.
        self.depth = 0
        self.step_prefix = ""
        self.defaults_apply = True
        self.action_env: dict[str, str] = {}
        self.background = Background(self)
        self.container: dict[str, Any] = {}  # a container job's container, once started

    def cancel(self) -> None:
        """Stop this job: its running steps' process groups, then (as `run` unwinds) its services."""
        self.groups.stop_all()
        self.background.stop_all()

    def value(self, text: Any, key: Key) -> str:
        return expressions.interpolate(str(text), self.contexts, allowed=allowed(key), workspace=self.session.root)

    def typed(self, value: Any, key: Key) -> Any:
        if isinstance(value, str):
            return expressions.evaluate_template(
                value, self.contexts, allowed=allowed(key), workspace=self.session.root
            )
        return value

    def timeout(self, node: Mapping[str, Any], key: Key) -> float:
        minutes = self.typed(node.get("timeout-minutes", DEFAULT_TIMEOUT_MINUTES), key)
        return float(minutes) * 60 if minutes not in (None, "") else math.inf

    def run(self, log: IO[str]) -> Outcome:
        group = concurrency.group_of(self.job.get("concurrency"), self.contexts, allowed("jobs.<job_id>.concurrency"))
        if group is not None and group.name == self.session.concurrency_group:
            note = (
                f"Canceling since a deadlock for concurrency group '{group.name}' was detected between "
                f"'top level workflow' and '{self.instance.job_id}'"
            )  # GitHub's own words for it
            return Outcome(Result.CANCELLED, note=note)
        waiting = concurrency.Group(group.name, cancel_in_progress=False) if group else None  # waits, never cancels
        with concurrency.held(self.session.root, waiting, lambda line: log.write(f"[invoke ci] {line}\n")):
            return self.run_steps(log)

    def run_steps(self, log: IO[str]) -> Outcome:
        deadline = time.monotonic() + self.timeout(self.job, "jobs.<job_id>.timeout-minutes")
        env = {key: self.value(value, "jobs.<job_id>.env") for key, value in (self.job.get("env") or {}).items()}
        self.contexts["env"] = {**self.contexts["env"], **env}
        with services.started(
            self.resolved_services(),
            container=self.job_container(),
            run_label=self.session.run_id,
            job_key=self.instance.key,
            resolve_image=self.session.resolve_image,
            stopping=self.groups.stopping,
        ) as started:
            self.container = started.container
            job_context = {"status": Result.SUCCESS.value, "services": started.services, "container": {}}
            if started.container:
                job_context["container"] = {"id": started.container["id"], "network": started.container["network"]}
            self.contexts["job"] = job_context
            timed_out = False
            self.background.deadline = deadline
            for index, step in enumerate(self.job.get("steps") or []):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                if self.background.handles(step):
                    self.control(step, index, log)
                    continue
                record, step_timed_out = StepRun(self, step, index).run(log, remaining)
                self.records.append(record)
                timed_out = timed_out or step_timed_out
                if step.get("id"):
                    self.contexts["steps"][str(step["id"])] = record.context()
                if record.conclusion is Result.FAILURE:
                    self.failed = True
                    self.contexts["job"]["status"] = Result.FAILURE.value
                if timed_out:
                    break
            if timed_out:
                self.background.stop_all()
            self.control({"wait-all": True}, -1, log)  # a job ends when its background steps have
            outputs = self.outputs()
        return self.outcome(timed_out, outputs)

    def control(self, step: Mapping[str, Any], index: int, log: IO[str]) -> None:
        """A step of GitHub's parallel steps (pipeline.actions.background); a wrong target fails the job."""
        try:
            self.background.run(step, index, log)
        except UserError as error:
            log.write(f"[invoke ci] {error}\n")
            self.failed = True
            self.contexts["job"]["status"] = Result.FAILURE.value

    def job_container(self) -> services.JobContainer | None:
        """The job's `container:` (an image, or a mapping with image, env and options), evaluated."""
        raw = self.typed(self.job.get("container"), "jobs.<job_id>.container")
        if not raw:
            return None
        spec = raw if isinstance(raw, Mapping) else {"image": raw}
        env = {key: self.value(value, "jobs.<job_id>.container") for key, value in (spec.get("env") or {}).items()}
        return services.JobContainer(
            image=self.value(spec["image"], "jobs.<job_id>.container"),
            env=env,
            options=self.value(spec.get("options") or "", "jobs.<job_id>.container"),
            mounts=(self.session.root, self.session.temp),
        )

    def resolved_services(self) -> dict[str, dict[str, Any]]:
        raw = self.typed(self.job.get("services") or {}, "jobs.<job_id>.services")
        resolved: dict[str, dict[str, Any]] = {}
        for name, service in (raw or {}).items():
            resolved[name] = {
                key: ({k: self.value(v, "jobs.<job_id>.services") for k, v in value.items()} if key == "env" else value)
                for key, value in service.items()
            }
            resolved[name]["image"] = self.value(service["image"], "jobs.<job_id>.services")
            resolved[name]["options"] = self.value(service.get("options") or "", "jobs.<job_id>.services")
        return resolved

    def outputs(self) -> dict[str, str]:
        return {
            name: self.value(value, "jobs.<job_id>.outputs.<output_id>")
            for name, value in (self.job.get("outputs") or {}).items()
        }

    def outcome(self, timed_out: bool, outputs: dict[str, str]) -> Outcome:
        minutes = self.job.get("timeout-minutes", DEFAULT_TIMEOUT_MINUTES)
        if self.groups.stopping.is_set():
            return Outcome(Result.CANCELLED, outputs=outputs, note="cancelled")
        if timed_out:
            return Outcome(Result.FAILURE, outputs=outputs, note=f"timed out (timeout-minutes: {minutes})")
        if self.failed:
            failed = [r for r in self.records if r.conclusion is Result.FAILURE]
            return Outcome(Result.FAILURE, outputs=outputs, note=failed[0].note if failed else "")
        return Outcome(Result.SUCCESS, outputs=outputs)


def execute(run: JobRun, log_path: Path, summary_path: Path) -> Outcome:
    """The whole job with its log and time, its step summaries kept beside the log; a problem the user
    must fix (a Python this machine lacks, an expression error) fails the job with its paragraph."""
    with log_path.open("w", encoding="utf-8") as log:
        started = time.monotonic()
        try:
            if run.world.missing and not run.job.get("container"):  # a container job has the container's Pythons
                raise UserError(
                    f"the job needs Python {', '.join(run.world.missing)} (its runner image or setup-python "
                    "provides it on GitHub), which this machine does not have",
                    f"install Python {', '.join(run.world.missing)} (e.g. with pyenv or `uv python install`)",
                )
            outcome = run.run(log)
        except (ExpressionError, UserError) as error:
            log.write(f"\n[invoke ci] {error}\n")
            outcome = Outcome(Result.FAILURE, note=str(error))
    outcome.seconds = time.monotonic() - started
    outcome.log = log_path
    if run.summaries:
        outcome.summary = summary_path
        summary_path.write_text("\n".join(run.summaries), encoding="utf-8")
    session = run.session  # no secret's value stays in what is kept of the job
    for path in (log_path, summary_path, *(entry.log_path for entry in run.background.steps.values())):
        session.keep_file(path)
    outcome.note = session.mask(outcome.note)
    return outcome


class StepRun:
    """One step of a JobRun."""

    def __init__(self, job: JobRun, step: Mapping[str, Any], index: int) -> None:
        self.job = job
        self.step = step
        self.index = index
        self.record = steps.StepRecord(steps.step_label(step, index), StepKind.RUNS_HERE)

    def status(self) -> Status:
        return Status(failed=self.job.failed, cancelled=self.job.groups.stopping.is_set())

    def run(self, log: IO[str], remaining: float) -> tuple[steps.StepRecord, bool]:
        try:
            return self._run(log, remaining)
        except (ExpressionError, UserError) as error:
            log.write(f"[invoke ci] {self.record.label}: {error}\n")
            self.record.outcome = self.record.conclusion = Result.FAILURE
            self.record.note = f"{self.record.label}: {error}"
            return self.record, False

    def _run(self, log: IO[str], remaining: float) -> tuple[steps.StepRecord, bool]:
        job = self.job
        condition = self.step.get("if")
        holds = expressions.condition(
            "" if condition is None else str(condition),
            job.contexts,
            status=self.status(),
            allowed=allowed("jobs.<job_id>.steps.if"),
            workspace=job.session.root,
        )
        if not holds:
            self.record.kind = StepKind.SKIPPED_BY_CONDITION
            log.write(f"[invoke ci] skipped: {self.record.label} (if: {condition or 'success()'})\n")
            return self.record, False
        if composite.is_local(self.step.get("uses")):
            return composite.run(self, log, remaining)
        if "uses" in self.step:
            self.record.kind = StepKind.GITHUB_ONLY
            self.record.outcome = self.record.conclusion = Result.SUCCESS
            log.write(
                f"[invoke ci] GitHub only, not run here: {self.record.label} ({steps.github_only_reason(self.step)})\n"
            )
            return self.record, False
        return self.execute(log, remaining)

    def execute(self, log: IO[str], remaining: float) -> tuple[steps.StepRecord, bool]:
        job = self.job
        env_context = {**job.contexts["env"]}
        step_env = {k: job.value(v, "jobs.<job_id>.steps.env") for k, v in (self.step.get("env") or {}).items()}
        job.contexts["env"] = {**env_context, **step_env}
        try:
            script_text = job.value(self.step["run"], "jobs.<job_id>.steps.run")
            shell = self.shell()
            cwd = self.working_directory()
            limit = job.timeout(self.step, "jobs.<job_id>.steps.timeout-minutes")
            continue_on_error = expressions.truthy(
                job.typed(self.step.get("continue-on-error", False), "jobs.<job_id>.steps.continue-on-error")
            )
        finally:
            job.contexts["env"] = env_context
        command_files = files.CommandFiles(job.folder, f"{job.step_prefix}{self.index}")
        script = steps.write_script(job.folder, shell, script_text)
        step_variables = {**env_context, **step_env}
        if job.container:
            env = environment.container_environ(job.session, job, step_variables, command_files)
        else:
            env = environment.step_environ(job.session, job, step_variables, command_files)
        log.write(f"[invoke ci] {self.record.label}\n$ {script_text.strip()}\n")
        argv = steps.shell_argv(shell, script)
        if job.container:  # a container job: the step runs inside its container, in the same folder
            if shell is None and job.container["shell"] == "sh":
                argv = steps.shell_argv("sh", script)
            argv = engine.exec_command(job.container["id"], argv, env=env, workdir=cwd)
            env = {**job.session.host}
        code = job.groups.run(argv, cwd=cwd, env=env, log=log, timeout=min(limit, remaining))
        job.added_env.update(command_files.env())
        job.contexts["env"].update(command_files.env())
        job.added_path += command_files.path_entries()
        if summary := command_files.summary():
            job.summaries.append(summary)
        self.record.outputs = command_files.outputs()
        timed_out = code is None and not job.groups.stopping.is_set()
        self.record.outcome = Result.SUCCESS if code == 0 else Result.FAILURE
        if code != 0 and job.groups.stopping.is_set():  # stopped, whatever it exited with on the way out
            self.record.outcome = Result.CANCELLED
        self.record.conclusion = Result.SUCCESS if continue_on_error else self.record.outcome
        if self.record.outcome is not Result.SUCCESS:
            cancelled = self.record.outcome is Result.CANCELLED
            why = "timed out" if timed_out else "was cancelled" if cancelled else f"exited {code}"
            self.record.note = f"`{script_text.strip()}` {why}" + (" (continue-on-error)" if continue_on_error else "")
            log.write(f"[invoke ci] {self.record.note}\n")
        return self.record, timed_out and limit >= remaining

    def defaults(self) -> dict[str, Any]:
        """`defaults.run` of the workflow and job; a composite action's steps have none."""
        return self.job.session.default_run(self.job.job) if self.job.defaults_apply else {}

    def shell(self) -> str | None:
        value = self.step.get("shell") or self.defaults().get("shell")
        if value is None and not self.job.defaults_apply:
            raise UserError(f"{self.record.label}: a composite action's run step needs `shell:`", "add shell: bash")
        return None if value is None else self.job.value(value, "jobs.<job_id>.steps.run")

    def working_directory(self) -> Path:
        value = self.step.get("working-directory") or self.defaults().get("working-directory")
        if not value:
            return self.job.session.root
        folder = self.job.session.root / self.job.value(value, "jobs.<job_id>.steps.working-directory")
        if not folder.is_dir():
            raise UserError(f"working-directory {folder} does not exist", "fix the step's working-directory")
        return folder
