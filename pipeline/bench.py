"""`invoke bench`: the pipeline's speed, measured in one run, as ratios to a baseline.

Every figure is printed with its absolute times. Benchmarks run the real
tools; none of them is a test. Sections:

  tests    warm `nox -R -s tests-X` against plain pytest in the same venv
  gates    warm default sessions: each session's wall time against its tool's own
  image    cold (--no-cache) build against a warm rebuild after a code-only change;
           the size the Dockerfile adds on top of its base image
  startup  time to healthy in validate and stack mode
  cold     cold sessions (empty envdir): uv backend against virtualenv + pip
  ci       warm `invoke ci` of a pull request that changes a backend view (the pipeline's tests
           skipped by their area rule; target 90 s), then one that changes the pipeline
           (everything; target 240 s, no job over 120 s), each against the serial sum of its jobs
  load     the production stack (gunicorn, PostgreSQL, Redis) under Locust, one scenario at a time for
           the same time and users: /healthz (no database) as the baseline of API reads and of
           authenticated writes; requests per second, p50/p95/p99 and errors
  plan     `invoke ci --dry-run` of ci.yml (runs nothing) and `--resolve-outputs` (runs the sessions
           job for its matrices) against nox's own session listing in it;
           evaluating 1,000 expressions against nox's listing
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import changes, console, containers, copies, engine, images, load, processes, sessions
from pipeline.actions import local as local_ci
from pipeline.actions.expressions import bench as expression_bench
from pipeline.actions.model import Outcome
from pipeline.errors import UserError
from pipeline.facts import Facts
from pipeline.facts import load as facts_of

SECTIONS = ("tests", "gates", "image", "startup", "cold", "ci", "load", "plan")


@dataclass
class Figures:
    title: str
    rows: list[list[str]] = field(default_factory=list)
    columns: tuple[str, ...] = ("measure", "time", "ratio", "note")

    def add(self, what: str, seconds: float | None = None, ratio: str = "", note: str = "") -> None:
        self.rows.append([what, f"{seconds:.2f}s" if seconds is not None else "", ratio, note])

    def show(self) -> None:
        console.table(self.title, list(self.columns), self.rows)


def timed(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    """Seconds `command` takes; a failure is the user's to see (its output's end), since a figure of a
    failing command would be meaningless."""
    started = time.monotonic()
    result = processes.run(command, cwd=cwd, env={**os.environ, **(env or {})}, merge_output=True)
    elapsed = time.monotonic() - started
    if result.returncode != 0:
        raise UserError(
            f"`{' '.join(command)}` exited {result.returncode} while being measured; its output ended:\n"
            f"{result.stdout[-1500:].rstrip()}\n",
            "make it pass on its own first (a benchmark measures only green commands)",
        )
    return elapsed


def nox(*args: str) -> list[str]:
    return [sys.executable, "-m", "nox", *args]


def venv_bin(root: Path, session: str) -> Path:
    return root / ".nox" / session.replace(".", "-") / "bin"


def bench_tests(facts: Facts) -> Figures:
    version = facts.image.python
    session = f"tests-{version}"
    figures = Figures(f"warm {session} against plain pytest")
    timed(nox("-s", session), facts.root)  # warm the venv
    nox_time = timed(nox("-R", "-s", session), facts.root)
    env = sessions.django_env(facts, "testing")
    pytest_time = timed([str(venv_bin(facts.root, session) / "python"), "-m", "pytest", "-q"], facts.root, env)
    figures.add(f"nox -R -s {session}", nox_time, f"{nox_time / pytest_time:.2f}x", "coverage + migrations check")
    figures.add("pytest in the same venv", pytest_time, "1.00x", "baseline")
    return figures


def raw_tool_commands(facts: Facts, workdir: Path) -> dict[str, tuple[str, list[str], dict[str, str]]]:
    """session -> (its venv, the tool command the session runs, its environment): the sessions' own table
    (`sessions.tool_command`), so the benchmark measures what they run. `workdir` takes what the tools write."""
    commands = {}
    for gate in sessions.GATES:
        session = f"{gate}-{facts.newest_python}" if gate in {"mypy", "tests"} else gate
        command, env = sessions.tool_command(gate, facts, facts.newest_python, workdir=workdir)
        if gate == "tests":  # coverage data of its own, never one a combine could take
            env["COVERAGE_FILE"] = str(workdir / ".coverage")
        commands[session] = (session, command, env)
    return commands


def bench_gates(facts: Facts) -> Figures:
    figures = Figures("warm default sessions: session wall time against the tool inside it")
    total_session = total_tool = 0.0
    workdir = Path(tempfile.mkdtemp(prefix="bench-gates-"))
    for session, (venv, command, env) in raw_tool_commands(facts, workdir).items():
        timed(nox("-s", session), facts.root)  # warm
        session_time = timed(nox("-R", "-s", session), facts.root)
        bin_dir = venv_bin(facts.root, venv)
        tool_env = {**env, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(bin_dir.parent)}
        tool_time = timed([str(bin_dir / command[0]), *command[1:]], facts.root, tool_env)
        total_session += session_time
        total_tool += tool_time
        figures.add(
            f"{session}: session / tool", session_time, f"{session_time / tool_time:.2f}x", f"tool {tool_time:.2f}s"
        )
    figures.add(
        "all: sessions / raw tools", total_session, f"{total_session / total_tool:.2f}x", f"tools {total_tool:.2f}s"
    )
    shutil.rmtree(workdir, ignore_errors=True)
    return figures


def bench_image(facts: Facts) -> Figures:
    figures = Figures("image: cold build against a warm rebuild after a code-only change, each with its checks")
    name = f"bench-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="bench-image-") as tmp:
        root = copies.copy_project(facts.root, Path(tmp) / "project")
        copy_facts = facts_of(root)
        # A code-only change: the project package's URLs (its name from the settings modules' package).
        urls = copy_facts.backend_dir / copy_facts.settings.packages[0].partition(".")[0] / "urls.py"

        def build(*, no_cache: bool = False, attest: bool = True) -> tuple[images.BuildResult, float]:
            """`invoke build-image` of the copy after a code change, timed whole (builds and attestation check)."""
            urls.write_text(urls.read_text() + f"\n# bench {uuid.uuid4().hex}\n")
            started = time.monotonic()
            result = images.build(
                copy_facts,
                cache="local",
                no_cache=no_cache,
                attest=attest,
                image_name=name,
                context=root,
                cache_root=Path(tmp) / "cache",
                say=lambda _: None,
                ca_bundle=os.environ.get("BUILD_CA_BUNDLE"),
            )
            return result, time.monotonic() - started

        try:
            cold, cold_seconds = build(no_cache=True)
            _, warm_seconds = build()
            _, plain_seconds = build(attest=False)
            figures.add(
                "cold build (--no-cache), SBOM and provenance made and checked", cold_seconds, "1.00x", "baseline"
            )
            figures.add("rebuild after a code-only change", warm_seconds, f"{warm_seconds / cold_seconds:.2f}x")
            figures.add(
                "the same rebuild with --no-attest",
                plain_seconds,
                f"{plain_seconds / cold_seconds:.2f}x",
                f"attesting costs {warm_seconds - plain_seconds:.1f} s of a rebuild",
            )
            added = engine.image_size(cold.tags[0]) - engine.image_size(
                images.image_build_args(copy_facts)["BASE_IMAGE"]
            )
            figures.add("size added on top of the base image", None, "", f"{added / 1024**2:.1f} MiB")
        finally:
            images.remove_local_images(name)
    return figures


def bench_startup(facts: Facts) -> Figures:
    figures = Figures("start-up check: time to healthy")
    image = f"{facts.image.name}:{images.LOCAL_TAG}"
    validate = containers.check_validate(facts, image, timeout=180, say=lambda _: None)
    stack = containers.check_stack(facts, image, timeout=240, say=lambda _: None)
    figures.add("validate mode", validate.seconds_to_healthy, "1.00x", "baseline: the image alone")
    figures.add(
        "stack mode",
        stack.seconds_to_healthy,
        f"{stack.seconds_to_healthy / validate.seconds_to_healthy:.2f}x",
        "PostgreSQL + Redis + migrations",
    )
    return figures


LOAD_USERS = 16
LOAD_SECONDS = 20


def bench_load(facts: Facts) -> Figures:
    figures = Figures(
        f"load: the production stack under Locust, {LOAD_USERS} users for {LOAD_SECONDS} s per scenario",
        columns=("scenario", "requests/s", "ratio", "p50", "p95", "p99", "errors"),
    )
    image = f"{facts.image.name}:{images.LOCAL_TAG}"
    with containers.running_stack(facts, image, timeout=240, say=lambda _: None) as stack:
        results = {
            name: load.scenario(
                stack.base,
                name,
                users=LOAD_USERS,
                seconds=LOAD_SECONDS,
                token=stack.token,
                headers=containers.PROXY_HEADERS,
            )
            for name in load.SCENARIOS
        }
        serving = containers.serving_line(stack, facts.root)
    baseline = results["healthz"].per_second
    for name, result in results.items():
        figures.rows.append(
            [
                load.SCENARIOS[name][1],
                f"{result.per_second:.0f}",
                f"{result.per_second / baseline:.2f}x" if baseline else "-",
                *(f"{value:g} ms" for value in (result.p50_ms, result.p95_ms, result.p99_ms)),
                f"{result.failures} of {result.requests}",
            ]
        )
    figures.title += f"; gunicorn: {serving}; the load runs on the same machine"
    return figures


def bench_cold(facts: Facts) -> Figures:
    figures = Figures("cold sessions (empty envdir): uv backend against virtualenv + pip")
    chosen = ["lint", f"tests-{facts.image.python}"]
    results: dict[str, float] = {}
    for backend in ("uv", "virtualenv"):
        with tempfile.TemporaryDirectory(prefix=f"bench-{backend}-") as envdir:
            results[backend] = timed(
                nox("--envdir", envdir, "--force-venv-backend", backend, "-s", *chosen), facts.root
            )
    figures.add(f"uv backend ({', '.join(chosen)})", results["uv"], "1.00x", "baseline")
    figures.add("virtualenv + pip", results["virtualenv"], f"{results['virtualenv'] / results['uv']:.2f}x")
    return figures


# The two changes `invoke bench --only ci` rehearses, each with its target wall time on 2 cores.
CI_CHANGES = {"a backend view": ("backend/catalog/views.py", 90.0), "the pipeline": ("pipeline/images.py", 240.0)}
CI_JOB_LIMIT = 120.0  # no job of a rehearsal should take longer (the critical path would be it)


def git_copy(root: Path, target: Path) -> Path:
    """A clone of this checkout (its history too: the pipeline's tests read earlier commits) with its working
    tree committed on main, on a branch `change` off it; sharing .tools/ (a link git ignores). What
    `invoke changes` compares with is that main."""
    identity = ["-c", "user.name=bench", "-c", "user.email=bench@localhost"]
    processes.run(["git", "clone", "-q", str(root), str(target)]).check_returncode()
    copies.copy_project(root, target)  # uncommitted and new files too
    if (root / ".tools").is_dir():
        (target / ".tools").symlink_to(root / ".tools")
    steps = (["add", "-A"], ["commit", "-q", "--allow-empty", "-m", "working tree"], ["checkout", "-q", "-B", "main"])
    for args in (*steps, ["remote", "remove", "origin"], ["checkout", "-q", "-b", "change"]):
        processes.run(["git", *identity, *args], cwd=target).check_returncode()
    return target


def rehearse_copy(facts: Facts, root: Path, skip: Sequence[str], *, every_job: bool = False) -> dict[str, Outcome]:
    """One `invoke ci` of ci.yml in `root` (a pull request), its jobs side by side; a failed job ends the bench."""
    variables = {changes.FORCE_VARIABLE: "true"} if every_job else {}
    session = local_ci.open_session(root, local_ci.CI_WORKFLOW, "", "", facts.services.resolve, variables=variables)
    try:
        outcomes, _ = local_ci.rehearse(session, local_ci.Selection(skip=skip), os.cpu_count() or 2)
    finally:
        session.close()
    failed = [key for key, outcome in outcomes.items() if outcome.fails_the_run]
    if failed:
        raise UserError(
            f"invoke ci failed while being measured: {', '.join(failed)} (logs in {root / '.cache/ci-logs'})",
            "make `invoke ci` pass on its own first (a benchmark measures only green runs)",
        )
    return outcomes


def rehearse_change(facts: Facts, root: Path, skip: Sequence[str], relative: str) -> tuple[dict[str, Outcome], float]:
    """`invoke ci` of a pull request that changes `relative` (a comment added, then taken back); its wall time."""
    original = (root / relative).read_text(encoding="utf-8")
    (root / relative).write_text(
        original.rstrip("\n") + "\n\n\n# a change (formatted as ruff formats it)\n", encoding="utf-8"
    )
    try:
        started = time.monotonic()
        outcomes = rehearse_copy(facts, root, skip)
        return outcomes, time.monotonic() - started
    finally:
        (root / relative).write_text(original, encoding="utf-8")


def bench_ci(facts: Facts, skip: Sequence[str]) -> Figures:
    figures = Figures("warm invoke ci of a pull request: its wall time against the serial sum of its jobs")
    root = git_copy(facts.root, Path(tempfile.mkdtemp(prefix="bench-ci-")) / "project")
    # Warm-up: every job once (each session's environment, the image's cache), as on a developer's machine.
    rehearse_copy(facts, root, skip, every_job=True)  # a failure keeps the copy: its logs are named
    for what, (relative, target) in CI_CHANGES.items():
        outcomes, wall = rehearse_change(facts, root, skip, relative)
        serial = sum(outcome.seconds for outcome in outcomes.values())
        ran = sum(1 for outcome in outcomes.values() if outcome.seconds > 0)
        longest, seconds = max(((key, outcome.seconds) for key, outcome in outcomes.items()), key=lambda kv: kv[1])
        verdict = "met" if wall <= target and seconds <= CI_JOB_LIMIT else "missed"
        figures.add(f"{what}: serial sum of {ran} jobs", serial, "1.00x", "baseline")
        figures.add(
            f"{what}: invoke ci",
            wall,
            f"{wall / serial:.2f}x",
            f"target {target:.0f} s, no job over {CI_JOB_LIMIT:.0f} s: {verdict} (longest: {longest}, {seconds:.0f} s)",
        )
    shutil.rmtree(root.parent, ignore_errors=True)
    return figures


def bench_plan(facts: Facts) -> Figures:
    figures = Figures("planning ci.yml (invoke ci --dry-run) against nox's own session listing")
    listing = min(timed(nox("-l", "--json"), facts.root) for _ in range(3))
    plan = min(timed([sys.executable, "-m", "invoke", "ci", "--dry-run"], facts.root) for _ in range(3))
    resolved = min(timed([sys.executable, "-m", "invoke", "ci", "--resolve-outputs"], facts.root) for _ in range(3))
    contexts = {"github": {"event_name": "push", "ref": "refs/heads/main"}, "matrix": {"python": "3.12"}}
    thousand = expression_bench.time_thousand(contexts)
    figures.add("nox -l --json (what the sessions job runs)", listing, "1.00x", "baseline, best of 3")
    figures.add("invoke ci --dry-run (whole process)", plan, f"{plan / listing:.2f}x", "best of 3")
    figures.add(
        "invoke ci --resolve-outputs (whole process)",
        resolved,
        f"{resolved / listing:.2f}x",
        "best of 3, runs sessions",
    )
    figures.add("1,000 expressions, parsed and evaluated", thousand, f"{thousand / listing:.2f}x", "in process")
    return figures


def run(facts: Facts, sections: Sequence[str], ci_skip: Sequence[str]) -> list[Figures]:
    runners: dict[str, Callable[[], Figures]] = {
        "tests": lambda: bench_tests(facts),
        "gates": lambda: bench_gates(facts),
        "image": lambda: bench_image(facts),
        "startup": lambda: bench_startup(facts),
        "cold": lambda: bench_cold(facts),
        "ci": lambda: bench_ci(facts, ci_skip),
        "load": lambda: bench_load(facts),
        "plan": lambda: bench_plan(facts),
    }
    results = []
    for section in sections:
        figures = runners[section]()
        figures.show()
        results.append(figures)
    return results
