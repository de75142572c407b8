"""The dry run's plan, decided in-process: per-entry runners and Pythons, GitHub-only constructs, skipped
needs, GitHub's job names, and values only a run can produce left undecided."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pipeline import changes
from pipeline.actions import contexts, display, dryrun
from pipeline.actions.scheduler import Selection
from pipeline.actions.session import RunSession
from pipeline.actions.workflow import load
from pipeline.errors import UserError

PlanOf = Callable[..., dict[str, dict[str, object]]]


@pytest.fixture
def plan_of(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlanOf]:
    monkeypatch.setattr(contexts, "_git", lambda *_: "")  # the sha and branch; no git in the pure tier
    monkeypatch.setattr(changes, "git", lambda *_: None)  # the pull request's base
    sessions: list[RunSession] = []

    def planned(body: str, event: str = "pull_request", **files: str) -> dict[str, dict[str, object]]:
        for name, text in files.items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
        path = tmp_path / "w.yml"
        path.write_text("name: t\non: [push, pull_request]\njobs:\n" + textwrap.indent(textwrap.dedent(body), "  "))
        trigger = contexts.Trigger(event)  # type: ignore[arg-type]  # the tests pass real event names
        session = RunSession(tmp_path, load(path, tmp_path), trigger, lambda image: image)
        sessions.append(session)
        return {
            job.key: {"state": job.state, "why": job.why, "steps": [s.kind.value for s in job.steps]}
            for job in dryrun.plan_workflow(session, Selection())
        }

    yield planned
    for session in sessions:
        session.close()


def test_each_matrix_entry_gets_its_own_runner(plan_of: PlanOf) -> None:
    plan = plan_of(
        """\
        test:
          runs-on: ${{ matrix.os }}
          strategy:
            matrix:
              os: [ubuntu-latest, windows-latest, macos-14, ubuntu-24.04-arm, my-gpu-box]
              python: ["3.12"]
          steps:
            - run: echo hi
        """
    )
    assert plan["test (ubuntu-latest, 3.12)"]["state"] == "runs here"
    assert plan["test (windows-latest, 3.12)"] == {
        "state": "GitHub only",
        "why": "runs-on windows-latest is Windows; invoke ci imitates Linux runners",
        "steps": [],
    }
    assert "macOS" in str(plan["test (macos-14, 3.12)"]["why"])
    assert "arm runner" in str(plan["test (ubuntu-24.04-arm, 3.12)"]["why"])
    assert "self-hosted or larger" in str(plan["test (my-gpu-box, 3.12)"]["why"])


@pytest.mark.parametrize(
    ("version", "state", "why"),
    [
        ("3.x", "runs here", "3.x: GitHub takes the newest matching release"),
        ("3.12.10", "runs here", "3.12.10 asked; this machine's 3.12 stands in"),
        ("'>=3.9 <3.13'", "runs here", "GitHub takes the newest matching release"),
        ("3.14t", "GitHub only", "free-threaded CPython (3.14t)"),
        ("pypy3.10", "GitHub only", "PyPy (pypy3.10)"),
        ("graalpy-24.1", "GitHub only", "GraalPy"),
        ("'>=3.40'", "runs here", "missing here: a Python matching >=3.40"),
    ],
)
def test_setup_python_specs_never_crash_the_plan(plan_of: PlanOf, version: str, state: str, why: str) -> None:
    plan = plan_of(
        f"""\
        test:
          runs-on: ubuntu-24.04
          steps:
            - uses: actions/setup-python@v5
              with:
                python-version: {version}
            - run: python --version
        """
    )
    assert plan["test"]["state"] == state
    assert why in str(plan["test"]["why"])


def test_python_version_file_is_read_as_setup_python_reads_it(plan_of: PlanOf) -> None:
    body = """\
        test:
          runs-on: ubuntu-24.04
          steps:
            - uses: actions/setup-python@v5
              with:
                python-version-file: {file}
        """
    assert "missing here: 3.1" in str(
        plan_of(body.format(file=".python-version"), **{".python-version": "# pin\n3.1.5\n"})["test"]["why"]
    )
    tool_versions = plan_of(body.format(file=".tool-versions"), **{".tool-versions": "nodejs 20\npython 3.2.1 3.1.0\n"})
    assert "missing here: 3.2, 3.1" in str(tool_versions["test"]["why"])
    pyproject = plan_of(
        body.format(file="pyproject.toml"), **{"pyproject.toml": '[project]\nrequires-python = ">=3.99"\n'}
    )
    assert "a Python matching >=3.99" in str(pyproject["test"]["why"])


def test_constructs_not_run_here_make_their_job_github_only(plan_of: PlanOf) -> None:
    plan = plan_of(
        """\
        in-container:
          runs-on: ubuntu-latest
          container: python:3.12
          steps: [{run: pytest}]
        javascript:
          runs-on: ubuntu-latest
          steps: [{uses: ./.github/actions/js}]
        missing-action:
          runs-on: ubuntu-latest
          steps: [{uses: ./.github/actions/nowhere}]
        side-by-side:
          runs-on: ubuntu-latest
          steps:
            - parallel:
                - run: echo one
                - run: echo two
        remote:
          uses: octo-org/workflows/.github/workflows/ci.yml@v1
        after:
          needs: [javascript]
          runs-on: ubuntu-latest
          steps: [{run: echo after}]
        after-anyway:
          needs: [javascript]
          if: always()
          runs-on: ubuntu-latest
          steps: [{run: echo after}]
        """,
        **{".github/actions/js/action.yml": "name: js\nruns:\n  using: node20\n  main: index.js\n"},
    )
    assert plan["in-container"]["state"] == "runs here"  # its steps run in the container, here as on GitHub
    assert plan["javascript"]["state"] == "GitHub only"
    assert "JavaScript (node20) action ./.github/actions/js" in str(plan["javascript"]["why"])
    assert plan["missing-action"]["state"] == "fails"
    assert "there is no action.yml or action.yaml" in str(plan["missing-action"]["why"])
    assert plan["side-by-side"]["state"] == "runs here"  # GitHub's parallel steps run here
    assert plan["side-by-side"]["steps"] == ["runs here"]
    assert "reusable workflow octo-org" in str(plan["remote"]["why"])
    assert plan["after"] == {"state": "skipped", "why": "needs javascript, which does not run here", "steps": []}
    assert plan["after-anyway"]["state"] == "runs here"


def test_a_fixed_name_gets_the_matrix_values_as_github_appends_them(plan_of: PlanOf) -> None:
    plan = plan_of(
        """\
        test:
          name: Tests
          runs-on: ubuntu-latest
          strategy:
            matrix:
              python: ["3.12", "3.13"]
              db: [postgres, ""]
          steps: [{run: echo}]
        named:
          name: Py ${{ matrix.python }}
          runs-on: ubuntu-latest
          strategy: {matrix: {python: ["3.12"], db: [postgres]}}
          steps: [{run: echo}]
        """
    )
    assert {key for key in plan if key.startswith("test")} == {
        "test (Tests (3.12, postgres))",
        "test (Tests (3.12))",
        "test (Tests (3.13, postgres))",
        "test (Tests (3.13))",
    }
    assert "named (Py 3.12)" in plan


def test_outputs_are_unknown_and_what_reads_them_is_decided_at_run_time(plan_of: PlanOf) -> None:
    plan = plan_of(
        """\
        list:
          runs-on: ubuntu-latest
          outputs:
            matrix: ${{ steps.m.outputs.matrix }}
            go: ${{ steps.m.outputs.go }}
          steps: [{id: m, run: echo}]
        fan-out:
          needs: list
          runs-on: ubuntu-latest
          strategy:
            matrix:
              include: ${{ fromJSON(needs.list.outputs.matrix) }}
          steps: [{run: echo}]
        gated:
          needs: list
          if: needs.list.outputs.go == 'yes'
          runs-on: ubuntu-latest
          steps: [{run: echo}]
        """
    )
    assert plan["fan-out"]["state"] == "decided at run time"
    assert "its matrix depends on `needs.list.outputs.matrix`" in str(plan["fan-out"]["why"])
    assert plan["gated"]["state"] == "decided at run time"
    assert "depends on `needs.list.outputs.go`; when it holds: ubuntu-24.04" in str(plan["gated"]["why"])


def test_a_construct_nobody_foresaw_is_a_paragraph_with_its_line(plan_of: PlanOf) -> None:
    with pytest.raises(UserError, match=r"w\.yml:4: invoke ci cannot read job odd"):
        plan_of(
            """\
            odd:
              runs-on: ubuntu-latest
              steps: [42]
            """
        )


def test_a_dry_run_with_only_shows_the_selected_jobs(capsys: pytest.CaptureFixture[str]) -> None:
    planned = [
        dryrun.PlannedJob("tests (tests-3.12)", "tests", "runs here", ""),
        dryrun.PlannedJob("lint", "lint", "not selected", ""),
        dryrun.PlannedJob("image", "image", "not selected", ""),
    ]
    display.print_plan(planned, ".github/workflows/ci.yml", "pull_request")
    shown = capsys.readouterr().out
    assert "tests (tests-3.12): runs here" in shown
    assert "lint" not in shown
    assert "2 job(s) or entries not selected (--only, --skip, --python) are not shown" in shown
