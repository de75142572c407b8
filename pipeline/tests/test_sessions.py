from __future__ import annotations

from pathlib import Path

from pipeline import console, sessions
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


def test_coverage_files_are_per_session() -> None:
    assert sessions.coverage_data_file("tests-3.12") == ".coverage.tests-3.12"


def test_on_ci() -> None:
    assert sessions.on_ci({"CI": "true"})
    assert not sessions.on_ci({})


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
