"""invoke ci: the pure decisions, then a real run on a copy of the project."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline import localci
from pipeline.console import plain_env
from pipeline.errors import UserError

GITHUB = localci.local_github_context(Path("project"))


def context(**kwargs: Any) -> localci.LocalContext:
    return localci.LocalContext(GITHUB, **kwargs)


def test_jobs_are_ordered_by_needs() -> None:
    jobs: dict[str, dict[str, Any]] = {"c": {"needs": ["a", "b"]}, "b": {"needs": "a"}, "a": {}}
    assert localci.topological_order(jobs) == ["a", "b", "c"]


def test_a_needs_cycle_is_a_user_error() -> None:
    with pytest.raises(UserError, match="cycle"):
        localci.topological_order({"a": {"needs": "b"}, "b": {"needs": "a"}})


def test_unknown_need_is_a_user_error() -> None:
    with pytest.raises(UserError, match="does not define"):
        localci.topological_order({"a": {"needs": "ghost"}})


def test_expressions_the_workflow_uses() -> None:
    ctx = context(
        needs={"sessions": {"result": "success", "outputs": {"tests": '[{"session": "tests-3.12"}]'}}},
        matrix={"session": "tests-3.12", "python": "3.12"},
        service_ports={"postgres": {"5432": "49153"}},
        steps={"matrix": {"checks": "[]"}},
    )
    assert localci.substitute("nox -s ${{ matrix.session }}", ctx) == "nox -s tests-3.12"
    assert localci.substitute("127.0.0.1:${{ job.services.postgres.ports['5432'] }}", ctx) == "127.0.0.1:49153"
    assert localci.evaluate("fromJSON(needs.sessions.outputs.tests)", ctx) == '[{"session": "tests-3.12"}]'
    assert localci.evaluate("steps.matrix.outputs.checks", ctx) == "[]"
    assert json.loads(localci.evaluate("toJSON(needs)", ctx))["sessions"]["result"] == "success"
    assert localci.evaluate("github.event_name", ctx) == "pull_request"


def test_an_unknown_expression_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"cannot evaluate the expression \$\{\{ secrets.TOKEN \}\}"):
        localci.evaluate("secrets.TOKEN", context())


@pytest.mark.parametrize(
    ("condition", "needs_ok", "expected"),
    [
        (None, True, True),
        (None, False, False),
        ("always()", False, True),
        ("failure() && github.event_name == 'push' && github.ref == 'refs/heads/main'", False, False),
        ("failure()", False, True),
        ("failure()", True, False),
        ("github.event_name == 'push' && github.ref == 'refs/heads/main'", True, False),
        ("github.event_name != 'push'", True, True),
    ],
)
def test_job_conditions(condition: str | None, needs_ok: bool, expected: bool) -> None:
    assert localci.condition_holds(condition, context(), needs_ok) is expected


def test_matrix_expands_from_the_generating_jobs_outputs() -> None:
    job = {
        "name": "${{ matrix.session }}",
        "needs": "sessions",
        "strategy": {"matrix": {"include": "${{ fromJSON(needs.sessions.outputs.tests) }}"}},
        "steps": [{"uses": "actions/checkout@abc"}, {"run": "python3 bootstrap.py nox -s x"}],
    }
    outputs = json.dumps([{"session": "tests-3.11", "python": "3.11"}, {"session": "tests-3.12", "python": "3.12"}])
    instances = localci.expand("tests", job, context(needs={"sessions": {"outputs": {"tests": outputs}}}))
    assert [instance.key for instance in instances] == ["tests (tests-3.11)", "tests (tests-3.12)"]
    assert instances[0].skipped_steps == ["actions/checkout"]
    assert len(instances[0].run_steps) == 1
    assert localci.selected(instances[1], only=[], skip=[], pythons=["3.12"])
    assert not localci.selected(instances[0], only=[], skip=[], pythons=["3.12"])
    assert not localci.selected(instances[0], only=[], skip=["tests-3.11"], pythons=[])
    assert localci.selected(instances[0], only=["tests"], skip=[], pythons=[])


def test_image_building_jobs_are_recognised_through_the_matrix() -> None:
    job = {"steps": [{"env": {"SESSION": "${{ matrix.session }}"}, "run": 'python3 bootstrap.py nox -s "$SESSION"'}]}
    assert localci.JobInstance("checks", "tooling", (), job, {"session": "tooling"}).builds_images
    assert not localci.JobInstance("checks", "lint", (), job, {"session": "lint"}).builds_images
    image = {"steps": [{"run": "python3 bootstrap.py invoke build-image"}]}
    assert localci.JobInstance("image", "image", (), image).builds_images
    assert not localci.JobInstance("tests", "t", (), {"services": {"postgres": {}}, "steps": []}).builds_images


def test_a_job_fails_when_any_instance_fails() -> None:
    instances = [localci.JobInstance("t", name, (), {}, {"session": name}) for name in ("a", "b")]
    outcomes = {"t (a)": localci.Outcome("success"), "t (b)": localci.Outcome("failure")}
    assert localci.summarise("t", instances, outcomes)["result"] == "failure"


def test_github_output_files_are_parsed() -> None:
    text = 'checks=[{"a":1}]\nnotes<<EOF\nline one\nline two\nEOF\nempty=\n'
    assert localci.parse_github_output(text) == {"checks": '[{"a":1}]', "notes": "line one\nline two", "empty": ""}


def test_ci_runs_a_new_session_and_isolates_a_broken_test(project_copy: Path) -> None:
    """The real `invoke ci` on a copy: a session added to the noxfile shows up with no
    other edit; a failing test fails exactly its job, and its dependant does not run."""
    noxfile = project_copy / "noxfile.py"
    noxfile.write_text(
        noxfile.read_text() + "\n\n@nox.session(python=False)\ndef extra(session: nox.Session) -> None:\n"
        '    """A session added by the test."""\n    session.log("extra ran")\n\n\n'
        'nox.options.sessions.append("extra")\n'
    )
    broken = project_copy / "backend" / "catalog" / "tests" / "test_broken.py"
    broken.write_text("def test_broken() -> None:\n    assert 1 + 1 == 3\n")
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "ci", "--only", "extra", "--only", "tests-3.13", "--only", "coverage"],
        cwd=project_copy,
        env={key: value for key, value in plain_env().items() if key != "NO_COLOR"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-3000:]
    assert "job=checks (extra)  result=success" in output
    assert "job=tests (tests-3.13)  result=failure" in output
    assert "job=coverage  result=skipped (condition or failed needs)" in output
    assert "assert 1 + 1 == 3" in output  # the tail of the failed job's log
    assert "CI failed here: tests (tests-3.13)" in output
    assert (
        "skipped GitHub-only setup step: uses actions/checkout"
        in (project_copy / ".cache/ci-logs/tests_tests-3.13.log").read_text()
    )
