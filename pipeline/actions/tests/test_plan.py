"""Pure planning decisions: order, job conditions with GitHub's status rules, instances, triggers."""

from __future__ import annotations

from typing import Any

import pytest

from pipeline.actions import filters, plan, triggers
from pipeline.actions.contexts import Trigger
from pipeline.actions.model import Instance, Result, job_result
from pipeline.errors import UserError

JOBS: dict[str, dict[str, Any]] = {"c": {"needs": ["a", "b"]}, "b": {"needs": "a"}, "a": {}}


def test_jobs_are_ordered_by_needs_and_ancestors_are_transitive() -> None:
    assert plan.topological_order(JOBS) == ["a", "b", "c"]
    assert plan.ancestors(JOBS, "c") == {"a", "b"}


@pytest.mark.parametrize(
    ("jobs", "message"),
    [({"a": {"needs": "b"}, "b": {"needs": "a"}}, "cycle"), ({"a": {"needs": "ghost"}}, "does not define")],
)
def test_broken_needs_are_user_errors(jobs: dict[str, dict[str, Any]], message: str) -> None:
    with pytest.raises(UserError, match=message):
        plan.topological_order(jobs)


def runs(condition: str | None, results: dict[str, Result], event: str = "pull_request") -> bool:
    job = {"needs": ["b"], **({"if": condition} if condition is not None else {})}
    contexts = {"github": {"event_name": event, "ref": "refs/heads/main"}, "needs": {}, "vars": {}, "inputs": {}}
    status = plan.job_status(results, set(results), cancelled=False)
    return plan.job_runs(job, contexts, status)


@pytest.mark.parametrize(
    ("condition", "results", "expected"),
    [
        (None, {"a": Result.SUCCESS, "b": Result.SUCCESS}, True),
        # An ancestor failed, the direct need ran anyway (if: always()): success() is still false.
        (None, {"a": Result.FAILURE, "b": Result.SUCCESS}, False),
        # A skipped need skips its dependants, yet is no failure.
        (None, {"a": Result.SUCCESS, "b": Result.SKIPPED}, False),
        ("!failure()", {"a": Result.SUCCESS, "b": Result.SKIPPED}, True),
        ("failure()", {"a": Result.FAILURE, "b": Result.SKIPPED}, True),
        ("always()", {"a": Result.FAILURE, "b": Result.CANCELLED}, True),
        ("!cancelled()", {"a": Result.FAILURE, "b": Result.SKIPPED}, True),
        ("github.event_name == 'push' || (github.ref == 'refs/heads/main' && success())", {"b": Result.SUCCESS}, True),
        ("github.event_name == 'push'", {"b": Result.SUCCESS}, False),
        # A status function written anywhere replaces the implied success().
        ("failure() || github.event_name == 'PULL_REQUEST'", {"b": Result.FAILURE}, True),
    ],
)
def test_job_conditions_follow_githubs_status_rules(
    condition: str | None, results: dict[str, Result], expected: bool
) -> None:
    assert runs(condition, results) is expected


def test_matrix_instances_are_named_as_github_names_them() -> None:
    job = {"strategy": {"matrix": {"python": ["3.12", "3.13"], "os": ["linux"]}}}
    names = [instance.key for instance in plan.instances("test", job, {"github": {}, "needs": {}})]
    assert names == ["test (3.12, linux)", "test (3.13, linux)"]
    include = "${{ fromJSON('[{\"python\": 3}]') }}"
    named = {"name": "py${{ matrix.python }}", "strategy": {"matrix": {"include": include}}}
    assert [i.key for i in plan.instances("t", named, {"github": {}, "needs": {}})] == ["t (py3)"]


def test_selection_by_id_name_and_python() -> None:
    instance = Instance("tests", "tests-3.12", {}, {"python": "3.12"})
    assert plan.selected(instance, only=["tests"], skip=[], pythons=[])
    assert not plan.selected(instance, only=[], skip=["tests-3.12"], pythons=[])
    assert not plan.selected(instance, only=[], skip=[], pythons=["3.13"])
    producer = Instance("sessions", "List sessions", {"outputs": {"x": "y"}})
    assert plan.selected(producer, only=["lint"], skip=["sessions"], pythons=[])


def test_a_matrix_job_result_is_the_worst_of_its_entries() -> None:
    assert job_result([Result.SUCCESS, Result.FAILURE, Result.CANCELLED]) is Result.FAILURE
    assert job_result([Result.SUCCESS, Result.SKIPPED]) is Result.SUCCESS
    assert job_result([Result.SKIPPED, Result.SKIPPED]) is Result.SKIPPED
    assert job_result([Result.SUCCESS, Result.CANCELLED]) is Result.CANCELLED


@pytest.mark.parametrize(
    ("branch", "patterns", "expected"),
    [
        ("main", ["main"], True),
        ("feature/x", ["feature/*"], True),
        ("feature/x/y", ["feature/*"], False),
        ("feature/x/y", ["feature/**"], True),
        ("releases/v1", ["releases/**", "!releases/v1"], False),
        ("releases/v1", ["!releases/v1", "releases/**"], True),
        ("na", ["m?na"], True),  # ? is zero or one of the preceding character
        ("mona", ["m?na"], False),
    ],
)
def test_branch_filters(branch: str, patterns: list[str], expected: bool) -> None:
    assert filters.matches(branch, patterns) is expected


def test_events_the_workflow_does_not_listen_to_are_refused() -> None:
    on = {"pull_request": None, "push": {"branches": ["main"]}}
    triggers.check(on, Trigger("pull_request"), "ci.yml")
    triggers.check(on, Trigger("push", "refs/heads/main"), "ci.yml")
    with pytest.raises(UserError, match="only for the branches main, not feature"):
        triggers.check(on, Trigger("push", "refs/heads/feature"), "ci.yml")
    with pytest.raises(UserError, match="does not run on schedule"):
        triggers.check(on, Trigger("schedule"), "ci.yml")
    assert triggers.default_event({"workflow_call": None, "workflow_dispatch": None}) == "workflow_call"
    assert triggers.default_event(on) == "pull_request"


def test_the_default_event_is_one_invoke_ci_rehearses_where_the_workflow_has_one() -> None:
    assert (
        triggers.default_event({"release": {"types": ["published"]}, "workflow_dispatch": None}) == "workflow_dispatch"
    )
    assert triggers.default_event(["workflow_run"]) == "workflow_run"  # open_session then says it runs on GitHub only
