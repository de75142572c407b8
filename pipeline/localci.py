"""`invoke ci`: run .github/workflows/ci.yml locally, the way GitHub runs it.

The decisions are pure and tested: which job instances exist (matrices expand
from the outputs of the jobs that generate them), their order (`needs:`), which
steps run here (`run:`) and which are GitHub-only setup (`uses:`), and how
the few expressions the workflow uses are evaluated. The runner then starts
service containers, runs the steps in their own process groups, keeps one log
per job, and stops everything it started, also on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.live import Live
from rich.table import Table

from pipeline import console, workflows
from pipeline.errors import UserError
from pipeline.facts import Facts

CI_WORKFLOW = Path(".github/workflows/ci.yml")
LOG_DIR = Path(".cache/ci-logs")
SERVICE_LABEL = "pipeline.local-ci"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# Jobs that build images run one at a time: concurrent buildx cache exports to
# one engine can fail ("only one connection allowed"). Service containers can
# run side by side.
IMAGE_BUILDING = ("build-image", "check-container", "dev-stack", "tooling")
TAIL_LINES = 30


# --- the plan --------------------------------------------------------------------


@dataclass
class JobInstance:
    """One job run: a job, or one entry of its matrix."""

    job_id: str
    name: str
    needs: tuple[str, ...]
    definition: Mapping[str, Any]
    matrix: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name if not self.matrix else f"{self.job_id} ({self.name})"

    @property
    def run_steps(self) -> list[Mapping[str, Any]]:
        return [step for step in self.definition.get("steps", []) if "run" in step]

    @property
    def skipped_steps(self) -> list[str]:
        return [str(step["uses"]).split("@")[0] for step in self.definition.get("steps", []) if "uses" in step]

    @property
    def builds_images(self) -> bool:
        """A step (its matrix values filled in) runs a task or session that builds images."""
        words: set[str] = set()
        for step in self.run_steps:
            words.update(str(step["run"]).replace('"', " ").split())
            for value in (step.get("env") or {}).values():
                with contextlib.suppress(UserError):
                    words.add(substitute(str(value), LocalContext({}, matrix=self.matrix)))
        return bool(words & set(IMAGE_BUILDING))


def needs_of(job: Mapping[str, Any]) -> tuple[str, ...]:
    needs = job.get("needs") or []
    return (needs,) if isinstance(needs, str) else tuple(needs)


def topological_order(jobs: Mapping[str, Mapping[str, Any]]) -> list[str]:
    order: list[str] = []
    visiting: set[str] = set()

    def visit(job_id: str) -> None:
        if job_id in order:
            return
        if job_id in visiting:
            raise UserError(f"ci.yml has a `needs:` cycle through {job_id}", "fix the needs of that job")
        visiting.add(job_id)
        for need in needs_of(jobs[job_id]):
            if need not in jobs:
                raise UserError(f"job {job_id} needs {need}, which ci.yml does not define", "fix its `needs:`")
            visit(need)
        order.append(job_id)

    for job_id in jobs:
        visit(job_id)
    return order


@dataclass(frozen=True)
class LocalContext:
    """What the expressions of ci.yml may read, as a local pull-request run."""

    github: Mapping[str, str]
    needs: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    matrix: Mapping[str, str] = field(default_factory=dict)
    service_ports: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    steps: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def local_github_context(root: Path) -> dict[str, str]:
    return {
        "event_name": "pull_request",
        "ref": "refs/pull/local/merge",
        "workflow": "CI",
        "repository": root.name,
        "repository_owner": "local",
        "server_url": "file://",
        "run_id": "local",
        "token": "",  # nosec B105 -- no GitHub token exists in a local run
        "actor": os.environ.get("USER", "local"),
        "sha": "local",
    }


def _output_of(context: LocalContext, job: str, name: str, default: str) -> str:
    return str(context.needs.get(job, {}).get("outputs", {}).get(name, default))


# The expression forms ci.yml uses, each with how to read it locally.
EXPRESSIONS: list[tuple[re.Pattern[str], Callable[[LocalContext, re.Match[str]], str]]] = [
    (re.compile(r"matrix\.([\w-]+)"), lambda c, m: str(c.matrix.get(m.group(1), ""))),
    (re.compile(r"github\.([\w-]+)"), lambda c, m: str(c.github.get(m.group(1), ""))),
    (re.compile(r"toJSON\(needs\)"), lambda c, m: json.dumps(c.needs)),
    (
        re.compile(r"fromJSON\(needs\.([\w-]+)\.outputs\.([\w-]+)\)"),
        lambda c, m: _output_of(c, m.group(1), m.group(2), "[]"),
    ),
    (re.compile(r"needs\.([\w-]+)\.outputs\.([\w-]+)"), lambda c, m: _output_of(c, m.group(1), m.group(2), "")),
    (
        re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+)"),
        lambda c, m: str(c.steps.get(m.group(1), {}).get(m.group(2), "")),
    ),
    (
        re.compile(r"job\.services\.([\w-]+)\.ports\['(\d+)'\]"),
        lambda c, m: str(c.service_ports.get(m.group(1), {}).get(m.group(2), "")),
    ),
]


def evaluate(expression: str, context: LocalContext) -> str:
    """The value of one `${{ ... }}` expression, for the forms ci.yml uses."""
    for pattern, read in EXPRESSIONS:
        if match := pattern.fullmatch(expression.strip()):
            return read(context, match)
    raise UserError(
        f"invoke ci cannot evaluate the expression ${{{{ {expression.strip()} }}}} of ci.yml",
        "use one of the forms in pipeline/localci.py EXPRESSIONS, or add one there (with a test)",
    )


def substitute(text: str, context: LocalContext) -> str:
    return EXPRESSION.sub(lambda match: evaluate(match.group(1), context), text)


def condition_holds(condition: str | None, context: LocalContext, needs_succeeded: bool) -> bool:
    """A job's `if:` for the forms ci.yml uses: status functions and `==`/`!=` on github.*, joined by &&."""
    if not condition:
        return needs_succeeded
    terms = [term.strip() for term in EXPRESSION.sub(r"\1", condition).split("&&")]
    status_given = False
    for term in terms:
        if term == "always()":
            status_given = True
        elif term == "failure()":
            status_given = True
            if needs_succeeded:
                return False
        elif term == "success()":
            status_given = True
            if not needs_succeeded:
                return False
        elif match := re.fullmatch(r"github\.([\w-]+)\s*(==|!=)\s*'([^']*)'", term):
            equal = context.github.get(match.group(1), "") == match.group(3)
            if equal != (match.group(2) == "=="):
                return False
        else:
            raise UserError(f"invoke ci cannot evaluate the condition `{term}`", "extend localci.condition_holds")
    return status_given or needs_succeeded


