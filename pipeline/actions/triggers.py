"""Whether a workflow's `on:` runs it for the rehearsed event, with GitHub's branch filters.

Branch patterns as GitHub reads them (`pipeline.actions.filters`).
For `pull_request` the branches are the base branch (`main` here).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pipeline.actions.contexts import EVENTS, PR_BASE, Trigger
from pipeline.actions.filters import matches as branch_matches
from pipeline.errors import UserError


def events(on: Any) -> dict[str, Mapping[str, Any]]:
    if isinstance(on, str):
        return {on: {}}
    if isinstance(on, list):
        return {str(event): {} for event in on}
    if isinstance(on, Mapping):
        return {str(event): (config if isinstance(config, Mapping) else {}) for event, config in on.items()}
    return {}


def check(on: Any, trigger: Trigger, workflow: str) -> None:
    """A UserError when GitHub would not run `workflow` for this event and ref."""
    listened = events(on)
    if trigger.event not in listened:
        raise UserError(
            f"{workflow} does not run on {trigger.event} (its events: {', '.join(listened) or 'none'})",
            f"rehearse one of its events, e.g. --event {next(iter(listened), 'workflow_dispatch')}",
        )
    config = listened[trigger.event]
    if trigger.event == "pull_request":
        base = ((trigger.payload or {}).get("pull_request") or {}).get("base") or {}
        branch = str(base.get("ref") or PR_BASE)
    elif trigger.resolved_ref.startswith("refs/heads/"):
        branch = trigger.resolved_ref.removeprefix("refs/heads/")
    else:
        return
    patterns = [str(p) for p in config.get("branches") or []]
    if "branches" in config and not branch_matches(branch, patterns):
        raise UserError(
            f"{workflow} runs on {trigger.event} only for the branches {', '.join(patterns)}, not {branch}"
            + (" (the base branch of a pull request rehearsed here)" if trigger.event == "pull_request" else ""),
            _another_branch_fix(trigger, example_branch(patterns, branch)),
        )
    ignored = [str(p) for p in config.get("branches-ignore") or []]
    if "branches-ignore" in config and branch_matches(branch, ignored):
        raise UserError(
            f"{workflow} ignores {trigger.event} on {branch} (branches-ignore: {', '.join(ignored)})",
            _another_branch_fix(trigger, None),
        )


def example_branch(patterns: list[str], refused: str) -> str | None:
    """A branch the filter accepts, other than the refused one: its first pattern without wildcards."""
    for pattern in patterns:
        plain = not any(mark in pattern for mark in "!*?[")
        if plain and pattern != refused and branch_matches(pattern, patterns):
            return pattern
    return None


def _another_branch_fix(trigger: Trigger, branch: str | None) -> str:
    if trigger.event == "pull_request":
        push = f"--event push --ref refs/heads/{branch}" if branch else "--event push with a ref it runs for"
        return (
            f"a made-up pull request targets {PR_BASE}: give --event-file a pull_request payload whose "
            f"pull_request.base.ref is a branch the filter accepts, or rehearse {push}"
        )
    if branch:
        return f"rehearse a ref it runs for, e.g. --ref refs/heads/{branch}"
    return "rehearse --ref refs/heads/BRANCH with a branch the filter accepts"


def default_event(on: Any) -> str:
    """pull_request when the workflow listens to it (what a developer is about to open), else its first event
    invoke ci rehearses, else its first event."""
    listened = events(on)
    if "pull_request" in listened or not listened:
        return "pull_request"
    return next((event for event in listened if event in EVENTS), next(iter(listened)))
