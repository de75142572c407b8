from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from pipeline import bench, console, sessions
from pipeline.errors import UserError
from pipeline.facts import load


def test_uv_sync_installs_production_plus_groups_from_the_lock() -> None:
    assert sessions.uv_sync_args(["test"]) == [
        "uv",
        "sync",
        "--locked",
        "--no-default-groups",
        "--group",
        "test",
        "--no-install-project",
    ]


def test_uv_sync_only_groups_leaves_production_out() -> None:
    args = sessions.uv_sync_only_groups_args(["lint"])
    assert args[:3] == ["uv", "sync", "--locked"]
    assert "--only-group" in args
    assert "--group" not in args


def test_django_env_uses_the_single_source() -> None:
    facts = load()
    env = sessions.django_env(facts, "testing", {"EXTRA": "1"})
    assert env["DJANGO_SETTINGS_MODULE"] == facts.settings.testing
    assert env["PYTHONPATH"] == str(facts.backend_dir)
    assert env["EXTRA"] == "1"
    assert env["PIPELINE_SETTINGS_PRODUCTION"] == facts.settings.production
    assert env["PIPELINE_SETTINGS_DEVELOPMENT"] == facts.settings.development
    assert env["PIPELINE_SETTINGS_TESTING"] == facts.settings.testing


def test_on_ci() -> None:
    assert console.on_ci({"CI": "true"})
    assert console.on_ci({"CI": "1"})
    assert not console.on_ci({"CI": "false"})
    assert not console.on_ci({})


def test_user_error_reads_as_problem_then_fix() -> None:
    error = UserError("The CA bundle is missing.", "pass one with --ca-bundle.")
    assert str(error) == "The CA bundle is missing. Fix: pass one with --ca-bundle."


def test_step_summary_appends_markdown_only_on_github(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    assert console.step_summary("### A", environ={"GITHUB_STEP_SUMMARY": str(summary)})
    assert console.step_summary("### B", environ={"GITHUB_STEP_SUMMARY": str(summary)})
    assert summary.read_text() == "### A\n\n### B\n\n"
    assert not console.step_summary("### C", environ={})


def test_markdown_table() -> None:
    assert console.markdown_table(["a", "b"], [["1", "2"]]) == "| a | b |\n|---|---|\n| 1 | 2 |"


def test_a_gates_tool_command_takes_the_sessions_arguments_where_the_tool_expects_them(tmp_path: Path) -> None:
    facts = load()
    lint = sessions.tool_command("lint", facts, "3.13", ["--statistics"])
    assert lint == (["ruff", "check", "--statistics", "."], {})
    mypy, env = sessions.tool_command("mypy", facts, "3.12")
    assert mypy[:3] == ["mypy", "--cache-dir", ".mypy_cache/3.12"]
    assert env["DJANGO_SETTINGS_MODULE"] == facts.settings.production
    _, build_env = sessions.tool_command("build", facts, "3.12", workdir=tmp_path)
    assert build_env["DATABASE_URL"] == f"sqlite:///{tmp_path / 'db.sqlite3'}"
    with pytest.raises(ValueError, match="no gate is called 'deploy'"):
        sessions.tool_command("deploy", facts, "3.12")  # type: ignore[arg-type]  # the guard for untyped callers


def test_the_benchmark_times_the_commands_the_sessions_run(tmp_path: Path) -> None:
    """`invoke bench` takes each gate's tool command from the sessions' own table, never a copy of it."""
    facts = load()
    newest = facts.newest_python
    commands = bench.raw_tool_commands(facts, tmp_path)
    expected = ["lint", "format", "templates", f"mypy-{newest}", "bandit", f"tests-{newest}"]
    assert list(commands) == expected
    for session, (venv, command, env) in commands.items():
        gate = next(gate for gate in sessions.GATES if session.split("-")[0] == gate)
        table_command, table_env = sessions.tool_command(gate, facts, newest, workdir=tmp_path)
        assert venv == session
        assert command == table_command
        assert table_env.items() <= env.items()
    assert commands[f"tests-{newest}"][2]["COVERAGE_FILE"] == str(tmp_path / ".coverage")  # never a combine's


def test_bandit_findings_are_listed_by_file_and_line(tmp_path: Path) -> None:
    sarif = tmp_path / "bandit.sarif"
    result = {
        "ruleId": "B602",
        "message": {"text": "subprocess call with shell=True identified"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "backend/x.py"}, "region": {"startLine": 5}}}],
        "properties": {"issue_severity": "HIGH"},
    }
    run = {"invocations": [{"executionSuccessful": True}], "results": [result]}
    sarif.write_text(json.dumps({"runs": [run]}))
    assert sessions.bandit_findings(sarif) == ["backend/x.py:5: B602 (high) subprocess call with shell=True identified"]
    run["invocations"] = [{"executionSuccessful": False}]
    sarif.write_text(json.dumps({"runs": [run]}))
    with pytest.raises(UserError, match="could not scan every file"):
        sessions.bandit_findings(sarif)
    with pytest.raises(UserError, match="no usable report"):
        sessions.bandit_findings(tmp_path / "missing.sarif")


LONGEST_ENTRY = 10  # lines of a session's or a task's body, its docstring left out


def entry_bodies(path: Path, decorator: str) -> dict[str, int]:
    """{function: lines of its body after the docstring} for each function decorated with `decorator`."""
    lengths = {}
    for node in ast.parse(path.read_text()).body:
        if not isinstance(node, ast.FunctionDef):
            continue
        names = {ast.unparse(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list}
        if not any(name.startswith(decorator) for name in names):
            continue
        body = node.body[1:] if isinstance(node.body[0], ast.Expr) else node.body
        lengths[node.name] = (body[-1].end_lineno or 0) - body[0].lineno + 1
    return lengths


def test_the_noxfile_reads_like_a_table_of_contents() -> None:
    """Each session is a few calls of `pipeline.session_steps`; its logic lives in the package."""
    bodies = entry_bodies(Path(__file__).parents[2] / "noxfile.py", "nox.session")
    assert len(bodies) >= 14, bodies
    assert {name: lines for name, lines in bodies.items() if lines > LONGEST_ENTRY} == {}


def test_tasks_are_a_few_statements_over_the_package() -> None:
    """tasks.py is a table of contents too: a task states what it calls; its logic lives in `pipeline`."""
    tree = ast.parse((Path(__file__).parents[2] / "tasks.py").read_text())
    tasks = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    statements = {task.name: sum(isinstance(node, ast.stmt) for node in ast.walk(task)) - 1 for task in tasks}
    assert len(statements) >= 10, statements
    assert {name: count for name, count in statements.items() if count > LONGEST_ENTRY} == {}
