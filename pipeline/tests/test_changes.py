"""Area rules: which jobs of ci.yml a change wakes (`invoke changes`), how the gate reads a skip, what drift
checks; then real git checkouts, and `invoke ci --dry-run` on copies where a view or the pipeline changed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipeline import changes, coverage_data, drift, facts, processes, workflows
from pipeline.actions.tests.test_expressions_differential import NODE_DIR, node_or_skip
from pipeline.conftest import invoke, share_tools
from pipeline.facts import ROOT, Area

AREAS = facts.load().areas
CI = ROOT / ".github/workflows/ci.yml"
VIEW = "backend/catalog/views.py"


# --- pure: the decision, the gate, the drift rule ------------------------------------


@pytest.mark.parametrize(
    ("path", "pipeline", "image"),
    [
        (VIEW, False, True),
        ("frontend/app.css", False, True),
        ("README.md", False, False),
        ("backend/README.md", False, False),
        ("backend/Dockerfile", True, True),
        ("pipeline/images.py", True, True),
        ("pipeline/actions/scheduler.py", True, False),
        ("pipeline/tests/test_changes.py", True, False),
        ("uv.lock", True, True),
        (".github/workflows/ci.yml", True, True),
        ("a-file-nobody-placed.toml", True, True),  # a new file wakes every job until it is placed
    ],
)
def test_the_areas_of_this_project(path: str, pipeline: bool, image: bool) -> None:
    decision = changes.decide(AREAS, changes.Change((path,), "one file"))
    assert {area: bool(files) for area, files in decision.items()} == {"pipeline": pipeline, "image": image}


def test_everything_and_nothing() -> None:
    everything = changes.decide(AREAS, changes.Change(None, "a push"))
    assert changes.output_lines(everything) == "pipeline=true\nimage=true\n"
    nothing = changes.decide(AREAS, changes.Change((), "no change"))
    assert changes.output_lines(nothing) == "pipeline=false\nimage=false\n"
    assert changes.rows(AREAS, nothing)[0] == ["pipeline", "tooling", "skipped", "no file of the area changed"]


@pytest.mark.parametrize(
    ("environ", "reason"),
    [
        ({"CI_ALL_AREAS": "true", "GITHUB_EVENT_NAME": "pull_request"}, "CI_ALL_AREAS is true: every job runs"),
        ({"GITHUB_EVENT_NAME": "push"}, "a push event: every job runs"),
        ({"GITHUB_EVENT_NAME": "schedule"}, "a schedule event: every job runs"),
        ({"GITHUB_EVENT_NAME": "pull_request"}, "the pull request's base is unknown here: every job runs"),
    ],
)
def test_events_other_than_a_pull_request_touch_everything(environ: dict[str, str], reason: str) -> None:
    change = changes.of_checkout(ROOT, environ)
    assert change.files is None
    assert change.reason == reason


def needs(pipeline: str, tooling: str, producer: str = "success") -> dict[str, Any]:
    return {
        "sessions": {"result": producer, "outputs": {"pipeline": pipeline, "image": "true"}},
        "tooling": {"result": tooling, "outputs": {}},
        "image": {"result": "success", "outputs": {}},
    }


@pytest.mark.parametrize(
    ("context", "excused"),
    [
        (needs("false", "skipped"), {"tooling": "pipeline"}),
        (needs("true", "skipped"), {}),  # the area changed: a skip is a job that never ran
        (needs("false", "failure"), {}),
        (needs("false", "skipped", producer="failure"), {}),  # no decision to trust
        (needs("", "skipped"), {}),  # fails closed: exactly 'false'
    ],
)
def test_the_gate_excuses_only_a_skip_by_the_area_rule(context: dict[str, Any], excused: dict[str, str]) -> None:
    assert changes.skipped_by_rule(context, AREAS) == excused
    results = workflows.job_results(json.dumps(context))
    failed = workflows.failed_jobs(results, changes.skipped_by_rule(context, AREAS))
    assert ("tooling" in failed) is (not excused)


def ci_data() -> dict[str, Any]:
    return workflows.load(CI)


def area_messages(data: dict[str, Any], areas: tuple[Area, ...] = AREAS) -> list[str]:
    source = drift.Source(ROOT, ".github/workflows/ci.yml")
    return [finding.message for finding in drift.area_findings(areas, source, data)]


def test_ci_yml_follows_the_area_table() -> None:
    assert area_messages(ci_data()) == []


def test_drift_finds_each_way_ci_yml_can_leave_the_area_table() -> None:
    data = ci_data()
    data["jobs"]["tooling"]["if"] = "always()"
    data["jobs"]["image"]["needs"] = []
    data["jobs"]["all-green"]["needs"] = ["checks", "tests", "coverage"]
    data["jobs"]["coverage"]["if"] = "needs.sessions.outputs.image == 'true'"
    del data["jobs"]["sessions"]["outputs"]["pipeline"]
    messages = area_messages(data)
    assert "job tooling must have `if: needs.sessions.outputs.pipeline == 'true'` (area pipeline)" in messages
    assert "job image must need sessions (its area image)" in messages
    assert "the gate all-green must also need image, sessions, tooling (area rules)" in messages
    assert "job coverage reads the area image but is not among its jobs in [tool.pipeline.areas]" in messages
    assert any(message.startswith("job sessions must have the output `pipeline: ") for message in messages)
    renamed = (*AREAS, Area("docs", ("docs-site",), ("docs/**",)))
    assert "[tool.pipeline.areas] docs names job docs-site, which ci.yml lacks" in area_messages(ci_data(), renamed)


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({"x": {"jobs": [], "paths": ["**"]}}, "[tool.pipeline.areas] x needs non-empty lists jobs and paths"),
        ({"Big Area": {"jobs": ["a"], "paths": ["**"]}}, "'Big Area' is not a name of lowercase letters"),
        ("pipeline", "[tool.pipeline.areas] must be a table of areas"),
    ],
)
def test_a_malformed_area_table_is_a_problem_of_the_facts(table: Any, problem: str) -> None:
    _, problems = facts.parse_areas(table)
    assert any(problem in found for found in problems), problems


# --- real git checkouts --------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    done = processes.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=root)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def repository(root: Path) -> Path:
    """A git repository of the copy's files, committed on main, with a branch `change` checked out."""
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "change")
    return root