def expand(job_id: str, job: Mapping[str, Any], context: LocalContext) -> list[JobInstance]:
    """The instances of a job: one, or one per matrix entry."""
    include = (job.get("strategy") or {}).get("matrix", {}).get("include")
    if include is None:
        name = substitute(str(job.get("name", job_id)), context)
        return [JobInstance(job_id, name, needs_of(job), job)]
    entries = json.loads(substitute(include, context)) if isinstance(include, str) else include
    instances = []
    for entry in entries:
        matrix = {key: str(value) for key, value in entry.items()}
        name = substitute(str(job.get("name", job_id)), LocalContext(context.github, context.needs, matrix))
        instances.append(JobInstance(job_id, name, needs_of(job), job, matrix))
    return instances


def selected(instance: JobInstance, only: Sequence[str], skip: Sequence[str], pythons: Sequence[str]) -> bool:
    """--only/--skip by job id or instance name, --python by matrix entry; jobs whose
    outputs feed other jobs' matrices always run."""
    if instance.definition.get("outputs"):
        return True
    names = {instance.job_id, instance.name, instance.key}
    if only and not names & set(only):
        return False
    if names & set(skip):
        return False
    python = instance.matrix.get("python")
    return not (pythons and python and python not in pythons)


# --- running ---------------------------------------------------------------------


@dataclass
class Outcome:
    result: str  # success | failure | skipped | cancelled
    seconds: float = 0.0
    log: Path | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    note: str = ""


