"""A property of the planner: on any workflow GitHub's own parser accepts, `invoke ci --dry-run` plans without
a traceback (a construct it cannot plan would be a paragraph naming its line; none may be needed).

The workflows are generated (hypothesis) from the shapes of GitHub's workflow schema (workflow-parser
0.3.61's `workflow-v1.0.json`): jobs with needs, `if:`, every kind of `runs-on`, matrices with axes,
include, exclude and JSON, names, containers, services, outputs, steps of every kind (run, remote,
local composite and reusable calls, setup-python specs, parallel and background steps). Each one is
first given to GitHub's parser; what it rejects is not a workflow and is left out.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import event as event_of_run
from hypothesis import strategies as st

from pipeline import processes
from pipeline.actions import dryrun, local, validate
from pipeline.actions.scheduler import Selection
from pipeline.errors import UserError

JOB_IDS = ("lint", "test", "build", "docs", "deploy")
RUNS_ON = (
    "ubuntu-latest", "ubuntu-24.04", "ubuntu-22.04", "windows-latest", "macos-14", "ubuntu-24.04-arm",
    "${{ matrix.os }}", ["self-hosted", "linux"], "my-runner",
)  # fmt: skip
CONDITIONS = (
    "always()", "failure()", "!cancelled()", "success() && github.event_name == 'push'",
    "github.event_name == 'pull_request'", "github.ref == 'refs/heads/main'",
    "contains(github.event.pull_request.labels.*.name, 'x')",
    "${{ github.actor != 'dependabot[bot]' }}", "startsWith(github.ref, 'refs/tags/')",
)  # fmt: skip
PYTHONS = ("3.12", "3.x", "3.12.10", ">=3.9 <3.13", "pypy3.10", "3.14t", "3.13-dev", "~3.11", "banana", "3")
OS_VALUES = ("ubuntu-latest", "windows-latest", "macos-latest", "ubuntu-22.04")
CALLED = textwrap.dedent(
    """\
    on:
      workflow_call:
        inputs:
          python: {type: string, default: "3.12"}
        outputs:
          done: {value: "${{ jobs.inner.outputs.done }}"}
    jobs:
      inner:
        runs-on: ubuntu-latest
        outputs:
          done: yes
        steps:
          - run: echo ${{ inputs.python }}
    """
)
BACKGROUND = {"id": "bg", "background": True, "run": "sleep 1"}
ACTION = "name: Local\nruns:\n  using: composite\n  steps:\n    - run: echo local\n      shell: bash\n"


def steps() -> st.SearchStrategy[list[dict[str, Any]]]:
    run = st.builds(lambda text: {"run": f"echo {text}"}, st.sampled_from(("a", "b", "${{ matrix.python }}")))
    checkout = st.just({"uses": "actions/checkout@v4"})
    setup = st.builds(
        lambda v: {"uses": "actions/setup-python@v5", "with": {"python-version": v}}, st.sampled_from(PYTHONS)
    )
    local_action = st.just({"uses": "./.github/actions/local"})
    background = st.just(BACKGROUND)
    parallel = st.just({"parallel": [{"run": "echo one"}, {"run": "echo two"}]})
    ordinary = st.lists(st.one_of(run, checkout, setup, local_action, parallel), min_size=1, max_size=4)
    with_background = ordinary.map(
        lambda items: [{"id": "bg", "background": True, "run": "sleep 1"}, *items, {"wait": "bg"}]
    )
    return st.one_of(ordinary, with_background, background.map(lambda step: [step, {"wait-all": True}]))


def matrices() -> st.SearchStrategy[dict[str, Any]]:
    axes = st.fixed_dictionaries(
        {},
        optional={
            "os": st.lists(st.sampled_from(OS_VALUES), min_size=1, max_size=3, unique=True),
            "python": st.lists(st.sampled_from(PYTHONS), min_size=1, max_size=3, unique=True),
        },
    )
    include = st.lists(
        st.fixed_dictionaries({"os": st.sampled_from(OS_VALUES)}, optional={"extra": st.booleans()}), max_size=2
    )
    exclude = st.lists(st.fixed_dictionaries({"os": st.sampled_from(OS_VALUES)}), max_size=1)

    def combine(
        found: dict[str, Any], inc: list[dict[str, Any]], exc: list[dict[str, Any]], text: bool
    ) -> dict[str, Any]:
        matrix = dict(found)
        if inc:
            matrix["include"] = inc
        if exc and found:
            matrix["exclude"] = exc
        if text and "python" in matrix:
            matrix["python"] = '${{ fromJSON(\'["3.12", "3.13"]\') }}'
        return matrix or {"include": [{"os": "ubuntu-latest"}]}

    return st.builds(combine, axes, include, exclude, st.booleans())


@st.composite
def workflows(draw: st.DrawFn) -> dict[str, Any]:
    count = draw(st.integers(min_value=1, max_value=len(JOB_IDS)))
    jobs: dict[str, Any] = {}
    for position, job_id in enumerate(JOB_IDS[:count]):
        earlier = list(JOB_IDS[:position])
        job: dict[str, Any] = {}
        wants_needs: bool = draw(st.booleans())
        if earlier and wants_needs:
            job["needs"] = draw(st.lists(st.sampled_from(earlier), min_size=1, unique=True))
        if draw(st.booleans()):
            job["if"] = draw(st.sampled_from(CONDITIONS))
        if draw(st.integers(min_value=0, max_value=6)) == 0:
            job["uses"] = "./.github/workflows/called.yml"
            if draw(st.booleans()):
                job["with"] = {"python": "3.13"}
            jobs[job_id] = job
            continue
        job["runs-on"] = draw(st.sampled_from(RUNS_ON))
        if draw(st.booleans()) or job["runs-on"] == "${{ matrix.os }}":
            matrix = draw(matrices())
            if job["runs-on"] == "${{ matrix.os }}":
                matrix.setdefault("os", ["ubuntu-latest", "windows-latest"])
            job["strategy"] = {"matrix": matrix, "fail-fast": draw(st.booleans())}
        if draw(st.booleans()):
            job["name"] = draw(st.sampled_from(("Tests", "Py ${{ matrix.python }}", "${{ github.event_name }} job")))
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            job["container"] = "python:3.12-slim"
        if draw(st.integers(min_value=0, max_value=5)) == 0:
            job["services"] = {"db": {"image": "postgres:16"}}
        if draw(st.booleans()):
            job["continue-on-error"] = draw(st.sampled_from((True, "${{ matrix.experimental == true }}")))
        job["steps"] = draw(steps())
        jobs[job_id] = job
    return {"name": "generated", "on": ["push", "pull_request"], "jobs": jobs}


@pytest.fixture(scope="module")
def repository(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "project"
    (root / ".github/workflows").mkdir(parents=True)
    (root / ".github/actions/local").mkdir(parents=True)
    (root / ".github/workflows/called.yml").write_text(CALLED)
    (root / ".github/actions/local/action.yml").write_text(ACTION)
    processes.run(["git", "init", "-q", "-b", "main"], cwd=root).check_returncode()
    return root


@pytest.mark.tools
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(workflow=workflows(), event=st.sampled_from(("push", "pull_request")))
def test_the_planner_plans_every_workflow_githubs_parser_accepts(
    repository: Path, workflow: dict[str, Any], event: str
) -> None:
    path = repository / ".github/workflows/generated.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False))
    rejected = validate.validate([path], cwd=repository)
    event_of_run(f"GitHub's parser {'rejects' if rejected else 'accepts'} it")
    if rejected:
        return  # not a workflow GitHub accepts
    session = local.open_session(repository, path, event, "", lambda image: image)
    refused: UserError | None = None
    try:
        planned = dryrun.plan_workflow(session, Selection())
    except UserError as error:  # a paragraph, as a user sees it; never the one for a construct not foreseen
        refused, planned = error, []
    finally:
        session.close()
    if refused is not None:
        assert "invoke ci cannot read job" not in str(refused), yaml.safe_dump(workflow)
        return
    assert planned, "a workflow with jobs has a plan"
    assert all(job.state in dryrun.State.__args__ for job in planned)  # type: ignore[attr-defined]