@pytest.mark.tools
def test_a_change_is_its_commits_uncommitted_and_untracked_files(project_copy: Path) -> None:
    root = repository(project_copy)
    (root / VIEW).write_text((root / VIEW).read_text() + "\n# committed\n")
    git(root, "mv", "audit-allowlist.toml", "audit-allowed.toml")
    git(root, "commit", "-q", "-am", "a view, a rename")
    (root / "backend/config/urls.py").write_text((root / "backend/config/urls.py").read_text() + "\n# uncommitted\n")
    (root / "backend/catalog/new_module.py").write_text("# untracked\n")
    change = changes.of_checkout(root, {})
    assert change.files == (
        "audit-allowed.toml",
        "audit-allowlist.toml",
        "backend/catalog/new_module.py",
        "backend/catalog/views.py",
        "backend/config/urls.py",
    )
    assert change.reason.startswith("5 file(s) differ from the merge base with the default branch (")
    # A rename is both of its paths; the new name wakes the pipeline's tests although nobody placed it.
    assert changes.decide(AREAS, change)["pipeline"] == ["audit-allowed.toml", "audit-allowlist.toml"]


@pytest.mark.tools
def test_on_a_pull_request_the_base_comes_from_the_event(project_copy: Path, tmp_path: Path) -> None:
    root = repository(project_copy)
    base = git(root, "rev-parse", "HEAD")
    (root / VIEW).write_text((root / VIEW).read_text() + "\n# committed\n")
    git(root, "commit", "-q", "-am", "a view")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": base}}}))
    environ = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    assert changes.of_checkout(root, environ).files == (VIEW,)
    event.write_text(json.dumps({"pull_request": {"base": {"sha": "1" * 40}}}))  # a shallow checkout lacks it
    missing = changes.of_checkout(root, environ)
    assert missing.files is None
    assert missing.reason == "the pull request's base (111111111111) is not in this checkout: every job runs"


@pytest.mark.tools
def test_invoke_all_green_passes_a_skip_by_the_area_rule_only(project_copy: Path) -> None:
    share_tools(project_copy)
    excused = invoke("all-green", cwd=project_copy, env={"NEEDS": json.dumps(needs("false", "skipped"))})
    assert excused.returncode == 0, excused.stdout + excused.stderr
    assert "skipped (pipeline unchanged)" in excused.stdout
    assert "all-green: 2 jobs succeeded, 1 skipped by their area rule" in excused.stdout
    never_ran = invoke("all-green", cwd=project_copy, env={"NEEDS": json.dumps(needs("true", "skipped"))})
    assert never_ran.returncode == 1
    assert "These jobs did not succeed: tooling" in never_ran.stderr


def planned_jobs(output: str) -> dict[str, str]:
    """{job id: 'runs' | 'skipped'} from a dry run's job lines (`label (entry): state` or `label: state`)."""
    data = ci_data()
    labels = {str(job.get("name", job_id)): job_id for job_id, job in data["jobs"].items()}
    found: dict[str, str] = {}
    for line in output.splitlines():
        if line.startswith(" ") or ": " not in line:
            continue
        label, state = line.split(": ", 1)
        job_id = labels.get(label.split(" (")[0]) or (
            label.split(" (")[0] if label.split(" (")[0] in data["jobs"] else None
        )
        if job_id is not None and job_id not in found:
            found[job_id] = "skipped" if state.startswith("skipped") else "runs"
    return found