class Runner:
    def __init__(self, facts: Facts, *, jobs: int, fail_fast: bool, say: Callable[[str], None]) -> None:
        self.facts = facts
        self.root = facts.root
        self.workers = max(1, jobs)
        self.fail_fast = fail_fast
        self.say = say
        self.run_id = uuid.uuid4().hex[:8]
        self.processes: set[subprocess.Popen[str]] = set()
        self.lock = threading.Lock()
        self.build_lock = threading.Lock()
        self.stopping = threading.Event()
        self.states: dict[str, tuple[str, float]] = {}

    # services ----------------------------------------------------------------
    @contextlib.contextmanager
    def services(self, instance: JobInstance) -> Iterator[dict[str, dict[str, str]]]:
        started: list[str] = []
        ports: dict[str, dict[str, str]] = {}
        try:
            for name, service in (instance.definition.get("services") or {}).items():
                command = ["docker", "run", "--detach", "--label", f"{SERVICE_LABEL}={self.run_id}"]
                for key, value in (service.get("env") or {}).items():
                    command += ["--env", f"{key}={value}"]
                for port in service.get("ports") or []:
                    command += ["--publish", f"127.0.0.1::{str(port).split(':')[-1].split('/')[0]}"]
                command += shlex.split(str(service.get("options") or ""))
                command.append(self.facts.services.resolve(str(service["image"])))
                created = subprocess.run(command, capture_output=True, text=True, check=False)
                if created.returncode != 0:
                    raise UserError(f"service {name} did not start: {created.stderr.strip()}", "see docker's message")
                container = created.stdout.strip()
                started.append(container)
                ports[name] = self.published_ports(container)
                self.wait_healthy(name, container)
            yield ports
        finally:
            if started:
                subprocess.run(["docker", "rm", "--force", "--volumes", *started], capture_output=True, check=False)

    @staticmethod
    def published_ports(container: str) -> dict[str, str]:
        inspect = subprocess.run(
            ["docker", "inspect", "--format", "{{json .NetworkSettings.Ports}}", container],
            capture_output=True,
            text=True,
            check=False,
        )
        mapping = json.loads(inspect.stdout or "{}") or {}
        return {key.split("/")[0]: value[0]["HostPort"] for key, value in mapping.items() if value}

    def wait_healthy(self, name: str, container: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            status = subprocess.run(
                [
                    "docker",
                    "inspect",
                    "--format",
                    "{{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}",
                    container,
                ],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            if status in {"healthy", "none"}:
                return
            time.sleep(1)
        raise UserError(f"service {name} did not become healthy within {timeout:g}s", "check its image and options")

    # steps ------------------------------------------------------------------
    def run_instance(self, instance: JobInstance, needs: Mapping[str, Mapping[str, Any]]) -> Outcome:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = self.root / LOG_DIR / (re.sub(r"[^\w.-]+", "_", instance.key).strip("_") + ".log")
        gate = self.build_lock if instance.builds_images else contextlib.nullcontext()
        if instance.builds_images:
            self.set_state(instance.key, "waiting for the image-build slot")
        with gate, log.open("w", encoding="utf-8") as handle:
            started = time.monotonic()  # a job's time starts when it runs, not while it waits
            self.set_state(instance.key, "running")
            try:
                outcome = self.run_steps(instance, needs, handle)
            except UserError as error:
                handle.write(f"\n{error}\n")
                outcome = Outcome("failure", note=str(error))
        outcome.seconds = time.monotonic() - started
        outcome.log = log
        return outcome

    def run_steps(self, instance: JobInstance, needs: Mapping[str, Mapping[str, Any]], handle: Any) -> Outcome:
        github = local_github_context(self.root)
        step_outputs: dict[str, dict[str, str]] = {}
        workflow_env = self.workflow.get("env") or {}
        with self.services(instance) as ports:
            context = LocalContext(github, needs, instance.matrix, ports, step_outputs)
            for skipped in instance.skipped_steps:
                handle.write(f"[invoke ci] skipped GitHub-only setup step: uses {skipped}\n")
            for step in instance.run_steps:
                if self.stopping.is_set():
                    return Outcome("cancelled")
                env = {**os.environ}
                for scope in (workflow_env, instance.definition.get("env") or {}, step.get("env") or {}):
                    env.update({key: substitute(str(value), context) for key, value in scope.items()})
                if "FORCE_COLOR" in env:  # the workflow asks for colour; nox refuses both at once
                    env.pop("NO_COLOR", None)
                with tempfile.NamedTemporaryFile("r", suffix=".github_output", delete=False) as output_file:
                    env["GITHUB_OUTPUT"] = output_file.name
                command = substitute(str(step["run"]), context)
                handle.write(f"$ {command}\n")
                handle.flush()
                code = self.run_command(command, env, handle)
                outputs = parse_github_output(Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))
                Path(env["GITHUB_OUTPUT"]).unlink(missing_ok=True)
                if step.get("id"):
                    step_outputs[str(step["id"])] = outputs
                if code != 0:
                    return Outcome("failure", note=f"`{command}` exited {code}")
            job_outputs = {
                key: substitute(str(value), context)
                for key, value in (instance.definition.get("outputs") or {}).items()
            }
        return Outcome("success", outputs=job_outputs)

    def run_command(self, command: str, env: Mapping[str, str], handle: Any) -> int:
        process = subprocess.Popen(  # noqa: S602 (the workflow's own one-line `run:`, checked by nox -s workflows)
            command,
            shell=True,
            cwd=self.root,
            env=dict(env),
            stdout=handle,
            stderr=subprocess.STDOUT,  # nosec B602
            text=True,
            start_new_session=True,
            executable="/bin/bash",
        )
        with self.lock:
            self.processes.add(process)
        try:
            return process.wait()
        finally:
            with self.lock:
                self.processes.discard(process)

    def stop_all(self) -> None:
        """Ctrl-C: SIGINT to every step's process group (they clean up), then SIGKILL the stragglers."""
        self.stopping.set()
        with self.lock:
            processes = list(self.processes)
        for process in processes:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
        leftovers = subprocess.run(
            ["docker", "ps", "--all", "--quiet", "--filter", f"label={SERVICE_LABEL}={self.run_id}"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.split()
        if leftovers:
            subprocess.run(["docker", "rm", "--force", "--volumes", *leftovers], capture_output=True, check=False)

    # the graph --------------------------------------------------------------
    def set_state(self, key: str, state: str) -> None:
        with self.lock:
            self.states[key] = (state, time.monotonic())
        self.say(f"{key}: {state}")

    def run(
        self, workflow: Mapping[str, Any], *, only: Sequence[str], skip: Sequence[str], pythons: Sequence[str]
    ) -> dict[str, Outcome]:
        self.workflow = workflow
        jobs: Mapping[str, Mapping[str, Any]] = workflow.get("jobs") or {}
        order = topological_order(jobs)
        github = local_github_context(self.root)
        outcomes: dict[str, Outcome] = {}  # by instance key
        job_results: dict[str, dict[str, Any]] = {}  # by job id, GitHub's `needs` shape
        instances_of: dict[str, list[JobInstance]] = {}
        pending = list(order)
        running: dict[Future[Outcome], JobInstance] = {}
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            while pending or running:
                for job_id in list(pending):
                    job = jobs[job_id]
                    if any(need not in job_results for need in needs_of(job)):
                        continue
                    pending.remove(job_id)
                    needs = {need: job_results[need] for need in needs_of(job)}
                    needs_ok = all(result["result"] == "success" for result in needs.values())
                    context = LocalContext(github, needs)
                    if "uses" in job:
                        outcomes[job_id] = Outcome("skipped", note="reusable workflow: GitHub only")
                        job_results[job_id] = {"result": "skipped", "outputs": {}}
                        self.say(f"{job_id}: skipped (calls a reusable workflow, GitHub only)")
                        continue
                    run_it = condition_holds(job.get("if"), context, needs_ok) and not (
                        self.fail_fast and any(o.result == "failure" for o in outcomes.values())
                    )
                    instances = (
                        expand(job_id, job, context) if run_it else [JobInstance(job_id, job_id, needs_of(job), job)]
                    )
                    instances_of[job_id] = []
                    for instance in instances:
                        if not run_it or not selected(instance, only, skip, pythons) or self.stopping.is_set():
                            note = "condition or failed needs" if not run_it else "not selected"
                            outcomes[instance.key] = Outcome("skipped", note=note)
                            self.say(f"{instance.key}: skipped ({note})")
                            instances_of[job_id].append(instance)
                            continue
                        instances_of[job_id].append(instance)
                        running[pool.submit(self.run_instance, instance, needs)] = instance
                    if not any(i for i in instances_of[job_id] if i.key not in outcomes):
                        job_results[job_id] = summarise(job_id, instances_of[job_id], outcomes)
                if not running:
                    if pending:
                        continue
                    break
                done, _ = wait(running, return_when=FIRST_COMPLETED, timeout=0.5)
                for future in done:
                    instance = running.pop(future)
                    outcome = future.result()
                    outcomes[instance.key] = outcome
                    self.set_state(instance.key, outcome.result)
                    job_id = instance.job_id
                    if all(i.key in outcomes for i in instances_of[job_id]):
                        job_results[job_id] = summarise(job_id, instances_of[job_id], outcomes)
        return outcomes


def summarise(job_id: str, instances: Sequence[JobInstance], outcomes: Mapping[str, Outcome]) -> dict[str, Any]:
    """A job's result as GitHub reports it in `needs`: failure if any instance failed."""
    results = [outcomes[instance.key].result for instance in instances]
    if "failure" in results or "cancelled" in results:
        result = "failure"
    elif results and all(result == "skipped" for result in results):
        result = "skipped"
    else:
        result = "success"
    outputs: dict[str, str] = {}
    for instance in instances:
        outputs.update(outcomes[instance.key].outputs)
    return {"result": result, "outputs": outputs}


def parse_github_output(text: str) -> dict[str, str]:
    """key=value lines (and key<<DELIMITER heredocs) of a $GITHUB_OUTPUT file."""
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if "<<" in line and "=" not in line.split("<<", 1)[0]:
            key, delimiter = line.split("<<", 1)
            body: list[str] = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            index += 1
            outputs[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            outputs[key] = value
    return outputs


# --- presentation ------------------------------------------------------------------


def summary_rows(outcomes: Mapping[str, Outcome]) -> list[list[str]]:
    return [
        [
            key,
            outcome.result + (f" ({outcome.note})" if outcome.note and outcome.result != "success" else ""),
            f"{outcome.seconds:.1f}s" if outcome.seconds else "-",
        ]
        for key, outcome in outcomes.items()
    ]


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def log_tail(path: Path, lines: int = TAIL_LINES) -> str:
    """The last lines of a job's log, without colour codes."""
    try:
        text = ANSI_ESCAPE.sub("", path.read_text(encoding="utf-8", errors="replace"))
        return "\n".join(text.splitlines()[-lines:])
    except OSError:
        return "(no log)"


@contextlib.contextmanager
def live_display(runner: Runner) -> Iterator[None]:
    """A live table (job, state, elapsed) in a terminal; line-per-event output otherwise."""
    out = console.console()
    if not out.is_terminal:
        yield
        return

    def render() -> Table:
        table = Table(title="invoke ci")
        for column in ("job", "state", "elapsed"):
            table.add_column(column)
        now = time.monotonic()
        with runner.lock:
            states = dict(runner.states)
        for key, (state, since) in states.items():
            table.add_row(key, state, f"{now - since:.0f}s" if state == "running" else "")
        return table

    runner.say = lambda _: None
    with Live(render(), console=out, refresh_per_second=2) as live:
        stop = threading.Event()

        def refresh() -> None:
            while not stop.wait(0.5):
                live.update(render())

        thread = threading.Thread(target=refresh, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            live.update(render())


def run_ci(
    facts: Facts,
    *,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    pythons: Sequence[str] = (),
    fail_fast: bool = False,
    jobs: int | None = None,
) -> tuple[dict[str, Outcome], float]:
    """Run ci.yml here; returns each instance's outcome and the wall time. Ctrl-C stops everything."""
    workflow = workflows.load(facts.root / CI_WORKFLOW)
    runner = Runner(facts, jobs=jobs or os.cpu_count() or 2, fail_fast=fail_fast, say=console.say)
    started = time.monotonic()
    try:
        with live_display(runner):
            outcomes = runner.run(workflow, only=only, skip=skip, pythons=pythons)
    except KeyboardInterrupt:
        runner.stop_all()
        raise
    return outcomes, time.monotonic() - started


def report(outcomes: Mapping[str, Outcome], wall: float) -> bool:
    """Summary table, the tails of failed logs, and wall time against the serial sum. True if green."""
    for key, outcome in outcomes.items():
        if outcome.result == "failure" and outcome.log:
            console.say(f"\n--- {key}: last {TAIL_LINES} lines of {outcome.log} ---", style="bold red")
            console.say(log_tail(outcome.log))
    rows = summary_rows(outcomes)
    console.table("invoke ci", ["job", "result", "time"], rows)
    serial = sum(outcome.seconds for outcome in outcomes.values())
    ratio = serial / wall if wall else 0.0
    line = f"wall time {wall:.0f}s against {serial:.0f}s of job time in series ({ratio:.2f}x)"
    console.say(line)
    console.step_summary("### invoke ci\n\n" + console.markdown_table(["job", "result", "time"], rows) + f"\n\n{line}")
    return not any(outcome.result in {"failure", "cancelled"} for outcome in outcomes.values())
