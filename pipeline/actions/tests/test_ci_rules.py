"""ci.yml's run-level rules, evaluated by the project's own expression engine (a port of GitHub's).

A newer push cancels a pull request's run but never a run on main (whose
deploy must finish); `All green` reports unless the run was cancelled; a
failed deploy on main is reported like a failed check.
"""

from __future__ import annotations

from typing import Any

from pipeline import workflows
from pipeline.actions import expressions
from pipeline.actions.expressions import Status
from pipeline.facts import ROOT

PULL_REQUEST = {"github": {"event_name": "pull_request", "ref": "refs/pull/7/merge"}}
PUSH_TO_MAIN = {"github": {"event_name": "push", "ref": "refs/heads/main"}}


def ci() -> dict[str, Any]:
    return workflows.load(ROOT / ".github/workflows/ci.yml")


def test_a_newer_push_cancels_a_pull_request_run_but_never_one_on_main() -> None:
    concurrency = ci()["concurrency"]
    rule = concurrency["cancel-in-progress"]
    assert rule == "${{ github.event_name == 'pull_request' }}"
    assert expressions.evaluate_template(rule, PULL_REQUEST) is True
    assert expressions.evaluate_template(rule, PUSH_TO_MAIN) is False
    # One group per ref: on main a newer run waits for the running one (and its deploy).
    assert expressions.interpolate(concurrency["group"], PUSH_TO_MAIN) == "ci-refs/heads/main"
    assert expressions.interpolate(concurrency["group"], PULL_REQUEST) == "ci-refs/pull/7/merge"


def test_all_green_reports_a_failure_but_not_a_cancelled_run() -> None:
    rule = ci()["jobs"]["all-green"]["if"]
    assert expressions.condition(rule, PUSH_TO_MAIN) is True
    assert expressions.condition(rule, PUSH_TO_MAIN, status=Status(failed=True)) is True
    assert expressions.condition(rule, PUSH_TO_MAIN, status=Status(cancelled=True)) is False


def test_a_failed_deploy_on_main_is_reported() -> None:
    job = ci()["jobs"]["report-failure"]
    assert "deploy" in job["needs"]
    assert expressions.condition(job["if"], PUSH_TO_MAIN, status=Status(failed=True)) is True
    assert expressions.condition(job["if"], PUSH_TO_MAIN) is False
    assert expressions.condition(job["if"], PULL_REQUEST, status=Status(failed=True)) is False