STATUS_FUNCTIONS = ("success()", "failure()", "always()", "cancelled()")


def github_plan(outputs: dict[str, str]) -> dict[str, str]:
    """What GitHub runs on a pull request, given the `sessions` job's outputs: each job's `if` evaluated by
    GitHub's own evaluator (@actions/expressions), with the needs rule GitHub documents (a job whose needs did
    not all succeed is skipped, unless its `if` calls a status function). Nothing fails in this plan."""
    node = node_or_skip()
    jobs: dict[str, Any] = ci_data()["jobs"]
    results: dict[str, str] = {}
    while len(results) < len(jobs):
        for job_id, job in jobs.items():
            wanted = [job["needs"]] if isinstance(job.get("needs"), str) else list(job.get("needs") or [])
            if job_id in results or any(need not in results for need in wanted):
                continue
            condition = drift._condition(job.get("if")) or "success()"
            if not any(function in condition for function in STATUS_FUNCTIONS):
                if any(results[need] != "success" for need in wanted):
                    results[job_id] = "skipped"
                    continue
                condition = f"success() && ({condition})"
            needs_context = {
                need: {"result": results[need], "outputs": outputs if need == changes.PRODUCER_JOB else {}}
                for need in wanted
            }
            case = {
                "expression": condition,
                "contexts": {
                    "github": {"event_name": "pull_request", "ref": "refs/pull/1/merge"},
                    "needs": needs_context,
                },
                "status": {"failed": False, "cancelled": False},
            }
            evaluated = processes.run([node, "evaluate.mjs"], input=json.dumps([case]), cwd=NODE_DIR)
            assert evaluated.returncode == 0, evaluated.stderr
            verdict = json.loads(evaluated.stdout)[0]
            assert verdict["ok"], verdict
            results[job_id] = "success" if verdict["value"] else "skipped"
    return {job_id: "runs" if result == "success" else "skipped" for job_id, result in results.items()}


@pytest.mark.tools
@pytest.mark.parametrize(("changed", "tooling"), [(VIEW, "skipped"), ("pipeline/images.py", "runs")])
def test_the_dry_run_skips_the_pipelines_tests_for_a_view_and_runs_them_for_the_pipeline(
    project_copy: Path, tmp_path: Path, changed: str, tooling: str
) -> None:
    share_tools(project_copy)  # a link git ignores, as a developer's .tools/ is
    root = repository(project_copy)
    (root / changed).write_text((root / changed).read_text() + "\n# changed\n")
    result = invoke("ci", "--resolve-outputs", cwd=root, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    plan = planned_jobs(result.stdout)
    assert plan["tooling"] == tooling, output[-3000:]
    if tooling == "skipped":
        assert "tooling: skipped (if: needs.sessions.outputs.pipeline == 'true' is false)" in result.stdout
    # The same change, as GitHub decides it: `invoke changes` against the pull request's base, then GitHub's
    # evaluator on every job's `if`; the two plans hold the same jobs, each running or skipped alike.
    output_file, event = tmp_path / "outputs.txt", tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": git(root, "rev-parse", "main")}}}))
    environ = {"GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(event)}
    done = invoke("changes", "--output", str(output_file), cwd=root, env=environ)
    assert done.returncode == 0, done.stderr
    outputs = dict(line.split("=", 1) for line in output_file.read_text().splitlines())
    assert outputs["pipeline"] == ("false" if tooling == "skipped" else "true")
    assert github_plan(outputs) == plan


@pytest.mark.tools
@pytest.mark.parametrize(("tooling", "skipped"), [("skipped", {"pipeline"}), ("success", set())])
def test_coverage_skips_the_pipeline_measure_exactly_when_its_jobs_were_skipped(
    tooling: str, skipped: set[str]
) -> None:
    """The coverage job's COVERAGE_NOT_MEASURED, as GitHub's evaluator computes it from needs.tooling.result,
    is what the coverage session reads: a pull request that skips the tooling jobs passes without their data,
    a run that ran them still needs it."""
    node = node_or_skip()
    (step,) = [
        step
        for step in ci_data()["jobs"]["coverage"]["steps"]
        if coverage_data.NOT_MEASURED_VARIABLE in step.get("env", {})
    ]
    expression = drift._condition(step["env"][coverage_data.NOT_MEASURED_VARIABLE])
    case = {
        "expression": expression,
        "contexts": {"needs": {"tooling": {"result": tooling, "outputs": {}}}},
        "status": {"failed": False, "cancelled": False},
    }
    evaluated = processes.run([node, "evaluate.mjs"], input=json.dumps([case]), cwd=NODE_DIR)
    assert evaluated.returncode == 0, evaluated.stderr
    verdict = json.loads(evaluated.stdout)[0]
    assert verdict["ok"], verdict
    environ = {coverage_data.NOT_MEASURED_VARIABLE: str(verdict["value"]), "CI": "true"}
    assert coverage_data.not_measured(environ) == skipped
